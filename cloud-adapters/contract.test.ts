import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startEmulator, FAULT_KINDS, type FaultKind, type RunningEmulator } from '../cloud-emulator/index.js';
import { TandemError, toWire } from '../native/engine/common/errors.js';
import type {
  BackendEndpoint,
  Boltz2BatchRequest,
  Boltz2Prediction,
  Boltz2Request,
  CloudAdapter,
  CloudRequest,
  EmbedRemoteResult,
  GenerateRequest,
  GenerateResult,
  PollOutcome,
  QwenModel,
} from './contract.js';
import { STRUCTURE_MAX_RESPONSE_BYTES } from './adapter-util.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from './http/http-client.js';
import { closedPort } from './http/test-server.js';
import { defaultRegistry } from './registry.js';
import { validateJsonAgainstSchema } from './validate.js';

/**
 * Contract tests: both adapters against the cloud emulator (a real HTTP server speaking
 * ../shared/cloud-protocol.md), with injected faults. Times are scaled down so cold starts and
 * inference take milliseconds.
 */

const TOKEN = 'emu-token-2b7e151628aed2a6';
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 };
const registry = defaultRegistry();

let emu: RunningEmulator;
before(async () => {
  emu = await startEmulator({
    port: 0,
    token: TOKEN,
    timeScale: 0.0001,
    retryAfterS: 0,
    redirectAfterMs: 60_000,
    inferenceMs: { 'qwen-32b': 2, 'qwen-80b': 2, 'qwen-480b': 2, embed: 1, boltz2: 2 },
  });
});
after(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

function endpoint(url: string, over: Partial<BackendEndpoint> = {}): BackendEndpoint {
  return { url, token: TOKEN, firstByteTimeoutMs: 400, retry: FAST_RETRY, poll: { minIntervalMs: 5 }, ...over };
}
const modal = (over: Partial<BackendEndpoint> = {}): CloudAdapter => registry.create('modal', endpoint(emu.modalTemplate, over));
const cloudRun = (over: Partial<BackendEndpoint> = {}): CloudAdapter => registry.create('cloud-run', endpoint(emu.cloudRunUrl, over));

const SCHEMA = { type: 'object', properties: { title: { type: 'string' }, score: { type: 'integer' } }, required: ['title', 'score'] };
const generate = (model: QwenModel = 'qwen-32b', over: Partial<GenerateRequest> = {}): GenerateRequest => ({ kind: 'generate', model, prompt: 'Summarise.', schema: SCHEMA, maxTokens: 64, ...over });
const SEQ = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ';
const complex = (over: Partial<Boltz2Request> = {}): Boltz2Request => ({ kind: 'boltz2', name: 'c1', proteins: [{ id: 'A', sequence: SEQ.toLowerCase() }], ligands: [{ id: 'L', smiles: 'CC(=O)Oc1ccccc1C(=O)O' }], ...over });
const batch = (n: number, over: Partial<Boltz2BatchRequest> = {}): Boltz2BatchRequest => ({
  kind: 'boltz2-batch',
  name: 'screen',
  proteins: [{ id: 'A', sequence: SEQ }],
  ligands: Array.from({ length: n }, (_, i) => ({ id: `lig${i}`, smiles: i % 2 ? 'CCO' : 'c1ccccc1O' })),
  affinity: true,
  ...over,
});

async function failure(p: Promise<unknown>): Promise<TandemError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TandemError, `a TandemError, got ${String(e)}`);
    for (const s of [e.message, String(e), JSON.stringify(toWire(e))]) assert.ok(!s.includes(TOKEN), `token leaked: ${s}`);
    return e;
  }
  assert.fail('expected a failure');
}

function done<T>(o: Awaited<ReturnType<CloudAdapter['submit']>>): T {
  assert.equal(o.state, 'done', 'a synchronous result');
  return (o as unknown as { result: T }).result;
}

