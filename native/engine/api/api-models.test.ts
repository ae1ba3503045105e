import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ApiEvents } from '../common/api-contract.js';
import { isTandemError } from '../common/errors.js';
import { parseCatalog, type CatalogEntry } from '../models/catalog.js';
import { serveFiles } from '../../testing/range-server.js';
import { createApiService } from './api-service.js';

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

const files: Record<string, Buffer> = {
  'tokenizer.json': Buffer.from(JSON.stringify({ version: '1.0', model: { type: 'WordPiece', vocab: { '[PAD]': 0 } } })),
  'config.json': Buffer.from(JSON.stringify({ hidden_size: 8, max_position_embeddings: 64 })),
  'onnx/model.onnx': crypto.randomBytes(300_000),
};
const entry: CatalogEntry = {
  id: 'acme/tiny-embed',
  repo: 'acme/tiny-embed',
  revision: '1111111111111111111111111111111111111111',
  task: 'embedding',
  license: 'mit',
  dims: 8,
  maxLength: 64,
  pooling: 'mean',
  normalize: true,
  prefixes: { query: '', passage: '' },
  files: Object.entries(files).map(([p, b]) => ({ path: p, sha256: sha(b), size: b.length })),
  variants: { fp32: 'onnx/model.onnx' },
  defaultVariant: 'fp32',
};
const catalog = parseCatalog({ version: 1, models: [entry] }, 'test catalog');

test('models.pull runs as a job with download progress events; the model is then listed, verified; imports work', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-models-'));
  const hub = await serveFiles(new Map(Object.entries(files).map(([p, b]) => [`/${entry.repo}/resolve/${entry.revision}/${p}`, b])));
  const svc = createApiService({ env: { TANDEM_HOME: path.join(dir, 'home'), TANDEM_MODELS_DIR: '' }, host: 'test', catalog, modelManager: { baseUrl: hub.base, download: { maxRetries: 1, retryDelayMs: 5 } }, progressIntervalMs: 0 });
  t.after(async () => {
    await svc.close();
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const before = await svc.api['models.list']({});
  assert.deepEqual(
    before.models.map((m) => [m.id, m.installed, m.builtin, m.catalogVariants]),
    [
      ['acme/tiny-embed', false, false, ['fp32']],
      ['minishlab/potion-base-2M', true, true, []],
    ],
    'the catalog model is listed, not installed; the built-in model is always there',
  );
  assert.deepEqual(before.defaultEmbeddingModel, { id: 'minishlab/potion-base-2M', builtin: true, reason: before.defaultEmbeddingModel.reason }, 'nothing better installed: new collections get the built-in model');

  const progress: Array<ApiEvents['models.progress']> = [];
  svc.events.on('models.progress', (e) => void progress.push(e));
  const ref: { id?: string } = {};
  const finished = new Promise<ApiEvents['job.updated']>((resolve) => {
    svc.events.on('job.updated', (e) => {
      if (e.job.id === ref.id && ['succeeded', 'failed', 'cancelled'].includes(e.job.status)) resolve(e);
    });
  });
  ref.id = (await svc.api['models.pull']({ id: 'acme/tiny-embed' })).jobId;
  const done = await finished;
  assert.equal(done.job.status, 'succeeded', `the pull job succeeds (${JSON.stringify(done.job.error)})`);
  assert.equal(done.job.kind, 'model-pull', 'it is a model-pull job');
  assert.ok(progress.length > 0 && progress.every((p) => p.jobId === ref.id && p.id === 'acme/tiny-embed'), 'models.progress events name the job and the model');
  const weights = progress.filter((p) => p.file.endsWith('model.onnx'));
  assert.equal(weights[weights.length - 1]?.bytes, files['onnx/model.onnx']!.length, 'the last progress of the weights file counts every byte');

  const after = await svc.api['models.list']({});
  assert.equal(after.models[0]?.installed, true, 'now installed');
  const v = await svc.api['models.verify']({ id: 'acme/tiny-embed' });
  assert.equal(v.ok, true, 'its files verify against the catalog');

  const folder = path.join(dir, 'usb', 'tiny');
  for (const [p, b] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, p)), { recursive: true });
    fs.writeFileSync(path.join(folder, p), b);
  }
  const imp = await svc.api['models.import']({ folder, id: 'acme/tiny-embed', force: true });
  assert.equal(imp.files.length, 3, 'an import copies and verifies every file');

  await assert.rejects(svc.api['models.pull']({ id: 'nobody/nothing' }), (e: unknown) => isTandemError(e, 'MODEL_NOT_FOUND'), 'pulling a model outside the catalog is MODEL_NOT_FOUND');
  await assert.rejects(svc.api['models.import']({ folder: 'relative', id: 'acme/x' }), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT'), 'imports need an absolute folder');
});
