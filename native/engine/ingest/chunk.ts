import { TandemError } from '../common/errors.js';
import type { PageRange } from './extract-types.js';

/**
 * Tokens in a text as the embedding model will see them (special tokens included or not: be
 * consistent). A counter whose count of a text is exactly the sum of the counts of its words split
 * at some characters says so with `isSeparator` (inference/word-cache.ts): chunks whose pieces are
 * separated only by such characters are then measured by adding piece counts, not counted again.
 */
export type TokenCounter = ((text: string) => number) & { isSeparator?: (code: number) => boolean };

export interface ChunkOptions {
  /** Upper bound on countTokens(chunk.text); default 256 (MiniLM/BGE-small sequence length incl. specials). */
  maxTokens?: number;
  /** Tokens repeated from the end of a chunk at the start of the next; default 32. Must be < maxTokens / 2. */
  overlapTokens?: number;
  countTokens: TokenCounter;
  /**
   * The tokens themselves (ids without special tokens), when the caller wants them with each chunk:
   * `tokenIds(t).length + countTokens('')` must equal `countTokens(t)`. With an additive counter a
   * chunk's ids are its pieces' ids put together, so the text is tokenized once for both.
   */
  tokenIds?: (text: string) => number[];
  /** Page ranges of the text (PDFs): each chunk gets the page its start falls on. */
  pages?: readonly PageRange[];
  /**
   * Upper bound on a chunk's length in characters; default 16 x maxTokens. Keeps a chunk readable
   * when the counter sees a long run as few tokens (an unknown-word token, a whitespace counter on CJK).
   */
  maxChars?: number;
}

export interface Chunk {
  /** 0-based position in the document. */
  ord: number;
  /** Exactly text.slice(start, end): begins and ends on a non-whitespace character. */
  text: string;
  start: number;
  end: number;
  /** 1-based page holding `start`, when pages were given. */
  page?: number;
  /** countTokens(text), always <= maxTokens. */
  tokens: number;
  /** tokenIds(text), when ChunkOptions.tokenIds was given. */
  ids?: number[];
}

export const DEFAULT_MAX_TOKENS = 256;
export const DEFAULT_OVERLAP_TOKENS = 32;
const DEFAULT_CHARS_PER_TOKEN_LIMIT = 16;
/** A chunk may end at a weaker boundary only if cutting at a stronger one would leave it less than this full. */
const MIN_FILL = 0.5;

/** Boundary strength before a piece: where a cut is preferred. */
const PARAGRAPH = 4;
const SENTENCE = 3;
const LINE = 2;
const WORD = 1;
const CHAR = 0;

/** A unit that is never split: a sentence or line (or a word / character run of an oversized one). */
interface Piece {
  start: number;
  end: number;
  /** Strength of the boundary before this piece. */
  level: number;
  /** countTokens(piece) minus the counter's fixed cost (countTokens('')). */
  cost: number;
  /** tokenIds(piece), when asked for. */
  ids?: number[];
  /** Set by PieceWindow: the summed cost of the pieces before this one. */
  acc: number;
  /** Set by PieceWindow (additive counters): boundaries up to here whose gap is not only separators. */
  glue: number;
}

/** Pieces made by the segmenter between two pauses: enough to amortise the pause, few enough to stay small. */
const SEGMENT_BATCH = 4096;

/** Where the segmenter pushes pieces; it pauses (yields) once `fresh` reaches SEGMENT_BATCH. */
interface Sink {
  out: Piece[];
  fresh: number;
}

/**
 * The pieces of a text as the chunker walks them: segmented a batch at a time and dropped once no
 * chunk can reach back to them, so memory follows the chunk being built, not the text (a 50 MB
 * line is 8.7 million word pieces). Indices are positions in the whole text's piece sequence.
 */
class PieceWindow {
  private readonly sink: Sink = { out: [], fresh: 0 };
  private readonly gen: Generator<void, void, void>;
  private base = 0;
  private annotated = 0;
  private done = false;
  /** Summed cost of every piece segmented so far. */
  private total = 0;
  private glue = 0;
  private lastEnd = -1;

