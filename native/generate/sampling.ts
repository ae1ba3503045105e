import { TandemError } from '../engine/common/errors.js';

/**
 * A small seeded PRNG (SplitMix32 seeding + xoshiro128**): the same seed gives the same stream on
 * every platform, so the same seed gives the same text.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface SamplingParams {
  /** 0 (or absent) = greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (0 / absent = all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 / absent = all). */
  topP?: number;
}

export function checkSamplingParams(p: SamplingParams): void {
  if (p.temperature !== undefined && (!Number.isFinite(p.temperature) || p.temperature < 0)) throw new TandemError('INVALID_ARGUMENT', `temperature must be a number >= 0, got ${p.temperature}`);
  if (p.topK !== undefined && (!Number.isInteger(p.topK) || p.topK < 0)) throw new TandemError('INVALID_ARGUMENT', `topK must be an integer >= 0, got ${p.topK}`);
  if (p.topP !== undefined && (!Number.isFinite(p.topP) || p.topP <= 0 || p.topP > 1)) throw new TandemError('INVALID_ARGUMENT', `topP must be in (0, 1], got ${p.topP}`);
}

/** Whether id is allowed by a bitset mask (null = all). */
export function allowed(mask: Uint32Array | null, id: number): boolean {
  return mask === null || (mask[id >>> 5]! & (1 << (id & 31))) !== 0;
}

/**
 * Pick the next token from one row of logits, over the ids the mask allows (ids >= `limit` and
 * non-finite logits never). Greedy takes the highest logit (lowest id on ties). Sampling follows
 * Hugging Face's order: temperature, then top-k, then top-p, then a draw from the softmax.
 * Returns -1 when nothing is allowed.
 */
export function pickToken(logits: Float32Array, limit: number, mask: Uint32Array | null, params: SamplingParams, rng: Rng): number {
  const n = Math.min(limit, logits.length);
  const temperature = params.temperature ?? 0;
  if (temperature === 0) {
    let best = -1;
    let bestV = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = logits[i]!;
      if (v > bestV && allowed(mask, i)) {
        bestV = v;
        best = i;
      }
    }
    return best;
  }
  // Candidates: allowed ids with finite logits, scaled by the temperature.
  const ids: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = logits[i]!;
    if (v > -Infinity && v < Infinity && allowed(mask, i)) {
      ids.push(i);
      vals.push(v / temperature);
    }
  }
  if (ids.length === 0) return -1;
  let keepAbove = -Infinity; // keep candidates with value >= keepAbove
  const topK = params.topK ?? 0;
  if (topK > 0 && topK < ids.length) keepAbove = kthLargest(vals, topK);
  let max = -Infinity;
  for (const v of vals) if (v > max) max = v;
  const topP = params.topP ?? 1;
  if (topP < 1) {
    // Probabilities of the kept set, sorted descending; the cut is the value where the mass reaches p.
    const kept = Float64Array.from(vals.filter((v) => v >= keepAbove));
    kept.sort();
    let z = 0;
    for (let i = 0; i < kept.length; i++) z += Math.exp(kept[i]! - max);
    let mass = 0;
    for (let i = kept.length - 1; i >= 0; i--) {
      mass += Math.exp(kept[i]! - max) / z;
      if (mass >= topP) {
        keepAbove = Math.max(keepAbove, kept[i]!);
        break;
      }
    }
  }
  let z = 0;
  for (const v of vals) if (v >= keepAbove) z += Math.exp(v - max);
  let r = rng.next() * z;
  let last = -1;
  for (let j = 0; j < vals.length; j++) {
    const v = vals[j]!;
    if (v < keepAbove) continue;
    last = ids[j]!;
    r -= Math.exp(v - max);
    if (r < 0) return last;
  }
  return last;
}

/** The k-th largest value (1-based) of a list. */
function kthLargest(vals: readonly number[], k: number): number {
  const sorted = Float64Array.from(vals);
  sorted.sort();
  return sorted[sorted.length - k]!;
}
