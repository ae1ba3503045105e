import { chunkText, countWords, DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS, type TokenCounter } from '../ingest/chunk.js';
import type { PageRange } from '../ingest/extract-types.js';
import { TextTokenizer } from '../inference/tokenizer.js';
import { readTokenizerJson, wordCachedTokens } from '../inference/word-cache.js';
import { resolveModel } from '../models/model-resolver.js';

/**
 * Chunking for lexical-only collections (no embedding model runs): the same chunker as the
 * worker's, on the indexing thread, counting tokens with a model's tokenizer when one can be
 * loaded (the chunks then match what that model would embed, so a later upgrade re-embeds them
 * whole), else counting words, with the token budget turned into words (about 0.75 words a token).
 */
export interface LexicalChunker {
  countTokens: TokenCounter;
  maxTokens: number;
  overlapTokens: number;
  /** How chunks are measured, for the summary: `tokenizer of MODEL` or `words`. */
  measure: string;
}

export const WORDS_PER_TOKEN = 0.75;

export function lexicalChunker(tokenizerModel: string | undefined, chunking: { maxTokens?: number; overlapTokens?: number }, env: NodeJS.ProcessEnv): LexicalChunker {
  const wantMax = chunking.maxTokens ?? DEFAULT_MAX_TOKENS;
  const wantOverlap = chunking.overlapTokens ?? DEFAULT_OVERLAP_TOKENS;
  if (tokenizerModel) {
    try {
      const model = resolveModel(tokenizerModel, { env });
      const tok = TextTokenizer.load(model.dir);
      const words = wordCachedTokens((w) => tok.rawEncode(w, false), readTokenizerJson(model.dir));
      // As the embedding engine bounds them (embed-engine.ts embedDocuments).
      const maxTokens = Math.min(wantMax, model.maxLength - tok.specialCount);
      return { countTokens: words?.count ?? ((t: string) => tok.countTokens(t)), maxTokens, overlapTokens: Math.min(wantOverlap, Math.floor(maxTokens / 4)), measure: `tokenizer of ${tokenizerModel}` };
    } catch {
      // no usable tokenizer: words below
    }
  }
  const maxTokens = Math.max(2, Math.floor(wantMax * WORDS_PER_TOKEN));
  return { countTokens: countWords, maxTokens, overlapTokens: Math.min(Math.floor(wantOverlap * WORDS_PER_TOKEN), Math.floor(maxTokens / 4)), measure: 'words' };
}

/** Chunk documents like EmbedEngine.embedDocuments does, without vectors: chunk i is documents[doc[i]].text.slice(start[i], end[i]). */
export function chunkDocuments(documents: ReadonlyArray<{ text: string; pages?: PageRange[] }>, ch: LexicalChunker): { count: number; chunks: { doc: number[]; start: number[]; end: number[]; tokens: number[]; page: number[] } } {
  const out = { doc: [] as number[], start: [] as number[], end: [] as number[], tokens: [] as number[], page: [] as number[] };
  documents.forEach((d, doc) => {
    if (!d.text.trim()) return;
    for (const c of chunkText(d.text, { maxTokens: ch.maxTokens, overlapTokens: ch.overlapTokens, countTokens: ch.countTokens, ...(d.pages ? { pages: d.pages } : {}) })) {
      out.doc.push(doc);
      out.start.push(c.start);
      out.end.push(c.end);
      out.tokens.push(c.tokens);
      out.page.push(c.page ?? 0);
    }
  });
  return { count: out.doc.length, chunks: out };
}