  constructor(
    private readonly text: string,
    lim: SegmentLimits,
    private readonly isSeparator: ((code: number) => boolean) | undefined,
  ) {
    this.gen = segment(text, lim, this.sink);
  }

  /** Whether piece j exists (segmenting further as needed). */
  has(j: number): boolean {
    while (j >= this.base + this.sink.out.length && !this.done) this.pull();
    return j < this.base + this.sink.out.length;
  }

  /** Piece j: it must exist (has) and not be released. */
  at(j: number): Piece {
    return this.sink.out[j - this.base]!;
  }

  /** The summed cost of pieces before j (j may be one past the last piece segmented). */
  cum(j: number): number {
    return j - this.base < this.sink.out.length ? this.at(j).acc : this.total;
  }

  /** Pieces before j are no longer needed. */
  release(j: number): void {
    const drop = j - this.base;
    if (drop < SEGMENT_BATCH) return;
    this.sink.out.splice(0, drop);
    this.base = j;
    this.annotated -= drop;
  }

  private pull(): void {
    this.sink.fresh = 0;
    if (this.gen.next().done) this.done = true;
    const out = this.sink.out;
    const sep = this.isSeparator;
    for (let k = this.annotated; k < out.length; k++) {
      const p = out[k]!;
      p.acc = this.total;
      this.total += p.cost;
      if (sep && this.lastEnd >= 0) {
        let clean = p.start > this.lastEnd;
        for (let c = this.lastEnd; clean && c < p.start; c++) clean = sep(this.text.charCodeAt(c));
        if (!clean) this.glue++;
      }
      p.glue = this.glue;
      this.lastEnd = p.end;
    }
    this.annotated = out.length;
  }
}

/**
 * Splits a text into chunks of at most `maxTokens` tokens that end on the strongest boundary
 * available: a paragraph (blank line), then a sentence, then a line, then a word; a single word
 * too long for a chunk is cut by characters as a last resort. Consecutive chunks overlap by about
 * `overlapTokens`, carried as whole sentences where they fit (else trailing words).
 *
 * Tokens are counted once per piece and once per finished chunk (to guarantee the bound when the
 * tokenizer is not additive across pieces), so the cost is linear in the text length.
 */
