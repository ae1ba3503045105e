import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { isTandemError } from '../common/errors.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { catalogSchema, lazyCatalog, loadCatalog, parseCatalog, type Catalog, type CatalogEntry } from './catalog.js';
import { createModelManager } from './model-manager.js';
import { resolveModel } from './model-resolver.js';

const CATALOG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'catalog.json');

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

describe('models/catalog.json', () => {
  const raw: unknown = JSON.parse(fs.readFileSync(CATALOG_FILE, 'utf8'));
  const catalog = loadCatalog(CATALOG_FILE);

  test('parses under the schema', () => {
    const r = catalogSchema.safeParse(raw);
    assert.equal(r.success, true, r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3)));
    assert.ok(catalog.models.length >= 7, `models: ${catalog.models.length}`);
  });

  test('every variant file is listed in files, and every entry is pullable', () => {
    const ids = new Set<string>();
    for (const m of catalog.models) {
      assert.equal(ids.has(m.id), false, `duplicate id ${m.id}`);
      ids.add(m.id);
      const paths = m.files.map((f) => f.path);
      assert.equal(new Set(paths).size, paths.length, `${m.id}: duplicate file paths`);
      for (const [variant, file] of Object.entries(m.variants)) {
        assert.ok(paths.includes(file), `${m.id}: variant ${variant} names ${file}, which is not in files`);
      }
      assert.ok(m.variants[m.defaultVariant] !== undefined, `${m.id}: defaultVariant ${m.defaultVariant} has no file`);
      assert.ok(paths.includes('tokenizer.json'), `${m.id}: no tokenizer.json`);
      assert.ok(m.license.length > 0 && m.revision.length > 0, `${m.id}: license and revision are set`);
      for (const f of m.files) {
        assert.equal(f.sha256 === null, f.size === null, `${m.id}/${f.path}: sha256 and size are pinned together or not at all`);
      }
      if (m.retrievalNdcg10 !== undefined) assert.ok(m.retrievalNdcg10 > 0.1 && m.retrievalNdcg10 < 0.7, `${m.id}: retrievalNdcg10 ${m.retrievalNdcg10} is a 0-1 fraction`);
    }
    for (const id of ['Xenova/all-MiniLM-L6-v2', 'Xenova/bge-small-en-v1.5', 'Xenova/e5-small-v2', 'Xenova/multilingual-e5-small', 'minishlab/potion-base-2M', 'minishlab/potion-base-8M', 'minishlab/potion-retrieval-32M']) {
      assert.ok(ids.has(id), `catalog has ${id}`);
    }
  });

  test('model facts the inference layer relies on', () => {
    const get = (id: string): CatalogEntry => catalog.models.find((m) => m.id === id)!;
    assert.equal(get('Xenova/all-MiniLM-L6-v2').maxLength, 256);
    assert.equal(get('Xenova/bge-small-en-v1.5').pooling, 'cls');
    assert.equal(get('Xenova/bge-small-en-v1.5').prefixes.query, 'Represent this sentence for searching relevant passages: ');
    assert.deepEqual(get('Xenova/e5-small-v2').prefixes, { query: 'query: ', passage: 'passage: ' });
    assert.deepEqual(get('Xenova/multilingual-e5-small').prefixes, { query: 'query: ', passage: 'passage: ' });
    assert.deepEqual(
      ['minishlab/potion-base-2M', 'minishlab/potion-base-8M', 'minishlab/potion-retrieval-32M'].map((id) => [get(id).dims, get(id).variants.static]),
      [
        [64, 'model.safetensors'],
        [256, 'model.safetensors'],
        [512, 'model.safetensors'],
      ],
    );
  });

  test('lazyCatalog reads the catalog on first use of its fields, once; a missing file fails that use', () => {
    let reads = 0;
    const lazy = lazyCatalog(() => (reads++, loadCatalog(CATALOG_FILE)));
    assert.equal(reads, 0);
    assert.deepEqual(lazy.models.map((m) => m.id), catalog.models.map((m) => m.id));
    assert.equal(lazy.version, 1);
    assert.equal(reads, 1);
    const missing = lazyCatalog(() => loadCatalog(path.join(os.tmpdir(), 'no-such-tandem-catalog.json')));
    assert.throws(() => missing.models, (e: unknown) => isTandemError(e) && e.code === 'NOT_FOUND' && /model catalog not found/.test(e.message));
  });

  test('a variant naming a file outside files is rejected', () => {
    const bad = structuredClone(raw) as { models: Array<{ variants: Record<string, string> }> };
    bad.models[0]!.variants.fp16 = 'onnx/not-listed.onnx';
    assert.throws(() => parseCatalog(bad, 'mutated'), (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /not-listed/.test(e.message));
  });

  // The pinned hashes of files the project's shared model folder holds must match those bytes.
  const shared = sharedOrSkip();
  test('pins match the shared local copies', { skip: shared.skip }, () => {
    for (const id of ['Xenova/all-MiniLM-L6-v2', 'minishlab/potion-base-2M']) {
      const entry = catalog.models.find((m) => m.id === id)!;
      let checked = 0;
      for (const f of entry.files) {
        const file = path.join(shared.shared, 'models', id, f.path);
        if (!fs.existsSync(file) || f.sha256 === null) continue;
        const bytes = fs.readFileSync(file);
        assert.equal(sha(bytes), f.sha256, `${id}/${f.path}`);
        assert.equal(bytes.length, f.size, `${id}/${f.path} size`);
        checked += 1;
      }
      assert.ok(checked >= 5, `${id}: ${checked} files checked`);
    }
  });
});

