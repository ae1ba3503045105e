import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { openDatabase, storePath, type Db } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { cacheNamePart, mapCacheDir, mapCacheFile } from './map-compute.js';
import { createMapService, type MapProgressEvent } from './map-service.js';
import { normaliseCoords, pca2, seededRandom } from './pca.js';
import { evenSample, project } from './project.js';

function tempHome(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-map-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function dist(xy: Float32Array, i: number, j: number): number {
  return Math.hypot(xy[i * 2]! - xy[j * 2]!, xy[i * 2 + 1]! - xy[j * 2 + 1]!);
}

test('PCA of points on a line gives a line, in order', () => {
  const dims = 12;
  const rnd = seededRandom(7);
  const a = Array.from({ length: dims }, () => rnd());
  const d = Array.from({ length: dims }, () => rnd() - 0.5);
  const ts = [0.3, -2, 1.5, 0, 4, -1, 2.2, 3.1];
  const v = new Float32Array(ts.length * dims);
  ts.forEach((t, i) => a.forEach((aj, j) => (v[i * dims + j] = aj + t * d[j]!)));
  const xy = normaliseCoords(pca2(v, ts.length, dims));
  for (let i = 0; i < ts.length; i++) assert.ok(Math.abs(xy[i * 2 + 1]!) < 1e-4, `point ${i} is on the x axis (y = ${xy[i * 2 + 1]})`);
  const order = (arr: number[]) => arr.map((_, i) => i).sort((p, q) => arr[p]! - arr[q]!);
  const xs = ts.map((_, i) => xy[i * 2]!);
  const byT = order(ts);
  const byX = order(xs);
  assert.ok(JSON.stringify(byX) === JSON.stringify(byT) || JSON.stringify(byX) === JSON.stringify([...byT].reverse()), `x follows t along the line (${xs.map((x) => x.toFixed(3)).join(' ')})`);
  assert.ok(Math.max(...xs.map(Math.abs)) > 0.99, 'the line spans [-1, 1] after normalising');
});

test('PCA of a plane keeps its distances (a rotation), and identical points go to the origin', () => {
  const dims = 16;
  const rnd = seededRandom(3);
  // An orthonormal pair spanning a plane in 16-D.
  const e1 = Array.from({ length: dims }, () => rnd() - 0.5);
  const n1 = Math.hypot(...e1);
  e1.forEach((x, j) => (e1[j] = x / n1));
  const e2 = Array.from({ length: dims }, () => rnd() - 0.5);
  const p = e2.reduce((s, x, j) => s + x * e1[j]!, 0);
  e2.forEach((x, j) => (e2[j] = x - p * e1[j]!));
  const n2 = Math.hypot(...e2);
  e2.forEach((x, j) => (e2[j] = x / n2));
  const n = 40;
  const uv = Array.from({ length: n }, () => [(rnd() - 0.5) * 6, (rnd() - 0.5) * 2] as const);
  const v = new Float32Array(n * dims);
  uv.forEach(([u, w], i) => e1.forEach((_, j) => (v[i * dims + j] = 0.5 + u * e1[j]! + w * e2[j]!)));
  const xy = pca2(v, n, dims);
  for (const [i, j] of [[0, 1], [2, 9], [5, 31], [17, 39]] as const) {
    const orig = Math.hypot(uv[i]![0] - uv[j]![0], uv[i]![1] - uv[j]![1]);
    assert.ok(Math.abs(dist(xy, i, j) - orig) < 1e-3, `distance ${i}-${j} kept: ${dist(xy, i, j)} vs ${orig}`);
  }
  const same = new Float32Array(5 * 4).fill(0.25);
  assert.deepEqual(Array.from(pca2(same, 5, 4)), new Array(10).fill(0), 'identical points all map to 0,0');
  assert.deepEqual(Array.from(pca2(new Float32Array(0), 0, 4)), [], 'no points, no coordinates');
});

test('UMAP (seeded) separates two clusters and is deterministic; tiny sets fall back to PCA', () => {
  const dims = 8;
  const rnd = seededRandom(11);
  const n = 40;
  const v = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) v[i * dims + j] = (i < n / 2 ? (j === 0 ? 5 : 0) : j === 1 ? 5 : 0) + (rnd() - 0.5) * 0.3;
  const progress: number[] = [];
  const a = project(v, n, dims, 'umap', { seed: 1, nNeighbors: 8, onProgress: (d) => progress.push(d) });
  const b = project(v, n, dims, 'umap', { seed: 1, nNeighbors: 8 });
  assert.deepEqual(Array.from(a), Array.from(b), 'the same seed gives the same map');
  assert.ok(progress.length > 1 && progress[progress.length - 1]! > progress[0]!, 'progress is reported per epoch');
  let intra = 0;
  let inter = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      if (i < n / 2 === j < n / 2) intra = Math.max(intra, dist(a, i, j));
      else inter += dist(a, i, j) / ((n / 2) * (n / 2));
    }
  assert.ok(inter > intra, `clusters are apart: mean distance across ${inter.toFixed(3)} > widest within ${intra.toFixed(3)}`);
  const few = new Float32Array([0, 0, 1, 1, 2, 2]);
  const f = project(few, 3, 2, 'umap');
  assert.ok(Math.abs(f[1]!) < 1e-6 && Math.abs(f[5]!) < 1e-6, 'three collinear points: PCA fallback puts them on a line');
  assert.deepEqual(Array.from(evenSample(10, 4)), [0, 2, 5, 7], 'an even sample spans the rows');
  assert.deepEqual(Array.from(evenSample(3, 5)), [0, 1, 2], 'a sample larger than the rows takes them all');
});

