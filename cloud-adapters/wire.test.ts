import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TandemError } from '../native/engine/common/errors.js';
import type { BackendEndpoint, CloudAdapter, EmbedRemoteResult } from './contract.js';
import { sendJson, serverPool, type TestServer } from './http/test-server.js';
import { defaultRegistry } from './registry.js';

/** What the adapters put on the wire and how they read answers, against small real servers. */

const serve = serverPool();
const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 };
const ep = (url: string, over: Partial<BackendEndpoint> = {}): BackendEndpoint => ({ url, token: 'wire-token', retry, ...over });
const modal = (s: TestServer): CloudAdapter => defaultRegistry().create('modal', ep(`${s.url}/m/{function}`));
const cloudRun = (s: TestServer): CloudAdapter => defaultRegistry().create('cloud-run', ep(`${s.url}/svc/`));

async function code(p: Promise<unknown>): Promise<TandemError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TandemError, `a TandemError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a failure');
}

describe('modal wire format', () => {
  test('generate posts snake_case fields to the function URL and maps the answer', async () => {
    const s = await serve((_q, res) =>
      sendJson(res, 200, { output: { a: 1 }, text: '{"a":1}', usage: { prompt_tokens: 5, completion_tokens: 7 }, model_load_ms: 1200, inference_ms: 30 }),
    );
    const out = await modal(s).submit({ kind: 'generate', model: 'qwen-80b', prompt: 'p', schema: { type: 'object' }, maxTokens: 10, temperature: 0.2 }, {});
    const q = s.seen[0]!;
    assert.equal(`${q.method} ${q.url}`, 'POST /m/qwen-80b-generate', 'function URL');
    assert.deepEqual(JSON.parse(q.body), { prompt: 'p', schema: { type: 'object' }, max_tokens: 10, temperature: 0.2 }, 'body');
    assert.ok(typeof q.headers['idempotency-key'] === 'string' && q.headers['idempotency-key'].length > 0, 'a generated Idempotency-Key');
    assert.equal(q.headers.authorization, 'Bearer wire-token', 'auth');
    assert.equal(out.state, 'done', 'done');
    if (out.state !== 'done') return;
    assert.deepEqual(out.result, { output: { a: 1 }, text: '{"a":1}', usage: { promptTokens: 5, completionTokens: 7 } }, 'camelCase result');
    assert.deepEqual([out.timings.modelLoadMs, out.timings.inferenceMs, out.timings.coldStart], [1200, 30, true], 'server timings');
  });

  test('a 2xx without output is retried, then BACKEND_ERROR naming the missing field', async () => {
    const s = await serve((_q, res) => sendJson(res, 200, { text: 'no output here' }));
    const e = await code(modal(s).submit({ kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: { type: 'object' } }, { idempotencyKey: 'k' }));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /malformed response from modal generate: missing output/, 'message');
    assert.equal(s.seen.length, 2, 'retried once');
  });

  test('embed vectors must be finite and agree in dimension across chunks', async () => {
    const dims = await serve((q, res, i) => {
      const n = (JSON.parse(q.body) as { texts: string[] }).texts.length;
      sendJson(res, 200, { embeddings: Array.from({ length: n }, () => Array(i === 0 ? 4 : 3).fill(0.5)) });
    });
    const texts = Array.from({ length: 300 }, (_, i) => `t${i}`);
    const e = await code(modal(dims).submit({ kind: 'embed-remote', texts }, { idempotencyKey: 'k' }));
    assert.equal(e.code, 'BACKEND_ERROR', 'dimension mismatch');
    assert.match(e.message, /3-dimensional.*4/, 'names the dimensions');
    assert.deepEqual(dims.seen.map((q) => q.headers['idempotency-key']), ['k:0', 'k:1'], 'chunk keys');
    assert.deepEqual(dims.seen.map((q) => (JSON.parse(q.body) as { texts: string[] }).texts.length), [256, 44], 'chunk sizes');

    const nan = await serve((_q, res) => sendJson(res, 200, { embeddings: [[0.1, 'NaN']] }));
    const e2 = await code(modal(nan).submit({ kind: 'embed-remote', texts: ['a'] }, {}));
    assert.match(e2.message, /not a finite number/, 'non-finite value');

    const ok = await serve((q, res) => sendJson(res, 200, { embeddings: (JSON.parse(q.body) as { texts: string[] }).texts.map((t) => [t.length, 1]) }));
    const out = await modal(ok).submit({ kind: 'embed-remote', texts: ['a', 'bbb'], instruction: 'Represent:' }, {});
    assert.deepEqual(JSON.parse(ok.seen[0]!.body), { texts: ['a', 'bbb'], instruction: 'Represent:' }, 'body');
    assert.ok(out.state === 'done', 'done');
    assert.deepEqual((out.result as EmbedRemoteResult).embeddings, [[1, 1], [3, 1]], 'vectors in order');
  });
});

describe('cloud-run wire format', () => {
  test('predict posts snake_case fields with upper-case sequences', async () => {
    const s = await serve((_q, res) =>
      sendJson(res, 200, { structure: { format: 'mmcif', data: 'data_x' }, confidence: { ptm: 0.8 }, affinity: { affinity_pred_value: -1.2 }, gpu: 'L4', model_load_ms: 0, inference_ms: 9 }),
    );
    const out = await cloudRun(s).submit(
      { kind: 'boltz2', name: 'c', proteins: [{ id: 'A', sequence: 'mkta' }], ligands: [{ id: 'L', ccd: 'ATP' }], affinity: true, diffusionSamples: 2, recyclingSteps: 4 },
      { idempotencyKey: 'job-1' },
    );
    const q = s.seen[0]!;
    assert.equal(`${q.method} ${q.url}`, 'POST /svc/predict', 'path (trailing slash of the base handled)');
    assert.deepEqual(
      JSON.parse(q.body),
      { name: 'c', proteins: [{ id: 'A', sequence: 'MKTA' }], ligands: [{ id: 'L', ccd: 'ATP' }], affinity: true, diffusion_samples: 2, recycling_steps: 4 },
      'body',
    );
    assert.equal(q.headers['idempotency-key'], 'job-1', 'key');
    assert.ok(out.state === 'done', 'done');
    assert.deepEqual(out.result, { structure: 'data_x', confidence: { ptm: 0.8 }, affinity: { affinity_pred_value: -1.2 }, gpu: 'L4' }, 'result');
  });

  test('batch, poll and cancel map the protocol fields', async () => {
    const s = await serve((q, res) => {
      if (q.method === 'POST') return sendJson(res, 202, { job_id: 'j/1' });
      if (q.method === 'DELETE') return sendJson(res, 200, { job_id: 'j/1', status: 'cancelled' });
      sendJson(res, 200, {
        job_id: 'j/1',
        status: 'failed',
        done: 1,
        total: 2,
        results: [{ ligand_id: 'x', structure: { format: 'mmcif', data: 'data_y' }, confidence: { iptm: 0.5 }, gpu: 'L4' }],
        error: 'ligand y: out of memory',
      });
    });
    const a = cloudRun(s);
    const out = await a.submit({ kind: 'boltz2-batch', name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: 'x', smiles: 'C' }, { id: 'y', smiles: 'N' }], options: { seed: 1 } }, {});
    assert.deepEqual(out.state === 'accepted' ? out.remoteId : null, 'j/1', 'remote id');
    assert.deepEqual((JSON.parse(s.seen[0]!.body) as { options: unknown }).options, { seed: 1 }, 'options sent');
    const p = await a.poll('j/1');
    assert.equal(s.seen[1]!.url, '/svc/batch/j%2F1', 'id encoded in the path');
    assert.deepEqual(
      p.results,
      [{ ligandId: 'x', structure: 'data_y', confidence: { iptm: 0.5 }, affinity: null, gpu: 'L4' }],
      'results mapped',
    );
    assert.deepEqual([p.status, p.done, p.total, p.error], ['failed', 1, 2, 'ligand y: out of memory'], 'status fields');
    await a.cancel('j/1');
    assert.equal(s.seen[2]!.method, 'DELETE', 'cancel is DELETE');
  });

  test('a 202 without job_id and a poll with an unknown status are malformed', async () => {
    const s = await serve((q, res) => (q.method === 'POST' ? sendJson(res, 202, { id: 'x' }) : sendJson(res, 200, { status: 'exploded', done: 0, total: 1 })));
    const a = cloudRun(s);
    const e = await code(a.submit({ kind: 'boltz2-batch', name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: 'x', smiles: 'C' }] }, {}));
    assert.match(e.message, /malformed response from cloud-run \/batch: missing job_id/, 'job_id');
    const e2 = await code(a.poll('j'));
    assert.match(e2.message, /status "exploded" is not one of/, 'status');
  });
});
