/**
 * The map worker (a worker_thread, started by MapService through spawnWorker): opens the store
 * read-only, computes one map (map-compute.ts) and posts progress, then the result or a WireError.
 * Listed as an entry in scripts/build-cli.mjs and electron.vite.config.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { TandemError, toWire } from '../common/errors.js';
import { computeMap } from './map-compute.js';
import type { MapWorkerData, MapWorkerMessage } from './map-protocol.js';

const data = workerData as MapWorkerData;
const post = (m: MapWorkerMessage): void => parentPort!.postMessage(m);

let db: Database.Database | undefined;
try {
  try {
    db = new Database(data.dbFile, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new TandemError('STORE_ERROR', `the map cannot read ${data.dbFile}: ${(e as Error).message}`, { cause: e });
  }
  db.pragma('busy_timeout = 5000');
  const result = computeMap(db, data.home, data.request, (p) => post({ type: 'progress', progress: p }), data.seed);
  post({ type: 'done', result });
} catch (e) {
  post({ type: 'error', error: toWire(e) });
} finally {
  db?.close();
}
