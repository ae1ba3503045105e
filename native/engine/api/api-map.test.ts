import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ApiEvents } from '../common/api-contract.js';
import { isTandemError } from '../common/errors.js';
import { openDatabase, storePath } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { createApiService } from './api-service.js';

test('map.compute through the API service: validated input, progress events, a cached second call', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-map-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const svc = createApiService({ env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '' }, host: 'test' });
  t.after(() => svc.close());
  // A second connection writes the collection, as an indexer in another process would.
  const db = openDatabase(storePath(home));
  t.after(() => db.close());
  const lib = new LibraryStore(db);
  const c = lib.ensureCollection({ name: 'papers', model: 'm/x', variant: 'static', root: home });
  const texts = ['one', 'two', 'three', 'four', 'five', 'six'];
  lib.writeDocuments(c.id, 'm/x@static', [
    {
      doc: { key: 'p.md', path: path.join(home, 'p.md'), fileType: 'md', size: 1, mtimeMs: 1, sha256: 'x' },
      chunks: texts.map((text, ord) => ({ ord, text, start: 0, end: text.length, tokens: 1 })),
      vectors: Float32Array.from({ length: texts.length * 4 }, (_, i) => Math.sin(i * 1.7)),
      dims: 4,
    },
  ]);

  await assert.rejects(svc.call('map.compute', { collection: 'papers' }), (e) => isTandemError(e, 'INVALID_ARGUMENT') && /method/.test(e.message), 'the method is required');
  await assert.rejects(svc.call('map.compute', { collection: 'papers', method: 'tsne' }), (e) => isTandemError(e, 'INVALID_ARGUMENT'), 'only pca and umap');
  await assert.rejects(svc.call('map.compute', { collection: 'papers', method: 'pca', maxPoints: 60_000 }), (e) => isTandemError(e, 'INVALID_ARGUMENT') && /maxPoints/.test(e.message), 'at most 50k points');

  const progress: Array<ApiEvents['map.progress']> = [];
  svc.events.on('map.progress', (p) => progress.push(p));
  const first = await svc.api['map.compute']({ collection: 'papers', method: 'umap' });
  assert.equal(first.points.length, 6, 'every chunk is a point');
  assert.equal(first.cached, false, 'computed the first time');
  assert.ok(progress.some((p) => p.collection === 'papers' && p.method === 'umap' && p.phase === 'projecting'), 'map.progress events are emitted');
  assert.deepEqual(new Set(first.points.map((p) => p.preview)), new Set(texts), 'previews are the chunk texts');
  const again = await svc.api['map.compute']({ collection: 'papers', method: 'umap' });
  assert.equal(again.cached, true, 'the second call reads the cache');
});