async function pollUntilFinished(a: CloudAdapter, id: string, seen: PollOutcome[] = []): Promise<PollOutcome> {
  for (let i = 0; i < 500; i++) {
    const p = await a.poll(id);
    seen.push(p);
    if (p.status === 'succeeded' || p.status === 'failed' || p.status === 'cancelled') return p;
    await delay(5);
  }
  assert.fail('the batch did not finish');
}

describe('modal adapter against the emulator', () => {
  test('health of each function family', async () => {
    const a = modal();
    for (const fn of ['health', 'qwen-80b-health', 'qwen-480b-health', 'embed-health']) {
      const h = await a.health({ function: fn });
      assert.equal(h.ok, true, `${fn} ok`);
      assert.equal(h.function, fn, 'function reported');
      assert.equal(h.status, 'healthy', 'status');
      assert.ok(typeof h.model === 'string' && h.model.length > 0, 'model named');
    }
  });

  test('warmup reports the cold start once, then warm', async () => {
    const a = modal();
    const first = await a.warmup();
    assert.equal(first.coldStart, true, 'cold after reset');
    assert.ok(first.modelLoadMs > 0, 'model load reported');
    const second = await a.warmup();
    assert.equal(second.coldStart, false, 'warm the second time');
    assert.equal(second.modelLoadMs, 0, 'no model load when warm');
    const embedWarm = await a.warmup({ function: 'embed-warmup' });
    assert.equal(embedWarm.function, 'embed-warmup', 'embed warmup');
  });

  for (const model of ['qwen-32b', 'qwen-80b', 'qwen-480b'] as const) {
    test(`generate with ${model}: schema-valid output, usage, timings, one execution`, async () => {
      const a = modal();
      const out = await a.submit(generate(model), { idempotencyKey: `gen-${model}` });
      const r = done<GenerateResult>(out);
      assert.equal(out.function, a.functionFor(generate(model)).name, 'function');
      assert.deepEqual(validateJsonAgainstSchema(SCHEMA, r.output), { ok: true }, 'output valid under the schema');
      assert.equal(typeof r.text, 'string', 'text');
      assert.ok(r.usage.promptTokens > 0 && r.usage.completionTokens > 0, `usage ${JSON.stringify(r.usage)}`);
      assert.equal(out.timings.coldStart, true, 'first call after reset is cold');
      assert.ok(out.timings.modelLoadMs > 0, 'model load reported');
      assert.equal(out.timings.attempts, 1, 'one attempt');
      assert.equal(emu.stats().executions[`gen-${model}`], 1, 'executed once');
    });
  }

  test('embed: chunks of 256 texts, keys per chunk, consistent 768-d vectors in order', async () => {
    const a = modal();
    const texts = Array.from({ length: 600 }, (_, i) => `text number ${i}`);
    const out = await a.submit({ kind: 'embed-remote', texts, instruction: 'Represent the sentence:' }, { idempotencyKey: 'emb' });
    const r = done<EmbedRemoteResult>(out);
    assert.equal(r.embeddings.length, 600, 'one vector per text');
    assert.equal(r.dim, 768, 'instructor-xl dimension');
    assert.ok(r.embeddings.every((v) => v.length === 768), 'all 768-d');
    const stats = emu.stats();
    assert.deepEqual([stats.executions['emb:0'], stats.executions['emb:1'], stats.executions['emb:2']], [1, 1, 1], 'one execution per chunk');
    assert.equal(stats.byRoute['POST /modal/embed'], 3, 'three requests');
    assert.equal(out.timings.attempts, 3, 'attempts summed');
    const again = done<EmbedRemoteResult>(await a.submit({ kind: 'embed-remote', texts: texts.slice(256, 512), instruction: 'Represent the sentence:' }, { idempotencyKey: 'emb2' }));
    assert.deepEqual(again.embeddings[0], r.embeddings[256], 'vectors returned in input order');
  });

  test('validation errors fail before any request', async () => {
    const a = modal();
    const before = emu.stats().requests;
    const bad: CloudRequest[] = [
      generate('qwen-32b', { prompt: '' }),
      generate('qwen-32b', { schema: { type: 'nonsense' } }),
      generate('qwen-32b', { temperature: 5 }),
      { kind: 'embed-remote', texts: [] },
      { kind: 'embed-remote', texts: ['ok', ''] },
    ];
    for (const req of bad) {
      const e = await failure(a.submit(req, { idempotencyKey: 'v' }));
      assert.equal(e.code, 'INVALID_INPUT', `code for ${e.message}`);
    }
    assert.equal((await failure(a.submit(complex({ proteins: [{ id: 'A', sequence: 'MKB' }] }), {}))).code, 'INVALID_INPUT', 'Boltz-2 on Modal is validated like on Cloud Run');
    assert.equal((await failure(a.submit(batch(3), {}))).code, 'INVALID_ARGUMENT', 'a batch is sent ligand by ligand by the job layer, never as one Modal call');
    assert.equal(emu.stats().requests, before, 'no request reached the emulator');
  });

  test('boltz2 on Modal (the rollback target): same body and answer as Cloud Run /predict, on an A100-40GB', async () => {
    const a = modal();
    const out = await a.submit(complex({ affinity: true }), { idempotencyKey: 'modal-boltz-1' });
    assert.equal(out.state, 'done', 'synchronous');
    const r = (out as { result: { structure: string; confidence: Record<string, number>; affinity: unknown; gpu: string } }).result;
    assert.match(r.structure, /^data_/m, 'mmCIF');
    assert.equal(typeof r.confidence.confidence_score, 'number', 'confidence');
    assert.ok(r.affinity, 'affinity when asked');
    assert.match(r.gpu, /A100/, 'gpu');
    assert.equal(emu.stats().executions['modal-boltz-1'], 1, 'one execution');
    assert.equal(a.functionFor(batch(2)).batch, 'per-item', 'batches go per ligand on Modal');
  });

  for (const fault of FAULT_KINDS) {
    test(`generate survives an injected ${fault} with at most one execution`, async () => {
      const a = modal();
      emu.injectNext(fault, { route: 'POST /modal/generate' });
      const out = await a.submit(generate(), { idempotencyKey: `f-${fault}` });
      assert.ok(done<GenerateResult>(out).output !== null, 'a result');
      const stats = emu.stats();
      assert.equal(stats.faultsInjected[fault], 1, 'the fault was injected');
      assert.ok((stats.executions[`f-${fault}`] ?? 0) <= 1, `executions ${stats.executions[`f-${fault}`]}`);
      assert.equal(out.timings.attempts, 2, 'one retry');
    });
  }

  for (const fault of ['reset', 'malformed-json', 'unavailable'] as FaultKind[]) {
    test(`embed survives an injected ${fault} on a chunk`, async () => {
      const a = modal();
      emu.injectNext(fault, { route: 'POST /modal/embed' });
      const texts = Array.from({ length: 300 }, (_, i) => `t${i}`);
      const r = done<EmbedRemoteResult>(await a.submit({ kind: 'embed-remote', texts }, { idempotencyKey: `e-${fault}` }));
      assert.equal(r.embeddings.length, 300, 'all vectors');
      const stats = emu.stats();
      assert.ok((stats.executions[`e-${fault}:0`] ?? 0) <= 1 && (stats.executions[`e-${fault}:1`] ?? 0) <= 1, 'at most one execution per chunk');
    });
  }

  test('persistent 503 with maxAttempts 2 is BACKEND_ERROR; persistent 429 is RATE_LIMITED', async () => {
    emu.injectNext('unavailable', { route: 'POST /modal/generate', count: 2 });
    const e = await failure(modal({ retry: { ...FAST_RETRY, maxAttempts: 2 } }).submit(generate(), { idempotencyKey: 'p503' }));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /503/, 'names the status');
    assert.match(e.message, /generate/, 'names the function');
    assert.equal(emu.stats().byRoute['POST /modal/generate'], 2, 'two attempts');
    emu.injectNext('rate-limit', { route: 'POST /modal/generate', count: 3 });
    const e2 = await failure(modal({ retry: { ...FAST_RETRY, maxAttempts: 3 } }).submit(generate(), { idempotencyKey: 'p429' }));
    assert.equal(e2.code, 'RATE_LIMITED', 'code');
    assert.equal(emu.stats().executions.p429 ?? 0, 0, 'never executed');
  });

  test('a bad token is UNAUTHORIZED, not retried, and not in the error', async () => {
    const a = modal({ token: 'wrong-token-value-123' });
    const e = await failure(a.submit(generate(), { idempotencyKey: 'auth' }));
    assert.equal(e.code, 'UNAUTHORIZED', 'code');
    assert.ok(!e.message.includes('wrong-token-value-123'), 'the wrong token is not shown either');
    assert.equal(emu.stats().requests, 1, 'one request');
    const h = await failure(modal({ token: undefined }).health());
    assert.equal(h.code, 'UNAUTHORIZED', 'no token');
  });

  test('long calls answer 303 and are polled to the result', async () => {
    const slow = await startEmulator({ port: 0, timeScale: 0.0001, redirectAfterMs: 5, inferenceMs: { 'qwen-32b': 60 }, coldStartMs: { 'qwen-32b': 30 } });
    try {
      const a = registry.create('modal', endpoint(slow.modalTemplate, { token: undefined }));
      const out = await a.submit(generate(), { idempotencyKey: 'long' });
      assert.ok(done<GenerateResult>(out).output !== null, 'result');
      assert.ok(out.timings.attempts >= 2, `polled (${out.timings.attempts} attempts)`);
      const stats = slow.stats();
      assert.equal(stats.executions.long, 1, 'executed once');
      assert.equal(stats.byRoute['POST /modal/generate'], 1, 'submitted once, the rest were GET polls');
    } finally {
      await slow.close();
    }
  });

  test('a hang past the deadline is BACKEND_TIMEOUT; the signal cancels', async () => {
    emu.injectNext('hang', { route: 'POST /modal/generate', count: 10 });
    const e = await failure(modal({ firstByteTimeoutMs: 60_000 }).submit(generate(), { idempotencyKey: 'dl', deadlineMs: 150 }));
    assert.equal(e.code, 'BACKEND_TIMEOUT', 'code');
    assert.match(e.message, /deadline/, 'names the deadline');
    const ac = new AbortController();
    const p = modal({ firstByteTimeoutMs: 60_000 }).submit(generate(), { idempotencyKey: 'cx', signal: ac.signal });
    setTimeout(() => ac.abort(new TandemError('CANCELLED', 'user cancelled')), 30);
    const c = await failure(p);
    assert.equal(c.code, 'CANCELLED', 'cancelled');
  });

  test('an unreachable backend is OFFLINE; poll and cancel are INVALID_ARGUMENT', async () => {
    const port = await closedPort();
    const e = await failure(registry.create('modal', endpoint(`http://127.0.0.1:${port}/{function}`)).health());
    assert.equal(e.code, 'OFFLINE', 'code');
    assert.match(e.message, /modal unreachable: ECONNREFUSED/, 'message');
    assert.equal((await failure(modal().poll('x'))).code, 'INVALID_ARGUMENT', 'poll');
    assert.equal((await failure(modal().cancel('x'))).code, 'INVALID_ARGUMENT', 'cancel');
  });
});

