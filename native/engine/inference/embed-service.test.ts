import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmbedProgress } from './embed-engine.js';
import { progressPoster } from './embed-service.js';

test('progress is posted first, then at most once per interval, and the final value always', () => {
  let clock = 0;
  const posted: EmbedProgress[] = [];
  const onProgress = progressPoster((p) => posted.push(p), 50, () => clock);
  for (let done = 1; done <= 1000; done++) {
    clock = done * 0.2; // a batch every 0.2 ms: 200 ms in all
    onProgress({ done, total: 1000 });
  }
  assert.deepEqual(posted[0], { done: 1, total: 1000 });
  assert.deepEqual(posted.at(-1), { done: 1000, total: 1000 });
  // 0.2, 50.2, 100.2, 150.2 and the final one
  assert.deepEqual(posted.map((p) => p.done), [1, 251, 501, 751, 1000]);
});

test('a slow job posts every batch', () => {
  let clock = 0;
  const posted: number[] = [];
  const onProgress = progressPoster((p) => posted.push(p.done), 50, () => clock);
  for (let done = 1; done <= 5; done++) {
    clock += 60;
    onProgress({ done, total: 5 });
  }
  assert.deepEqual(posted, [1, 2, 3, 4, 5]);
});
