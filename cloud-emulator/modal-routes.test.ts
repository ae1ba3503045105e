import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Ajv } from 'ajv';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from './index.js';
import { call, follow, waitFor, type Json } from './test-support.js';

const running: RunningEmulator[] = [];
after(() => Promise.all(running.map((e) => e.close())));

async function emulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const e = await startEmulator({ timeScale: 0.001, retryAfterS: 0, ...opts });
  running.push(e);
  return e;
}

const SCHEMA = { type: 'object', properties: { title: { type: 'string', maxLength: 30 }, year: { type: 'integer', minimum: 1990, maximum: 2025 }, tags: { type: 'array', items: { type: 'string' } } }, required: ['title', 'year'] };
const fast = { coldStartMs: { 'qwen-32b': 20, 'qwen-80b': 20, 'qwen-480b': 20, embed: 10 }, inferenceMs: { 'qwen-32b': 5, 'qwen-80b': 5, 'qwen-480b': 5, embed: 2 } };

test('health answers at once for every app, names its model and GPU, and never starts a container', async () => {
  const e = await emulator();
  const expected: Record<string, [string, RegExp]> = {
    health: ['Qwen/Qwen2.5-Coder-32B-Instruct', /A100/],
    'qwen-80b-health': ['Qwen/Qwen3-Next-80B-A3B-Instruct', /H100/],
    'qwen-480b-health': ['Qwen/Qwen3-Coder-480B-A35B-Instruct', /H100/],
    'embed-health': ['hkunlp/instructor-xl', /A10G/],
  };
  for (const [fn, [model, gpu]] of Object.entries(expected)) {
    const r = await call(e.url, 'GET', `/modal/${fn}`);
    assert.equal(r.status, 200, `${fn}: ${r.text}`);
    assert.equal(r.json.status, 'healthy', `${fn} status`);
    assert.equal(r.json.model, model, `${fn} model`);
    assert.match(String(r.json.gpu_name), gpu, `${fn} gpu_name`);
    assert.equal(r.json.gpu_available, true, `${fn} gpu_available`);
    assert.equal(r.json.warm, false, `${fn} is cold before any work`);
    assert.equal(typeof r.json.torch_version, 'string', `${fn} torch_version`);
  }
  assert.deepEqual(Object.values(e.stats().coldStarts), [0, 0, 0, 0, 0, 0], 'health starts nothing');
  assert.equal(e.modalTemplate, `${e.url}/modal/{function}`, 'modalTemplate');
});

test('warmup: a cold app pays its cold start once; then warm, model_load_ms 0; health says warm', async () => {
  const e = await emulator(fast);
  const first = await call(e.url, 'GET', '/modal/warmup');
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.json, { status: 'warm', model_load_ms: 20 }, 'first warmup reports the cold start');
  const second = await call(e.url, 'GET', '/modal/warmup');
  assert.deepEqual(second.json, { status: 'warm', model_load_ms: 0 }, 'second warmup is free');
  assert.equal((await call(e.url, 'GET', '/modal/health')).json.warm, true, 'health reports warm');
  assert.equal((await call(e.url, 'GET', '/modal/embed-health')).json.warm, false, 'other apps stay cold');
  const s = e.stats();
  assert.equal(s.coldStarts['qwen-32b'], 1, 'one cold start');
  assert.equal(s.completed.warmups, 2, 'two warmups completed');
});

