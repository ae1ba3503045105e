import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { AnnIndex, shouldUseAnn, vectorFingerprint } from './ann-index.js';
import { clusteredDataset } from '../../testing/synthetic.js';
import { ExactIndex, type SearchHit } from './vector-index.js';

const dims = 384;
const n = 20_000;
const nq = 100;
const { vectors, queries } = clusteredDataset(n, nq, dims, 5);
const ids = Int32Array.from({ length: n }, (_, i) => 10 * i + 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-ann-test-'));
const file = path.join(dir, 'vectors.hnsw.json');

let ann: AnnIndex;
let exact: ExactIndex;
let truth: SearchHit[][];

function recall(got: SearchHit[][], want: SearchHit[][]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < want.length; i++) {
    const w = new Set(want[i]!.map((h) => h.id));
    total += w.size;
    for (const h of got[i]!) if (w.has(h.id)) hit++;
  }
  return total === 0 ? 1 : hit / total;
}

before(async () => {
  exact = ExactIndex.fromFloat32(ids, vectors, dims, { threads: 1 });
  truth = exact.searchMany(queries, nq, 10);
  // efConstruction 64 keeps the test fast; the default (100) only raises recall
  ann = await AnnIndex.build(ids, vectors, dims, { modelId: 'test/model@fp32', path: file, efConstruction: 64 });
});
after(() => {
  exact.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('AnnIndex', () => {
  it('recall@10 >= 0.95 vs exact on 20k clustered vectors, scores are dot products', () => {
    const got = ann.searchMany(queries, nq, 10);
    const r = recall(got, truth);
    assert.ok(r >= 0.95, `ANN recall@10 ${r}`);
    const top = got[0]![0]!;
    const row = (top.id - 3) / 10;
    let dot = 0;
    for (let i = 0; i < dims; i++) dot += queries[i]! * vectors[row * dims + i]!;
    assert.ok(Math.abs(dot - top.score) < 1e-5, `score ${top.score} vs dot ${dot}`);
  });

  it('filters by allowed set, byte mask and predicate', () => {
    const allowed = new Set(Array.from(ids).filter((id) => id % 20 === 3)); // half
    const q = queries.subarray(0, dims);
    const want = exact.search(q, 10, { allowed });
    for (const hits of [ann.search(q, 10, { allowed }), ann.search(q, 10, { filter: (id) => allowed.has(id) })]) {
      assert.ok(hits.every((h) => allowed.has(h.id)), 'only allowed ids');
      assert.ok(recall([hits], [want]) >= 0.8, `filtered recall ${recall([hits], [want])}`);
    }
    const mask = new Uint8Array(ids[n - 1]! + 1);
    for (const id of allowed) mask[id] = 1;
    assert.ok(ann.search(q, 10, { allowed: mask }).every((h) => allowed.has(h.id)), 'byte mask respected');
  });

  it('saves and loads; a stale or damaged file is reported, not loaded', () => {
    const fp = vectorFingerprint(ids, vectors, dims);
    assert.equal(ann.header.fingerprint, fp);
    const loaded = AnnIndex.load(file, { dims, count: n, modelId: 'test/model@fp32', fingerprint: fp });
    assert.ok('index' in loaded, `load failed: ${'stale' in loaded ? loaded.stale : ''}`);
    const q = queries.subarray(dims, 2 * dims);
    assert.deepEqual(loaded.index.search(q, 10), ann.search(q, 10));

    const stale = (expect: Partial<{ dims: number; count: number; modelId: string; fingerprint: string }>): string => {
      const r = AnnIndex.load(file, { dims, count: n, modelId: 'test/model@fp32', ...expect });
      assert.ok('stale' in r, 'expected a stale result');
      return r.stale;
    };
    assert.match(stale({ modelId: 'other' }), /model/);
    assert.match(stale({ count: n + 1 }), /holds/);
    assert.match(stale({ dims: 128 }), /dims/);
    const other = new Int32Array(ids);
    other[7] = 1;
    assert.match(stale({ fingerprint: vectorFingerprint(other, vectors, dims) }), /changed/);
    const absent = AnnIndex.load(path.join(dir, 'absent.json'), { dims, count: n, modelId: 'x' });
    assert.ok('stale' in absent && /no saved index/.test(absent.stale), 'an absent file is stale');

    // save elsewhere, then truncate a shard: detected by size
    const copy = path.join(dir, 'copy', 'idx.json');
    ann.save(copy);
    assert.ok('index' in AnnIndex.load(copy, { dims, count: n, modelId: 'test/model@fp32' }), 'saved copy loads');
    const loadCopy = (): string => {
      const r = AnnIndex.load(copy, { dims, count: n, modelId: 'test/model@fp32' });
      assert.ok('stale' in r, 'expected the copy to be stale');
      return r.stale;
    };
    const shard = path.join(path.dirname(copy), AnnIndex.readHeader(copy)!.shards[0]!.file);
    const fd = fs.openSync(shard, 'r+');
    fs.writeSync(fd, Buffer.from([1, 2, 3]), 0, 3, 5000); // same size, other bytes
    fs.closeSync(fd);
    assert.ok('index' in AnnIndex.load(copy, { dims, count: n, modelId: 'test/model@fp32' }), 'without verify only sizes are checked');
    assert.match((AnnIndex.load(copy, { dims, count: n, modelId: 'test/model@fp32' }, { verify: true }) as { stale: string }).stale, /checksum/);
    fs.truncateSync(shard, 1000);
    assert.match(loadCopy(), /wrong size/);
    fs.writeFileSync(copy, '{not json');
    assert.match(loadCopy(), /damaged/);
  });

  it('rejects bad input', async () => {
    await assert.rejects(AnnIndex.build([-1], new Float32Array(dims), dims, { modelId: 'm' }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(AnnIndex.build([1], new Float32Array(dims), dims, { modelId: '' }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => ann.search(new Float32Array(3), 10), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });

  it('shouldUseAnn: exact below the threshold or for selective filters', () => {
    assert.equal(shouldUseAnn(10_000), false);
    assert.equal(shouldUseAnn(5_000_000), true);
    assert.equal(shouldUseAnn(5_000_000, { allowedCount: 100_000 }), false);
    assert.equal(shouldUseAnn(300_000, { threshold: 200_000 }), true);
  });
});
