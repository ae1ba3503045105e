/**
 * 2D projections of embedding vectors: PCA (pca.ts) or UMAP (umap-js, seeded). Pure computation,
 * synchronous: it runs inside the map worker (map-worker.ts), never on a host's event loop.
 */
import type * as UmapJs from 'umap-js';
import { lazyModule } from '../node/lazy-module.js';

const umapJs = lazyModule<typeof UmapJs>('umap-js');
import { normaliseCoords, pca2, seededRandom } from './pca.js';

export const MAP_METHODS = ['pca', 'umap'] as const;
export type MapMethod = (typeof MAP_METHODS)[number];

export interface ProjectOptions {
  seed?: number;
  /** UMAP neighbourhood size (default 15, capped at n - 1). */
  nNeighbors?: number;
  /** (done, total) steps of the projection. */
  onProgress?: (done: number, total: number) => void;
}

/** UMAP needs a neighbourhood: below this many points it falls back to PCA. */
export const UMAP_MIN_POINTS = 5;

function umap2(vectors: Float32Array, n: number, dims: number, opts: ProjectOptions): Float32Array {
  const rows: number[][] = new Array<number[]>(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(vectors.subarray(i * dims, (i + 1) * dims));
  const umap = new (umapJs().UMAP)({ nComponents: 2, nNeighbors: Math.max(2, Math.min(opts.nNeighbors ?? 15, n - 1)), minDist: 0.1, random: seededRandom(opts.seed ?? 42) });
  const epochs = umap.initializeFit(rows);
  const every = Math.max(1, Math.floor(epochs / 50));
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if ((e + 1) % every === 0 || e + 1 === epochs) opts.onProgress?.(e + 1, epochs);
  }
  const emb = umap.getEmbedding();
  const out = new Float32Array(n * 2);
  emb.forEach((p, i) => {
    out[i * 2] = p[0] ?? 0;
    out[i * 2 + 1] = p[1] ?? 0;
  });
  return out;
}

/**
 * Project `n` rows of `dims` floats to 2D with `method`; coordinates are centred and scaled
 * uniformly into [-1, 1] (n * 2 floats: x0, y0, x1, y1, ...). Deterministic for a given seed.
 */
export function project(vectors: Float32Array, n: number, dims: number, method: MapMethod, opts: ProjectOptions = {}): Float32Array {
  const xy = method === 'umap' && n >= UMAP_MIN_POINTS ? umap2(vectors, n, dims, opts) : pca2(vectors, n, dims, opts.onProgress ? { seed: opts.seed ?? 42, onProgress: opts.onProgress } : { seed: opts.seed ?? 42 });
  for (let i = 0; i < xy.length; i++) if (!Number.isFinite(xy[i]!)) xy[i] = 0;
  return normaliseCoords(xy);
}

/** `k` row indices out of `total`, evenly spaced (deterministic; every part of the corpus is seen). */
export function evenSample(total: number, k: number): Int32Array {
  if (k >= total) return Int32Array.from({ length: total }, (_, i) => i);
  return Int32Array.from({ length: k }, (_, i) => Math.floor((i * total) / k));
}
