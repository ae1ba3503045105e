import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isTandemError, TandemError } from '../common/errors.js';
import { JobStore } from '../jobs/job-store.js';
import { openDatabase, storePath } from '../store/database.js';
import { endpointFor, envTokenSource, resolveCloudConfig, writeSettings } from './cloud-config.js';
import { CloudService } from './cloud-service.js';

/** Issue 17: response caps from cloud.json reach the endpoints; TANDEM_CLOUD_POLL_MS spaces 303 polls. */

const MiB = 1024 * 1024;
let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cloud-caps-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe('cloud response caps and poll spacing from the configuration', () => {
  it('maxResponseMiB in cloud.json becomes each backend endpoint\'s maxResponseBytes; out-of-range values are refused', () => {
    writeSettings(home, { maxResponseMiB: { 'cloud-run:predict': 400, 'modal:generate': 8, 'modal:default': 16 } });
    const env = { TANDEM_HOME: home, TANDEM_MODAL_URL_TEMPLATE: 'https://ws--app-{function}.modal.run', TANDEM_CLOUDRUN_URL: 'https://boltz.example.run.app' };
    const cfg = resolveCloudConfig(env);
    assert.deepEqual(endpointFor(cfg, 'modal', envTokenSource(env)).maxResponseBytes, { generate: 8 * MiB, default: 16 * MiB }, 'modal caps');
    assert.deepEqual(endpointFor(cfg, 'cloud-run', envTokenSource(env)).maxResponseBytes, { predict: 400 * MiB }, 'cloud-run caps');
    assert.throws(
      () => writeSettings(home, { maxResponseMiB: { 'cloud-run:predict': 4096 } }),
      (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /maxResponseMiB/.test(e.message),
      'a cap past the longest string is refused',
    );
  });

  it('TANDEM_CLOUD_POLL_MS sets the least spacing of 303 polls (a self-pointing 303 is polled at that pace, not in a loop)', async () => {
    const times: number[] = [];
    const server = http.createServer((req, res) => {
      times.push(performance.now());
      req.resume();
      res.writeHead(303, { location: req.url ?? '/' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const db = openDatabase(storePath(home));
    try {
      const env = { TANDEM_HOME: home, TANDEM_MODAL_URL_TEMPLATE: `http://127.0.0.1:${port}/{function}`, TANDEM_CLOUD_POLL_MS: '200' };
      const svc = new CloudService({ env, db, store: new JobStore(db) });
      const e = await svc
        .adapter('modal')
        .health({ deadlineMs: 1000 })
        .then(
          () => null,
          (x: unknown) => x,
        );
      assert.ok(e instanceof TandemError, `fails: ${String(e)}`);
      assert.ok(times.length >= 3 && times.length <= 6, `${times.length} requests in 1 s at 200 ms growing x1.5`);
      // Measured at the server between polls (the first gap is shortened by the submit's own latency: connect, loading undici).
      for (let i = 2; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 250, `gap ${i}: ${Math.round(times[i]! - times[i - 1]!)} ms (200 ms x1.5)`);
    } finally {
      db.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
