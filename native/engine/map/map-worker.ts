/**
 * The map worker (a worker_thread, started by MapService through spawnWorker): serves `compute`
 * (MapWorkerApi): opens the store read-only, computes one map (map-compute.ts) and emits progress
 * along the way. Listed as an entry in scripts/build-cli.mjs and electron.vite.config.ts.
 */
import { TandemError } from '../common/errors.js';
import { serveWorker, workerHostPort } from '../node/worker-serve.js';
import { openFileReadOnly, type Db } from '../store/database.js';
import { computeMap, type MapProgress } from './map-compute.js';
import type { MapWorkerApi } from './map-protocol.js';

serveWorker<MapWorkerApi>(workerHostPort('map-worker'), {
  compute: (data, ctx) => {
    let db: Db | undefined;
    try {
      try {
        db = openFileReadOnly(data.dbFile);
      } catch (e) {
        throw new TandemError('STORE_ERROR', `the map cannot read ${data.dbFile}: ${(e as Error).message}`, { cause: e });
      }
      return computeMap(db, data.home, data.request, (p: MapProgress) => ctx.emit('progress', p), data.seed);
    } finally {
      db?.close();
    }
  },
});
