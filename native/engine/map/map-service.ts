/**
 * Maps of collections, computed off the host's thread: each `compute` runs map-compute.ts in its
 * own worker thread (spawnWorker 'map-worker'), which reads the store read-only, so the web host's
 * or the Electron utility process's event loop stays free. Identical requests in flight share one
 * computation; `close()` stops every worker.
 */
import type { Worker } from 'node:worker_threads';
import { TandemError } from '../common/errors.js';
import { createClient } from '../common/rpc.js';
import { spawnWorker } from '../node/spawn-worker.js';
import { workerPort } from '../node/worker-client.js';
import { DEFAULT_MAX_POINTS, type MapProgress, type MapRequest, type MapResult } from './map-compute.js';
import type { MapWorkerApi, MapWorkerData, MapWorkerEvents } from './map-protocol.js';

export interface MapProgressEvent extends MapProgress {
  collection: string;
  method: MapRequest['method'];
}

export interface MapServiceOptions {
  /** The store file (the worker opens it read-only). */
  dbFile: string;
  /** TANDEM_HOME: maps are cached in `<home>/maps/`. */
  home: string;
  /** Progress of a computation (loading vectors, projecting, saving). */
  onProgress?: (p: MapProgressEvent) => void;
  /** UMAP/PCA seed (default 42): the same corpus gives the same map. */
  seed?: number;
}

export interface MapService {
  compute(req: MapRequest): Promise<MapResult>;
  /** Stop running computations (their callers get CANCELLED). Idempotent. */
  close(): Promise<void>;
}

export function createMapService(opts: MapServiceOptions): MapService {
  const inflight = new Map<string, Promise<MapResult>>();
  const running = new Set<{ worker: Worker; cancel: () => void }>();
  let closed = false;

  const run = (req: MapRequest): Promise<MapResult> =>
    new Promise<MapResult>((resolve, reject) => {
      const data: MapWorkerData = { dbFile: opts.dbFile, home: opts.home, request: req, seed: opts.seed ?? 42 };
      const worker = spawnWorker('map-worker', import.meta.url);
      const client = createClient<MapWorkerApi>(workerPort(worker));
      let settled = false;
      const entry = {
        worker,
        cancel: () => finish(() => reject(new TandemError('CANCELLED', 'the map computation was stopped (the engine is shutting down)'))),
      };
      const finish = (f: () => void): void => {
        if (settled) return;
        settled = true;
        running.delete(entry);
        f();
        client.close();
        void worker.terminate();
      };
      running.add(entry);
      const onEvent = (name: string, payload: unknown): void => {
        if (name === 'progress') opts.onProgress?.({ collection: req.collection, method: req.method, ...(payload as MapWorkerEvents['progress']) });
      };
      client.call('compute', data, { onEvent }).then(
        (result) => finish(() => resolve(result)),
        (e: unknown) => finish(() => reject(e)),
      );
      worker.on('error', (e) => finish(() => reject(new TandemError('INTERNAL', `the map worker failed: ${e.message}`, { cause: e }))));
      worker.on('exit', (code) => finish(() => reject(new TandemError('INTERNAL', `the map worker exited (code ${code}) without a result`))));
    });

  return {
    compute(req) {
      if (closed) return Promise.reject(new TandemError('CANCELLED', 'the engine is shutting down'));
      const key = JSON.stringify([req.collection, req.model ?? null, req.method, req.maxPoints ?? DEFAULT_MAX_POINTS[req.method]]);
      const existing = inflight.get(key);
      if (existing) return existing;
      const p = run(req).finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    async close() {
      closed = true;
      const all = [...running];
      for (const r of all) r.cancel();
      await Promise.allSettled(all.map((r) => r.worker.terminate()));
    },
  };
}