test('generate: output valid under the schema, text is its JSON, usage and timings; cold then warm', async () => {
  const e = await emulator(fast);
  const validate = new Ajv({ strict: false }).compile(SCHEMA);
  for (const [fn, cold] of [['generate', true], ['generate', false], ['qwen-80b-generate', true], ['qwen-480b-generate', true]] as const) {
    const r = await call(e.url, 'POST', `/modal/${fn}`, { body: { prompt: 'Summarise the paper', schema: SCHEMA, max_tokens: 256, temperature: 0 } });
    assert.equal(r.status, 200, `${fn}: ${r.text}`);
    assert.ok(validate(r.json.output), `${fn}: ${JSON.stringify(r.json.output)} is invalid`);
    assert.equal(r.json.text, JSON.stringify(r.json.output), `${fn}: text is the output's JSON`);
    const usage = r.json.usage as Json;
    assert.ok(Number.isInteger(usage.prompt_tokens) && (usage.prompt_tokens as number) > 0, `${fn}: prompt_tokens ${String(usage.prompt_tokens)}`);
    assert.ok(Number.isInteger(usage.completion_tokens) && (usage.completion_tokens as number) > 0, `${fn}: completion_tokens`);
    assert.equal(r.json.inference_ms, 5, `${fn}: inference_ms`);
    assert.equal(r.json.cold_start, cold, `${fn}: cold_start`);
    assert.equal(r.json.model_load_ms, cold ? 20 : 0, `${fn}: model_load_ms`);
  }
  const s = e.stats();
  assert.equal(s.completed.generate, 4, 'four generations');
  assert.deepEqual([s.coldStarts['qwen-32b'], s.coldStarts['qwen-80b'], s.coldStarts['qwen-480b']], [1, 1, 1], 'one cold start per app');
  assert.equal(s.byRoute['POST /modal/generate'], 2, 'byRoute counts per function');
});

test('generate is deterministic for a prompt and schema', async () => {
  const e = await emulator(fast);
  const body = (prompt: string) => ({ body: { prompt, schema: SCHEMA } });
  const a = await call(e.url, 'POST', '/modal/generate', body('one'));
  const b = await call(e.url, 'POST', '/modal/generate', body('one'));
  assert.deepEqual(a.json.output, b.json.output, 'same prompt and schema, same output');
  const others = await Promise.all(['two', 'three', 'four'].map((p) => call(e.url, 'POST', '/modal/generate', body(p))));
  assert.ok(others.some((o) => JSON.stringify(o.json.output) !== JSON.stringify(a.json.output)), 'other prompts give other outputs');
});

test('generate validation errors are Modal style: HTTP 200 with {"error","status":400}; bad JSON is a 400', async () => {
  const e = await emulator(fast);
  const cases: [unknown, string][] = [
    [{ schema: SCHEMA }, 'Missing required field: prompt'],
    [{ prompt: 'x' }, 'Missing required field: schema'],
    [{ prompt: 'x', schema: 'an object please' }, 'Field schema must be a JSON Schema object'],
    [{ prompt: 'x', schema: [1, 2] }, 'Field schema must be a JSON Schema object'],
    [{ prompt: 42, schema: SCHEMA }, 'Field prompt must be a non-empty string'],
    [{ prompt: 'x', schema: SCHEMA, max_tokens: 0 }, 'Field max_tokens must be a positive integer'],
  ];
  for (const [body, error] of cases) {
    const r = await call(e.url, 'POST', '/modal/generate', { body });
    assert.equal(r.status, 200, `${JSON.stringify(body)}: HTTP 200`);
    assert.deepEqual(r.json, { error, status: 400 }, `${JSON.stringify(body)}: error body`);
  }
  const bad = await call(e.url, 'POST', '/modal/generate', { body: '{"prompt": ' });
  assert.equal(bad.status, 400, 'malformed JSON is HTTP 400');
  assert.equal(bad.json.status, 400, 'with the error body');
  assert.equal(e.stats().completed.generate, 0, 'nothing was generated');
  assert.equal(e.stats().coldStarts['qwen-32b'], 0, 'invalid requests start no container');
});