describe('cloud-run adapter against the emulator', () => {
  test('health and warmup', async () => {
    const a = cloudRun();
    const h = await a.health();
    assert.equal(h.ok, true, 'ok');
    assert.equal(h.backend, 'cloud-run', 'backend');
    assert.equal(h.gpu, 'L4', 'gpu');
    assert.equal(h.model, 'boltz-2', 'model');
    const w = await a.warmup();
    assert.equal(w.coldStart, false, 'a fast health call is not a cold start');
  });

  test('predict: mmCIF structure, confidence, affinity, one execution', async () => {
    const a = cloudRun();
    const out = await a.submit(complex({ affinity: true, diffusionSamples: 1, recyclingSteps: 3 }), { idempotencyKey: 'pred' });
    const r = done<Boltz2Prediction>(out);
    assert.equal(out.function, 'predict', 'function');
    assert.ok(r.structure.length > 0 && /data_|_atom_site/.test(r.structure), 'mmCIF text');
    assert.equal(typeof r.confidence.confidence_score, 'number', 'confidence score');
    assert.ok(r.affinity !== null && typeof r.affinity.affinity_pred_value === 'number', 'affinity');
    assert.ok(typeof r.gpu === 'string' && r.gpu.includes('L4'), `gpu ${r.gpu}`);
    assert.equal(out.timings.coldStart, true, 'cold after reset');
    assert.equal(emu.stats().executions.pred, 1, 'executed once');
    const noAff = done<Boltz2Prediction>(await a.submit(complex(), { idempotencyKey: 'pred2' }));
    assert.equal(noAff.affinity, null, 'no affinity unless asked');
  });

  test('validation errors fail before any request', async () => {
    const a = cloudRun();
    const before = emu.stats().requests;
    const bad: CloudRequest[] = [
      complex({ proteins: [{ id: 'A', sequence: 'MKB' }] }),
      complex({ ligands: [{ id: 'L', smiles: 'CCO', ccd: 'ATP' }] }),
      complex({ affinity: true, ligands: [{ id: 'L', smiles: 'C'.repeat(129) }] }),
      batch(0),
    ];
    for (const req of bad) assert.equal((await failure(a.submit(req, { idempotencyKey: 'v' }))).code, 'INVALID_INPUT', 'code');
    assert.equal((await failure(a.submit(generate(), {}))).code, 'INVALID_ARGUMENT', 'generate is not served by cloud run');
    assert.equal(emu.stats().requests, before, 'no request reached the emulator');
  });

  for (const fault of FAULT_KINDS) {
    test(`predict survives an injected ${fault} with at most one execution`, async () => {
      const a = cloudRun();
      emu.injectNext(fault, { route: 'POST /cloud-run/predict' });
      const r = done<Boltz2Prediction>(await a.submit(complex(), { idempotencyKey: `p-${fault}` }));
      assert.ok(r.structure.length > 0, 'a structure');
      const stats = emu.stats();
      assert.equal(stats.faultsInjected[fault], 1, 'the fault was injected');
      assert.ok((stats.executions[`p-${fault}`] ?? 0) <= 1, 'at most one execution');
    });
  }

  test('batch: submit, poll progress to the end, per-ligand results', async () => {
    const a = cloudRun();
    const req = batch(6);
    const out = await a.submit(req, { idempotencyKey: 'b1' });
    assert.equal(out.state, 'accepted', 'accepted');
    const id = (out as { remoteId: string }).remoteId;
    const seen: PollOutcome[] = [];
    const last = await pollUntilFinished(a, id, seen);
    assert.equal(last.status, 'succeeded', `status ${last.status} ${last.error}`);
    assert.equal(last.total, 6, 'total');
    assert.equal(last.done, 6, 'done');
    assert.deepEqual(last.results.map((r) => r.ligandId), req.ligands.map((l) => l.id), 'a result per ligand, in order');
    assert.ok(last.results.every((r) => r.structure.length > 0 && r.affinity !== null), 'structures and affinities');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.done >= seen[i - 1]!.done, 'progress never goes back');
    assert.equal(last.remoteId, id, 'remote id');
  });

  for (const fault of ['reset', 'malformed-json', 'error-body', 'hang'] as FaultKind[]) {
    test(`batch submit survives an injected ${fault} without a second batch`, async () => {
      const a = cloudRun();
      emu.injectNext(fault, { route: 'POST /cloud-run/batch' });
      const out = await a.submit(batch(2), { idempotencyKey: `bf-${fault}` });
      assert.equal(out.state, 'accepted', 'accepted');
      const stats = emu.stats();
      assert.ok((stats.executions[`bf-${fault}`] ?? 0) <= 1, 'at most one execution');
      assert.equal(Object.keys(stats.batches).length, 1, 'one batch job');
    });
  }

  test('polls survive faults', async () => {
    const a = cloudRun();
    const out = await a.submit(batch(2), { idempotencyKey: 'bp' });
    const id = (out as { remoteId: string }).remoteId;
    emu.injectNext('reset', { route: 'GET /cloud-run/batch' });
    emu.injectNext('server-error', { route: 'GET /cloud-run/batch' });
    const p = await a.poll(id);
    assert.ok(['queued', 'running', 'succeeded'].includes(p.status), `status ${p.status}`);
    assert.equal(p.timings.attempts, 3, 'two faults, then the answer');
  });

  test('cancel a running batch; unknown ids are NOT_FOUND', async () => {
    const slow = await startEmulator({ port: 0, timeScale: 0.0001, inferenceMs: { boltz2: 50 } });
    try {
      const a = registry.create('cloud-run', endpoint(slow.cloudRunUrl, { token: undefined }));
      const out = await a.submit(batch(40), { idempotencyKey: 'bc' });
      const id = (out as { remoteId: string }).remoteId;
      await a.cancel(id);
      const p = await pollUntilFinished(a, id);
      assert.equal(p.status, 'cancelled', 'cancelled');
      assert.ok(p.done < 40, `stopped early (${p.done} done)`);
      assert.equal((await failure(a.poll('no-such-batch'))).code, 'NOT_FOUND', 'poll unknown');
      assert.equal((await failure(a.cancel('no-such-batch'))).code, 'NOT_FOUND', 'cancel unknown');
    } finally {
      await slow.close();
    }
  });

  test('a bad token is UNAUTHORIZED', async () => {
    const e = await failure(cloudRun({ token: 'nope-nope-nope' }).submit(complex(), { idempotencyKey: 'x' }));
    assert.equal(e.code, 'UNAUTHORIZED', 'code');
    assert.equal(emu.stats().requests, 1, 'not retried');
  });
});

