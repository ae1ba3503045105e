/**
 * Pure-JS scan kernels: the same contract and results as the native addon (native/addons), used
 * when the addon is not built or cannot load. See kernel.ts for the contract.
 *
 * Results agree with the native kernels: int8 scores are bit-identical (integer dot, one float32
 * multiply), quantisation mirrors the C float32 arithmetic with Math.fround, and float32 dot
 * products differ from the native FMA order by rounding only (callers rescore in float64).
 */

/** Fixed-capacity min-heap of (score, row) keeping the best k; ties prefer the lower row. */
export class TopK {
  readonly k: number;
  size = 0;
  readonly s: Float32Array | Float64Array;
  readonly r: Int32Array;

  constructor(k: number, scores?: Float32Array | Float64Array, rows?: Int32Array) {
    this.k = k;
    this.s = scores ?? new Float64Array(k);
    this.r = rows ?? new Int32Array(k);
  }

  /** Would (score, row) enter the kept set? */
  accepts(score: number, row: number): boolean {
    if (this.size < this.k) return true;
    const s0 = this.s[0]!;
    return s0 < score || (s0 === score && this.r[0]! > row);
  }

  push(score: number, row: number): void {
    const s = this.s;
    const r = this.r;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const ps = s[p]!;
        if (!(score < ps || (score === ps && row > r[p]!))) break;
        s[i] = ps;
        r[i] = r[p]!;
        i = p;
      }
      s[i] = score;
      r[i] = row;
    } else if (this.accepts(score, row)) {
      this.siftDown(score, row, this.size);
    }
  }

  private siftDown(score: number, row: number, n: number): void {
    const s = this.s;
    const r = this.r;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n) {
        const a = s[c + 1]!;
        const b = s[c]!;
        if (a < b || (a === b && r[c + 1]! > r[c]!)) c++;
      }
      const cs = s[c]!;
      if (!(cs < score || (cs === score && r[c]! > row))) break;
      s[i] = cs;
      r[i] = r[c]!;
      i = c;
    }
    s[i] = score;
    r[i] = row;
  }

  /** Sort best first in place; slots past `size` get row -1, score -Infinity. Returns size. */
  finish(): number {
    const s = this.s;
    const r = this.r;
    for (let n = this.size; n > 1; n--) {
      const ls = s[n - 1]!;
      const lr = r[n - 1]!;
      s[n - 1] = s[0]!;
      r[n - 1] = r[0]!;
      this.siftDown(ls, lr, n - 1);
    }
    for (let i = this.size; i < this.k; i++) {
      s[i] = -Infinity;
      r[i] = -1;
    }
    return this.size;
  }
}

function dotF32(q: Float32Array, qo: number, db: Float32Array, vo: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= dims; i += 4) {
    s0 += q[qo + i]! * db[vo + i]!;
    s1 += q[qo + i + 1]! * db[vo + i + 1]!;
    s2 += q[qo + i + 2]! * db[vo + i + 2]!;
    s3 += q[qo + i + 3]! * db[vo + i + 3]!;
  }
  for (; i < dims; i++) s0 += q[qo + i]! * db[vo + i]!;
  return s0 + s1 + (s2 + s3);
}

function dotI8(q: Int8Array, qo: number, db: Int8Array, vo: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 2 <= dims; i += 2) {
    s0 += q[qo + i]! * db[vo + i]!;
    s1 += q[qo + i + 1]! * db[vo + i + 1]!;
  }
  for (; i < dims; i++) s0 += q[qo + i]! * db[vo + i]!;
  return s0 + s1;
}

const BLOCK = 64;

export function scanF32(
  db: Float32Array,
  dims: number,
  queries: Float32Array,
  nq: number,
  start: number,
  end: number,
  k: number,
  outRows: Int32Array,
  outScores: Float32Array,
  mask: Uint8Array | null,
): number {
  const heaps: TopK[] = [];
  for (let q = 0; q < nq; q++) heaps.push(new TopK(k, outScores.subarray(q * k, q * k + k), outRows.subarray(q * k, q * k + k)));
  for (let b = start; b < end; b += BLOCK) {
    const be = Math.min(end, b + BLOCK);
    for (let q = 0; q < nq; q++) {
      const h = heaps[q]!;
      const qo = q * dims;
      for (let row = b; row < be; row++) {
        if (mask !== null && mask[row] === 0) continue;
        // float32 like the native kernel's accumulator, so ties and order match it closely
        const s = Math.fround(dotF32(queries, qo, db, row * dims, dims));
        if (h.accepts(s, row)) h.push(s, row);
      }
    }
  }
  let filled = 0;
  for (const h of heaps) filled = h.finish();
  return filled;
}

export function scanI8(
  db: Int8Array,
  scales: Float32Array,
  dims: number,
  queries: Int8Array,
  nq: number,
  start: number,
  end: number,
  k: number,
  outRows: Int32Array,
  outScores: Float32Array,
  mask: Uint8Array | null,
): number {
  const heaps: TopK[] = [];
  for (let q = 0; q < nq; q++) heaps.push(new TopK(k, outScores.subarray(q * k, q * k + k), outRows.subarray(q * k, q * k + k)));
  for (let b = start; b < end; b += BLOCK) {
    const be = Math.min(end, b + BLOCK);
    for (let q = 0; q < nq; q++) {
      const h = heaps[q]!;
      const qo = q * dims;
      for (let row = b; row < be; row++) {
        if (mask !== null && mask[row] === 0) continue;
        const s = Math.fround(dotI8(queries, qo, db, row * dims, dims) * scales[row]!);
        if (h.accepts(s, row)) h.push(s, row);
      }
    }
  }
  let filled = 0;
  for (const h of heaps) filled = h.finish();
  return filled;
}

/** Per-row symmetric int8 quantisation, float32 arithmetic exactly as in the C kernel. */
export function quantizeI8(src: Float32Array, dims: number, start: number, end: number, out: Int8Array, scales: Float32Array): void {
  const f = Math.fround;
  for (let row = start; row < end; row++) {
    const o = row * dims;
    let m = 0;
    for (let i = 0; i < dims; i++) {
      const a = Math.abs(src[o + i]!);
      if (a > m) m = a;
    }
    if (m === 0 || !Number.isFinite(m)) {
      out.fill(0, o, o + dims);
      scales[row] = 0;
      continue;
    }
    const inv = f(127 / m);
    for (let i = 0; i < dims; i++) {
      let y = f(src[o + i]! * inv);
      y = y >= 0 ? f(y + 0.5) : f(y - 0.5);
      y = y > 127 ? 127 : y < -127 ? -127 : y;
      out[o + i] = Math.trunc(y);
    }
    scales[row] = f(m / 127);
  }
}