test('embed: 768-d deterministic unit vectors, one or many, instruction-dependent; empty text is an error body', async () => {
  const e = await emulator(fast);
  const one = await call(e.url, 'POST', '/modal/embed', { body: { text: 'protein folding' } });
  assert.equal(one.status, 200, one.text);
  const v = one.json.embedding as number[];
  assert.equal(v.length, 768, '768 dimensions');
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4, `unit norm, got ${Math.hypot(...v)}`);
  assert.equal(one.json.cold_start, true, 'first embed is cold');
  assert.equal(one.json.model_load_ms, 10, 'model_load_ms is the embed cold start');
  const many = await call(e.url, 'POST', '/modal/embed', { body: { texts: ['protein folding', 'ligand binding'] } });
  const vs = many.json.embeddings as number[][];
  assert.equal(vs.length, 2, 'two embeddings');
  assert.deepEqual(vs[0], v, 'same text, same vector');
  assert.notDeepEqual(vs[1], v, 'another text, another vector');
  assert.equal(many.json.cold_start, false, 'then warm');
  const instructed = await call(e.url, 'POST', '/modal/embed', { body: { texts: ['protein folding'], instruction: 'Represent the title:' } });
  assert.notDeepEqual((instructed.json.embeddings as number[][])[0], v, 'the instruction changes the vector');
  for (const body of [{}, { text: '' }, { texts: [] }, { texts: ['ok', ''] }, { text: 'a', texts: ['b'] }]) {
    const r = await call(e.url, 'POST', '/modal/embed', { body });
    assert.equal(r.status, 200, `${JSON.stringify(body)}: HTTP 200`);
    assert.equal(r.json.status, 400, `${JSON.stringify(body)}: error body status 400`);
    assert.equal(typeof r.json.error, 'string', `${JSON.stringify(body)}: error message`);
  }
  assert.equal(e.stats().completed.embed, 3, 'three embed calls completed');
});

test('unknown functions are 404, wrong methods 405', async () => {
  const e = await emulator();
  const r = await call(e.url, 'GET', '/modal/qwen-7b-generate');
  assert.equal(r.status, 404, 'unknown function');
  assert.deepEqual(r.json, { error: 'unknown Modal function "qwen-7b-generate"', status: 404 }, '404 body');
  assert.equal((await call(e.url, 'GET', '/modal/generate')).status, 405, 'GET on generate');
  assert.equal((await call(e.url, 'POST', '/modal/health', { body: {} })).status, 405, 'POST on health');
  assert.equal((await call(e.url, 'GET', '/modal/_calls/no-such-call')).status, 404, 'unknown call id');
});

test('a call running past redirectAfterMs answers 303; polling the Location reaches the result', async () => {
  const e = await emulator({ redirectAfterMs: 15, coldStartMs: { 'qwen-32b': 0 }, inferenceMs: { 'qwen-32b': 80 } });
  const first = await call(e.url, 'POST', '/modal/generate', { body: { prompt: 'slow', schema: SCHEMA } });
  assert.equal(first.status, 303, `first answer: ${first.status} ${first.text}`);
  const location = String(first.headers.location);
  assert.match(location, new RegExp(`^${e.url}/modal/_calls/[\\w-]+$`), 'Location is the call URL');
  const { reply, redirects } = await follow(first);
  assert.equal(reply.status, 200, reply.text);
  assert.ok(redirects >= 2, `at least one poll answered 303 again (${redirects} redirects)`);
  assert.equal(reply.json.text, JSON.stringify(reply.json.output), 'the result body');
  const again = await call(e.url, 'GET', new URL(location).pathname);
  assert.deepEqual(again.json, reply.json, 'a finished call keeps answering its result');
  const s = e.stats();
  assert.equal(s.completed.generate, 1, 'one generation');
  assert.ok((s.byRoute['GET /modal/_calls/{id}'] ?? 0) >= 2, 'polls are counted under one route name');
  assert.equal(s.maxInFlight['qwen-32b'], 1, 'polls are not in flight');
});

test('warmup of a long cold start 303s too', async () => {
  const e = await emulator({ redirectAfterMs: 10, coldStartMs: { 'qwen-480b': 60 } });
  const first = await call(e.url, 'GET', '/modal/qwen-480b-warmup');
  assert.equal(first.status, 303, first.text);
  const { reply } = await follow(first);
  assert.deepEqual(reply.json, { status: 'warm', model_load_ms: 60 }, 'the warmup result after polling');
});

