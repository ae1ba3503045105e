import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startEmulator, FAULT_KINDS, type EmulatorOptions, type FaultKind, type RunningEmulator } from './index.js';
import { call, sleep, waitFor } from './test-support.js';

const running: RunningEmulator[] = [];
after(() => Promise.all(running.map((e) => e.close())));

async function emulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const e = await startEmulator({ timeScale: 0.001, retryAfterS: 0, coldStartMs: { 'qwen-32b': 5, boltz2: 5 }, inferenceMs: { 'qwen-32b': 5, boltz2: 5 }, ...opts });
  running.push(e);
  return e;
}

const GEN = { prompt: 'hello', schema: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] } };
const PREDICT = { name: 'c', proteins: [{ id: 'A', sequence: 'MKTAYIAKQR' }], ligands: [{ id: 'l', ccd: 'ATP' }] };

test('rate-limit, server-error, unavailable and error-body answer at once and execute nothing', async () => {
  const e = await emulator({ retryAfterS: 3 });
  const expected: [FaultKind, number, string | undefined, number][] = [
    ['rate-limit', 429, '3', 429],
    ['server-error', 500, undefined, 500],
    ['unavailable', 503, '3', 503],
    ['error-body', 200, undefined, 500],
  ];
  for (const [fault, status, retryAfter, bodyStatus] of expected) {
    e.injectNext(fault, { route: 'POST /modal/generate' });
    const r = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': `job-${fault}` } });
    assert.equal(r.status, status, `${fault}: HTTP status`);
    assert.equal(r.headers['retry-after'], retryAfter, `${fault}: Retry-After`);
    assert.equal(r.json.status, bodyStatus, `${fault}: body status`);
    assert.equal(typeof r.json.error, 'string', `${fault}: error message`);
  }
  const s = e.stats();
  assert.equal(s.completed.generate, 0, 'no generation ran');
  assert.deepEqual(s.executions, {}, 'no execution recorded');
  assert.equal(s.coldStarts['qwen-32b'], 0, 'no container started');
  assert.deepEqual([s.faultsInjected['rate-limit'], s.faultsInjected['server-error'], s.faultsInjected.unavailable, s.faultsInjected['error-body']], [1, 1, 1, 1], 'faults counted');
  const ok = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': 'job-rate-limit' } });
  assert.equal(ok.status, 200, 'the retry runs');
  assert.equal(e.stats().executions['job-rate-limit'], 1, 'and executes once');
});

test('reset: the call executes, the connection breaks mid-body; the retry gets the stored result, executions stays 1', async () => {
  const e = await emulator();
  for (const [path, body] of [['/modal/generate', GEN], ['/cloud-run/predict', PREDICT]] as const) {
    const key = `job-reset${path}`;
    e.injectNext('reset', { route: path });
    await assert.rejects(call(e.url, 'POST', path, { body, headers: { 'idempotency-key': key } }), (err: Error) => /closed|terminated|socket|reset/i.test(`${err.message} ${String((err as { cause?: Error }).cause?.message)}`), `${path}: the client sees a broken connection`);
    const retry = await call(e.url, 'POST', path, { body, headers: { 'idempotency-key': key } });
    assert.equal(retry.status, 200, `${path}: retry ${retry.text.slice(0, 200)}`);
    assert.equal(e.stats().executions[key], 1, `${path}: executed once`);
  }
  const s = e.stats();
  assert.deepEqual([s.completed.generate, s.completed.predict], [1, 1], 'each ran once in all');
  assert.equal(s.faultsInjected.reset, 2, 'two resets');
});

test('malformed-json: 200 with a body that is not JSON; the retry gets the stored result, executions stays 1', async () => {
  const e = await emulator();
  e.injectNext('malformed-json', { route: 'generate' });
  const broken = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': 'job-m' } });
  assert.equal(broken.status, 200, 'HTTP 200');
  assert.throws(() => JSON.parse(broken.text) as unknown, SyntaxError, `not JSON: ${broken.text}`);
  assert.ok(broken.text.length > 0, 'a non-empty body');
  const retry = await call(e.url, 'POST', '/modal/generate', { body: GEN, headers: { 'idempotency-key': 'job-m' } });
  assert.equal(retry.status, 200, 'retry answers');
  assert.ok(retry.text.startsWith(broken.text), 'the broken body was the start of the stored result');
  assert.equal(e.stats().executions['job-m'], 1, 'executed once');
  assert.equal(e.stats().completed.generate, 1, 'generated once');
});

