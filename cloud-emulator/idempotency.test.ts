import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startEmulator, type RunningEmulator } from './index.js';
import { call, follow } from './test-support.js';

const running: RunningEmulator[] = [];
after(() => Promise.all(running.map((e) => e.close())));

async function emulator(): Promise<RunningEmulator> {
  const e = await startEmulator({ retryAfterS: 0, redirectAfterMs: 10_000, coldStartMs: { 'qwen-32b': 40, boltz2: 5, embed: 5 }, inferenceMs: { 'qwen-32b': 20, boltz2: 20, embed: 5 } });
  running.push(e);
  return e;
}

const GEN = { prompt: 'idempotent', schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } };
const key = (k: string) => ({ 'idempotency-key': k });

test('a repeat while the first runs waits for it and gets the same response; a later repeat gets the stored one', async () => {
  const e = await emulator();
  const [a, b] = await Promise.all([1, 2].map(() => call(e.url, 'POST', '/modal/generate', { body: GEN, headers: key('job-1') })));
  assert.equal(a!.status, 200, a!.text);
  assert.equal(a!.text, b!.text, 'the concurrent repeat got the identical response');
  const later = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: key('job-1') });
  assert.equal(later.text, a!.text, 'the stored response, cold_start and all');
  const s = e.stats();
  assert.equal(s.executions['job-1'], 1, 'one execution');
  assert.equal(s.completed.generate, 1, 'one generation');
  assert.equal(s.maxInFlight['qwen-32b'], 1, 'repeats are not new work');
});

test('without a key every request executes', async () => {
  const e = await emulator();
  await call(e.url, 'POST', '/modal/generate', { body: GEN });
  await call(e.url, 'POST', '/modal/generate', { body: GEN });
  assert.equal(e.stats().completed.generate, 2, 'two generations');
  assert.deepEqual(e.stats().executions, {}, 'no keys recorded');
});

test('a repeated /batch with the same key returns the same job id and starts one batch', async () => {
  const e = await emulator();
  const body = { name: 'b', proteins: [{ id: 'A', sequence: 'MKTAY' }], ligands: [{ id: 'l', ccd: 'ATP' }] };
  const a = await call(e.cloudRunUrl, 'POST', '/batch', { body, headers: key('job-b') });
  const b = await call(e.cloudRunUrl, 'POST', '/batch', { body, headers: key('job-b') });
  assert.equal(a.status, 202, a.text);
  assert.equal(b.status, 202, 'the repeat is accepted too');
  assert.equal(b.json.job_id, a.json.job_id, 'same job id');
  assert.equal(Object.keys(e.stats().batches).length, 1, 'one batch');
  assert.equal(e.stats().executions['job-b'], 1, 'one execution');
});

test('a repeat joins a call that 303s; keys are scoped to one route; failed attempts are not stored', async () => {
  const e = await startEmulator({ redirectAfterMs: 10, coldStartMs: { 'qwen-32b': 0, embed: 0 }, inferenceMs: { 'qwen-32b': 60, embed: 1 } });
  running.push(e);
  const first = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: key('job-303') });
  assert.equal(first.status, 303, first.text);
  const repeat = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: key('job-303') });
  assert.equal(repeat.headers.location, first.headers.location, 'the repeat is sent to the same call');
  const { reply } = await follow(repeat);
  assert.equal(reply.status, 200, reply.text);
  assert.equal(e.stats().executions['job-303'], 1, 'one execution');

  const other = await call(e.url, 'POST', '/modal/embed', { body: { text: 'x' }, headers: key('job-303') });
  assert.equal(other.status, 422, 'a key reused on another route is refused');
  assert.match(String(other.json.error), /POST \/modal\/generate/, 'naming the route it belongs to');

  const invalid = await call(e.url, 'POST', '/modal/embed', { body: { text: '' }, headers: key('job-e') });
  assert.equal(invalid.json.status, 400, 'an invalid request');
  const valid = await call(e.url, 'POST', '/modal/embed', { body: { text: 'fine' }, headers: key('job-e') });
  assert.ok(Array.isArray(valid.json.embedding), 'the corrected request runs under the same key');
  assert.equal(e.stats().executions['job-e'], 1, 'one successful execution');
});
