/**
 * Principal component analysis to 2D, by hand: block power iteration (two vectors at once) on the
 * centred data's Gram operator X^T X, applied as X^T (X v) so the d x d covariance is never formed.
 * O(n * d) per iteration; a few dozen iterations on 50k x 1024 take seconds, in a worker thread.
 */
import { mulberry32 } from '../common/mulberry32.js';

/** A small seeded generator (mulberry32): the same seed gives the same map. */
export const seededRandom = mulberry32;

export interface PcaOptions {
  /** Stop when both directions move less than this (1 - |cos|). Default 1e-7 (an angle of ~0.03 degrees). */
  tol?: number;
  /** Default 100 (random-like data has no dominant direction to converge to). */
  maxIter?: number;
  seed?: number;
  /** Called once per iteration with (iteration, maxIter). */
  onProgress?: (done: number, total: number) => void;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

/** Normalise in place; returns the norm before (0 leaves the vector at 0). */
function normalise(v: Float64Array): number {
  const n = Math.sqrt(dot(v, v));
  if (n > 0) for (let j = 0; j < v.length; j++) v[j]! /= n;
  return n;
}

/** The sign is arbitrary in PCA: make each direction's largest entry positive, so maps are stable. */
function fixSign(v: Float64Array): void {
  let at = 0;
  for (let j = 1; j < v.length; j++) if (Math.abs(v[j]!) > Math.abs(v[at]!)) at = j;
  if (v[at]! < 0) for (let j = 0; j < v.length; j++) v[j] = -v[j]!;
}

/**
 * Project `n` rows of `dims` floats (row-major) onto their first two principal components.
 * Returns `n * 2` coordinates (x0, y0, x1, y1, ...). Points on a line map to y = 0; identical
 * points map to the origin.
 */
export function pca2(vectors: Float32Array, n: number, dims: number, opts: PcaOptions = {}): Float32Array {
  const out = new Float32Array(n * 2);
  if (n < 2 || dims === 0) return out;
  const tol = opts.tol ?? 1e-7;
  const maxIter = opts.maxIter ?? 100;
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j]! += vectors[i * dims + j]!;
  for (let j = 0; j < dims; j++) mean[j]! /= n;

  const rnd = seededRandom(opts.seed ?? 42);
  const v0 = new Float64Array(dims).map(() => rnd() - 0.5);
  const v1 = new Float64Array(dims).map(() => rnd() - 0.5);
  normalise(v0);
  v1.forEach((x, j) => (v1[j] = x - dot(v0, v1) * v0[j]!));
  normalise(v1);
  const w0 = new Float64Array(dims);
  const w1 = new Float64Array(dims);

  for (let it = 0; it < maxIter; it++) {
    // w = X^T (X v) with X centred: (x_i - m) . v = x_i . v - m . v
    w0.fill(0);
    w1.fill(0);
    const mv0 = dot(mean, v0);
    const mv1 = dot(mean, v1);
    let s0sum = 0;
    let s1sum = 0;
    for (let i = 0; i < n; i++) {
      const off = i * dims;
      let s0 = -mv0;
      let s1 = -mv1;
      for (let j = 0; j < dims; j++) {
        const x = vectors[off + j]!;
        s0 += x * v0[j]!;
        s1 += x * v1[j]!;
      }
      for (let j = 0; j < dims; j++) {
        const x = vectors[off + j]!;
        w0[j]! += s0 * x;
        w1[j]! += s1 * x;
      }
      s0sum += s0;
      s1sum += s1;
    }
    for (let j = 0; j < dims; j++) {
      w0[j]! -= s0sum * mean[j]!;
      w1[j]! -= s1sum * mean[j]!;
    }
    // Orthonormalise (Gram-Schmidt): w0 keeps the top direction, w1 the next one.
    const n0 = normalise(w0);
    const proj = dot(w0, w1);
    for (let j = 0; j < dims; j++) w1[j]! -= proj * w0[j]!;
    const n1 = normalise(w1);
    opts.onProgress?.(it + 1, maxIter);
    if (n0 === 0) return out; // every point is the same
    // Rank 1 (a line): nothing is left for the second direction.
    const rank1 = n1 <= n0 * 1e-12;
    if (rank1) w1.fill(0);
    const d0 = 1 - Math.abs(dot(v0, w0));
    const d1 = rank1 ? 0 : 1 - Math.abs(dot(v1, w1));
    v0.set(w0);
    v1.set(w1);
    if (d0 < tol && d1 < tol) break;
  }
  fixSign(v0);
  fixSign(v1);
  for (let i = 0; i < n; i++) {
    const off = i * dims;
    let x = 0;
    let y = 0;
    for (let j = 0; j < dims; j++) {
      const c = vectors[off + j]! - mean[j]!;
      x += c * v0[j]!;
      y += c * v1[j]!;
    }
    out[i * 2] = x;
    out[i * 2 + 1] = y;
  }
  return out;
}

/**
 * Centre the points on their bounding box and scale both axes by the same factor so the larger
 * extent spans [-1, 1] (the shape is kept: a line stays a line). In place; returns `xy`.
 */
export function normaliseCoords(xy: Float32Array): Float32Array {
  const n = xy.length / 2;
  if (n === 0) return xy;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[i * 2]!;
    const y = xy[i * 2 + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const half = Math.max(maxX - minX, maxY - minY) / 2;
  const s = half > 0 ? 1 / half : 0;
  for (let i = 0; i < n; i++) {
    xy[i * 2] = (xy[i * 2]! - cx) * s;
    xy[i * 2 + 1] = (xy[i * 2 + 1]! - cy) * s;
  }
  return xy;
}
