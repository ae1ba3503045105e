import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { Agent } from 'undici';
import { isTandemError } from '../common/errors.js';
import { modelCacheDir } from '../node/paths.js';
import { parseCatalog, type Catalog, type CatalogEntry } from './catalog.js';
import { MANIFEST_FILE, STAGING_DIR, closeMatches, createModelManager, type ModelManagerOptions } from './model-manager.js';
import { findModelDir, resolveModel } from './model-resolver.js';
import { serveFiles } from '../../testing/range-server.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: a fake Hub serving model folders under /<repo>/resolve/<rev>/<path>, with Range support.

function serveHub(files: Map<string, Buffer>, opts: { dropOnceAfter?: { url: string; bytes: number } } = {}) {
  const d = opts.dropOnceAfter;
  return serveFiles(files, d ? { dropAfter: d.bytes, dropTimes: 1, dropUrl: d.url } : {});
}

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

function flipByte(b: Buffer, at: number): void {
  b.writeUInt8(b.readUInt8(at) ^ 0xff, at);
}

/** A small fake model: files by relative path. */
function fakeModel(seed: string): Record<string, Buffer> {
  return {
    'tokenizer.json': Buffer.from(JSON.stringify({ version: '1.0', seed, model: { type: 'WordPiece', vocab: { '[PAD]': 0 } } })),
    'config.json': Buffer.from(JSON.stringify({ hidden_size: 8, max_position_embeddings: 64, seed })),
    'onnx/model.onnx': crypto.randomBytes(120_000),
    'onnx/model_quantized.onnx': crypto.randomBytes(200_000),
  };
}

function entryFor(id: string, revision: string, files: Record<string, Buffer>, unpinned: string[] = []): CatalogEntry {
  return {
    id,
    repo: id,
    revision,
    task: 'embedding',
    license: 'mit',
    dims: 8,
    maxLength: 64,
    pooling: 'mean',
    normalize: true,
    prefixes: { query: '', passage: '' },
    files: Object.entries(files).map(([p, b]) => (unpinned.includes(p) ? { path: p, sha256: null, size: null } : { path: p, sha256: sha(b), size: b.length })),
    variants: { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx' },
    defaultVariant: 'int8',
  };
}

function hubFiles(entry: CatalogEntry, files: Record<string, Buffer>): Map<string, Buffer> {
  return new Map(Object.entries(files).map(([p, b]) => [`/${entry.repo}/resolve/${entry.revision}/${p}`, b]));
}

/** Every path under `root`, relative. */
function allPaths(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
}

function writeFolder(dir: string, files: Record<string, Buffer>): void {
  for (const [p, b] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), b);
  }
}

// ---------------------------------------------------------------------------------------------

