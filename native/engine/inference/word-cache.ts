import fs from 'node:fs';
import path from 'node:path';

/**
 * Fast token counting and ids for chunking and embedding. For BERT-style tokenizers (BertNormalizer
 * with clean_text + BertPreTokenizer: WordPiece over words split at whitespace and punctuation), the token count of
 * a text is exactly the sum of the counts of its whitespace-separated words, so each distinct word
 * is tokenized once and remembered. Natural text repeats its words (Zipf), so counting becomes a
 * split and a few map lookups; exact by construction (the real tokenizer counts each word).
 *
 * "Whitespace" here is exactly what the tokenizer treats as a separator after clean_text: JS `\s`
 * without the characters clean_text deletes (U+FEFF and other format/control characters, which
 * join their neighbours instead). Other tokenizers (byte-level BPE, Metaspace...) are not additive
 * across words: wordCachedTokens gives null and the engine uses the tokenizer itself.
 */

/** A token counter; `isSeparator` is set when counts add up over words split at those characters. */
export type Count = ((text: string) => number) & { isSeparator?: (code: number) => boolean };

/** Distinct words remembered; the cache starts over when full (bounded memory on huge corpora). */
const MAX_WORDS = 200_000;

/**
 * The word separators: exactly [\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]
 * (what clean_text turns into a space and the pre-tokenizer splits at).
 */
export function isWordSeparator(c: number): boolean {
  if (c < 128) return c === 32 || c === 10 || c === 9 || c === 13;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** `f` remembered per word, at most MAX_WORDS of them (the memory starts over when full). */
function perWord<T>(f: (word: string) => T): (word: string) => T {
  let cache = new Map<string, T>();
  return (w) => {
    let v = cache.get(w);
    if (v === undefined) {
      v = f(w);
      if (cache.size >= MAX_WORDS) cache = new Map();
      cache.set(w, v);
    }
    return v;
  };
}

/** Calls `each` with every maximal run of non-separator characters (a character scan: about 25% faster than split(regex)). */
function forEachWord(text: string, each: (word: string) => boolean | void): void {
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (isWordSeparator(text.charCodeAt(i))) {
      if (start >= 0 && each(text.slice(start, i)) === false) return;
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) each(text.slice(start));
}

/** Whether a tokenizer.json is BERT-style (counts add up over whitespace-separated words). */
export function isWordAdditive(tokenizerJson: unknown): boolean {
  const t = tokenizerJson as { pre_tokenizer?: { type?: string } | null; normalizer?: { type?: string; clean_text?: boolean } | null; model?: { type?: string } } | null;
  return t?.pre_tokenizer?.type === 'BertPreTokenizer' && t?.normalizer?.type === 'BertNormalizer' && t.normalizer.clean_text === true && t?.model?.type === 'WordPiece';
}

/** A text's token ids without special tokens, and their count, from one per-word cache. */
export interface WordTokens {
  /** Marked additive (`isSeparator`): the chunker can add piece counts instead of counting a chunk again. */
  count: Count;
  /** Exactly the ids of encoding the whole text without special tokens. */
  ids: (text: string) => number[];
  /** The same ids, or null once there are more than `maxTokens` (the caller then truncates with the real tokenizer). */
  idsUpTo: (text: string, maxTokens: number) => number[] | null;
}

/**
 * Counting and ids from one cache of each distinct word's ids (BERT-style tokenizers only, null
 * otherwise): the engine chunks with the counts and embeds the very same ids, and its text path
 * looks words up in the same cache. `encodeWord` must give the ids without special tokens.
 */
export function wordCachedTokens(encodeWord: (word: string) => number[], tokenizerJson: unknown): WordTokens | null {
  if (!isWordAdditive(tokenizerJson)) return null;
  const idsOf = perWord(encodeWord);
  const join = joinedIds(idsOf);
  let n = 0;
  const addCount = (w: string) => {
    n += idsOf(w).length;
  };
  const count = (text: string) => {
    n = 0;
    forEachWord(text, addCount);
    return n;
  };
  return { count: Object.assign(count, { isSeparator: isWordSeparator }), ids: (text) => join(text, Infinity)!, idsUpTo: join };
}

/** A text's ids as its words' ids one after the other; null once they pass `maxTokens`. */
function joinedIds(idsOf: (word: string) => number[]): (text: string, maxTokens: number) => number[] | null {
  let ids: number[] = [];
  let max = 0;
  const add = (w: string) => {
    for (const id of idsOf(w)) ids.push(id);
    return ids.length <= max;
  };
  return (text, maxTokens) => {
    ids = [];
    max = maxTokens;
    forEachWord(text, add);
    return ids.length > maxTokens ? null : ids;
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
