/**
 * The map worker (a worker_thread, started by MapService through spawnWorker): serves `compute`
 * (MapWorkerApi): opens the store read-only, computes one map (map-compute.ts) and emits progress
 * along the way. Listed as an entry in scripts/build-cli.mjs and electron.vite.config.ts.
 */
import Database from 'better-sqlite3';
import { TandemError } from '../common/errors.js';
import { serveWorker, workerHostPort } from '../node/worker-serve.js';
import { computeMap, type MapProgress } from './map-compute.js';
import type { MapWorkerApi } from './map-protocol.js';

serveWorker<MapWorkerApi>(workerHostPort('map-worker'), {
  compute: (data, ctx) => {
    let db: Database.Database | undefined;
    try {
      try {
        db = new Database(data.dbFile, { readonly: true, fileMustExist: true });
      } catch (e) {
        throw new TandemError('STORE_ERROR', `the map cannot read ${data.dbFile}: ${(e as Error).message}`, { cause: e });
      }
      db.pragma('busy_timeout = 5000');
      return computeMap(db, data.home, data.request, (p: MapProgress) => ctx.emit('progress', p), data.seed);
    } finally {
      db?.close();
    }
  },
});
