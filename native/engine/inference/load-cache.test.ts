import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadCache } from './load-cache.js';

test('one load per key shared by concurrent callers; a failed load is forgotten; clear disposes what loaded', async () => {
  const cache = new LoadCache<{ n: number }>();
  let loads = 0;
  const load = async () => ({ n: ++loads });
  const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
  assert.equal(loads, 1, 'one load for two concurrent callers');
  assert.equal(a.value, b.value, 'the same value');
  assert.deepEqual([a.cached, b.cached], [false, true], 'the second caller is told it was cached');
  await assert.rejects(cache.get('bad', () => Promise.reject(new Error('no weights'))), /no weights/, 'the failure reaches the caller');
  const retry = await cache.get('bad', load);
  assert.equal(retry.cached, false, 'a failed load is not kept');
  const disposed: number[] = [];
  await cache.clear(async (v) => void disposed.push(v.n));
  assert.deepEqual(disposed.sort(), [1, 2], 'every loaded value disposed');
  assert.equal((await cache.get('k', load)).cached, false, 'empty after clear');
});
