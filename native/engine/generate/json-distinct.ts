import { intCount, intersectRanges, intIn, type IntRange } from './json-int-range.js';
import type { CharDfa } from './json-regex.js';
import type { ArrayNode, GrammarNode, LiteralNode, StringNode } from './json-schema-compile.js';

/**
 * uniqueItems over scalar items that are not only literals (free strings, numbers, bounded
 * integers, and literals beside them): the array frame remembers a key per item written (JSON
 * Schema equality, as ajv checks it: strings by their decoded value, numbers by their double value,
 * so 1 and 1.0 are equal, and -0 is 0), and an item may not end equal to an earlier one.
 *
 * The budget side (`DistinctPool`) counts a canonical subset of the item values by their length in
 * bytes: strings of printable ASCII characters other than `"` and `\` (one byte each) within the
 * string options' length ranges, integers of at most 15 digits written plainly (all of them beside
 * a free number option, else those of the integer options' ranges and multiples), and the literal
 * values (string literals only when no string option is there). The cheapest k values of that pool
 * not yet written bound the rest of an array; the pool is a subset of the values, so the bound is
 * never below the true shortest completion, and it is consistent (each state has a next byte that
 * lowers it by one), so a budget kept by it never runs out.
 *
 * A string option under `pattern` / `format` (one per array, and no plain string option beside it)
 * is counted exactly instead (RegexCount): every value the pattern and the length bounds accept, at
 * the length of its canonical spelling (each character in its cheapest JSON form: printable ASCII 1
 * byte, \" \\ \b \f \n \r \t 2, other controls 6, others raw UTF-8), by a DP over the DFA's states,
 * the automaton's character counter and the characters' byte costs, capped at 2^50.
 */

/** The equality key of a scalar JSON value. */
export function valueKey(v: unknown): string {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number') return `n${String(v)}`; // String(-0) is "0": equal, as in ajv
  if (v === true) return 'T';
  if (v === false) return 'F';
  return 'Z';
}

const litKeyCache = new WeakMap<LiteralNode, string[]>();
const dec = new TextDecoder();

/** The equality keys of a literal node's values. */
export function literalKeys(node: LiteralNode): string[] {
  let k = litKeyCache.get(node);
  if (!k) litKeyCache.set(node, (k = node.values.map((v) => valueKey(JSON.parse(dec.decode(v))))));
  return k;
}

