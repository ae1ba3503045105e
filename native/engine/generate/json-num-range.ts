/**
 * Bounds (`minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`) of non-integer numbers
 * enforced while decoding (issue 21). Under bounds a number is written plainly: an optional '-', at
 * most 15 integer digits and at most 15 fraction digits, no exponent (the automaton's own digit
 * limits, less the exponent). Such a number is X / 10^15 for an integer X with |X| < 10^30, and
 * every X in that range has a spelling, so the values a prefix can still become are a few
 * intervals of X (one per count of integer digits still to come), compared exactly as BigInts.
 *
 * The bounds are scaled integers too: `lo` is the least X whose text passes ajv's check of the lower
 * bound, `hi` the greatest X that passes the upper one. ajv compares doubles: `Number(text) >= min`
 * (or `>`), `Number(text) <= max` (or `<`). Reading a decimal as a double rounds to nearest, which is
 * monotonic in the decimal, so `Number(dec(X)) >= min` holds on an up-set of X: a threshold, found by
 * a binary search over X with the same `Number()` ajv's JSON.parse uses. That makes the automaton's
 * verdict ajv's, to the last digit. (Comparing the decimal text against String(min) instead would be
 * sound for inclusive bounds, since x >= String(min) as decimals implies round(x) >= min, but not for
 * exclusive ones: x > String(min) may still round to min itself once x has more than ~15 significant
 * digits, e.g. 100000000000000.000000000000001 is the double 1e14, not above exclusiveMinimum 1e14;
 * the threshold search takes those cases exactly.)
 */

/** Inclusive bounds of X = value * 10^15; null: that side is open (within the digit limits). */
export interface NumRange {
  lo: bigint | null;
  hi: bigint | null;
  /** The bounds as ajv checks them (for enum / const values, which may have an exponent). */
  tests: NumTest[];
}

/** One bound: value >= b (strict: >), or value <= b (strict: <) when upper. */
export interface NumTest {
  b: number;
  upper: boolean;
  strict: boolean;
}

/** Does the value pass every bound (ajv's double comparisons)? */
export function numPasses(r: NumRange, v: number): boolean {
  return r.tests.every((t) => (t.upper ? (t.strict ? v < t.b : v <= t.b) : t.strict ? v > t.b : v >= t.b));
}

const FRAC = 15;
const INT = 15;
const S = 10n ** BigInt(FRAC);
/** The largest |X|: 15 nines, '.', 15 nines. */
const MAXS = 10n ** BigInt(INT + FRAC) - 1n;
const P10: bigint[] = Array.from({ length: INT + FRAC + 2 }, (_, k) => 10n ** BigInt(k));

