import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startEmulator, type EmulatorStats, type RunningEmulator } from './index.js';
import { call, waitFor } from './test-support.js';

const running: RunningEmulator[] = [];
after(() => Promise.all(running.map((e) => e.close())));

async function emulator(): Promise<RunningEmulator> {
  const e = await startEmulator({ timeScale: 0.001, retryAfterS: 0, coldStartMs: { 'qwen-32b': 5, boltz2: 5 }, inferenceMs: { 'qwen-32b': 2, boltz2: 20 } });
  running.push(e);
  return e;
}

const GEN = { prompt: 'p', schema: { type: 'object', properties: { x: { type: 'boolean' } }, required: ['x'] } };

test('GET /_emulator/stats mirrors stats(); control requests are not counted', async () => {
  const e = await emulator();
  await call(e.url, 'GET', '/modal/health');
  await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': 'k1' } });
  const r = await call(e.url, 'GET', '/_emulator/stats');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json as unknown as EmulatorStats, e.stats(), 'same numbers over HTTP');
  const s = e.stats();
  assert.equal(s.requests, 2, 'two protocol requests');
  assert.deepEqual(s.byRoute, { 'GET /modal/health': 1, 'POST /modal/generate': 1 }, 'byRoute');
  assert.deepEqual(s.executions, { k1: 1 }, 'executions');
});

test('POST /_emulator/faults: random config or forced next faults; bad input is a 400', async () => {
  const e = await emulator();
  const forced = await call(e.url, 'POST', '/_emulator/faults', { body: { next: [{ fault: 'rate-limit', route: 'health', count: 2 }, { fault: 'error-body', route: 'generate' }] } });
  assert.equal(forced.status, 200, forced.text);
  assert.equal((await call(e.url, 'GET', '/cloud-run/health')).status, 429, 'first forced');
  assert.equal((await call(e.url, 'GET', '/modal/health')).status, 429, 'second forced');
  assert.equal((await call(e.url, 'GET', '/modal/health')).status, 200, 'used up');
  assert.equal((await call(e.url, 'POST', '/modal/generate', { body: GEN })).json.error, 'CUDA out of memory (injected)', 'error-body on generate');

  await call(e.url, 'POST', '/_emulator/faults', { body: { rate: 1, kinds: ['unavailable'], seed: 3 } });
  assert.equal((await call(e.url, 'GET', '/modal/health')).status, 503, 'random faults at rate 1');
  await call(e.url, 'POST', '/_emulator/faults', { body: { rate: 0 } });
  assert.equal((await call(e.url, 'GET', '/modal/health')).status, 200, 'rate 0 turns them off');

  for (const body of [{ rate: 2 }, { rate: 0.5, kinds: ['meteor'] }, { next: [{ fault: 'meteor' }] }, { next: 'reset' }, '[1,']) {
    const r = await call(e.url, 'POST', '/_emulator/faults', { body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: 400 (${r.text})`);
  }
  assert.equal((await call(e.url, 'GET', '/modal/health')).status, 200, 'a refused config changes nothing');
  assert.equal((await call(e.url, 'GET', '/_emulator/nothing')).status, 404, 'unknown control route');
});

test('POST /_emulator/scale-to-zero makes one app or all cold', async () => {
  const e = await emulator();
  await call(e.url, 'GET', '/modal/warmup');
  await call(e.url, 'GET', '/modal/embed-warmup');
  assert.equal((await call(e.url, 'POST', '/_emulator/scale-to-zero', { body: { app: 'qwen-32b' } })).status, 200, 'one app');
  assert.equal((await call(e.url, 'GET', '/modal/health')).json.warm, false, 'qwen-32b cold');
  assert.equal((await call(e.url, 'GET', '/modal/embed-health')).json.warm, true, 'embed still warm');
  await call(e.url, 'POST', '/_emulator/scale-to-zero');
  assert.equal((await call(e.url, 'GET', '/modal/embed-health')).json.warm, false, 'all cold');
  assert.equal((await call(e.url, 'POST', '/_emulator/scale-to-zero', { body: { app: 'gpt' } })).status, 400, 'unknown app');
});

test('reset clears stats, stored results, batches and faults, and makes apps cold', async () => {
  const e = await emulator();
  await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': 'k' } });
  const batch = await call(e.cloudRunUrl, 'POST', '/batch', { body: { name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: Array.from({ length: 30 }, (_, i) => ({ id: `l${i}`, ccd: 'ATP' })) } });
  const id = String(batch.json.job_id);
  await waitFor('the batch to run', async () => (await call(e.cloudRunUrl, 'GET', `/batch/${id}`)).json.status === 'running');
  e.setFaults({ rate: 1, kinds: ['server-error'] });
  e.injectNext('rate-limit');
  assert.equal((await call(e.url, 'POST', '/_emulator/reset')).status, 200, 'reset over HTTP');
  const s = e.stats();
  assert.deepEqual([s.requests, s.executions, s.batches, s.completed.generate, s.coldStarts['qwen-32b']], [0, {}, {}, 0, 0], 'stats cleared');
  assert.equal((await call(e.url, 'GET', '/modal/health')).json.warm, false, 'faults cleared and apps cold');
  assert.equal((await call(e.cloudRunUrl, 'GET', `/batch/${id}`)).status, 404, 'batches forgotten');
  await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': 'k' } });
  assert.equal(e.stats().completed.generate, 1, 'the stored result was forgotten: the key runs again');
  assert.equal(e.stats().completed.batchLigands, 0, 'the old batch stopped');
});
