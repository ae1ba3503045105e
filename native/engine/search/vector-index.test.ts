import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isTandemError } from '../common/errors.js';
import * as js from './js-kernel.js';
import { addonStatus, jsKernel, selectKernel, type ScanKernel } from './kernel.js';
import { clusteredDataset, gaussian, normalizeRows, rng } from '../../testing/synthetic.js';
import { allocateSharedVectors, ExactIndex, type SearchHit } from './vector-index.js';

function randomUnit(n: number, dims: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  const v = new Float32Array(n * dims);
  for (let i = 0; i < v.length; i++) v[i] = g();
  return normalizeRows(v, dims);
}

/** The reference: float64 dot of every row, sorted by score desc then row asc. */
function naive(ids: ArrayLike<number>, v: Float32Array, dims: number, q: Float32Array, k: number, keep?: (id: number) => boolean): SearchHit[] {
  const all: Array<{ row: number; score: number }> = [];
  for (let r = 0; r < ids.length; r++) {
    if (keep && !keep(ids[r]!)) continue;
    let s = 0;
    for (let i = 0; i < dims; i++) s += q[i]! * v[r * dims + i]!;
    all.push({ row: r, score: s });
  }
  all.sort((a, b) => b.score - a.score || a.row - b.row);
  return all.slice(0, k).map((x) => ({ id: ids[x.row]!, score: x.score }));
}

function recallAt(exact: SearchHit[][], got: SearchHit[][], k: number): number {
  let hit = 0;
  for (let i = 0; i < exact.length; i++) {
    const e = new Set(exact[i]!.slice(0, k).map((h) => h.id));
    for (const h of got[i]!.slice(0, k)) if (e.has(h.id)) hit++;
  }
  return hit / (exact.length * k);
}

const native = addonStatus().loaded;
const kernels: ScanKernel[] = native ? [jsKernel, selectKernel('native-scalar'), selectKernel('native-avx2')] : [jsKernel];
const open: ExactIndex[] = [];
function track(i: ExactIndex): ExactIndex {
  open.push(i);
  return i;
}
after(() => open.forEach((i) => i.close()));