test('cache file names are injective and file-name safe', () => {
  assert.equal(cacheNamePart('notes'), 'notes', 'plain names stay readable');
  assert.notEqual(cacheNamePart('a-b'), cacheNamePart('a_b'), 'dash and underscore differ');
  assert.match(cacheNamePart('Xenova/all-MiniLM@fp32'), /^[A-Za-z0-9._ ~]+$/, 'no separators or slashes');
  assert.equal(path.basename(mapCacheFile('/h', 'c', 'm@static', 'pca', '3:9:18')), 'c-m~40static-pca-3~3A9~3A18.json', 'collection-model-method-fingerprint');
});

/** A store with one collection whose documents live in two folders, with synthetic vectors. */
function seedStore(db: Db, root: string, docs: Array<{ rel: string; chunks: string[] }>, dims = 6): void {
  const lib = new LibraryStore(db);
  const c = lib.ensureCollection({ name: 'notes', model: 'test/model', variant: 'static', root });
  lib.setDims(c.id, dims);
  const rnd = seededRandom(docs.length);
  lib.writeDocuments(
    c.id,
    'test/model@static',
    docs.map((d) => ({
      doc: { key: d.rel, path: path.join(root, d.rel), fileType: path.extname(d.rel).slice(1), size: 10, mtimeMs: 1, sha256: d.rel },
      chunks: d.chunks.map((text, ord) => ({ ord, text, start: 0, end: text.length, tokens: 3, ...(d.rel.endsWith('.pdf') ? { page: ord + 1 } : {}) })),
      vectors: Float32Array.from({ length: d.chunks.length * dims }, () => rnd()),
      dims,
    })),
  );
}