test('hang: no answer at all until the client gives up or the emulator closes', async () => {
  const e = await emulator();
  e.injectNext('hang');
  const pending = call(e.url, 'GET', '/cloud-run/health');
  const settled = pending.then(
    () => 'answered',
    () => 'failed',
  );
  await waitFor('the hang to be injected', () => e.stats().faultsInjected.hang === 1);
  assert.equal(await Promise.race([settled, sleep(100).then(() => 'pending')]), 'pending', 'no answer while hanging');
  assert.equal((await call(e.url, 'GET', '/cloud-run/health')).status, 200, 'other requests are served meanwhile');

  const aborted = new AbortController();
  e.injectNext('hang', { route: 'predict' });
  const given = call(e.url, 'POST', '/cloud-run/predict', { body: PREDICT, signal: aborted.signal });
  await waitFor('the second hang', () => e.stats().faultsInjected.hang === 2);
  aborted.abort();
  await assert.rejects(given, 'a client that gives up sees its own abort');
  assert.equal(e.stats().completed.predict, 0, 'a hung request executes nothing');

  await e.close();
  assert.equal(await settled, 'failed', 'close() ends the hanging request');
});

test('faults apply to every protocol route (health, polls, batch), never to control routes', async () => {
  const e = await emulator({ faults: { rate: 1, kinds: ['server-error'] } });
  for (const [method, path] of [['GET', '/modal/health'], ['GET', '/modal/_calls/x'], ['GET', '/cloud-run/batch/x'], ['DELETE', '/cloud-run/batch/x'], ['GET', '/cloud-run/health']] as const) {
    assert.equal((await call(e.url, method, path)).status, 500, `${method} ${path} gets the fault`);
  }
  const stats = await call(e.url, 'GET', '/_emulator/stats');
  assert.equal(stats.status, 200, 'control routes are never faulted');
  assert.equal((stats.json.faultsInjected as Record<string, number>)['server-error'], 5, 'five faults counted');
  e.setFaults(null);
  assert.equal((await call(e.url, 'GET', '/modal/health')).status, 200, 'setFaults(null) stops them');
});

test('random faults follow the seed: same seed, same sequence; kinds restricted; about the rate', async () => {
  const run = async (seed: number) => {
    const e = await emulator({ faults: { rate: 0.5, kinds: ['rate-limit', 'unavailable'], seed } });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call(e.url, 'GET', '/cloud-run/health')).status);
    await e.close();
    return statuses;
  };
  const a = await run(7);
  const b = await run(7);
  assert.deepEqual(a, b, 'same seed, same faults');
  assert.ok(a.every((s) => [200, 429, 503].includes(s)), `only the chosen kinds: ${a.join(',')}`);
  const faulted = a.filter((s) => s !== 200).length;
  assert.ok(faulted > 5 && faulted < 35, `${faulted}/40 faulted at rate 0.5`);
  assert.ok(a.includes(429) && a.includes(503), 'both kinds drawn');
  assert.notDeepEqual(await run(8), a, 'another seed, another sequence');
});

test('injectNext: route filter and count; forced faults come before random ones', async () => {
  const e = await emulator();
  e.injectNext('unavailable', { route: 'predict', count: 2 });
  assert.equal((await call(e.url, 'GET', '/cloud-run/health')).status, 200, 'health is not matched');
  assert.equal((await call(e.url, 'POST', '/cloud-run/predict', { body: PREDICT })).status, 503, 'first predict');
  assert.equal((await call(e.url, 'POST', '/cloud-run/predict', { body: PREDICT })).status, 503, 'second predict');
  assert.equal((await call(e.url, 'POST', '/cloud-run/predict', { body: PREDICT })).status, 200, 'count used up');
  e.injectNext('rate-limit', { route: 'GET /cloud-run/batch/{id}' });
  assert.equal((await call(e.url, 'GET', '/cloud-run/batch/abc')).status, 429, 'normalised route names match too');
  assert.throws(() => e.injectNext('explode' as FaultKind), /unknown fault kind "explode"/, 'unknown kinds are refused');
  assert.equal(FAULT_KINDS.length, 7, 'seven fault kinds');
});

test('every fault kind is observable from a plain fetch client', async () => {
  const e = await emulator();
  const seen: Record<string, string> = {};
  for (const fault of FAULT_KINDS) {
    e.injectNext(fault);
    const ac = new AbortController();
    const timer = fault === 'hang' ? setTimeout(() => ac.abort(), 150) : undefined;
    try {
      const r = await fetch(`${e.url}/cloud-run/health`, { signal: ac.signal });
      const text = await r.text();
      let parsed = 'json';
      try {
        JSON.parse(text);
      } catch {
        parsed = 'not-json';
      }
      seen[fault] = `${r.status} ${parsed}${text.includes('"error"') ? ' error' : ''}`;
    } catch (err) {
      seen[fault] = ac.signal.aborted ? 'aborted' : `failed: ${(err as Error).name}`;
    } finally {
      clearTimeout(timer);
    }
  }
  assert.deepEqual(
    seen,
    {
      'rate-limit': '429 json error',
      'server-error': '500 json error',
      unavailable: '503 json error',
      'error-body': '200 json error',
      reset: 'failed: TypeError',
      'malformed-json': '200 not-json',
      hang: 'aborted',
    },
    'what a client sees per fault',
  );
});
