import { intCount, intersectRanges, intIn, type IntRange } from './json-int-range.js';
import type { ArrayNode, GrammarNode, LiteralNode } from './json-schema-compile.js';

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
        return !n.regex && n.maxLength >= 1;
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
  return rangesOf(out).length <= MAX_RANGES ? out : undefined;
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

  constructor(items: GrammarNode) {
    const leaves = scalarLeaves(items) ?? [];
    let num = false;
    for (const n of leaves) {
      if (n.t === 'string') this.ranges.push([n.minLength, n.maxLength]);
      else if (n.t === 'number' && !n.range) num = true;
    }
    this.hasNum = num;
    this.ranges_ = num ? [] : rangesOf(leaves);
    this.intCounts = this.ranges_.length ? rangedCounts(this.ranges_) : undefined;
    let maxLen = num || this.intCounts ? 16 : 0;
    for (const [, m] of this.ranges) maxLen = Math.max(maxLen, m + 2);
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
    if (this.hasNum && len >= 1 && len <= 16) {
      if (len <= 15) n += len === 1 ? 10 : 9 * 10 ** (len - 1);
      n += len === 2 ? 9 : len >= 3 ? 9 * 10 ** (len - 2) : 0;
    }
    if (this.intCounts && len <= 16) n += this.intCounts[len]!;
    return n;
  }

  /** How many values the items allow, when that is known exactly (bounded integers and literals only), else Infinity. */
  total(): number {
    if (this.hasNum || this.ranges.length) return Infinity;
    let n = this.lits.size;
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
