import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBatches } from './batching.js';

test('batches are length-sorted, within the token budget, and cover every index once', () => {
  const lengths = [5, 40, 3, 3, 100, 7, 12, 12, 64, 2];
  const { batches } = planBatches(lengths, { tokenBudget: 64, maxRows: 4 });
  const flat = batches.flat();
  assert.deepEqual([...flat].sort((a, b) => a - b), lengths.map((_, i) => i));
  let prevMax = 0;
  for (const b of batches) {
    const ls = b.map((i) => lengths[i]!);
    assert.ok(b.length <= 4);
    assert.ok(b.length === 1 || b.length * Math.max(...ls) <= 64, `batch ${JSON.stringify(ls)} over budget`);
    assert.deepEqual(ls, [...ls].sort((x, y) => x - y));
    assert.ok(Math.min(...ls) >= prevMax);
    prevMax = Math.max(...ls);
  }
});

test('a single sequence longer than the budget still gets its own batch', () => {
  const { batches } = planBatches([600, 4], { tokenBudget: 256, maxRows: 64 });
  assert.deepEqual(batches, [[1], [0]]);
});

test('equal lengths keep input order (stable)', () => {
  const { batches } = planBatches([3, 3, 3, 3], { tokenBudget: 1000, maxRows: 2 });
  assert.deepEqual(batches, [[0, 1], [2, 3]]);
});

test('empty input gives no batches', () => {
  assert.deepEqual(planBatches([]).batches, []);
});
