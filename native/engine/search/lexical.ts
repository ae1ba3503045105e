/**
 * Lexical search: BM25 over the external-content FTS5 table `chunks_fts(text)` (content='chunks',
 * content_rowid='id'; see native/engine/store/schema-v1.ts), plus a pure-JS highlighter for vector hits.
 *
 * Free text never reaches FTS5's query syntax: it is cut into word tokens (letters and digits),
 * each token is double-quoted (a string, never an operator, column filter or prefix), stopwords
 * are dropped, and the tokens are OR-joined, so BM25 ranks chunks by how many and how rare the
 * matched terms are. The quoted tokens go through the table's own tokenizer (porter, unicode61,
 * diacritics removed), so "Running" matches "runs".
 */
import { TandemError } from '../common/errors.js';

/**
 * Where BM25 rankings and FTS5 snippets come from: the store (LibraryStore implements it; the
 * store is the only code that speaks SQL). `match` is an FTS5 MATCH expression built here.
 */
export interface FtsSource {
  ftsTop(match: string, o: { k: number; collectionId?: number | undefined; fileTypes?: readonly string[] | undefined }): Array<{ chunkId: number; documentId: number; score: number }>;
  ftsSnippets(match: string, ids: readonly number[], open: string, close: string): Array<{ id: number; snippet: string }>;
}

/** A short English stopword list (function words BM25 would only add noise with). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can did do does for from had has have he her his i if in into is it its ' +
    'me my no not of on or our she so such than that the their them then there these they this those to too ' +
    'us was we were what when where which who whom why will with would you your'
  ).split(' '),
);

/** At most this many distinct terms are sent to FTS5 (keeps pasted paragraphs cheap). */
export const MAX_QUERY_TERMS = 32;

/** Word tokens of free text: runs of Unicode letters/digits, lower-cased, in order, deduplicated. */
export function queryTerms(text: string, opts: { keepStopwords?: boolean } = {}): string[] {
  const words = (text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 0);
  const unique = [...new Set(words)];
  if (opts.keepStopwords) return unique;
  const content = unique.filter((w) => !STOPWORDS.has(w));
  // A query of stopwords only ("to be or not to be") still searches what was typed.
  return content.length > 0 ? content : unique;
}

/**
 * The FTS5 MATCH expression for free text: `"tok1" OR "tok2" ...`, or null when the text has no
 * word tokens (then there is nothing to search: no results, not an error).
 */
