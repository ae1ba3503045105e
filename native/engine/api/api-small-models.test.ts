/**
 * Issue 6 through the API: search.query with a cross-encoder rerank stage, rerankers listed by
 * models.list, and generate jobs under policy auto falling back to the local model (tokens
 * streamed as generate.token events) when Modal is unreachable. Real store, real models from
 * ../shared/models, the emulator for a healthy Modal.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startEmulator } from '../../../cloud-emulator/index.js';
import type { ApiEvents } from '../common/api-contract.js';
import { FAST_TUNING, TEST_TOKEN } from '../../testing/cloud-rig.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { createApiService, type ApiService } from './api-service.js';
import { inferModelTask } from './model-task.js';
import { rejects } from '../../testing/rejects.js';

const { shared, skip } = sharedOrSkip();
const RERANKER = 'fixtures/reranker-tiny-random';
const DECODER = 'fixtures/tiny-decoder-random';
/** Bounded, so a random-weight decoder finishes the value within max tokens. */
const BOUNDED = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 8 } } };

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-small-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function env(home: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(shared, 'models'), TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9', ...more };
}

function finished(svc: ApiService, id: string): Promise<ApiEvents['job.updated']['job']> {
  return new Promise((resolve) => {
    const off = svc.events.on('job.updated', (e) => {
      if (e.job.id === id && ['succeeded', 'failed', 'cancelled'].includes(e.job.status)) {
        off();
        resolve(e.job);
      }
    });
  });
}