export function chunkText(text: string, opts: ChunkOptions): Chunk[] {
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  const overlapTokens = opts.overlapTokens ?? DEFAULT_OVERLAP_TOKENS;
  const maxChars = opts.maxChars ?? maxTokens * DEFAULT_CHARS_PER_TOKEN_LIMIT;
  const count = opts.countTokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new TandemError('INVALID_ARGUMENT', `maxTokens must be a positive integer, got ${maxTokens}`);
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens * 2 >= maxTokens) {
    throw new TandemError('INVALID_ARGUMENT', `overlapTokens must be an integer from 0 to less than half of maxTokens (${maxTokens}), got ${overlapTokens}`);
  }
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new TandemError('INVALID_ARGUMENT', `maxChars must be a positive integer, got ${maxChars}`);
  const base = count('');
  if (base >= maxTokens) throw new TandemError('INVALID_ARGUMENT', `countTokens('') is ${base}: maxTokens ${maxTokens} leaves no room for text`);

  const tokenIds = opts.tokenIds;
  // Piece glue (boundaries whose gap is not made only of the counter's separators) when additive.
  const sep = count.isSeparator;
  const pieces = new PieceWindow(text, { maxTokens, maxChars, count, base, ...(tokenIds ? { ids: tokenIds } : {}) }, sep);
  const piece = (i: number): Piece => pieces.at(i);
  /** Estimated tokens of a chunk from `start` (carry of cost `carryCost`) through pieces [i, end). */
  const fits = (start: number, carryCost: number, i: number, end: number) =>
    base + carryCost + pieces.cum(end) - pieces.cum(i) <= maxTokens && piece(end - 1).end - start <= maxChars;

  const chunks: Chunk[] = [];
  const pageOf = pageFinder(opts.pages);
  let carry: Carry | undefined;
  let i = 0;
  while (pieces.has(i)) {
    let start = carry?.start ?? piece(i).start;
    let carryCost = carry?.cost ?? 0;
    let first = carry ? carry.piece : i;
    if (carry && !fits(start, carryCost, i, i + 1)) {
      start = piece(i).start;
      carryCost = 0;
      first = i;
    }
    let k = i + 1;
    while (pieces.has(k) && fits(start, carryCost, i, k + 1)) k++;
    let m = pieces.has(k) ? chooseCut(pieces, i, k, base + carryCost, maxTokens * MIN_FILL) : k;

    let chunk = text.slice(start, piece(m - 1).end);
    // Additive counter, whole pieces, separator-only gaps: the sum is the count.
    const summed = sep && first >= 0 && piece(m - 1).glue === piece(first).glue ? base + carryCost + pieces.cum(m) - pieces.cum(i) : -1;
    let tokens = summed >= 0 ? summed : count(chunk);
    let ids = tokenIds ? (summed >= 0 ? joinIds(pieces, first, m) : tokenIds(chunk)) : undefined;
    while (tokens > maxTokens) {
      // The estimate was low (tokens merged across a piece boundary): give back a piece, then the carry.
      if (m - 1 > i) m--;
      else if (start !== piece(i).start) start = piece(i).start;
      else throw new TandemError('INVALID_ARGUMENT', `countTokens is inconsistent: a ${tokens}-token piece was measured within ${maxTokens} before`);
      chunk = text.slice(start, piece(m - 1).end);
      tokens = count(chunk);
      ids = tokenIds?.(chunk);
    }
    const page = pageOf(start);
    chunks.push({ ord: chunks.length, text: chunk, start, end: piece(m - 1).end, ...(page !== undefined ? { page } : {}), tokens, ...(ids ? { ids } : {}) });
    carry = pieces.has(m) && overlapTokens > 0 ? overlapStart(text, pieces, i, m, overlapTokens, count, base) : undefined;
    i = m;
    pieces.release(carry && carry.piece >= 0 ? carry.piece : i);
  }
  return chunks;
}

/** The next chunk's overlap: where it starts, its token cost, and its first piece (-1: it starts inside one). */
interface Carry {
  start: number;
  cost: number;
  piece: number;
}

/** The ids of pieces [from, to), one after the other. */
function joinIds(pieces: PieceWindow, from: number, to: number): number[] {
  const out: number[] = [];
  for (let j = from; j < to; j++) for (const id of pieces.at(j).ids!) out.push(id);
  return out;
}

/**
 * Where to end a chunk holding pieces [i, k) when piece k does not fit: before the piece with the
 * strongest boundary (the latest among equals), provided the chunk keeps at least `minTokens`.
 */
function chooseCut(pieces: PieceWindow, i: number, k: number, fixed: number, minTokens: number): number {
  let best = k;
  let bestLevel = pieces.at(k).level;
  for (let m = k - 1; m > i; m--) {
    if (fixed + pieces.cum(m) - pieces.cum(i) < minTokens) break;
    const level = pieces.at(m).level;
    if (level > bestLevel) {
      best = m;
      bestLevel = level;
    }
  }
  return best;
}

/**
 * The start of the next chunk's overlap within pieces [i, m): the earliest piece starting a
 * sentence (else a line, else any piece) such that the pieces from it to m fit in `overlap` tokens;
 * when even the last piece is too big, its trailing words that fit.
 */
