/**
 * Integer ranges and `multipleOf` enforced digit by digit (issue 21): the number frame carries the
 * sign and the magnitude read so far (at most 15 digits: exact in a double), and a digit is allowed
 * only if some integer with that prefix (and at most 15 digits) is in [min, max] and a multiple of
 * `mult`. A JSON integer has one spelling (no leading zeros), so prefixes and values match one to one.
 */
export interface IntRange {
  /** Inclusive bounds (integers or ±Infinity). */
  min: number;
  max: number;
  /** A positive integer (1: any). */
  mult: number;
}

const MAX_DIGITS = 15;
const POW10 = Array.from({ length: MAX_DIGITS + 1 }, (_, k) => 10 ** k);

/** Is some multiple of `mult` in [lo, hi] ∩ [min, max]? */
function hits(r: IntRange, lo: number, hi: number): boolean {
  const a = Math.max(lo, r.min);
  const b = Math.min(hi, r.max);
  if (a > b) return false;
  if (r.mult === 1) return true;
  const first = Math.ceil(a / r.mult) * r.mult;
  return first <= b;
}

/** The magnitudes reachable from magnitude `v` (with `d` digits so far; d = 0: nothing yet) by exactly k more digits, as values with the sign. */
function reach(r: IntRange, neg: boolean, v: number, d: number, k: number): boolean {
  if (d + k > MAX_DIGITS || d + k === 0) return false;
  let lo: number;
  let hi: number;
  if (d === 0) {
    lo = k === 1 ? 0 : POW10[k - 1]!;
    hi = POW10[k]! - 1;
  } else {
    if (v === 0 && k > 0) return false; // a leading zero ends the number
    lo = v * POW10[k]!;
    hi = lo + POW10[k]! - 1;
  }
  return neg ? hits(r, -hi, -lo) : hits(r, lo, hi);
}

/** Is the integer read so far (sign, magnitude, digit count) valid as it is? */
export function intComplete(r: IntRange, neg: boolean, v: number, d: number): boolean {
  return d > 0 && reach(r, neg, v, d, 0);
}

/** Can the prefix still become a valid integer (now or with more digits)? */
export function intViable(r: IntRange, neg: boolean, v: number, d: number): boolean {
  return intMoreDigits(r, neg, v, d) < Infinity;
}

/** Fewest more digits that make a valid integer (0: valid now; Infinity: none). */
export function intMoreDigits(r: IntRange, neg: boolean, v: number, d: number): number {
  for (let k = 0; d + k <= MAX_DIGITS; k++) if (reach(r, neg, v, d, k)) return k;
  return Infinity;
}

/** Fewest bytes of any valid integer under the range. */
export function intShortest(r: IntRange): number {
  return Math.min(intMoreDigits(r, false, 0, 0), 1 + intMoreDigits(r, true, 0, 0));
}

/** The range of an integer schema's keywords, or undefined when it has none; `exclusive*` as the draft says. */
export function intersectRanges(a: IntRange | undefined, b: IntRange | undefined): IntRange | undefined {
  if (!a) return b;
  if (!b) return a;
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max), mult: lcm(a.mult, b.mult) };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