describe('search.query with a rerank stage', { skip }, () => {
  it('rescoring the top N: every reranked hit has a rerankScore (ordered by it) and keeps its first-stage score; the output says what ran', async (t) => {
    const home = tempDir(t);
    const svc = createApiService({ env: env(home), host: 'test', progressIntervalMs: 0 });
    t.after(() => svc.close());
    const dir = path.join(home, 'docs');
    fs.mkdirSync(dir);
    const texts = ['zebras graze on the savanna', 'pasta needs salted water', 'rivers carry sediment to deltas', 'the zebra named Archibald jumps fences', 'proteins fold into structures', 'a zebra crossing in town'];
    texts.forEach((x, i) => fs.writeFileSync(path.join(dir, `d${i}.txt`), x));
    const { jobIds } = await svc.api['library.index']({ paths: [dir], collection: 'c', model: 'minishlab/potion-base-2M' });
    const job = await finished(svc, jobIds[0]!);
    assert.equal(job.status, 'succeeded', `indexed: ${JSON.stringify(job.error)}`);

    const plain = await svc.api['search.query']({ query: 'zebra', collection: 'c', mode: 'hybrid', k: 6 });
    assert.equal(plain.rerank, undefined, 'no rerank stage unless asked');
    assert.ok(plain.hits.every((h) => h.rerankScore === undefined), 'and no rerank scores');

    const r = await svc.api['search.query']({ query: 'zebra', collection: 'c', mode: 'hybrid', k: 6, rerank: { model: RERANKER, top: 4 } });
    assert.ok(r.rerank, 'the rerank stage is reported');
    assert.equal(r.rerank.model, RERANKER, 'which model');
    assert.equal(r.rerank.top, 4, 'the top N asked');
    assert.equal(r.rerank.pairs, Math.min(4, plain.hits.length), 'pairs scored: the top N documents');
    assert.ok(r.rerank.device.length > 0 && r.rerank.ms >= 0, `device and time: ${JSON.stringify(r.rerank)}`);
    const head = r.hits.slice(0, r.rerank.pairs);
    assert.ok(head.every((h) => typeof h.rerankScore === 'number' && Number.isFinite(h.rerankScore)), 'every reranked hit has a score');
    assert.ok(r.hits.slice(r.rerank.pairs).every((h) => h.rerankScore === undefined), 'hits past the top N have none');
    const scores = head.map((h) => h.rerankScore!);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'the top N ordered by rerank score');
    const firstStage = new Map(plain.hits.map((h) => [h.docKey, h.score]));
    for (const h of r.hits) assert.equal(h.score, firstStage.get(h.docKey), `${h.docKey} keeps its first-stage score`);
    assert.deepEqual(new Set(head.map((h) => h.docKey)), new Set(plain.hits.slice(0, 4).map((h) => h.docKey)), 'the same top 4 documents, reordered');

    const defaults = await svc.api['search.query']({ query: 'zebra', collection: 'c', k: 2, rerank: { model: RERANKER } });
    assert.equal(defaults.rerank?.top, 50, 'top defaults to 50');
    assert.equal(defaults.hits.length, 2, 'k still limits the hits');
  });

  it('bad rerank inputs fail readably before searching: unknown model, a non-reranker, top out of range', async (t) => {
    const svc = createApiService({ env: env(tempDir(t)), host: 'test' });
    t.after(() => svc.close());
    await rejects(svc.api['search.query']({ query: 'x', collection: 'none', rerank: { model: 'nobody/no-such-reranker' } }), 'MODEL_NOT_FOUND', 'an unknown reranker', /no-such-reranker/);
    await rejects(svc.api['search.query']({ query: 'x', collection: 'none', rerank: { model: 'minishlab/potion-base-2M' } }), 'MODEL_INVALID', 'an embedding model is not a reranker', /not a reranker/);
    await rejects(svc.call('search.query', { query: 'x', collection: 'none', rerank: { model: RERANKER, top: 0 } }), 'INVALID_ARGUMENT', 'top below 1', /rerank\.top/);
    await rejects(svc.call('search.query', { query: 'x', collection: 'none', rerank: { model: RERANKER, top: 201 } }), 'INVALID_ARGUMENT', 'top above 200', /rerank\.top/);
  });

  it('models.list names the rerankers: catalog entries and folders on disk whose config declares a one-label classifier', async (t) => {
    const svc = createApiService({ env: env(tempDir(t)), host: 'test' });
    t.after(() => svc.close());
    const { models } = await svc.api['models.list']({});
    const rerankers = models.filter((m) => m.task === 'rerank').map((m) => m.id);
    assert.ok(rerankers.includes('Xenova/ms-marco-MiniLM-L-6-v2'), `the catalog's rerankers: ${rerankers.join(', ')}`);
    assert.ok(rerankers.includes(RERANKER), 'and the fixture found on disk');
    assert.ok(!rerankers.includes('fixtures/minilm-l6-arch-random'), 'an embedding model on disk is not one');
    assert.equal(models.find((m) => m.id === DECODER)?.task, 'generate', 'a causal LM on disk generates');
  });
});

describe('inferModelTask', () => {
  it('reads config.json: a one-label sequence classifier reranks, a causal LM generates, anything else is unknown', (t) => {
    const dir = tempDir(t);
    const write = (name: string, cfg: unknown): string => {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'config.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
      return path.join(dir, name);
    };
    assert.equal(inferModelTask(write('ce', { architectures: ['BertForSequenceClassification'], num_labels: 1 })), 'rerank', 'cross-encoder');
    assert.equal(inferModelTask(write('cls3', { architectures: ['BertForSequenceClassification'], id2label: { 0: 'a', 1: 'b', 2: 'c' } })), null, 'a 3-class classifier is not a reranker');
    assert.equal(inferModelTask(write('lm', { architectures: ['Qwen2ForCausalLM'] })), 'generate', 'decoder');
    assert.equal(inferModelTask(write('bert', { architectures: ['BertModel'] })), null, 'an encoder');
    assert.equal(inferModelTask(write('bad', '{nope')), null, 'unreadable JSON');
    assert.equal(inferModelTask(path.join(dir, 'missing')), null, 'no config.json');
  });
});