/** Where `key` stands, or would stand, in a sorted list: the first index whose key is not below it. */
function lowerBound(vals: readonly string[], key: string): number {
  let lo = 0;
  let hi = vals.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vals[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Insert a key into a sorted list (a new list; the same list when present). */
export function withKey(vals: readonly string[] | undefined, key: string): string[] {
  if (!vals) return [key];
  const lo = lowerBound(vals, key);
  if (vals[lo] === key) return vals as string[];
  return [...vals.slice(0, lo), key, ...vals.slice(lo)];
}

export function hasKey(vals: readonly string[] | undefined, key: string): boolean {
  return vals !== undefined && vals[lowerBound(vals, key)] === key;
}

/** Integer ranges (different ones) a distinct array's pool counts by inclusion-exclusion: 2^n intersections. */
const MAX_RANGES = 8;

/** The leaves of items whose values a distinct array can track (strings without pattern, numbers, bounded integers of at most MAX_RANGES ranges, scalar literals); undefined when some leaf is another kind. */
export function scalarLeaves(node: GrammarNode, pending?: Set<GrammarNode>): GrammarNode[] | undefined {
  const out: GrammarNode[] = [];
  const seen = new Set<GrammarNode>();
  const walk = (n: GrammarNode): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    switch (n.t) {
      case 'union':
        return !pending?.has(n) && n.options.every(walk);
      case 'string':
        out.push(n);
        return n.maxLength >= 1;
      case 'number':
        out.push(n);
        return !n.num; // bounded non-integers (json-num-range.ts): uniqueItems left to the final validation
      case 'literal':
        out.push(n);
        return n.values.every((v) => v[0] !== 0x7b && v[0] !== 0x5b);
      default:
        return false;
    }
  };
  if (!walk(node) || out.length === 0) return undefined;
  // Strings under a pattern: one such option, and no plain string option beside it (their values would overlap).
  const strs = out.filter((n) => n.t === 'string');
  const rx = strs.filter((n) => isRegexString(n));
  if (rx.length > 1 || (rx.length === 1 && strs.length > 1)) return undefined;
  // The counts' tables have a cell per (DFA state, character counter): patterns with large ones stay with the final validation.
  if (rx.length === 1 && rx[0]!.regex!.size * (regexCap(rx[0] as StringNode) + 1) > MAX_REGEX_CELLS) return undefined;
  return rangesOf(out).length <= MAX_RANGES ? out : undefined;
}

/** Cells (DFA states x character counter values) a pattern's count tables may have. */
const MAX_REGEX_CELLS = 1 << 14;

/** The automaton's character counter's cap for a string node (countChar, json-automaton.ts). */
function regexCap(n: StringNode): number {
  return Math.max(n.minLength, Number.isFinite(n.maxLength) ? n.maxLength : 0);
}

/** A string node whose pattern constrains it from the start (a pattern matching every string is a plain string). */
export function isRegexString(n: GrammarNode): n is StringNode & { regex: CharDfa } {
  return n.t === 'string' && n.regex !== undefined && !n.regex.universal[0];
}

/** Bytes a character takes inside a JSON string, in its cheapest spelling. */
export function jsonCharBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2;
  if (cp < 0x20) return cp === 8 || cp === 9 || cp === 10 || cp === 12 || cp === 13 ? 2 : 6;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The canonical spelling's length of a string's content (no quotes). */
export function canonBytes(s: string): number {
  let n = 0;
  for (const ch of s) n += jsonCharBytes(ch.codePointAt(0)!);
  return n;
}

/** Byte costs of the canonical spellings (index into a cost vector). */
export const COSTS = [1, 2, 3, 4, 6] as const;
/** Boundaries where jsonCharBytes changes: [start, cost] pieces over 0..0x10ffff (surrogates cost 0: never written). */
const PIECES: Array<[number, number]> = [
  [0, 6], [8, 2], [0x0b, 6], [0x0c, 2], [0x0e, 6], [0x20, 1], [0x22, 2], [0x23, 1], [0x5c, 2], [0x5d, 1],
  [0x80, 2], [0x800, 3], [0xd800, 0], [0xe000, 3], [0x10000, 4], [0x110000, 0],
];

/** How many characters of [lo, hi] take each cost of COSTS (surrogates left out). */
export function costCounts(lo: number, hi: number): number[] {
  const out = [0, 0, 0, 0, 0];
  for (let i = 0; i + 1 < PIECES.length; i++) {
    const [a, c] = PIECES[i]!;
    const b = PIECES[i + 1]![0] - 1;
    if (c === 0 || b < lo || a > hi) continue;
    out[COSTS.indexOf(c as 1)]! += Math.min(b, hi) - Math.max(a, lo) + 1;
  }
  return out;
}

const COUNT_CAP = 2 ** 50;
/** Content bytes past which a completion is not looked for (an infinite language's values are counted up to here). */
export const REGEX_MAX_BYTES = 4096;

/**
 * The values of a string node under a pattern, by the canonical length of their content: from DFA
 * state s with the automaton's character counter n (json-automaton.ts, countChar: exact up to
 * cap = max(minLength, finite maxLength), then held there), how many strings of exactly j bytes
 * lead to a match that meets the length bounds (capped at 2^50).
 */
export class RegexCount {
  readonly dfa: CharDfa;
  private readonly min: number;
  private readonly max: number;
  readonly cap: number;
  private readonly states: number;
  /** Per state, per transition, the characters of each cost. */
  private readonly costs: number[][][];
  private readonly layers: Float64Array[] = [];
  /** States from which a cycle of live states is reachable (infinitely many completions when maxLength is not finite). */
  private readonly cyclic: Uint8Array;
  private readonly longest: Float64Array;
  /** A state from which every string matches, if any (a frame that reached one is a plain string frame). */
  readonly univ: number;

  constructor(readonly node: StringNode & { regex: CharDfa }) {
    const dfa = node.regex;
    this.dfa = dfa;
    this.min = node.minLength;
    this.max = node.maxLength;
    this.cap = regexCap(node);
    this.states = dfa.size;
    this.costs = dfa.start.map((st, s) => Array.from(st, (lo, i) => costCounts(lo, dfa.end[s]![i]!)));
    this.univ = dfa.universal.indexOf(1);
    // Longest path in characters from each state (Infinity on or before a cycle): depth-first with colours.
    const S = this.states;
    this.cyclic = new Uint8Array(S);
    this.longest = new Float64Array(S);
    const colour = new Uint8Array(S);
    const visit = (s: number): void => {
      colour[s] = 1;
      let best = dfa.accept[s] ? 0 : -Infinity;
      let cyc = false;
      for (const t of dfa.to[s]!) {
        if (colour[t] === 1) cyc = true;
        else {
          if (colour[t] === 0) visit(t);
          if (this.cyclic[t]) cyc = true;
          best = Math.max(best, 1 + this.longest[t]!);
        }
      }
      this.cyclic[s] = cyc ? 1 : 0;
      this.longest[s] = cyc ? Infinity : best;
      colour[s] = 2;
    };
    for (let s = 0; s < S; s++) if (colour[s] === 0) visit(s);
  }

  /** Completions of exactly j content bytes from every (state, counter): index s * (cap + 1) + n. */
  private layer(j: number): Float64Array {
    for (let k = this.layers.length; k <= j; k++) {
      const w = this.cap + 1;
      const L = new Float64Array(this.states * w);
      const dfa = this.dfa;
      for (let s = 0; s < this.states; s++) {
        for (let n = 0; n <= this.cap; n++) {
          if (k === 0) {
            L[s * w + n] = dfa.accept[s] && n >= this.min ? 1 : 0;
            continue;
          }
          if (n + 1 > this.max) continue;
          const n2 = Math.min(n + 1, this.cap);
          const to = dfa.to[s]!;
          let sum = 0;
          for (let i = 0; i < to.length; i++) {
            const cc = this.costs[s]![i]!;
            for (let q = 0; q < COSTS.length; q++) {
              const c = COSTS[q]!;
              if (cc[q] === 0 || c > k) continue;
              sum += cc[q]! * this.layers[k - c]![to[i]! * w + n2]!;
            }
          }
          L[s * w + n] = Math.min(sum, COUNT_CAP);
        }
      }
      this.layers.push(L);
    }
    return this.layers[j]!;
  }

  /** Completions of exactly j content bytes from state s with counter n. */
  count(s: number, n: number, j: number): number {
    if (j > REGEX_MAX_BYTES) return 0;
    return this.layer(j)[s * (this.cap + 1) + n]!;
  }

  /** An upper bound of the content bytes of any completion from (s, n) (Infinity: infinitely many). */
  maxBytes(s: number, n: number): number {
    const chars = Number.isFinite(this.max) ? Math.min(this.max - n, this.longest[s]!) : this.longest[s]!;
    return chars === Infinity ? Infinity : Math.max(0, chars) * 6;
  }

  private totals: Float64Array | undefined;
  /** How many completions (s, n) has, whatever their length (Infinity: infinitely many or past the cap). */
  total(s: number, n: number): number {
    this.totals ??= this.allTotals();
    return this.totals[s * (this.cap + 1) + n]!;
  }

  /** Completions of every (state, counter), by rows of the counter from cap down (at cap: the DFA's states by longest path, none on a cycle unless maxLength stops it). */
  private allTotals(): Float64Array {
    const w = this.cap + 1;
    const T = new Float64Array(this.states * w);
    const dfa = this.dfa;
    const all = this.costs.map((ts) => ts.map((cc) => cc.reduce((x, y) => x + y, 0)));
    const cell = (s: number, n: number): number => {
      if (n + 1 > this.max) return this.accepts(s, n) ? 1 : 0;
      if (n === this.cap && this.cyclic[s]) return Infinity;
      const n2 = Math.min(n + 1, this.cap);
      let t = this.accepts(s, n) ? 1 : 0;
      const to = dfa.to[s]!;
      for (let i = 0; i < to.length; i++) if (all[s]![i]! > 0) t += all[s]![i]! * T[to[i]! * w + n2]!;
      return t >= COUNT_CAP ? Infinity : t;
    };
    const order = Array.from({ length: this.states }, (_, s) => s).sort((x, y) => this.longest[x]! - this.longest[y]!);
    for (let n = this.cap; n >= 0; n--) for (const s of order) T[s * w + n] = cell(s, n);
    return T;
  }

  /** The (state, counter) after the characters of str from (s, n), or undefined when the DFA or maxLength refuses them. */
  run(s: number, n: number, str: string): [number, number] | undefined {
    for (const ch of str) {
      if (n + 1 > this.max) return undefined;
      s = this.dfa.step(s, ch.codePointAt(0)!);
      if (s < 0) return undefined;
      n = Math.min(n + 1, this.cap);
    }
    return [s, n];
  }

  /** Whether (s, n) ends a value (a match meeting minLength). */
  accepts(s: number, n: number): boolean {
    return this.dfa.accept[s] === 1 && n >= this.min;
  }
}

const regexCounts = new WeakMap<StringNode, RegexCount>();
/** The counts of a pattern string node (cached). */
export function regexCountOf(node: StringNode & { regex: CharDfa }): RegexCount {
  let r = regexCounts.get(node);
  if (!r) regexCounts.set(node, (r = new RegexCount(node)));
  return r;
}

/** The different integer ranges among the leaves. */
function rangesOf(leaves: readonly GrammarNode[]): IntRange[] {
  const out: IntRange[] = [];
  for (const n of leaves) {
    const r = n.t === 'number' ? n.range : undefined;
    if (r && !out.some((o) => o.min === r.min && o.max === r.max && o.mult === r.mult)) out.push(r);
  }
  return out;
}

/** The largest value of at most 15 digits; the automaton writes no longer integer. */
const MAX_INT = 1e15 - 1;

/** The integers of each byte length (index: bytes, 1..16) in the union of the ranges (inclusion-exclusion over their intersections). */
function rangedCounts(ranges: readonly IntRange[]): number[] {
  const counts = new Array<number>(17).fill(0);
  const parts: Array<{ r: IntRange; sign: number }> = [];
  for (let mask = 1; mask < 1 << ranges.length; mask++) {
    let r: IntRange | undefined;
    let bits = 0;
    for (let i = 0; i < ranges.length; i++) {
      if (((mask >>> i) & 1) === 0) continue;
      r = intersectRanges(r, ranges[i]);
      bits++;
    }
    if (r && r.min <= r.max) parts.push({ r, sign: bits % 2 ? 1 : -1 });
  }
  for (let len = 1; len <= 16; len++) {
    // len bytes: len digits, or '-' and len - 1 digits (-0 is 0: counted at one byte).
    const pos: [number, number] | undefined = len <= 15 ? [len === 1 ? 0 : 10 ** (len - 1), Math.min(10 ** len - 1, MAX_INT)] : undefined;
    const neg: [number, number] | undefined = len >= 2 ? [-(10 ** (len - 1) - 1), len === 2 ? -1 : -(10 ** (len - 2))] : undefined;
    let c = 0;
    for (const { r, sign } of parts) {
      if (pos) c += sign * intCount(r, pos[0], pos[1]);
      if (neg) c += sign * intCount(r, neg[0], neg[1]);
    }
    counts[len] = c;
  }
  return counts;
}

const ASCII_CAP = 2 ** 50;

/** A printable ASCII character written as itself (one byte): 0x20..0x7f but '"' and '\'. */
export function ascii94(cp: number): boolean {
  return cp >= 0x20 && cp <= 0x7f && cp !== 0x22 && cp !== 0x5c;
}

function allAscii94(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!ascii94(s.charCodeAt(i))) return false;
  return true;
}

