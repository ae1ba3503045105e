import { TandemError } from '../common/errors.js';

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
 * Picks the next token from one row of logits, over the ids the mask allows (ids >= `limit` and
 * non-finite logits never). Greedy takes the highest logit (lowest id on ties). Sampling follows
 * Hugging Face's order: temperature, then top-k, then top-p, then a draw from the softmax.
 * Under a mask only the allowed ids are read (the set bits, word by word: a mask of a few tokens
 * costs a few reads, not a pass over the vocabulary), in ascending id order as a full pass would
 * read them, so the candidates, their weights, the sum and the draw are the same numbers bit for bit.
 * Holds its scratch buffers, so one generation reuses them at every step.
 */
export class Sampler {
  private ids = new Int32Array(0);
  private vals = new Float64Array(0);
  private w = new Float64Array(0);
  private sorted = new Float64Array(0);
  private heap = new Float64Array(0);

  /** The chosen id, or -1 when nothing is allowed. */
  pick(logits: Float32Array, limit: number, mask: Uint32Array | null, params: SamplingParams, rng: Rng): number {
    const n = Math.min(limit, logits.length);
    const temperature = params.temperature ?? 0;
    if (temperature === 0) {
      let best = -1;
      let bestV = -Infinity;
      if (mask === null) {
        for (let i = 0; i < n; i++) {
          const v = logits[i]!;
          if (v > bestV) {
            bestV = v;
            best = i;
          }
        }
        return best;
      }
      const words = Math.min(mask.length, (n + 31) >>> 5);
      for (let wd = 0; wd < words; wd++) {
        let x = mask[wd]!;
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          const i = (wd << 5) | (31 - Math.clz32(low));
          if (i >= n) break;
          const v = logits[i]!;
          if (v > bestV) {
            bestV = v;
            best = i;
          }
        }
      }
      return best;
    }
    if (this.ids.length < n) {
      this.ids = new Int32Array(n);
      this.vals = new Float64Array(n);
      this.w = new Float64Array(n);
    }
    const { ids, vals, w } = this;
    // Candidates: allowed ids with finite logits, scaled by the temperature.
    let m = 0;
    let max = -Infinity;
    if (mask === null) {
      for (let i = 0; i < n; i++) {
        const v = logits[i]!;
        if (v > -Infinity && v < Infinity) {
          ids[m] = i;
          const s = v / temperature;
          vals[m++] = s;
          if (s > max) max = s;
        }
      }
    } else {
      const words = Math.min(mask.length, (n + 31) >>> 5);
      for (let wd = 0; wd < words; wd++) {
        let x = mask[wd]!;
        if (x === 0xffffffff && (wd << 5) + 32 <= n) {
          // A full word (most of a mask inside a free string): its 32 ids straight.
          for (let i = wd << 5, end = i + 32; i < end; i++) {
            const v = logits[i]!;
            if (v > -Infinity && v < Infinity) {
              ids[m] = i;
              const s = v / temperature;
              vals[m++] = s;
              if (s > max) max = s;
            }
          }
          continue;
        }
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          const i = (wd << 5) | (31 - Math.clz32(low));
          if (i >= n) break;
          const v = logits[i]!;
          if (v > -Infinity && v < Infinity) {
            ids[m] = i;
            const s = v / temperature;
            vals[m++] = s;
            if (s > max) max = s;
          }
        }
      }
    }
    if (m === 0) return -1;
    let keepAbove = -Infinity; // keep candidates with value >= keepAbove
    const topK = params.topK ?? 0;
    if (topK > 0 && topK < m) {
      if (this.heap.length < topK) this.heap = new Float64Array(topK);
      keepAbove = kthLargest(vals, m, topK, this.heap);
    }
    const topP = params.topP ?? 1;
    let z = 0;
    for (let j = 0; j < m; j++) {
      const v = vals[j]!;
      const e = v >= keepAbove ? Math.exp(v - max) : 0;
      w[j] = e;
      z += e;
    }
    if (topP < 1) {
      // The nucleus: the most likely candidates until their mass reaches p.
      if (this.sorted.length < m) this.sorted = new Float64Array(this.ids.length);
      let k = 0;
      if (keepAbove > -Infinity) {
        for (let j = 0; j < m; j++) if (w[j]! > 0) this.sorted[k++] = w[j]!;
      } else {
        this.sorted.set(w.subarray(0, m));
        k = m;
      }
      const sorted = this.sorted.subarray(0, k).sort();
      let mass = 0;
      let cut = 0;
      for (let i = sorted.length - 1; i >= 0; i--) {
        mass += sorted[i]!;
        if (mass >= topP * z) {
          cut = sorted[i]!;
          break;
        }
      }
      z = 0;
      for (let j = 0; j < m; j++) {
        if (w[j]! < cut) w[j] = 0;
        z += w[j]!;
      }
    }
    let r = rng.next() * z;
    let last = -1;
    for (let j = 0; j < m; j++) {
      const e = w[j]!;
      if (e === 0) continue;
      last = ids[j]!;
      r -= e;
      if (r < 0) return last;
    }
    return last;
  }
}

/** The k-th largest (1-based) of vals[0..m): a min-heap of the k largest seen, in `heap` (at least k long). */
function kthLargest(vals: Float64Array, m: number, k: number, heap: Float64Array): number {
  let size = 0;
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let s = i;
      if (l < size && heap[l]! < heap[s]!) s = l;
      if (r < size && heap[r]! < heap[s]!) s = r;
      if (s === i) return;
      const x = heap[i]!;
      heap[i] = heap[s]!;
      heap[s] = x;
      i = s;
    }
  };
  for (let j = 0; j < m; j++) {
    const v = vals[j]!;
    if (size < k) {
      let i = size++;
      heap[i] = v;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p]! <= heap[i]!) break;
        const x = heap[i]!;
        heap[i] = heap[p]!;
        heap[p] = x;
        i = p;
      }
    } else if (v > heap[0]!) {
      heap[0] = v;
      down(0);
    }
  }
  return heap[0]!;
}