describe('generate under policy auto: Modal when healthy, else the local model, streamed', { skip }, () => {
  it('Modal unreachable: plan and submit say so, tokens stream as generate.token, the job is answered locally and valid', async (t) => {
    const home = tempDir(t);
    fs.writeFileSync(path.join(home, 'cloud.json'), JSON.stringify({ localGenerateModel: DECODER }));
    const svc = createApiService({ env: env(home, { TANDEM_MODAL_URL_TEMPLATE: 'http://127.0.0.1:9/{function}' }), host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING } });
    t.after(() => svc.close());
    const request = { kind: 'generate' as const, model: 'qwen-32b' as const, prompt: 'Name a protein', schema: BOUNDED, maxTokens: 60 };

    const { plan } = await svc.api['cloud.plan']({ request, policy: 'auto' });
    assert.equal(plan.backend, 'local', `the plan falls back to this machine: ${plan.reason}`);
    assert.match(plan.reason, /^modal unreachable: ECONNREFUSED.*fell back to local fixtures\/tiny-decoder-random/, 'saying why');

    const tokens: Array<{ jobId: string; text: string; status: string }> = [];
    const statuses = new Map<string, string>();
    svc.events.on('job.updated', (e) => statuses.set(e.job.id, e.job.status));
    svc.events.on('generate.token', (e) => tokens.push({ ...e, status: statuses.get(e.jobId) ?? '?' }));
    const sub = await svc.api['cloud.submit']({ request, policy: 'auto' });
    assert.equal(sub.plan.backend, 'local', 'submit follows the same route');
    const job = await finished(svc, sub.jobId);
    assert.equal(job.status, 'succeeded', `answered: ${JSON.stringify(job.error)}`);
    assert.equal(job.backend, 'local', 'recorded as local');
    const route = (job.params as { route?: { reason?: string } }).route;
    assert.match(route?.reason ?? '', /modal unreachable: ECONNREFUSED/, 'the record says why');
    const result = job.result as { text: string; output: { name: string }; answeredBy: { backend: string; model: string; device: string; reason: string } };
    assert.deepEqual([result.answeredBy.backend, result.answeredBy.model], ['local', DECODER], 'which backend and model answered');
    assert.equal(result.answeredBy.device, job.device, 'and on which device');
    assert.equal(typeof result.output.name, 'string', 'the output passes the schema');

    const mine = tokens.filter((x) => x.jobId === sub.jobId);
    assert.ok(mine.length >= 2, `tokens streamed one by one (${mine.length} events)`);
    assert.equal(mine.map((x) => x.text).join(''), result.text, 'the streamed text is the final text');
    assert.ok(mine.every((x) => x.status === 'running'), 'every token arrived while the job was running');
    assert.equal(tokens.length, mine.length, 'no tokens for other jobs');
  });

  it('with the emulator healthy it routes to Modal; once the emulator stops, auto falls back; policy local forces this machine', async (t) => {
    const emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN });
    let stopped = false;
    t.after(async () => {
      if (!stopped) await emu.close();
    });
    const home = tempDir(t);
    fs.writeFileSync(path.join(home, 'cloud.json'), JSON.stringify({ localGenerateModel: DECODER }));
    const svc = createApiService({ env: env(home, { TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_MODAL_TOKEN: TEST_TOKEN }), host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING } });
    t.after(() => svc.close());
    const request = { kind: 'generate' as const, model: 'qwen-32b' as const, prompt: 'Name a protein', schema: BOUNDED, maxTokens: 40 };

    const healthy = (await svc.api['cloud.plan']({ request, policy: 'auto' })).plan;
    assert.equal(healthy.backend, 'modal', `healthy Modal answers: ${healthy.reason}`);
    const forced = (await svc.api['cloud.plan']({ request, policy: 'local' })).plan;
    assert.deepEqual([forced.backend, forced.reason], ['local', 'policy local'], 'policy local forces this machine');

    await emu.close();
    stopped = true;
    const down = (await svc.api['cloud.plan']({ request, policy: 'auto' })).plan;
    assert.equal(down.backend, 'local', `a stopped emulator: the local model answers (${down.reason})`);
    assert.match(down.reason, /modal unreachable/, 'and the plan says why');
  });
});