test('concurrent requests share one cold start; the app scales to zero after idleMs and pays again', async () => {
  const e = await emulator({ coldStartMs: { 'qwen-32b': 250 }, inferenceMs: { 'qwen-32b': 1 }, idleMs: 40, redirectAfterMs: 10_000 });
  const replies = await Promise.all([1, 2, 3].map((i) => call(e.url, 'POST', '/modal/generate', { body: { prompt: `p${i}`, schema: SCHEMA } })));
  for (const r of replies) assert.equal(r.json.cold_start, true, 'each waited on the cold start');
  assert.equal(e.stats().coldStarts['qwen-32b'], 1, 'one shared cold start');
  await waitFor('the app to scale to zero', async () => (await call(e.url, 'GET', '/modal/health')).json.warm === false);
  const later = await call(e.url, 'POST', '/modal/generate', { body: { prompt: 'p4', schema: SCHEMA } });
  assert.equal(later.json.cold_start, true, 'cold again after idling');
  assert.equal(e.stats().coldStarts['qwen-32b'], 2, 'a second cold start');
});

test('scaleToZero makes apps cold now', async () => {
  const e = await emulator(fast);
  await call(e.url, 'GET', '/modal/warmup');
  await call(e.url, 'GET', '/modal/embed-warmup');
  e.scaleToZero('embed');
  assert.equal((await call(e.url, 'GET', '/modal/health')).json.warm, true, 'qwen-32b still warm');
  assert.equal((await call(e.url, 'GET', '/modal/embed-health')).json.warm, false, 'embed cold');
  e.scaleToZero();
  assert.equal((await call(e.url, 'GET', '/modal/health')).json.warm, false, 'all cold');
  assert.deepEqual((await call(e.url, 'GET', '/modal/warmup')).json, { status: 'warm', model_load_ms: 20 }, 'warmup pays again');
});

test('requests beyond the advertised concurrency are recorded and still served', async () => {
  const e = await emulator({ concurrency: { 'qwen-480b': 2 }, coldStartMs: { 'qwen-480b': 250 }, inferenceMs: { 'qwen-480b': 1 }, redirectAfterMs: 10_000 });
  const replies = await Promise.all([1, 2, 3, 4].map((i) => call(e.url, 'POST', '/modal/qwen-480b-generate', { body: { prompt: `p${i}`, schema: SCHEMA } })));
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200], 'all served');
  const s = e.stats();
  assert.equal(s.maxInFlight['qwen-480b'], 4, 'four in flight at once (held by the shared cold start)');
  assert.equal(s.overConcurrency['qwen-480b'], 2, 'two arrived at the limit');
  assert.equal(s.overConcurrency['qwen-32b'], 0, 'other apps untouched');
});

test('with a token, every protocol route needs the bearer token; control routes do not', async () => {
  const token = 'tok-123-secret';
  const e = await emulator({ ...fast, token });
  for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: token }] as Record<string, string>[]) {
    const r = await call(e.url, 'GET', '/modal/health', { headers });
    assert.equal(r.status, 401, `${JSON.stringify(headers)}: 401`);
    assert.equal(r.json.status, 401, 'error body status');
    assert.equal(typeof r.json.error, 'string', 'error message');
    assert.ok(!r.text.includes(token), 'the token is never echoed');
  }
  const auth = { authorization: `Bearer ${token}` };
  assert.equal((await call(e.url, 'GET', '/modal/health', { headers: auth })).status, 200, 'health with the token');
  assert.equal((await call(e.url, 'GET', '/cloud-run/health')).status, 401, 'Cloud Run needs it too');
  assert.equal((await call(e.url, 'GET', '/cloud-run/health', { headers: auth })).status, 200, 'Cloud Run with the token');
  assert.equal((await call(e.url, 'GET', '/_emulator/stats')).status, 200, 'control routes are open');
});