test('map.compute in a worker: points with previews and folders, cached, recomputed after the collection changes', async (t) => {
  const home = tempHome(t);
  const db = openDatabase(storePath(home));
  t.after(() => db.close());
  const root = path.join(home, 'docs');
  const long = `Rivers carry sediment   to the sea. ${'Deltas form where the current slows. '.repeat(10)}`;
  seedStore(db, root, [
    { rel: 'a.md', chunks: ['alpha one', 'alpha two', long] },
    { rel: 'sub/b.txt', chunks: ['beta one', 'beta two'] },
    { rel: 'sub/deep/c.pdf', chunks: ['gamma page one', 'gamma page two'] },
  ]);
  const progress: MapProgressEvent[] = [];
  const maps = createMapService({ dbFile: storePath(home), home, onProgress: (p) => progress.push(p) });
  t.after(() => maps.close());

  const first = await maps.compute({ collection: 'notes', method: 'pca' });
  assert.equal(first.cached, false, 'the first map is computed');
  assert.equal(first.points.length, 7, 'one point per chunk');
  assert.equal(first.total, 7, 'total counts the chunks');
  assert.equal(first.sampled, false, 'nothing was sampled away');
  assert.equal(first.model, 'test/model@static', 'the collection model is mapped by default');
  assert.ok(progress.some((p) => p.phase === 'projecting' && p.collection === 'notes'), 'progress events name the phase and collection');
  const byText = new Map(first.points.map((p) => [p.preview.slice(0, 14), p]));
  assert.equal(byText.get('alpha one')?.folder, '.', 'a document in the common folder');
  assert.equal(byText.get('beta one')?.folder, 'sub', 'a document in a subfolder');
  assert.equal(byText.get('gamma page one')?.folder, 'sub/deep', 'nested folders are kept');
  assert.equal(byText.get('gamma page one')?.page, 1, 'paged formats carry the page');
  assert.equal(byText.get('alpha one')?.page, undefined, 'others have no page');
  assert.equal(byText.get('beta one')?.fileType, 'txt', 'file type from the document');
  assert.equal(byText.get('beta one')?.documentPath, path.join(root, 'sub/b.txt'), 'absolute document path');
  const pv = first.points.find((p) => p.preview.startsWith('Rivers'))!.preview;
  assert.ok(pv.length <= 201 && pv.endsWith('…') && !pv.includes('  '), `a long chunk's preview is cut at ~200 chars, whitespace collapsed (${pv.length})`);
  for (const p of first.points) assert.ok(Math.abs(p.x) <= 1 && Math.abs(p.y) <= 1, 'coordinates are normalised to [-1, 1]');
  const file = mapCacheFile(home, 'notes', 'test/model@static', 'pca', first.fingerprint);
  assert.ok(fs.existsSync(file), `the map is cached at ${file}`);

  const second = await maps.compute({ collection: 'notes', method: 'pca' });
  assert.equal(second.cached, true, 'the second call is a cache hit');
  assert.deepEqual(second.points, first.points, 'the cached map is the same map');

  const sampled = await maps.compute({ collection: 'notes', method: 'pca', maxPoints: 3 });
  assert.equal(sampled.points.length, 3, 'maxPoints caps the points');
  assert.ok(sampled.sampled && !sampled.cached, 'a different sample size is computed, not read from the other cache');

  seedStore(db, root, [{ rel: 'sub/b.txt', chunks: ['beta rewritten', 'beta two', 'beta three'] }]);
  const third = await maps.compute({ collection: 'notes', method: 'pca' });
  assert.equal(third.cached, false, 'a changed collection is mapped again');
  assert.notEqual(third.fingerprint, first.fingerprint, 'its vector fingerprint changed');
  assert.equal(third.points.length, 8, 'the new chunk is on the map');
  assert.ok(!fs.existsSync(file), 'the stale cache file is removed');
  assert.deepEqual(fs.readdirSync(mapCacheDir(home)).sort(), [path.basename(mapCacheFile(home, 'notes', 'test/model@static', 'pca', third.fingerprint))], 'one file per collection, model and method');

  const umap = await maps.compute({ collection: 'notes', method: 'umap' });
  assert.equal(umap.points.length, 8, 'UMAP maps the same chunks');
  assert.equal(umap.method, 'umap', 'the method is reported');
});

test('map.compute errors: unknown collection or model are NOT_FOUND; identical calls share one computation; close cancels', async (t) => {
  const home = tempHome(t);
  const db = openDatabase(storePath(home));
  t.after(() => db.close());
  seedStore(db, path.join(home, 'docs'), [{ rel: 'a.md', chunks: ['one', 'two', 'three'] }]);
  const maps = createMapService({ dbFile: storePath(home), home });
  await assert.rejects(maps.compute({ collection: 'nope', method: 'pca' }), (e) => isTandemError(e, 'NOT_FOUND') && /no collection named "nope"/.test(e.message), 'an unknown collection is NOT_FOUND');
  await assert.rejects(maps.compute({ collection: 'notes', model: 'other/model', method: 'pca' }), (e) => isTandemError(e, 'NOT_FOUND') && /no vectors for model other\/model/.test(e.message), 'an unknown model is NOT_FOUND');
  const byId = await maps.compute({ collection: 'notes', model: 'test/model', method: 'pca' });
  assert.equal(byId.model, 'test/model@static', 'a model id without the variant finds its vectors');
  const p1 = maps.compute({ collection: 'notes', method: 'umap' });
  const p2 = maps.compute({ collection: 'notes', method: 'umap' });
  assert.equal(p1, p2, 'identical requests in flight share one computation');
  const stopped = assert.rejects(p1, (e) => isTandemError(e, 'CANCELLED'), 'close stops running computations');
  await maps.close();
  await stopped;
  await assert.rejects(maps.compute({ collection: 'notes', method: 'pca' }), (e) => isTandemError(e, 'CANCELLED'), 'a closed service refuses new work');
});
