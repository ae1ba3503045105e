/**
 * Builds one HNSW shard in a worker thread and writes it to a file (hnswlib indexes cannot move
 * between threads otherwise). Started by AnnIndex.build; posts { ok, ms, sha1 } or { ok: false, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import hnswlib from 'hnswlib-node';
import { sha1File } from './file-hash.js';

export interface AnnShardJob {
  ids: Int32Array;
  vectors: Float32Array;
  dims: number;
  start: number;
  end: number;
  m: number;
  efConstruction: number;
  seed: number;
  file: string;
  /** Int32 progress counter shared with the caller: rows added so far, at [slot]. */
  progress: Int32Array;
  slot: number;
}

const job = workerData as AnnShardJob;
try {
  const t0 = performance.now();
  const index = new hnswlib.HierarchicalNSW('ip', job.dims);
  index.initIndex({ maxElements: Math.max(1, job.end - job.start), m: job.m, efConstruction: job.efConstruction, randomSeed: job.seed });
  const d = job.dims;
  const point = new Array<number>(d);
  for (let r = job.start; r < job.end; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) point[i] = job.vectors[o + i]!;
    index.addPoint(point, job.ids[r]!);
    if ((r & 255) === 0) Atomics.store(job.progress, job.slot, r - job.start);
  }
  Atomics.store(job.progress, job.slot, job.end - job.start);
  index.writeIndexSync(job.file);
  parentPort!.postMessage({ ok: true, ms: performance.now() - t0, sha1: sha1File(job.file) });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: (e as Error).message });
}
