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

export const MAX_DIGITS = 15;
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

/**
 * The integers a prefix (sign, magnitude `v` with `d` digits so far; d = 0: nothing yet) becomes
 * with exactly k more digits, as values with the sign: [lo, hi], or undefined when there are none
 * (no digit at all, past 15 digits, or after a leading zero). "-0" is the value 0.
 */
export function intSpan(neg: boolean, v: number, d: number, k: number): [number, number] | undefined {
  if (d + k > MAX_DIGITS || d + k === 0) return undefined;
  let lo: number;
  let hi: number;
  if (d === 0) {
    lo = k === 1 ? 0 : POW10[k - 1]!;
    hi = POW10[k]! - 1;
  } else {
    if (v === 0 && k > 0) return undefined; // a leading zero ends the number
    lo = v * POW10[k]!;
    hi = lo + POW10[k]! - 1;
  }
  return neg ? [hi === 0 ? 0 : -hi, lo === 0 ? 0 : -lo] : [lo, hi];
}

/** The multiples of `mult` in [lo, hi] ∩ [min, max]: how many. */
export function intCount(r: IntRange, lo: number, hi: number): number {
  const a = Math.max(lo, r.min);
  const b = Math.min(hi, r.max);
  if (a > b) return 0;
  return Math.max(0, Math.floor(b / r.mult) - Math.ceil(a / r.mult) + 1);
}

/** Is the integer x in the range and a multiple? */
export function intIn(r: IntRange, x: number): boolean {
  return Number.isInteger(x) && x >= r.min && x <= r.max && x % r.mult === 0;
}

/** Whether some integer with the prefix and exactly k more digits is in the range and a multiple. */
function reach(r: IntRange, neg: boolean, v: number, d: number, k: number): boolean {
  const s = intSpan(neg, v, d, k);
  return s !== undefined && hits(r, s[0], s[1]);
}

/**
 * A prefix of an integer item in a uniqueItems array can still end as a value not written before
 * (`used`: the integer values written, any order): for some number of more digits, the range holds
 * more of its values than were written (spans of different digit counts are disjoint; one spelling
 * per value, but "-0", which is 0).
 */
export function intFresh(r: IntRange, neg: boolean, v: number, d: number, used: readonly number[]): boolean {
  for (let k = 0; d + k <= MAX_DIGITS; k++) {
    const s = intSpan(neg, v, d, k);
    if (!s) continue;
    const c = intCount(r, s[0], s[1]);
    if (c === 0) continue;
    let u = 0;
    for (const x of used) if (x >= s[0] && x <= s[1] && intIn(r, x)) u++;
    if (c > u) return true;
  }
  return false;
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