describe('response caps per function (issue 17)', () => {
  test('the endpoint caps one function by its capability name; the others keep their built-in cap', async () => {
    assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 64 * 1024 * 1024, 'generate / embed: 64 MiB');
    assert.equal(STRUCTURE_MAX_RESPONSE_BYTES, 256 * 1024 * 1024, 'Boltz-2: 256 MiB');
    const m = modal({ maxResponseBytes: { generate: 20 } });
    const e = await failure(m.submit(generate(), { idempotencyKey: 'cap-g' }));
    assert.equal(e.code, 'BACKEND_ERROR', e.message);
    assert.match(e.message, /over the 20 bytes limit for generate responses/, 'names the cap and the function');
    const out = await m.submit({ kind: 'embed-remote', texts: ['a', 'b'] }, { idempotencyKey: 'cap-e' });
    assert.equal(done<EmbedRemoteResult>(out).embeddings.length, 2, 'embed is not capped by the generate setting');
    const c = await failure(cloudRun({ maxResponseBytes: { predict: 300 } }).submit(complex(), { idempotencyKey: 'cap-p' }));
    assert.match(c.message, /limit for \/predict responses/, 'Cloud Run /predict capped by its capability name');
    const d = await failure(modal({ maxResponseBytes: { default: 100 } }).health());
    assert.match(d.message, /over the 100 bytes limit for health responses/, '`default` caps the functions without a cap of their own');
  });
});