describe('ExactIndex', () => {
  it(`reports its kernel (addon ${native ? 'loaded' : `absent: ${addonStatus().error}`})`, () => {
    const idx = track(ExactIndex.fromFloat32([1, 2], new Float32Array([1, 0, 0, 1]), 2));
    assert.ok(['native-avx2', 'native-scalar', 'js'].includes(idx.kernel), `unexpected kernel ${idx.kernel}`);
    if (native && !process.env.TANDEM_SEARCH_KERNEL) assert.notEqual(idx.kernel, 'js', 'the addon loaded, so a native kernel is used');
  });

  for (const kernel of kernels) {
    it(`${kernel.name}: equals a naive brute force (ids and scores), with duplicate vectors and k > n`, () => {
      const dims = 37; // not a multiple of any SIMD width
      const n = 1500;
      const v = randomUnit(n, dims, 3);
      // exact ties: rows 10..14 repeat row 5; 700 repeats 699
      for (const r of [10, 11, 12, 13, 14]) v.copyWithin(r * dims, 5 * dims, 6 * dims);
      v.copyWithin(700 * dims, 699 * dims, 700 * dims);
      const ids = Array.from({ length: n }, (_, i) => (i * 7919) % 100_003); // not in row order
      const idx = track(ExactIndex.fromFloat32(ids, v, dims, { kernel: kernel.name, threads: 1 }));
      assert.equal(idx.kernel, kernel.name);
      const queries = randomUnit(20, dims, 4);
      queries.set(v.subarray(5 * dims, 6 * dims), 0); // hits the tie group first
      for (let q = 0; q < 20; q++) {
        const qv = queries.subarray(q * dims, (q + 1) * dims);
        for (const k of [1, 10, 13]) assert.deepEqual(idx.search(qv, k), naive(ids, v, dims, qv, k), `query ${q} k ${k}`);
      }
      const q0 = queries.subarray(0, dims);
      const top = idx.search(q0, 6);
      assert.deepEqual(
        top.map((h) => h.id),
        [5, 10, 11, 12, 13, 14].map((r) => ids[r]),
        'tied rows come in insertion order',
      );
      const all = idx.search(q0, n + 50);
      assert.equal(all.length, n, 'k > n returns every vector');
      assert.deepEqual(all, naive(ids, v, dims, q0, n));
      const many = idx.searchMany(queries, 20, 10);
      for (let q = 0; q < 20; q++) assert.deepEqual(many[q], idx.search(queries.subarray(q * dims, (q + 1) * dims), 10), `searchMany query ${q}`);
    });
  }

  it('int8 scan + float32 rescore: recall@10 >= 0.99 on 20k clustered vectors (2 threads)', async () => {
    const dims = 384;
    const { vectors, queries } = clusteredDataset(20_000, 100, dims, 11);
    const idx = track(ExactIndex.fromFloat32(Int32Array.from({ length: 20_000 }, (_, i) => i), vectors, dims, { threads: 2 }));
    await idx.ready();
    const exact = idx.searchMany(queries, 100, 10);
    const approx = idx.searchMany(queries, 100, 10, { precision: 'int8' });
    const r = recallAt(exact, approx, 10);
    assert.ok(r >= 0.99, `int8 recall@10 ${r}`);
    // rescored scores are the exact float64 ones
    for (let q = 0; q < 100; q++) {
      const e = new Map(exact[q]!.map((h) => [h.id, h.score]));
      for (const h of approx[q]!) if (e.has(h.id)) assert.equal(h.score, e.get(h.id), `score of ${h.id}`);
    }
    // and the int8 path on one thread, through the JS kernel, picks the same candidates
    const jsIdx = track(ExactIndex.fromFloat32(Int32Array.from({ length: 20_000 }, (_, i) => i), vectors, dims, { threads: 1, kernel: 'js' }));
    const jsApprox = jsIdx.searchMany(queries.subarray(0, 10 * dims), 10, 10, { precision: 'int8' });
    assert.deepEqual(jsApprox, approx.slice(0, 10), 'JS int8 path equals the native one');
  });

  it('scans on worker threads give the same results as one thread', async () => {
    const dims = 64;
    const n = 40_000;
    const v = randomUnit(n, dims, 21);
    const ids = Int32Array.from({ length: n }, (_, i) => n - i);
    const one = track(ExactIndex.fromFloat32(ids, v, dims, { threads: 1 }));
    const two = track(ExactIndex.fromFloat32(ids, v, dims, { threads: 2 }));
    assert.equal(await two.ready().then((i) => i.threads), 2, 'a worker came online');
    const q = randomUnit(70, dims, 22); // more than one batch of 64
    for (const precision of ['float32', 'int8'] as const) {
      assert.deepEqual(two.searchMany(q, 70, 10, { precision }), one.searchMany(q, 70, 10, { precision }), precision);
    }
    const keep = (id: number): boolean => id % 3 === 0;
    assert.deepEqual(two.search(q.subarray(0, dims), 10, { filter: keep }), naive(ids, v, dims, q.subarray(0, dims), 10, keep));
  });

  it('a preempted worker does not hold the caller up: its chunks are taken over, results unchanged', async () => {
    const dims = 32;
    const n = 40_000;
    const v = randomUnit(n, dims, 51);
    const ids = Int32Array.from({ length: n }, (_, i) => i);
    const one = track(ExactIndex.fromFloat32(ids, v, dims, { threads: 1 }));
    process.env.TANDEM_SEARCH_TEST_WORKER_DELAY_MS = '40';
    let slow: ExactIndex;
    try {
      slow = track(ExactIndex.fromFloat32(ids, v, dims, { threads: 2 }));
      await slow.ready();
    } finally {
      delete process.env.TANDEM_SEARCH_TEST_WORKER_DELAY_MS;
    }
    const q = randomUnit(12, dims, 52);
    for (let i = 0; i < 12; i++) {
      const qi = q.subarray(i * dims, (i + 1) * dims);
      const precision = i % 2 === 0 ? 'float32' : 'int8';
      assert.deepEqual(slow.search(qi, 10, { precision }), one.search(qi, 10, { precision }), `query ${i}`);
    }
    assert.ok(slow.stats().takeovers > 0, `expected take-overs, stats ${JSON.stringify(slow.stats())}`);
  });

  it('filters: predicate, Set (few and many ids), byte mask by id; all excluded gives []', () => {
    const dims = 16;
    const n = 5000;
    const v = randomUnit(n, dims, 31);
    const ids = Array.from({ length: n }, (_, i) => i * 2 + 1);
    const idx = track(ExactIndex.fromFloat32(ids, v, dims, { threads: 1 }));
    const q = randomUnit(1, dims, 32);
    const few = new Set([ids[3]!, ids[4000]!, 999_999]);
    assert.deepEqual(idx.search(q, 10, { allowed: few }), naive(ids, v, dims, q, 10, (id) => few.has(id)));
    const many = new Set(ids.filter((id) => id % 5 !== 0));
    assert.deepEqual(idx.search(q, 10, { allowed: many }), naive(ids, v, dims, q, 10, (id) => many.has(id)));
    const bytes = new Uint8Array(ids[n - 1]! + 1);
    for (const id of ids) if (id % 7 === 1) bytes[id] = 1;
    assert.deepEqual(idx.search(q, 10, { allowed: bytes }), naive(ids, v, dims, q, 10, (id) => bytes[id] === 1));
    assert.deepEqual(
      idx.search(q, 10, { allowed: many, filter: (id) => id > 5000, precision: 'int8' }).map((h) => h.id),
      naive(ids, v, dims, q, 10, (id) => many.has(id) && id > 5000).map((h) => h.id),
    );
    assert.deepEqual(idx.search(q, 10, { filter: () => false }), []);
  });

  it('uses shared vectors in place (allocateSharedVectors) and copies plain ones', () => {
    const shared = allocateSharedVectors(3, 2);
    shared.set([1, 0, 0, 1, 0.6, 0.8]);
    const idx = track(ExactIndex.fromFloat32([7, 8, 9], shared, 2));
    assert.deepEqual(idx.search(new Float32Array([0, 1]), 1), [{ id: 8, score: 1 }]);
    shared.set([0, 0], 2); // in place: the index sees the change (callers must not do this)
    assert.equal(idx.search(new Float32Array([0, 1]), 1)[0]!.id, 9, 'the shared array is not copied');
    const plain = new Float32Array([1, 0, 0, 1]);
    const copied = track(ExactIndex.fromFloat32([1, 2], plain, 2));
    plain.fill(0);
    assert.deepEqual(copied.search(new Float32Array([0, 1]), 1), [{ id: 2, score: 1 }], 'a plain array is copied');
  });

  it('rejects bad input with INVALID_ARGUMENT / INVALID_INPUT', () => {
    assert.throws(() => ExactIndex.fromFloat32([1, 2], new Float32Array(3), 2), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => ExactIndex.fromFloat32([1.5], new Float32Array(2), 2), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    const idx = track(ExactIndex.fromFloat32([1, 2], new Float32Array([1, 0, 0, 1]), 2));
    assert.throws(() => idx.search(new Float32Array(3), 1), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => idx.search(new Float32Array(2), 0), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => idx.search(new Float32Array([NaN, 0]), 1), (e) => isTandemError(e, 'INVALID_INPUT'));
    assert.deepEqual(idx.searchMany(new Float32Array(0), 0, 5), []);
    const empty = track(ExactIndex.fromFloat32([], new Float32Array(0), 4));
    assert.deepEqual(empty.search(new Float32Array(4), 3), []);
  });
});

describe('kernels', () => {
  const dims = 100;
  const n = 3000;
  const v = randomUnit(n, dims, 41);
  const q = randomUnit(3, dims, 42);
  for (const kernel of kernels.filter((k) => k.name !== 'js')) {
    it(`${kernel.name} equals the JS kernel (quantisation bytes, int8 scores, float32 top-k)`, () => {
      const a8 = new Int8Array(n * dims);
      const as = new Float32Array(n);
      const b8 = new Int8Array(n * dims);
      const bs = new Float32Array(n);
      js.quantizeI8(v, dims, 0, n, a8, as);
      kernel.quantizeI8(v, dims, 0, n, b8, bs);
      assert.deepEqual(b8, a8, 'int8 bytes');
      assert.deepEqual(bs, as, 'scales');
      const q8 = new Int8Array(3 * dims);
      js.quantizeI8(q, dims, 0, 3, q8, new Float32Array(3));
      const k = 25;
      const mask = new Uint8Array(n).map((_, i) => (i % 4 === 0 ? 0 : 1));
      for (const m of [null, mask]) {
        const ar = new Int32Array(3 * k);
        const asc = new Float32Array(3 * k);
        const br = new Int32Array(3 * k);
        const bsc = new Float32Array(3 * k);
        assert.equal(kernel.scanI8(b8, bs, dims, q8, 3, 100, n, k, br, bsc, m), js.scanI8(a8, as, dims, q8, 3, 100, n, k, ar, asc, m));
        assert.deepEqual(br, ar, 'int8 rows');
        assert.deepEqual(bsc, asc, 'int8 scores are bit-identical');
        kernel.scanF32(v, dims, q, 3, 0, n, k, br, bsc, m);
        js.scanF32(v, dims, q, 3, 0, n, k, ar, asc, m);
        assert.deepEqual(br, ar, 'float32 rows');
        for (let i = 0; i < bsc.length; i++) assert.ok(Math.abs(bsc[i]! - asc[i]!) < 1e-5, `float32 score ${i}: ${bsc[i]} vs ${asc[i]}`);
      }
      // fewer rows than k: padded with -1 / -Infinity
      const r = new Int32Array(k);
      const s = new Float32Array(k);
      assert.equal(kernel.scanF32(v, dims, q, 1, 0, 5, k, r, s, null), 5);
      assert.deepEqual([r[5], s[5]], [-1, -Infinity]);
    });
  }

  it('the native addon rejects bad arguments instead of crashing', { skip: !native }, () => {
    const k = selectKernel('native-avx2');
    assert.throws(() => k.scanF32(new Float32Array(8), 4, new Float32Array(4), 1, 0, 3, 1, new Int32Array(1), new Float32Array(1), null), /range/);
    assert.throws(() => k.scanF32(new Float32Array(8), 4, new Float32Array(4), 1, 0, 2, 2, new Int32Array(1), new Float32Array(1), null), /outputs/);
    assert.throws(() => k.scanI8(new Int8Array(8), new Float32Array(1), 4, new Int8Array(4), 1, 0, 2, 1, new Int32Array(1), new Float32Array(1), null), /scales/);
  });

  it('TopK keeps the best k with ties by lower row', () => {
    const h = new js.TopK(3);
    for (const [s, r] of [
      [1, 5],
      [2, 9],
      [2, 3],
      [0, 1],
      [2, 4],
      [3, 8],
    ] as const)
      h.push(s, r);
    h.finish();
    assert.deepEqual([...h.r], [8, 3, 4]);
  });
});