function overlapStart(text: string, pieces: PieceWindow, i: number, m: number, overlap: number, count: TokenCounter, base: number): Carry | undefined {
  let acc = 0;
  let bySentence = -1;
  let byLine = -1;
  let any = -1;
  const accAt = { sentence: 0, line: 0, any: 0 };
  for (let j = m - 1; j >= i; j--) {
    acc += pieces.at(j).cost;
    if (acc > overlap) break;
    const level = pieces.at(j).level;
    any = j;
    accAt.any = acc;
    if (level >= SENTENCE) {
      bySentence = j;
      accAt.sentence = acc;
    } else if (level >= LINE) {
      byLine = j;
      accAt.line = acc;
    }
  }
  if (bySentence >= 0) return { start: pieces.at(bySentence).start, cost: accAt.sentence, piece: bySentence };
  if (byLine >= 0) return { start: pieces.at(byLine).start, cost: accAt.line, piece: byLine };
  if (any >= 0) return { start: pieces.at(any).start, cost: accAt.any, piece: any };
  // The last piece alone is bigger than the overlap: take its trailing words.
  const last = pieces.at(m - 1);
  const words: number[] = [];
  const re = /\S+/g;
  const body = text.slice(last.start, last.end);
  for (let w = re.exec(body); w; w = re.exec(body)) words.push(w.index);
  let from = -1;
  let wordsAcc = 0;
  for (let w = words.length - 1; w >= 1; w--) {
    const ws = words[w]!;
    const we = w + 1 < words.length ? words[w + 1]! : body.length;
    wordsAcc += Math.max(0, count(body.slice(ws, we).trimEnd()) - base);
    if (wordsAcc > overlap) break;
    from = ws;
  }
  if (from < 0) return undefined;
  return { start: last.start + from, cost: Math.max(0, count(body.slice(from)) - base), piece: -1 };
}

function pageFinder(pages: readonly PageRange[] | undefined): (offset: number) => number | undefined {
  if (!pages || pages.length === 0) return () => undefined;
  const sorted = [...pages].sort((a, b) => a.start - b.start);
  return (offset) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let found = sorted[0]!.page;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = sorted[mid]!;
      if (p.start <= offset) {
        found = p.page;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

interface SegmentLimits {
  maxTokens: number;
  maxChars: number;
  count: TokenCounter;
  base: number;
  ids?: (text: string) => number[];
}

/** Character classes for the segmentation scan (a table lookup per character, BMP only). */
const JS_SPACE = 1; // what a regular expression's \s matches
const TERMINATOR = 2; // . ! ? … ‼ ⁇ ⁈ ⁉: a sentence end when whitespace or the line's end follows (after closers)
const CLOSER = 4; // " ' ” ’ » ) ]
const CJK_TERMINATOR = 8; // 。！？: a sentence end with no space after it
const CJK_CLOSER = 16; // " ' ” ’ 」 』 ） ) ]
const OPENER = 32; // " ' “ ‘ ( [ : stripped from the word before a '.'
const CHAR_CLASS = (() => {
  const t = new Uint8Array(0x10000);
  const mark = (flag: number, chars: string) => {
    for (const ch of chars) t[ch.charCodeAt(0)]! |= flag;
  };
  mark(JS_SPACE, ' \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff');
  mark(TERMINATOR, '.!?\u2026\u203c\u2047\u2048\u2049');
  mark(CLOSER, '"\'\u201d\u2019\u00bb)]');
  mark(CJK_TERMINATOR, '\u3002\uff01\uff1f');
  mark(CJK_CLOSER, '"\'\u201d\u2019\u300d\u300f\uff09)]');
  mark(OPENER, '"\'\u201c\u2018([');
  return t;
})();
/** Words that end in '.' without ending a sentence (lower case, without the dot). */
const ABBREVIATIONS = new Set(
  ('e.g i.e etc vs cf al approx ca fig figs eq eqs ref refs no nos vol pp p ed eds mr mrs ms dr prof sr jr st ' +
    'inc ltd co corp dept univ jan feb mar apr jun jul aug sep sept oct nov dec mt ft resp viz esp incl')
    .split(' '),
);
const LONGEST_ABBREVIATION = Math.max(...[...ABBREVIATIONS].map((a) => a.length));

/**
 * The text as pieces: sentences/lines, oversized ones split into words, oversized words into
 * character runs. Paragraphs end at a run of whitespace holding two or more line breaks. A
 * character scan, not regular expressions: segmentation runs on every indexed character.
 * Pieces go to `sink`; the generator pauses after every SEGMENT_BATCH of them (PieceWindow).
 */
function* segment(text: string, lim: SegmentLimits, sink: Sink): Generator<void, void, void> {
  let paraStart = 0;
  let pos = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', pos)) {
    let a = nl;
    while (a > paraStart && isJsSpace(text.charCodeAt(a - 1))) a--;
    let b = nl + 1;
    let breaks = 1;
    for (let c: number; b < text.length && isJsSpace((c = text.charCodeAt(b))); b++) if (c === 10) breaks++;
    if (breaks >= 2) {
      if (a > paraStart) yield* segmentParagraph(text, paraStart, a, sink, lim);
      paraStart = b;
    }
    pos = b;
  }
  if (text.length > paraStart) yield* segmentParagraph(text, paraStart, text.length, sink, lim);
}

function* segmentParagraph(text: string, from: number, to: number, sink: Sink, lim: SegmentLimits): Generator<void, void, void> {
  let level = PARAGRAPH;
  let lineStart = from;
  while (lineStart < to) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1 || lineEnd > to) lineEnd = to;
    let segStart = lineStart;
    let p = lineStart;
    while (p < lineEnd) {
      const end = sentenceEndAt(text, p, lineEnd);
      if (end < 0) {
        p = -end;
        continue;
      }
      if (isSentenceEnd(text, lineStart, p, end, lineEnd)) {
        const added = emit(text, segStart, end, level, sink, lim);
        if (added === OVERSIZED) yield* emitWords(text, segStart, end, level, sink, lim);
        if (added !== BLANK) level = SENTENCE;
        segStart = end;
        if (sink.fresh >= SEGMENT_BATCH) yield;
      }
      p = end;
    }
    const added = emit(text, segStart, lineEnd, level, sink, lim);
    if (added === OVERSIZED) yield* emitWords(text, segStart, lineEnd, level, sink, lim);
    if (added !== BLANK) level = LINE;
    if (sink.fresh >= SEGMENT_BATCH) yield;
    lineStart = lineEnd + 1;
  }
}

