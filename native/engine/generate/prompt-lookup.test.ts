import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PromptLookup } from './prompt-lookup.js';

test('a draft is what followed the most recent earlier occurrence of the last n-gram, longest n first', () => {
  const l = new PromptLookup({ maxDraft: 4 });
  // ... 1 2 3 [7 8] ... 5 2 3 [9] ... then the context ends with 2 3: the latest "2 3" is followed by 9
  assert.deepEqual(l.draft([1, 2, 3, 7, 8, 5, 2, 3, 9, 4, 2, 3], 4), [9, 4, 2, 3], 'bigram 2 3: its most recent earlier occurrence');
  // the trigram 1 2 3 beats the more recent bigram 2 3
  assert.deepEqual(l.draft([1, 2, 3, 7, 8, 5, 2, 3, 9, 1, 2, 3], 4), [7, 8, 5, 2], 'trigram match first');
  assert.deepEqual(l.draft([1, 2, 3, 4, 5], 4), [], 'no repeated n-gram: no draft');
  assert.deepEqual(l.draft([5, 1, 6, 1], 4), [], 'a single repeated token is not a match (min n-gram 2)');
  assert.deepEqual(l.draft([1, 2, 1, 2], 1), [1], 'the limit caps the draft (tokens left before max tokens)');
  assert.deepEqual(l.draft([1, 2, 3, 1, 2], 0), [], 'no room: no draft');
});

test('past the end of the context the copy repeats the pattern (LZ77-style)', () => {
  const l = new PromptLookup({ maxDraft: 8 });
  l.record(4, 4); // length 4 -> 8
  assert.deepEqual(l.draft([9, 7, 7, 7], 8), [7, 7, 7, 7, 7, 7, 7, 7], 'a repeated token keeps repeating');
  assert.deepEqual(l.draft([4, 1, 2, 1, 2], 8), [1, 2, 1, 2, 1, 2, 1, 2], 'a period-2 pattern keeps its period');
});

test('the draft length doubles after a fully kept draft and shrinks to what was kept after a miss', () => {
  const l = new PromptLookup({ maxDraft: 10 });
  const ctx = Array.from({ length: 40 }, (_, i) => i % 2);
  assert.equal(l.draft(ctx, 100).length, 4, 'starts at 4');
  l.record(4, 4);
  assert.equal(l.draft(ctx, 100).length, 8, 'all kept: doubled');
  l.record(8, 8);
  assert.equal(l.draft(ctx, 100).length, 10, 'capped at maxDraft');
  l.record(10, 2);
  assert.equal(l.draft(ctx, 100).length, 3, 'two kept: next draft is 3');
  l.record(3, 0);
  assert.equal(l.draft(ctx, 100).length, 1, 'none kept: 1');
  assert.equal(l.drafted, 25, 'drafted tokens are counted');
  assert.equal(l.accepted, 14, 'kept tokens are counted');
});