/** Serve fake bytes for every file of every real catalog entry, under /<repo>/resolve/<rev>/<path>. */
async function serveCatalogLayout(catalog: Catalog) {
  const files = new Map<string, Buffer>();
  for (const m of catalog.models) for (const f of m.files) files.set(`/${m.repo}/resolve/${m.revision}/${f.path}`, Buffer.from(`${m.id}:${f.path}`));
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    log.push(url);
    const body = files.get(url);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const m = req.headers.range ? /^bytes=(\d+)-$/.exec(req.headers.range) : null;
    const start = m ? Number(m[1]) : 0;
    const slice = body.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': slice.length, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    res.end(slice);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    files,
    log,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('catalog layout over HTTP', { timeout: 20_000 }, () => {
  let tmp: string;
  let srv: Awaited<ReturnType<typeof serveCatalogLayout>>;
  const agent = new Agent({ keepAliveTimeout: 50 });
  const real = loadCatalog(CATALOG_FILE);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cat-'));
    srv = await serveCatalogLayout(real);
  });
  after(async () => {
    await srv.close();
    await agent.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every entry pulls its default variant from /<repo>/resolve/<revision>/<path>', async () => {
    // The real entries (ids, repos, revisions, paths, variants) with the hashes of the fake bytes served here.
    const testCatalog = parseCatalog(
      {
        version: 1,
        models: real.models.map((m) => ({
          ...m,
          files: m.files.map((f) => {
            const b = srv.files.get(`/${m.repo}/resolve/${m.revision}/${f.path}`)!;
            return { path: f.path, sha256: sha(b), size: b.length };
          }),
        })),
      },
      'test copy of models/catalog.json',
    );
    const env = { TANDEM_HOME: path.join(tmp, 'home') };
    const mm = createModelManager({ env, catalog: testCatalog, baseUrl: srv.base, dispatcher: agent });
    for (const m of testCatalog.models) {
      srv.log.length = 0;
      const r = await mm.pull(m.id, { allowUnpinned: true }); // revision main in some entries; the URLs are what is tested here
      const weights = new Set(Object.values(m.variants));
      const expected = m.files.filter((f) => !weights.has(f.path) || f.path === m.variants[m.defaultVariant]).map((f) => `/${m.repo}/resolve/${m.revision}/${f.path}`);
      assert.deepEqual([...srv.log].sort(), expected.sort(), m.id);
      const resolved = resolveModel(m.id, { env, catalog: testCatalog });
      assert.equal(resolved.dir, r.dir);
      assert.deepEqual(Object.keys(resolved.variants), [m.defaultVariant], `${m.id}: only the default variant is installed`);
    }
  });
});