/**
 * A terminator run starting at `p` (with its closers) that ends a sentence candidate: its end; or
 * minus where to look next when there is none at `p`. Latin terminators need whitespace or the
 * line's end after them; CJK full stops do not.
 */
function sentenceEndAt(text: string, p: number, lineEnd: number): number {
  const cls = CHAR_CLASS[text.charCodeAt(p)]!;
  if ((cls & (TERMINATOR | CJK_TERMINATOR)) === 0) return -(p + 1);
  const cjk = (cls & CJK_TERMINATOR) !== 0;
  const term = cjk ? CJK_TERMINATOR : TERMINATOR;
  const closer = cjk ? CJK_CLOSER : CLOSER;
  let q = p + 1;
  while (q < lineEnd && (CHAR_CLASS[text.charCodeAt(q)]! & term) !== 0) q++;
  while (q < lineEnd && (CHAR_CLASS[text.charCodeAt(q)]! & closer) !== 0) q++;
  if (cjk || q === lineEnd || isJsSpace(text.charCodeAt(q))) return q;
  return -q;
}

/**
 * Whether the terminator run [at, end) of the line starting at `lineStart` ends a sentence: not
 * after an abbreviation, an initial (`J.`) or in a dotted word (`U.S.`), and not before a
 * lower-case word (unless it is a CJK full stop).
 */
function isSentenceEnd(text: string, lineStart: number, at: number, end: number, lineEnd: number): boolean {
  if (text.charCodeAt(at) === 0x2e && text.charCodeAt(at + 1) !== 0x2e) {
    let ws = at;
    while (ws > lineStart && !isJsSpace(text.charCodeAt(ws - 1))) ws--;
    while (ws < at && (CHAR_CLASS[text.charCodeAt(ws)]! & OPENER) !== 0) ws++;
    const n = at - ws;
    if (n > 0 && n <= LONGEST_ABBREVIATION && ABBREVIATIONS.has(text.slice(ws, at).toLowerCase())) return false;
    if (n > 0 && n <= 2 && /^\p{Lu}$/u.test(text.slice(ws, at))) return false;
    if (n >= 3 && text.lastIndexOf('.', at - 1) >= ws && /^(?:\p{L}\.)+\p{L}$/u.test(text.slice(ws, at))) return false;
  }
  for (let k = end, stop = Math.min(end + 8, lineEnd); k < stop; k++) {
    const c = text.charCodeAt(k);
    if (isJsSpace(c)) continue;
    const lower = c < 128 ? c >= 0x61 && c <= 0x7a : /\p{Ll}/u.test(text[k]!);
    return !lower || (CHAR_CLASS[text.charCodeAt(at)]! & CJK_TERMINATOR) !== 0;
  }
  return true;
}