export function buildFtsQuery(text: string): string | null {
  const terms = queryTerms(text).slice(0, MAX_QUERY_TERMS);
  if (terms.length === 0) return null;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/** A passage with its matched words as [start, end) ranges of `text` (never as marks inside it). */
export interface Snippet {
  text: string;
  highlights: Array<{ start: number; end: number }>;
}

/**
 * Marks around matched words while a snippet is built (FTS5's snippet() and the highlighter): a
 * control character plus a private-use one, which extracted text does not contain, so a document
 * holding literal [brackets] is highlighted correctly. They never leave this module.
 */
const MARK_OPEN = '\u0002\uE000';
const MARK_CLOSE = '\uE001\u0003';

/** Text with MARK_OPEN/MARK_CLOSE pairs -> plain text and ranges (an unpaired mark is dropped). */
export function parseMarked(marked: string): Snippet {
  const highlights: Snippet['highlights'] = [];
  let text = '';
  let pos = 0;
  while (pos < marked.length) {
    const open = marked.indexOf(MARK_OPEN, pos);
    const close = open < 0 ? -1 : marked.indexOf(MARK_CLOSE, open + MARK_OPEN.length);
    if (open < 0 || close < 0) {
      text += marked.slice(pos).replaceAll(MARK_OPEN, '').replaceAll(MARK_CLOSE, '');
      break;
    }
    text += marked.slice(pos, open);
    const start = text.length;
    text += marked.slice(open + MARK_OPEN.length, close);
    highlights.push({ start, end: text.length });
    pos = close + MARK_CLOSE.length;
  }
  return { text, highlights };
}

/** For terminals and logs: the snippet with its matched words in [ ]. */
export function bracketed(s: Snippet): string {
  let out = '';
  let pos = 0;
  for (const h of s.highlights) {
    out += `${s.text.slice(pos, h.start)}[${s.text.slice(h.start, h.end)}]`;
    pos = h.end;
  }
  return out + s.text.slice(pos);
}

const EMPTY_SNIPPET: Snippet = { text: '', highlights: [] };

export interface LexicalHit {
  chunkId: number;
  documentId: number;
  /** -bm25(chunks_fts): higher is better. */
  score: number;
  /** The best ~12-token fragment, '…' where cut, with its matched terms as ranges. */
  snippet: Snippet;
}

export interface LexicalOptions {
  k: number;
  /** Restrict to one collection (documents.collection_id). */
  collectionId?: number;
  /** Restrict to documents of these file types (documents.file_type). */
  fileTypes?: readonly string[];
  /**
   * Make FTS5 snippets for the hits (default true). Snippets cost ~0.1-0.4 ms each, far more than
   * the ranking: a caller that keeps only a few of the hits passes false and asks
   * `lexicalSnippets` for the ones it keeps.
   */
  snippets?: boolean;
}

/** BM25 search over chunks_fts; an empty (token-less) query returns []. Snippets for the k winners only. */
export function lexicalSearch(source: FtsSource, query: string, opts: LexicalOptions): LexicalHit[] {
  if (!Number.isInteger(opts.k) || opts.k < 1) throw new TandemError('INVALID_ARGUMENT', `k must be a positive integer, got ${opts.k}`);
  const match = buildFtsQuery(query);
  if (match === null) return [];
  try {
    const hits = source.ftsTop(match, { k: opts.k, collectionId: opts.collectionId, fileTypes: opts.fileTypes });
    if (hits.length === 0) return [];
    if (opts.snippets === false) return hits.map((h) => ({ ...h, snippet: EMPTY_SNIPPET }));
    const snippets = snippetsFor(source, match, hits.map((h) => h.chunkId));
    return hits.map((h) => ({ ...h, snippet: snippets.get(h.chunkId) ?? EMPTY_SNIPPET }));
  } catch (e) {
    throw storeError(e);
  }
}

function snippetsFor(source: FtsSource, match: string, ids: readonly number[]): Map<number, Snippet> {
  if (ids.length === 0) return new Map();
  return new Map(source.ftsSnippets(match, ids, MARK_OPEN, MARK_CLOSE).map((r) => [r.id, parseMarked(r.snippet)]));
}

/** FTS5 snippets of these chunks for a query; chunks it does not match are absent. */
export function lexicalSnippets(source: FtsSource, query: string, chunkIds: readonly number[]): Map<number, Snippet> {
  const match = buildFtsQuery(query);
  if (match === null) return new Map();
  try {
    return snippetsFor(source, match, chunkIds);
  } catch (e) {
    throw storeError(e);
  }
}

function storeError(e: unknown): TandemError {
  {
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CORRUPT')) return new TandemError('STORE_CORRUPT', `the full-text index is damaged: ${(e as Error).message}`, { cause: e });
    return new TandemError('STORE_ERROR', `lexical search failed: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------- highlighting for vector hits

/** Lower-case, strip diacritics, and remove a few English suffixes: a light stand-in for porter. */
export function stem(word: string): string {
  let w = word.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 4 && w.endsWith('es') && /(ss|x|ch|sh|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return w;
}

export interface Highlight extends Snippet {
  /** `text`: the window, '…' where the text was cut; `highlights`: its matched words. */
  /** Character offsets of the window in the original text. */
  start: number;
  end: number;
  /** Matched words in the window. */
  matches: number;
  /** Offsets of the first matched word's start and the last matched word's end in the window (the window's own when nothing matched). */
  matchStart: number;
  matchEnd: number;
}

/**
 * The best window of about `window` words (default 30) for a vector hit: the one covering the
 * most distinct query terms (then the most matches, then the earliest), with matches marked.
 * `queryTerms` may be the raw query string or a list of words.
 */
export function highlight(text: string, terms: string | readonly string[], opts: { window?: number } = {}): Highlight {
  const size = Math.max(1, opts.window ?? 30);
  const wanted = new Set((typeof terms === 'string' ? queryTerms(terms) : terms.flatMap((t) => queryTerms(t, { keepStopwords: true }))).map(stem));
  const words: Array<{ start: number; end: number; term: number }> = [];
  const termIds = new Map<string, number>();
  for (const m of text.matchAll(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu)) {
    const s = stem(m[0].replace(/['’].*$/u, ''));
    let term = -1;
    if (wanted.has(s)) {
      if (!termIds.has(s)) termIds.set(s, termIds.size);
      term = termIds.get(s)!;
    }
    words.push({ start: m.index, end: m.index + m[0].length, term });
  }
  if (words.length === 0) return { text: text.slice(0, 200), highlights: [], start: 0, end: Math.min(text.length, 200), matches: 0, matchStart: 0, matchEnd: Math.min(text.length, 200) };
  // slide a window of `size` words, tracking distinct terms and matches
  const counts = new Map<number, number>();
  let distinct = 0;
  let matches = 0;
  let best = { from: 0, distinct: -1, matches: -1 };
  for (let i = 0; i < words.length; i++) {
    const t = words[i]!.term;
    if (t >= 0) {
      matches++;
      const c = counts.get(t) ?? 0;
      if (c === 0) distinct++;
      counts.set(t, c + 1);
    }
    const from = i - size + 1;
    if (from > 0) {
      const o = words[from - 1]!.term;
      if (o >= 0) {
        matches--;
        const c = counts.get(o)! - 1;
        counts.set(o, c);
        if (c === 0) distinct--;
      }
    }
    if (from >= 0 || i === words.length - 1) {
      const f = Math.max(0, from);
      if (distinct > best.distinct || (distinct === best.distinct && matches > best.matches)) best = { from: f, distinct, matches };
    }
  }
  const first = words[best.from]!;
  const lastIdx = Math.min(words.length, best.from + size) - 1;
  const last = words[lastIdx]!;
  let out = best.from > 0 ? '…' : '';
  let pos = first.start;
  let matchStart = -1;
  let matchEnd = -1;
  for (let i = best.from; i <= lastIdx; i++) {
    const w = words[i]!;
    if (w.term >= 0) {
      if (matchStart < 0) matchStart = w.start;
      matchEnd = w.end;
    }
    out += text.slice(pos, w.start);
    out += w.term >= 0 ? `${MARK_OPEN}${text.slice(w.start, w.end)}${MARK_CLOSE}` : text.slice(w.start, w.end);
    pos = w.end;
  }
  if (lastIdx < words.length - 1) out += '…';
  return {
    ...parseMarked(out.replace(/\s+/g, ' ').trim()), start: first.start, end: last.end, matches: Math.max(0, best.matches),
    matchStart: matchStart < 0 ? first.start : matchStart, matchEnd: matchEnd < 0 ? last.end : matchEnd,
  };
}