describe('model manager', { timeout: 30_000 }, () => {
  const tiny = fakeModel('tiny');
  const loose = fakeModel('loose');
  const TINY_REV = 'abc1230000000000000000000000000000000001'; // a commit: pinned revisions only
  const tinyEntry = entryFor('acme/tiny-embed', TINY_REV, tiny);
  const looseEntry = entryFor('acme/loose-embed', 'fee1000000000000000000000000000000000002', loose, ['config.json', 'onnx/model_quantized.onnx']);
  const catalog: Catalog = parseCatalog({ version: 1, models: [tinyEntry, looseEntry] }, 'test catalog');

  let tmp: string;
  let env: NodeJS.ProcessEnv;
  const agent = new Agent({ keepAliveTimeout: 50 });
  const servers: Array<{ close: () => Promise<void> }> = [];

  async function hub(map: Map<string, Buffer>, opts?: Parameters<typeof serveHub>[1]) {
    const s = await serveHub(map, opts);
    servers.push(s);
    return s;
  }
  function manager(extra: Partial<ModelManagerOptions> = {}) {
    return createModelManager({ env, catalog, dispatcher: agent, download: { retryDelayMs: 5, maxRetries: 3 }, ...extra });
  }

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-mm-'));
    env = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: path.join(tmp, 'extra') };
  });
  afterEach(async () => {
    while (servers.length) await servers.pop()!.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  after(async () => {
    await agent.close();
  });

  test('pull fetches tokenizer/config and the default variant into the cache, atomically', async () => {
    const srv = await hub(hubFiles(tinyEntry, tiny));
    const r = await manager({ baseUrl: srv.base }).pull('acme/tiny-embed');
    assert.equal(r.variant, 'int8');
    assert.equal(r.dir, path.join(modelCacheDir(env), 'acme/tiny-embed'));
    assert.deepEqual(
      srv.log.map((l) => l.url).sort(),
      ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json'].map((p) => `/acme/tiny-embed/resolve/${TINY_REV}/${p}`).sort(),
    );
    assert.deepEqual(r.unpinned, []);
    const resolved = resolveModel('acme/tiny-embed', { env, catalog });
    assert.equal(resolved.dir, r.dir);
    assert.deepEqual(Object.keys(resolved.variants), ['int8']);
    assert.deepEqual(fs.readFileSync(path.join(r.dir, 'onnx/model_quantized.onnx')), tiny['onnx/model_quantized.onnx']);
    const manifest = JSON.parse(fs.readFileSync(path.join(r.dir, MANIFEST_FILE), 'utf8'));
    assert.equal(manifest.source, 'pull');
    assert.equal(manifest.revision, TINY_REV);
    assert.ok(manifest.files.every((f: { pinned: boolean }) => f.pinned), 'every pulled file is pinned');
    // Nothing left behind in staging.
    assert.deepEqual(allPaths(path.join(modelCacheDir(env), STAGING_DIR)), []);
  });

  test('pulling a second variant reuses the verified files already installed', async () => {
    const srv = await hub(hubFiles(tinyEntry, tiny));
    const mm = manager({ baseUrl: srv.base });
    await mm.pull('acme/tiny-embed');
    srv.log.length = 0;
    const r = await mm.pull('acme/tiny-embed', { variant: 'fp32' });
    assert.deepEqual(srv.log.map((l) => l.url), [`/acme/tiny-embed/resolve/${TINY_REV}/onnx/model.onnx`]);
    assert.deepEqual(r.reused.sort(), ['config.json', 'tokenizer.json']);
    assert.deepEqual(Object.keys(resolveModel('acme/tiny-embed', { env, catalog }).variants).sort(), ['fp32', 'int8']);
    const manifest = JSON.parse(fs.readFileSync(path.join(r.dir, MANIFEST_FILE), 'utf8'));
    assert.deepEqual(manifest.files.map((f: { path: string }) => f.path).sort(), ['config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'tokenizer.json']);
  });

  test('pull resumes a weight file after a dropped connection', async () => {
    const weightUrl = `/acme/tiny-embed/resolve/${TINY_REV}/onnx/model_quantized.onnx`;
    const srv = await hub(hubFiles(tinyEntry, tiny), { dropOnceAfter: { url: weightUrl, bytes: 64_000 } });
    const r = await manager({ baseUrl: srv.base }).pull('acme/tiny-embed');
    const weightRequests = srv.log.filter((l) => l.url === weightUrl);
    assert.equal(weightRequests.length, 2);
    assert.ok(Number(/^bytes=(\d+)-$/.exec(weightRequests[1]!.range ?? '')?.[1]) > 0, `resume request: ${JSON.stringify(weightRequests[1])}`);
    assert.deepEqual(fs.readFileSync(path.join(r.dir, 'onnx/model_quantized.onnx')), tiny['onnx/model_quantized.onnx']);
  });

  test('unpinned files are refused without allowUnpinned; with it they are accepted, reported, their observed hash recorded, and verify says unpinned', async () => {
    const srv = await hub(hubFiles(looseEntry, loose));
    await assert.rejects(
      manager({ baseUrl: srv.base }).pull('acme/loose-embed'),
      (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /pins no sha256 for config\.json, onnx\/model_quantized\.onnx.*--allow-unpinned/.test(e.message),
    );
    assert.equal(srv.log.length, 0, 'refused before any request');
    const r = await manager({ baseUrl: srv.base }).pull('acme/loose-embed', { allowUnpinned: true });
    assert.deepEqual(r.unpinned.sort(), ['config.json', 'onnx/model_quantized.onnx']);
    const manifest = JSON.parse(fs.readFileSync(path.join(r.dir, MANIFEST_FILE), 'utf8'));
    const rec = manifest.files.find((f: { path: string }) => f.path === 'onnx/model_quantized.onnx');
    assert.equal(rec.pinned, false);
    assert.equal(rec.sha256, sha(loose['onnx/model_quantized.onnx']!));
    // verify() falls back to the recorded hash for unpinned files.
    const v = await manager().verify('acme/loose-embed');
    assert.equal(v.ok, true);
    assert.equal(v.files.find((f) => f.path === 'onnx/model_quantized.onnx')?.source, 'manifest');
    assert.deepEqual(v.files.map((f) => [f.path, f.status]), [['config.json', 'unpinned'], ['onnx/model_quantized.onnx', 'unpinned'], ['tokenizer.json', 'ok']], 'a hash seen on first use is not a pin');
  });

  test('a sha256 mismatch is rejected and leaves nothing visible in the cache', async () => {
    const tampered = { ...tiny, 'onnx/model_quantized.onnx': Buffer.from(tiny['onnx/model_quantized.onnx']!) };
    flipByte(tampered['onnx/model_quantized.onnx'], 1000);
    const srv = await hub(hubFiles(tinyEntry, tampered));
    await assert.rejects(manager({ baseUrl: srv.base }).pull('acme/tiny-embed'), (e: unknown) => {
      assert.ok(isTandemError(e, 'CHECKSUM_MISMATCH'), String(e));
      assert.match(e.message, /model_quantized\.onnx/);
      assert.ok(e.message.includes(sha(tiny['onnx/model_quantized.onnx']!)), `names the expected hash: ${e.message}`);
      assert.ok(e.message.includes(sha(tampered['onnx/model_quantized.onnx'])), `names the actual hash: ${e.message}`);
      return true;
    });
    assert.equal(findModelDir('acme/tiny-embed', env), undefined);
    const left = allPaths(modelCacheDir(env));
    assert.deepEqual(left.filter((p) => p.endsWith('.partial')), []);
    assert.deepEqual(left.filter((p) => p.includes('tiny-embed')), [], `left behind: ${left.join(', ')}`);
  });

  test('an unknown id is MODEL_NOT_FOUND and names close catalog matches', async () => {
    await assert.rejects(manager({ baseUrl: 'http://127.0.0.1:9' }).pull('acme/tiny-embd'), (e: unknown) => {
      assert.ok(isTandemError(e, 'MODEL_NOT_FOUND'), String(e));
      assert.match(e.message, /acme\/tiny-embed/);
      assert.deepEqual(e.data?.suggestions, ['acme/tiny-embed']);
      return true;
    });
    assert.deepEqual(closeMatches('TINY-EMBED', ['acme/tiny-embed', 'other/zzz']), ['acme/tiny-embed']);
    assert.deepEqual(closeMatches('completely-different', ['acme/tiny-embed']), []);
  });

  test('pull while offline is OFFLINE, points at import, and leaves no model', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    // The endpoint comes from TANDEM_HF_ENDPOINT when no baseUrl is given.
    env.TANDEM_HF_ENDPOINT = `http://127.0.0.1:${port}/`;
    await assert.rejects(manager().pull('acme/tiny-embed'), (e: unknown) => {
      assert.ok(isTandemError(e, 'OFFLINE'), String(e));
      assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
      assert.match(e.message, /tandem models import/);
      return true;
    });
    assert.equal(findModelDir('acme/tiny-embed', env), undefined);
  });

  test('TANDEM_HF_ENDPOINT is used as the Hub root', async () => {
    const srv = await hub(hubFiles(tinyEntry, tiny));
    env.TANDEM_HF_ENDPOINT = srv.base;
    await manager().pull('acme/tiny-embed');
    assert.ok(srv.log.length === 3 && srv.log.every((l) => l.status === 200), JSON.stringify(srv.log));
  });

  test('import copies a local folder into the cache, where the resolver finds it', async () => {
    const src = path.join(tmp, 'downloads', 'tiny');
    writeFolder(src, { 'tokenizer.json': tiny['tokenizer.json']!, 'config.json': tiny['config.json']!, 'onnx/model_quantized.onnx': tiny['onnx/model_quantized.onnx']! });
    const r = await manager().import(src, { id: 'acme/tiny-embed' });
    assert.deepEqual(r.unpinned, []);
    const resolved = resolveModel('acme/tiny-embed', { env, catalog });
    assert.equal(resolved.dir, path.join(modelCacheDir(env), 'acme/tiny-embed'));
    assert.deepEqual(Object.keys(resolved.variants), ['int8']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(resolved.dir, MANIFEST_FILE), 'utf8')).source, 'import');
    assert.deepEqual(allPaths(path.join(modelCacheDir(env), STAGING_DIR)), []);
    // A second import of the same id needs force.
    await assert.rejects(manager().import(src, { id: 'acme/tiny-embed' }), (e: unknown) => isTandemError(e, 'CONFLICT'));
    await manager().import(src, { id: 'acme/tiny-embed', force: true });
    assert.equal(findModelDir('acme/tiny-embed', env), resolved.dir);
  });

  test('import of a tampered folder for a catalog id is rejected and nothing is installed', async () => {
    const src = path.join(tmp, 'downloads', 'tampered');
    const bad = Buffer.from(tiny['onnx/model_quantized.onnx']!);
    flipByte(bad, 5);
    writeFolder(src, { 'tokenizer.json': tiny['tokenizer.json']!, 'onnx/model_quantized.onnx': bad });
    await assert.rejects(manager().import(src, { id: 'acme/tiny-embed' }), (e: unknown) => {
      assert.ok(isTandemError(e, 'CHECKSUM_MISMATCH'), String(e));
      assert.ok(e.message.includes(sha(bad)) && e.message.includes(sha(tiny['onnx/model_quantized.onnx']!)), e.message);
      return true;
    });
    assert.equal(findModelDir('acme/tiny-embed', env), undefined);
    assert.deepEqual(allPaths(path.join(modelCacheDir(env), STAGING_DIR)), []);
  });

  test('import refuses folders without a tokenizer or without weights', async () => {
    const noWeights = path.join(tmp, 'downloads', 'noweights');
    writeFolder(noWeights, { 'tokenizer.json': tiny['tokenizer.json']!, 'config.json': tiny['config.json']! });
    await assert.rejects(manager().import(noWeights, { id: 'acme/tiny-embed' }), (e: unknown) => isTandemError(e, 'MODEL_INVALID') && /no weights/.test(e.message));
    const noTok = path.join(tmp, 'downloads', 'notok');
    writeFolder(noTok, { 'onnx/model.onnx': tiny['onnx/model.onnx']! });
    await assert.rejects(manager().import(noTok, { id: 'acme/tiny-embed' }), (e: unknown) => isTandemError(e, 'MODEL_INVALID') && /tokenizer\.json/.test(e.message));
    await assert.rejects(manager().import(path.join(tmp, 'nope'), { id: 'acme/tiny-embed' }), (e: unknown) => isTandemError(e, 'NOT_FOUND'));
  });

  test('verify detects a flipped byte and a missing file', async () => {
    const srv = await hub(hubFiles(tinyEntry, tiny));
    const mm = manager({ baseUrl: srv.base });
    const r = await mm.pull('acme/tiny-embed');
    const clean = await mm.verify('acme/tiny-embed');
    assert.equal(clean.ok, true);
    assert.ok(clean.files.every((f) => f.status === 'ok'), JSON.stringify(clean.files));

    const weight = path.join(r.dir, 'onnx/model_quantized.onnx');
    const bytes = fs.readFileSync(weight);
    flipByte(bytes, bytes.length - 1);
    fs.writeFileSync(weight, bytes);
    fs.rmSync(path.join(r.dir, 'config.json'));
    const v = await mm.verify('acme/tiny-embed');
    assert.equal(v.ok, false);
    const byPath = new Map(v.files.map((f) => [f.path, f]));
    assert.equal(byPath.get('onnx/model_quantized.onnx')?.status, 'mismatch');
    assert.equal(byPath.get('onnx/model_quantized.onnx')?.source, 'catalog');
    assert.equal(byPath.get('onnx/model_quantized.onnx')?.actual, sha(bytes));
    assert.equal(byPath.get('config.json')?.status, 'missing');
    assert.equal(byPath.get('tokenizer.json')?.status, 'ok');
  });

  test('a local-only model can be imported and verified against its manifest', async () => {
    const src = path.join(tmp, 'downloads', 'mine');
    writeFolder(src, { 'tokenizer.json': Buffer.from('{}'), 'model.safetensors': crypto.randomBytes(4096), 'config.json': Buffer.from('{"architectures":["StaticModel"],"hidden_size":16}') });
    const r = await manager().import(src, { id: 'me/private-model' });
    assert.deepEqual(r.unpinned.sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
    assert.equal((await manager().verify('me/private-model')).ok, true);
    const f = path.join(r.dir, 'model.safetensors');
    const b = fs.readFileSync(f);
    flipByte(b, 0);
    fs.writeFileSync(f, b);
    const v = await manager().verify('me/private-model');
    assert.equal(v.ok, false);
    assert.equal(v.files.find((x) => x.path === 'model.safetensors')?.status, 'mismatch');
    assert.equal(v.files.find((x) => x.path === 'model.safetensors')?.source, 'manifest');
  });

  test('list shows catalog models and local-only folders in the search path', async () => {
    const srv = await hub(hubFiles(tinyEntry, tiny));
    await manager({ baseUrl: srv.base }).pull('acme/tiny-embed');
    // A model someone dropped into TANDEM_MODELS_DIR by hand.
    writeFolder(path.join(tmp, 'extra', 'lab', 'handmade'), { 'tokenizer.json': Buffer.from('{}'), 'onnx/model.onnx': crypto.randomBytes(1000) });
    // A broken one: tokenizer but no weights.
    writeFolder(path.join(tmp, 'extra', 'lab', 'broken'), { 'tokenizer.json': Buffer.from('{}') });
    const rows = await manager().list();
    const byId = new Map(rows.map((r) => [r.id, r]));
    // The built-in model is always on disk (outside this test catalog, so listed as a local folder).
    assert.deepEqual(rows.map((r) => r.id), ['acme/tiny-embed', 'acme/loose-embed', 'lab/broken', 'lab/handmade', 'minishlab/potion-base-2M']);
    assert.deepEqual(rows.map((r) => r.builtin), [false, false, false, false, true]);
    const tinyRow = byId.get('acme/tiny-embed')!;
    assert.equal(tinyRow.installed, true);
    assert.equal(tinyRow.inCatalog, true);
    assert.deepEqual(tinyRow.variants, ['int8']);
    const expectedSize = ['tokenizer.json', 'config.json', 'onnx/model_quantized.onnx'].reduce((s, p) => s + tiny[p]!.length, 0);
    assert.ok(tinyRow.sizeOnDisk >= expectedSize, `size ${tinyRow.sizeOnDisk}`);
    assert.equal(byId.get('acme/loose-embed')?.installed, false);
    const hand = byId.get('lab/handmade')!;
    assert.equal(hand.inCatalog, false);
    assert.equal(hand.dir, path.join(tmp, 'extra', 'lab', 'handmade'));
    assert.deepEqual(hand.variants, ['fp32']);
    assert.match(byId.get('lab/broken')?.problem ?? '', /no weights/);
  });
});