/** JavaScript's `\s`: exactly the characters a regular expression's \s matches. */
function isJsSpace(c: number): boolean {
  return (CHAR_CLASS[c]! & JS_SPACE) !== 0;
}

const BLANK = 0;
const ADDED = 1;
const OVERSIZED = 2;

/** Adds the trimmed span [from, to) as one piece: BLANK when it is blank, OVERSIZED (nothing added) when it does not fit one piece. */
function emit(text: string, from: number, to: number, level: number, sink: Sink, lim: SegmentLimits): number {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  if (from >= to) return BLANK;
  const m = to - from <= lim.maxChars ? measure(text.slice(from, to), lim) : undefined;
  if (!m || m.tokens > lim.maxTokens) return OVERSIZED;
  sink.out.push({ start: from, end: to, level, cost: Math.max(0, m.tokens - lim.base), ...(m.ids ? { ids: m.ids } : {}), acc: 0, glue: 0 });
  sink.fresh++;
  return ADDED;
}

/** An oversized span (see emit) as word pieces, oversized words as character runs; pauses every SEGMENT_BATCH pieces. */
function* emitWords(text: string, from: number, to: number, level: number, sink: Sink, lim: SegmentLimits): Generator<void, void, void> {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  const re = /\S+/g;
  const span = text.slice(from, to);
  let lvl = level;
  for (let w = re.exec(span); w; w = re.exec(span)) {
    const end = from + w.index + w[0].length;
    for (let pos = from + w.index; pos < end; lvl = CHAR) {
      pos = emitWordPiece(text, pos, end, lvl, sink, lim);
      if (sink.fresh >= SEGMENT_BATCH) yield;
    }
    lvl = WORD;
  }
}

/** A piece's tokens, and its ids when they were asked for (their count is then the token count). */
function measure(piece: string, lim: SegmentLimits): { tokens: number; ids?: number[] } {
  if (!lim.ids) return { tokens: lim.count(piece) };
  const ids = lim.ids(piece);
  return { tokens: lim.base + ids.length, ids };
}

/**
 * The next piece of the word [pos, to): the rest of it when it fits, else the longest character
 * run that does (so a word too long for a chunk is cut by characters). Returns where it ends.
 */
function emitWordPiece(text: string, pos: number, to: number, lvl: number, sink: Sink, lim: SegmentLimits): number {
  const fitsRun = (a: number, b: number) => b - a <= lim.maxChars && lim.count(text.slice(a, b)) <= lim.maxTokens;
  let end = to;
  if (!fitsRun(pos, end)) {
    let lo = pos + 1; // a single character (or surrogate pair) always goes
    let hi = Math.min(to, pos + lim.maxChars);
    if (fitsRun(pos, hi)) lo = hi;
    else {
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (fitsRun(pos, mid)) lo = mid;
        else hi = mid;
      }
    }
    end = lo;
    // never split a surrogate pair: step back, or forward when the pair is the whole run
    if (end < to && isHighSurrogate(text.charCodeAt(end - 1))) end += end - 1 > pos ? -1 : 1;
  }
  const m = measure(text.slice(pos, end), lim);
  sink.out.push({ start: pos, end, level: lvl, cost: Math.max(0, m.tokens - lim.base), ...(m.ids ? { ids: m.ids } : {}), acc: 0, glue: 0 });
  sink.fresh++;
  return end;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || c === 0xfeff || (c >= 0x2000 && c <= 0x200b) || c === 0x2028 || c === 0x2029 || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0x85;
}

/** A cheap counter for tests and previews: whitespace-separated words. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}