/** The canonical value pool of a distinct array's items, by length in bytes. */
export class DistinctPool {
  /** Character-count ranges of the string options. */
  readonly ranges: Array<[number, number]> = [];
  readonly hasNum: boolean;
  /** The integer options' ranges (none beside a free number option: every integer is counted then). */
  private readonly ranges_: IntRange[];
  /** Integers of the ranges by byte length. */
  private readonly intCounts: number[] | undefined;
  /** Literal values in the pool (not covered by the other parts): key -> bytes. */
  private readonly lits = new Map<string, number>();
  private readonly litCount = new Map<number, number>();
  /** The longest value length with any count (Infinity with an unbounded string option). */
  private readonly maxLen: number;

  /** The string option under a pattern, counted exactly (json-distinct.ts, RegexCount). */
  readonly rx: RegexCount | undefined;

  constructor(items: GrammarNode) {
    const leaves = scalarLeaves(items) ?? [];
    let num = false;
    let rx: RegexCount | undefined;
    for (const n of leaves) {
      if (isRegexString(n)) rx = regexCountOf(n);
      else if (n.t === 'string') this.ranges.push([n.minLength, n.maxLength]);
      else if (n.t === 'number' && !n.range) num = true;
    }
    this.rx = rx;
    this.hasNum = num;
    this.ranges_ = num ? [] : rangesOf(leaves);
    this.intCounts = this.ranges_.length ? rangedCounts(this.ranges_) : undefined;
    let maxLen = num || this.intCounts ? 16 : 0;
    for (const [, m] of this.ranges) maxLen = Math.max(maxLen, m + 2);
    if (rx) maxLen = Math.max(maxLen, Math.min(rx.maxBytes(0, 0), REGEX_MAX_BYTES) + 2);
    for (const n of leaves) {
      if (n.t !== 'literal') continue;
      const keys = literalKeys(n);
      keys.forEach((k, i) => {
        if (this.lits.has(k)) return;
        if (k[0] === 's' && this.ranges.length) return; // strings: only the canonical ones when a string option is there
        if (this.canonical(k) >= 0) return;
        const len = n.values[i]!.length;
        this.lits.set(k, len);
        this.litCount.set(len, (this.litCount.get(len) ?? 0) + 1);
        maxLen = Math.max(maxLen, len);
      });
    }
    this.maxLen = maxLen;
  }

