import { TandemError } from '../common/errors.js';

/**
 * Mean of the first `lengths[r]` token rows of each sequence (right-padded input, so the attention
 * mask is exactly those rows). `hidden` is [rows, seq, dim].
 */
export function meanPool(hidden: Float32Array, rows: number, seq: number, dim: number, lengths: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const len = lengths[r]!;
    const o = r * dim;
    let base = r * seq * dim;
    for (let t = 0; t < len; t++, base += dim) {
      for (let d = 0; d < dim; d++) out[o + d]! += hidden[base + d]!;
    }
    const inv = len > 0 ? 1 / len : 0;
    for (let d = 0; d < dim; d++) out[o + d]! *= inv;
  }
  return out;
}

/** First token (CLS) of each sequence. */
export function clsPool(hidden: Float32Array, rows: number, seq: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) out.set(hidden.subarray(r * seq * dim, r * seq * dim + dim), r * dim);
  return out;
}

/** In-place L2 normalisation of each row; a zero row stays zero. */
export function l2NormalizeRows(v: Float32Array, dim: number): void {
  for (let o = 0; o < v.length; o += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[o + d]! * v[o + d]!;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let d = 0; d < dim; d++) v[o + d]! *= inv;
    }
  }
}

/** Fails with NUMERIC_ERROR naming the first row that holds a NaN or an Inf. */
export function assertFinite(v: Float32Array, dim: number, rowLabel: (row: number) => string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      const row = Math.floor(i / dim);
      throw new TandemError('NUMERIC_ERROR', `the model produced ${Number.isNaN(v[i]!) ? 'NaN' : 'Inf'} in the vector of ${rowLabel(row)} (dimension ${i % dim}); the job is failed rather than storing a broken vector`, {
        data: { row },
      });
    }
  }
}

/** IEEE half -> float (for fp16 model outputs). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const s = x & 0x8000 ? -1 : 1;
    const e = (x >> 10) & 0x1f;
    const f = x & 0x3ff;
    out[i] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
  }
  return out;
}
