/**
 * Builds one HNSW shard in a worker thread and writes it to a file (hnswlib indexes cannot move
 * between threads otherwise). Started by AnnIndex.build, which calls `build` (AnnWorkerApi) once.
 */
import hnswlib from 'hnswlib-node';
import { TandemError } from '../common/errors.js';
import { serveWorker, workerHostPort } from '../node/worker-serve.js';
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

/** The ANN worker's one method: build the shard, write it to `job.file`, answer its build time and SHA-1. */
export interface AnnWorkerApi {
  build(job: AnnShardJob): Promise<{ ms: number; sha1: string }>;
}

function build(job: AnnShardJob): { ms: number; sha1: string } {
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
  return { ms: performance.now() - t0, sha1: sha1File(job.file) };
}

serveWorker<AnnWorkerApi>(workerHostPort('ann-worker'), {
  build: (job) => {
    try {
      return build(job);
    } catch (e) {
      throw new TandemError('INTERNAL', `HNSW shard build failed: ${(e as Error).message}`, { cause: e });
    }
  },
});