/** The plain decimal text of X / 10^15. */
export function decimalOf(x: bigint): string {
  const neg = x < 0n;
  const m = neg ? -x : x;
  const frac = (m % S).toString().padStart(FRAC, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${(m / S).toString()}${frac ? `.${frac}` : ''}`;
}

/** The least X in [-MAXS, MAXS + 1] with ok(X), ok false then true along X (MAXS + 1: none). */
function least(ok: (x: bigint) => boolean): bigint {
  let a = -MAXS;
  let b = MAXS + 1n;
  while (a < b) {
    const mid = (a + b) >> 1n; // floor
    if (ok(mid)) b = mid;
    else a = mid + 1n;
  }
  return a;
}

/** The least X passing a lower bound (ajv: Number(text) >= b, or > b when strict). */
function lowerX(b: number, strict: boolean): bigint {
  return least((x) => (strict ? Number(decimalOf(x)) > b : Number(decimalOf(x)) >= b));
}

/** The greatest X passing an upper bound (ajv: Number(text) <= b, or < b when strict). */
function upperX(b: number, strict: boolean): bigint {
  return least((x) => (strict ? Number(decimalOf(x)) >= b : Number(decimalOf(x)) > b)) - 1n;
}

/**
 * The enforced range of a number schema's bounds (draft-04: boolean exclusiveMinimum /
 * exclusiveMaximum beside minimum / maximum; later drafts: numbers), or undefined when there is
 * nothing to enforce: no bound, only bounds every plain number passes, or a lower bound of 10^15 or
 * more (an upper one of -10^15 or less), which no plain number meets: those are left to the final
 * validation, exponents allowed as without bounds. Keyword types are checked by the caller.
 */
export function numRangeOf(s: Record<string, unknown>, draft04: boolean): NumRange | undefined {
  const num = (k: string): number | undefined => (typeof s[k] === 'number' ? s[k] : undefined);
  let lo = -MAXS;
  let hi = MAXS;
  const tests: NumTest[] = [];
  const min = num('minimum');
  const max = num('maximum');
  if (min !== undefined) tests.push({ b: min, upper: false, strict: draft04 && s.exclusiveMinimum === true });
  if (max !== undefined) tests.push({ b: max, upper: true, strict: draft04 && s.exclusiveMaximum === true });
  if (!draft04) {
    const xmin = num('exclusiveMinimum');
    const xmax = num('exclusiveMaximum');
    if (xmin !== undefined) tests.push({ b: xmin, upper: false, strict: true });
    if (xmax !== undefined) tests.push({ b: xmax, upper: true, strict: true });
  }
  for (const t of tests) {
    if (t.upper) hi = minBig(hi, upperX(t.b, t.strict));
    else lo = maxBig(lo, lowerX(t.b, t.strict));
  }
  if (lo > MAXS || hi < -MAXS) return undefined;
  if (lo <= -MAXS && hi >= MAXS) return undefined;
  return { lo: lo <= -MAXS ? null : lo, hi: hi >= MAXS ? null : hi, tests };
}

/** Both ranges at once. */
export function intersectNum(a: NumRange | undefined, b: NumRange | undefined): NumRange | undefined {
  if (!a) return b;
  if (!b) return a;
  return { lo: a.lo === null ? b.lo : b.lo === null ? a.lo : maxBig(a.lo, b.lo), hi: a.hi === null ? b.hi : b.hi === null ? a.hi : minBig(a.hi, b.hi), tests: [...a.tests, ...b.tests] };
}

/** No plain number in the range. */
export function numEmpty(r: NumRange): boolean {
  return r.lo !== null && r.hi !== null && r.lo > r.hi;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** The magnitudes |X| allowed for a sign, within [0, MAXS]; undefined when none. */
function magnitudes(r: NumRange, neg: boolean): [bigint, bigint] | undefined {
  const lo = r.lo ?? -MAXS;
  const hi = r.hi ?? MAXS;
  const a = maxBig(0n, neg ? -hi : lo);
  const b = minBig(MAXS, neg ? -lo : hi);
  return a <= b ? [a, b] : undefined;
}

/** A plain number prefix taken apart (the automaton's syntax: '-'? int ('.' frac)?, no exponent). */
interface Prefix {
  neg: boolean;
  int: string;
  dot: boolean;
  frac: string;
}

function parse(x: string): Prefix {
  const neg = x.charCodeAt(0) === 0x2d;
  const body = neg ? x.slice(1) : x;
  const i = body.indexOf('.');
  return i < 0 ? { neg, int: body, dot: false, frac: '' } : { neg, int: body.slice(0, i), dot: true, frac: body.slice(i + 1) };
}

/** The fewest fraction digits t >= from such that a multiple of 10^(15 - t) lies in [a, b] (a >= 0); -1: none. */
function fewestFrac(a: bigint, b: bigint, from: number): number {
  for (let t = from; t <= FRAC; t++) {
    const m = P10[FRAC - t]!;
    if (((a + m - 1n) / m) * m <= b) return t;
  }
  return -1;
}

/** Bytes after the integer part for a magnitude in [a, b]: none for an integer, else '.' and the fraction digits. */
function tailCost(a: bigint, b: bigint): number {
  const t = fewestFrac(a, b, 0);
  return t < 0 ? Infinity : t === 0 ? 0 : 1 + t;
}

/**
 * Fewest more bytes that make the unsigned part of a prefix (its sign fixed) a number whose
 * magnitude is in [ma, mb]; `viableOnly`: stop at the first way (0 for some, Infinity for none).
 */
function moreUnsigned(p: Prefix, ma: bigint, mb: bigint, viableOnly: boolean): number {
  let best = Infinity;
  /** A span [lo, hi] of magnitudes the prefix can reach, `used` bytes for the integer part still to write. */
  const span = (lo: bigint, hi: bigint, used: number): boolean => {
    const a = maxBig(lo, ma);
    const b = minBig(hi, mb);
    if (a > b) return false;
    if (viableOnly) {
      best = 0;
      return true;
    }
    best = Math.min(best, used + tailCost(a, b));
    return false;
  };
  if (p.int === '') {
    // n integer digits: 0..9 with any fraction for n = 1, else [10^(n-1), 10^n).
    for (let n = 1; n <= INT && n < best; n++) if (span(n === 1 ? 0n : P10[n - 1 + FRAC]!, P10[n + FRAC]! - 1n, n)) break;
    return best;
  }
  if (!p.dot) {
    if (p.int === '0') {
      span(0n, S - 1n, 0);
      return best;
    }
    const v = BigInt(p.int);
    // k more integer digits: [v * 10^k, (v + 1) * 10^k) with any fraction.
    for (let k = 0; p.int.length + k <= INT && k < best; k++) if (span(v * P10[k + FRAC]!, (v + 1n) * P10[k + FRAC]! - 1n, k)) break;
    return best;
  }
  // After '.' with e fraction digits: the multiples of 10^(15 - t) for t >= max(e, 1) digits in all.
  const e = p.frac.length;
  const step = P10[FRAC - e]!;
  const base = BigInt(p.int) * S + (e ? BigInt(p.frac) * step : 0n);
  const a = maxBig(base, ma);
  const b = minBig(base + step - 1n, mb);
  if (a > b) return Infinity;
  if (viableOnly) return 0;
  const t = fewestFrac(a, b, Math.max(e, 1));
  return t < 0 ? Infinity : t - e;
}

function more(r: NumRange, x: string, viableOnly: boolean): number {
  if (x === '') {
    const pos = magnitudes(r, false);
    const neg = magnitudes(r, true);
    const empty: Prefix = { neg: false, int: '', dot: false, frac: '' };
    const a = pos ? moreUnsigned(empty, pos[0], pos[1], viableOnly) : Infinity;
    if (viableOnly && a === 0) return 0;
    const b = neg ? 1 + moreUnsigned(empty, neg[0], neg[1], viableOnly) : Infinity;
    return viableOnly ? (b < Infinity ? 0 : a) : Math.min(a, b);
  }
  const p = parse(x);
  const m = magnitudes(r, p.neg);
  return m ? moreUnsigned(p, m[0], m[1], viableOnly) : Infinity;
}

/** Fewest more bytes that complete the plain number prefix x (syntax as the automaton's) in the range: 0 when it may end now; Infinity when it cannot. */
export function numMore(r: NumRange, x: string): number {
  return more(r, x, false);
}

/** Can the plain number prefix x still end in the range? O(digits): at most 15 spans, each two BigInt comparisons. */
export function numViable(r: NumRange, x: string): boolean {
  return more(r, x, true) === 0;
}

/** Is the complete plain number x in the range? */
export function numIn(r: NumRange, x: string): boolean {
  const p = parse(x);
  const e = p.frac.length;
  const m = BigInt(p.int) * S + (e ? BigInt(p.frac) * P10[FRAC - e]! : 0n);
  const v = p.neg ? -m : m;
  return (r.lo === null || v >= r.lo) && (r.hi === null || v <= r.hi);
}

/** Fewest bytes of any number in the range. */
export function numShortest(r: NumRange): number {
  return numMore(r, '');
}
