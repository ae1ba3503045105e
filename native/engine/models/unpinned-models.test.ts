import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ApiEvents } from '../common/api-contract.js';
import { isTandemError } from '../common/errors.js';
import { createApiService } from '../api/api-service.js';
import { runTandem } from '../../testing/cli-run.js';
import { serveFiles } from '../../testing/range-server.js';
import { findCatalogEntry, loadCatalog, parseCatalog, type CatalogEntry } from './catalog.js';
import { isPinnedRevision, unpinnedParts } from './model-manager.js';

/**
 * Catalog models without sha256 pins (or on a branch revision) are trust-on-first-use: a pull needs
 * --allow-unpinned / allowUnpinned, and verify says "unpinned" rather than "ok". Local servers only.
 */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-unpinned-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

const files: Record<string, Buffer> = {
  'tokenizer.json': Buffer.from(JSON.stringify({ version: '1.0', model: { type: 'WordPiece', vocab: { '[PAD]': 0 } } })),
  'config.json': Buffer.from(JSON.stringify({ hidden_size: 8, max_position_embeddings: 64 })),
  'onnx/model.onnx': crypto.randomBytes(50_000),
};
const loose: CatalogEntry = {
  id: 'acme/loose',
  repo: 'acme/loose',
  revision: 'main',
  task: 'embedding',
  license: 'mit',
  dims: 8,
  maxLength: 64,
  pooling: 'mean',
  normalize: true,
  prefixes: { query: '', passage: '' },
  files: Object.entries(files).map(([p, b]) => (p === 'tokenizer.json' ? { path: p, sha256: sha(b), size: b.length } : { path: p, sha256: null, size: null })),
  variants: { fp32: 'onnx/model.onnx' },
  defaultVariant: 'fp32',
};
const catalog = parseCatalog({ version: 1, models: [loose] }, 'test catalog');

test('unpinnedParts names the files without sha256 and a branch revision', () => {
  assert.deepEqual(unpinnedParts(loose), { files: ['config.json', 'onnx/model.onnx'], revision: 'main' });
  assert.equal(isPinnedRevision('main'), false);
  assert.equal(isPinnedRevision('751bff37182d3f1213fa05d7196b954e230abad9'), true);
  // The shipped catalog: every model that is not fully pinned is named here, so a new one is a conscious choice.
  const real = loadCatalog();
  const loosened = real.models.filter((m) => {
    const u = unpinnedParts(m);
    return u.files.length > 0 || u.revision !== null;
  });
  assert.ok(loosened.some((m) => m.revision === 'main'), 'some catalog entries still name a branch');
  for (const m of loosened) assert.ok(findCatalogEntry(real, m.id));
});

test('the API refuses models.pull of an unpinned model before recording a job, and pulls it with allowUnpinned; verify says unpinned', async (t) => {
  const hub = await serveFiles(new Map(Object.entries(files).map(([p, b]) => [`/${loose.repo}/resolve/${loose.revision}/${p}`, b])));
  const svc = createApiService({ env: { TANDEM_HOME: path.join(tmp, 'api-home'), TANDEM_MODELS_DIR: '' }, host: 'test', catalog, modelManager: { baseUrl: hub.base, download: { maxRetries: 1, retryDelayMs: 5 } }, progressIntervalMs: 0 });
  t.after(async () => {
    await svc.close();
    await hub.close();
  });

  await assert.rejects(svc.api['models.pull']({ id: 'acme/loose' }), (e: unknown) => {
    assert.ok(isTandemError(e, 'INVALID_ARGUMENT'), String(e));
    assert.match(e.message, /pins no sha256 for config\.json, onnx\/model\.onnx/);
    assert.match(e.message, /revision "main" is a branch or tag/);
    assert.match(e.message, /--allow-unpinned/);
    assert.deepEqual(e.data, { id: 'acme/loose', unpinned: ['config.json', 'onnx/model.onnx'], revision: 'main', flag: '--allow-unpinned' });
    return true;
  });
  assert.equal(hub.log.length, 0, 'nothing was requested');
  assert.equal((await svc.api['jobs.list']({})).jobs.length, 0, 'no job was recorded');

  const ref: { id?: string } = {};
  const finished = new Promise<ApiEvents['job.updated']>((resolve) => {
    svc.events.on('job.updated', (e) => {
      if (e.job.id === ref.id && ['succeeded', 'failed', 'cancelled'].includes(e.job.status)) resolve(e);
    });
  });
  ref.id = (await svc.api['models.pull']({ id: 'acme/loose', allowUnpinned: true })).jobId;
  const done = await finished;
  assert.equal(done.job.status, 'succeeded', JSON.stringify(done.job.error));

  const v = await svc.api['models.verify']({ id: 'acme/loose' });
  assert.equal(v.ok, true, 'nothing is missing or mismatched');
  assert.deepEqual(
    v.files.map((f) => [f.path, f.status]),
    [
      ['config.json', 'unpinned'],
      ['onnx/model.onnx', 'unpinned'],
      ['tokenizer.json', 'ok'],
    ],
  );
});

test('CLI: models pull of a catalog model on a branch is refused (exit 2, names the flag, no request); verify prints unpinned', async () => {
  const hub = await serveFiles(new Map());
  try {
    const env = { ...process.env, TANDEM_HOME: path.join(tmp, 'cli-home'), TANDEM_MODELS_DIR: '', TANDEM_HF_ENDPOINT: hub.base };
    const real = loadCatalog();
    const branchy = real.models.find((m) => !isPinnedRevision(m.revision) && unpinnedParts(m).files.length > 0);
    assert.ok(branchy, 'the shipped catalog has an entry on a branch with unpinned files');
    const r = await runTandem(['models', 'pull', branchy.id], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /tandem: INVALID_ARGUMENT: model .* is not fully pinned: the catalog pins no sha256 for .*--allow-unpinned/);
    assert.equal(hub.log.length, 0, 'refused before any download');

    // A folder of our own: no catalog pins at all, so every file is unpinned (trust on first use).
    const src = path.join(tmp, 'mine');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'tokenizer.json'), files['tokenizer.json']!);
    fs.writeFileSync(path.join(src, 'model.safetensors'), crypto.randomBytes(4096));
    const imp = await runTandem(['models', 'import', src, '--id', 'me/mine'], env);
    assert.equal(imp.status, 0, imp.stderr);
    const v = await runTandem(['models', 'verify', 'me/mine'], env);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^unpinned +model\.safetensors \(no sha256 in the catalog: matches the hash recorded when it was installed, trust on first use\)$/m);
    assert.match(v.stdout, /^unpinned +tokenizer\.json /m);
    assert.match(v.stdout, /me\/mine: ok, 2 unpinned/);
  } finally {
    await hub.close();
  }
});