  private inRanges(chars: number): boolean {
    for (const [l, m] of this.ranges) if (chars >= l && chars <= m) return true;
    return false;
  }

  /** The length of a value in the string / integer part of the pool, -1 if not there. */
  private canonical(key: string): number {
    if (key[0] === 's') {
      const s = key.slice(1);
      if (this.rx) {
        const e = this.rx.run(0, 0, s);
        return e && this.rx.accepts(e[0], e[1]) ? canonBytes(s) + 2 : -1;
      }
      return this.ranges.length && allAscii94(s) && this.inRanges(s.length) ? s.length + 2 : -1;
    }
    if (key[0] === 'n' && (this.hasNum || this.ranges_.length)) {
      const x = Number(key.slice(1));
      if (!Number.isInteger(x) || Math.abs(x) >= 1e15) return -1;
      return this.hasNum || this.ranges_.some((r) => intIn(r, x)) ? key.length - 1 : -1;
    }
    return -1;
  }

  /** The pool length of a value (its key), -1 when it is not in the pool. */
  slot(key: string): number {
    const c = this.canonical(key);
    return c >= 0 ? c : (this.lits.get(key) ?? -1);
  }

  /** Pool values of exactly len bytes. */
  count(len: number): number {
    let n = this.litCount.get(len) ?? 0;
    if (len >= 2 && this.inRanges(len - 2)) n += Math.min(ASCII_CAP, 94 ** (len - 2));
    if (this.rx && len >= 2) n += this.rx.count(0, 0, len - 2);
    if (this.hasNum && len >= 1 && len <= 16) {
      if (len <= 15) n += len === 1 ? 10 : 9 * 10 ** (len - 1);
      n += len === 2 ? 9 : len >= 3 ? 9 * 10 ** (len - 2) : 0;
    }
    if (this.intCounts && len <= 16) n += this.intCounts[len]!;
    return n;
  }

