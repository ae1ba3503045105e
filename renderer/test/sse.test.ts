// The event-stream parser the web transport reads /api/events with (typecheck: npx tsc -p renderer/test/tsconfig.json).
/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSseParser } from '../src/api/sse';

function parse(pieces: string[]): { events: Array<[string, string]>; retries: number[] } {
  const events: Array<[string, string]> = [];
  const retries: number[] = [];
  const p = createSseParser((n, d) => events.push([n, d]), (ms) => retries.push(ms));
  for (const piece of pieces) p.push(piece);
  return { events, retries };
}

test('events, comments and retry as the web host writes them, in any split', () => {
  const stream = ': tandem events (job.updated, job.event)\nretry: 2000\n\nevent: job.updated\ndata: {"job":{"id":"a"}}\n\n: ping 1\n\nevent: job.event\ndata: {"x":1}\n\n';
  const whole = parse([stream]);
  assert.deepEqual(whole.events, [
    ['job.updated', '{"job":{"id":"a"}}'],
    ['job.event', '{"x":1}'],
  ]);
  assert.deepEqual(whole.retries, [2000], 'retry is reported');
  for (let cut = 1; cut < stream.length; cut++) {
    assert.deepEqual(parse([stream.slice(0, cut), stream.slice(cut)]).events, whole.events, `split at ${cut}`);
  }
  assert.deepEqual(parse([...stream]).events, whole.events, 'one character at a time');
});

test('CRLF and CR line ends, multi-line data, unnamed events, an event cut off at the end', () => {
  const r = parse(['event: a\r\ndata: 1\r', '\ndata: 2\r\n\r\n', 'data:x\r\rdata: never ends']);
  assert.deepEqual(r.events, [
    ['a', '1\n2'],
    ['message', 'x'],
  ]);
});
