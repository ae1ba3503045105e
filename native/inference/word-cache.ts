import fs from 'node:fs';
import path from 'node:path';

/**
 * Fast token counting for chunking. For BERT-style tokenizers (BertNormalizer with clean_text +
 * BertPreTokenizer: WordPiece over words split at whitespace and punctuation), the token count of
 * a text is exactly the sum of the counts of its whitespace-separated words, so each distinct word
 * is tokenized once and remembered. Natural text repeats its words (Zipf), so counting becomes a
 * split and a few map lookups; exact by construction (the real tokenizer counts each word).
 *
 * "Whitespace" here is exactly what the tokenizer treats as a separator after clean_text: JS `\s`
 * without the characters clean_text deletes (U+FEFF and other format/control characters, which
 * join their neighbours instead). Other tokenizers (byte-level BPE, Metaspace...) are not additive
 * across words and get the plain counter.
 */

type Count = (text: string) => number;

const SEPARATORS = /[\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
/** Distinct words remembered; the cache starts over when full (bounded memory on huge corpora). */
const MAX_WORDS = 200_000;

/** Whether a tokenizer.json is BERT-style (counts add up over whitespace-separated words). */
export function isWordAdditive(tokenizerJson: unknown): boolean {
  const t = tokenizerJson as { pre_tokenizer?: { type?: string } | null; normalizer?: { type?: string; clean_text?: boolean } | null; model?: { type?: string } } | null;
  return t?.pre_tokenizer?.type === 'BertPreTokenizer' && t?.normalizer?.type === 'BertNormalizer' && t.normalizer.clean_text === true && t?.model?.type === 'WordPiece';
}

/** `count` made fast for BERT-style tokenizers; `count` itself otherwise. `count('')` must be 0. */
export function wordCachedCounter(count: Count, tokenizerJson: unknown): Count {
  if (!isWordAdditive(tokenizerJson)) return count;
  let cache = new Map<string, number>();
  return (text: string) => {
    let n = 0;
    for (const w of text.split(SEPARATORS)) {
      if (w === '') continue;
      let c = cache.get(w);
      if (c === undefined) {
        c = count(w);
        if (cache.size >= MAX_WORDS) cache = new Map();
        cache.set(w, c);
      }
      n += c;
    }
    return n;
  };
}

/**
 * Token ids without special tokens, each distinct word encoded once (BERT-style tokenizers only):
 * exactly the ids of encoding the whole text, as the concatenation over whitespace-separated words.
 * Returns null for texts over `maxTokens` (the caller truncates with the real tokenizer).
 */
export function wordCachedIds(encodeWord: (word: string) => number[], tokenizerJson: unknown): ((text: string, maxTokens: number) => number[] | null) | null {
  if (!isWordAdditive(tokenizerJson)) return null;
  let cache = new Map<string, number[]>();
  return (text: string, maxTokens: number) => {
    const ids: number[] = [];
    for (const w of text.split(SEPARATORS)) {
      if (w === '') continue;
      let c = cache.get(w);
      if (c === undefined) {
        c = encodeWord(w);
        if (cache.size >= MAX_WORDS) cache = new Map();
        cache.set(w, c);
      }
      for (const id of c) ids.push(id);
      if (ids.length > maxTokens) return null;
    }
    return ids;
  };
}

/** Read a model folder's tokenizer.json (null when unreadable: the plain counter is used). */
export function readTokenizerJson(modelDir: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'));
  } catch {
    return null;
  }
}