  /** How many values the items allow, when that is known exactly (bounded integers, literals and a finite pattern language only), else Infinity. */
  total(): number {
    if (this.hasNum || this.ranges.length) return Infinity;
    let n = this.lits.size + (this.rx ? this.rx.total(0, 0) : 0);
    for (const c of this.intCounts ?? []) n += c;
    return n;
  }

  /** Used values per pool length. */
  histogram(vals: readonly string[] | undefined): Map<number, number> {
    const h = new Map<number, number>();
    for (const k of vals ?? []) {
      const s = this.slot(k);
      if (s >= 0) h.set(s, (h.get(s) ?? 0) + 1);
    }
    return h;
  }

  /** Bytes of the k cheapest pool values not used (and not at `extra`, one more used value's length). */
  cheapest(hist: Map<number, number>, k: number, extra = -1): number {
    let sum = 0;
    for (let len = 1; k > 0; len++) {
      if (len > this.maxLen) return Infinity;
      const avail = this.count(len) - (hist.get(len) ?? 0) - (len === extra ? 1 : 0);
      if (avail <= 0) continue;
      const take = Math.min(avail, k);
      sum += take * len;
      k -= take;
    }
    return sum;
  }
}

/** The pool of a distinct array node (cached). */
const pools = new WeakMap<ArrayNode, DistinctPool>();
export function poolOf(node: ArrayNode): DistinctPool {
  let p = pools.get(node);
  if (!p) pools.set(node, (p = new DistinctPool(node.items)));
  return p;
}
