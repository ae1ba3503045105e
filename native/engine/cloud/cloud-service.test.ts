import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { validateJsonAgainstSchema } from '../../../cloud-adapters/validate.js';
import { isTandemError, toWire } from '../common/errors.js';
import { EmbedClient } from '../inference/embed-client.js';
import { cloudRig, filesContaining, LIGANDS, PROTEIN, type CloudRig } from '../../testing/cloud-rig.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { writeSettings } from './cloud-config.js';
import type { LocalEmbedder } from './cloud-service.js';

const SCHEMA = {
  type: 'object',
  required: ['title', 'score', 'tags', 'meta'],
  properties: {
    title: { type: 'string', minLength: 1 },
    score: { type: 'number', minimum: 0, maximum: 1 },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 1 },
    meta: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, note: { type: ['string', 'null'] } } },
  },
};

describe('cloud jobs against the emulator', () => {
  let rig: CloudRig;
  afterEach(async () => rig?.close());

  it('boltz2: recorded before dispatch, sent with the job id as Idempotency-Key, files, timings, device and cost', async () => {
    rig = await cloudRig();
    const { handle, plan } = rig.svc.submit(rig.queue, { kind: 'boltz2', name: 'lyso', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L1', smiles: 'CCO' }], affinity: true });
    assert.equal(plan.backend, 'cloud-run', 'auto routes Boltz-2 to Cloud Run');
    assert.ok(plan.estimate && plan.estimate.usd > 0, 'an estimate before submit');
    assert.ok(['queued', 'running'].includes(rig.store.get(handle.id).status), 'recorded before anything is sent');
    assert.equal(rig.emu.stats().requests, 0, 'and nothing sent yet');
    const job = await handle.done;
    assert.equal(job.status, 'succeeded', `succeeded: ${JSON.stringify(job.error)}`);
    assert.equal(rig.emu.stats().executions[job.id], 1, 'the emulator saw the job id as idempotency key, executed once');
    assert.equal(job.device, 'cloud-run 1x L4', 'device');
    assert.ok((job.timings.loadMs ?? 0) > 0, 'first call paid a cold start');
    assert.ok((job.timings.inferenceMs ?? 0) > 0, 'inference time recorded');
    assert.ok(job.timings.transferMs !== null, 'transfer time recorded');
    assert.ok(job.costUsd > 0, 'actual cost from measured GPU time');
    const r = job.result as { files: { structure: string; confidence: string; affinity: string }; confidence: Record<string, number> };
    for (const f of Object.values(r.files)) assert.ok(fs.existsSync(f) && f.startsWith(path.join(rig.home, 'results', job.id)), `result file under TANDEM_HOME/results/<job>: ${f}`);
    assert.match(fs.readFileSync(r.files.structure, 'utf8'), /^data_/m, 'mmCIF');
    assert.ok(typeof JSON.parse(fs.readFileSync(r.files.affinity, 'utf8')).affinity_pred_value === 'number', 'affinity JSON');

    const again = await rig.svc.submit(rig.queue, { kind: 'boltz2', name: 'lyso2', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L1', ccd: 'ATP' }] }).handle.done;
    assert.equal(again.status, 'succeeded', 'second job');
    assert.equal(again.timings.loadMs, 0, 'warm: no cold start the second time');
  });

  it('generate: output validated against the request schema and stored; embed-remote: 768-d vectors in a file', async () => {
    rig = await cloudRig();
    const g = await rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-80b', prompt: 'Summarise lysozyme', schema: SCHEMA, maxTokens: 256 }).handle.done;
    assert.equal(g.status, 'succeeded', `generate: ${JSON.stringify(g.error)}`);
    assert.equal(g.device, 'modal 2x H100', '80B runs on 2 x H100');
    const gr = g.result as { output: unknown; files: { output: string }; answeredBy: { model: string; backend: string } };
    assert.deepEqual(validateJsonAgainstSchema(SCHEMA, gr.output), { ok: true }, 'valid under the schema');
    assert.deepEqual(JSON.parse(fs.readFileSync(gr.files.output, 'utf8')), gr.output, 'output file');
    assert.equal(gr.answeredBy.model, 'qwen-80b', 'which model answered');

    const texts = Array.from({ length: 300 }, (_, i) => `sentence ${i}`);
    const e = await rig.svc.submit(rig.queue, { kind: 'embed-remote', texts, instruction: 'Represent the sentence:' }).handle.done;
    assert.equal(e.status, 'succeeded', `embed: ${JSON.stringify(e.error)}`);
    const er = e.result as { count: number; dims: number; files: { embeddings: string } };
    assert.equal(er.count, 300, 'all texts');
    assert.equal(er.dims, 768, 'instructor-xl dims');
    const buf = fs.readFileSync(er.files.embeddings);
    assert.equal(buf.byteLength, 300 * 768 * 4, 'float32 file');
    const v = new Float32Array(buf.buffer, buf.byteOffset, 768);
    const norm = Math.hypot(...v);
    assert.ok(Math.abs(norm - 1) < 1e-4, `unit vectors, norm ${norm}`);
  });

  it('boltz2-batch: per-ligand progress notes and files; cancel stops the remote batch', async () => {
    rig = await cloudRig({ emulator: { inferenceMs: { boltz2: 20 } } }); // 20 ms per ligand
    const job = await rig.svc.submit(rig.queue, { kind: 'boltz2-batch', name: 'screen', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: LIGANDS.map((smiles, i) => ({ id: `lig${i}`, smiles })) }).handle.done;
    assert.equal(job.status, 'succeeded', `batch: ${JSON.stringify(job.error)}`);
    assert.deepEqual(job.progress, { done: LIGANDS.length, total: LIGANDS.length }, 'progress complete');
    assert.ok(job.remoteId, 'remote id stored');
    const notes = rig.store.events(job.id).filter((e) => e.type === 'note' && typeof e.data.ligandId === 'string');
    assert.equal(notes.length, LIGANDS.length, 'one note per ligand');
    const ligs = (job.result as { ligands: { ligandId: string; structure: string }[] }).ligands;
    assert.deepEqual(ligs.map((l) => l.ligandId).sort(), LIGANDS.map((_, i) => `lig${i}`).sort(), 'every ligand has files');
    assert.ok(ligs.every((l) => fs.existsSync(l.structure)), 'structures on disk');

    const slow = await cloudRig({ emulator: { inferenceMs: { boltz2: 200 } } }); // 200 ms per ligand
    try {
      const { handle } = slow.svc.submit(slow.queue, { kind: 'boltz2-batch', name: 'slow', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: LIGANDS.map((smiles, i) => ({ id: `l${i}`, smiles })) });
      for (let i = 0; i < 200 && !slow.store.get(handle.id).remoteId; i++) await new Promise((r) => setTimeout(r, 10));
      slow.queue.cancel(handle.id);
      const c = await handle.done;
      assert.equal(c.status, 'cancelled', 'cancelled');
      for (let i = 0; i < 100 && slow.emu.stats().batches[c.remoteId!]?.status !== 'cancelled'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(slow.emu.stats().batches[c.remoteId!]?.status, 'cancelled', 'the remote batch was cancelled too');
    } finally {
      await slow.close();
    }
  });

  it('a slow cold start past Modal\'s 303 threshold: the call follows the redirects, the job records the cold start', async () => {
    rig = await cloudRig({ emulator: { coldStartMs: { 'qwen-480b': 400 }, inferenceMs: { 'qwen-480b': 50 }, redirectAfterMs: 60 } });
    const j = await rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-480b', prompt: 'long one', schema: SCHEMA }).handle.done;
    assert.equal(j.status, 'succeeded', `succeeded through 303s: ${JSON.stringify(j.error)}`);
    assert.equal(j.timings.loadMs, 400, 'the cold start the server reported');
    assert.equal(j.device, 'modal 8x H100', '480B on 8 x H100');
    assert.ok((rig.emu.stats().byRoute['GET /modal/_calls/{id}'] ?? 0) >= 2, 'polled the 303 location');
    assert.equal(rig.emu.stats().executions[j.id], 1, 'executed once');
  });

  it('per-function caps: never more requests in flight to a function than its cap (a lower cap from the settings)', async () => {
    rig = await cloudRig({ emulator: { inferenceMs: { 'qwen-32b': 30 }, coldStartMs: { 'qwen-32b': 0 } } });
    writeSettings(rig.home, { concurrency: { 'modal:generate': 2 } });
    rig.svc.reload();
    const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-32b', prompt: `p${i}`, schema: SCHEMA }).handle.done));
    assert.ok(jobs.every((j) => j.status === 'succeeded'), 'all succeeded');
    assert.equal(rig.emu.stats().maxInFlight['qwen-32b'], 2, 'at most 2 in flight at the emulator');
    assert.equal(rig.svc.limiter.snapshot()['modal:generate']?.peak, 2, 'the limiter peaked at its cap');
  });

  it('the rollback switch: `route boltz2-batch modal` runs the batch on Modal, ligand by ligand, each with its own idempotency key', async () => {
    rig = await cloudRig({ emulator: { inferenceMs: { 'modal-boltz2': 5 }, coldStartMs: { 'modal-boltz2': 20 } } });
    writeSettings(rig.home, { routing: { 'boltz2-batch': 'modal', boltz2: 'modal' } });
    rig.svc.reload();
    const ligands = LIGANDS.slice(0, 4).map((smiles, i) => ({ id: `m${i}`, smiles }));
    const { handle, plan } = rig.svc.submit(rig.queue, { kind: 'boltz2-batch', name: 'rollback', proteins: [{ id: 'A', sequence: PROTEIN }], ligands, affinity: true });
    assert.equal(plan.backend, 'modal', 'routed to Modal');
    assert.match(plan.estimate?.basis ?? '', /A100-40GB/, 'estimated at the A100 rate');
    const job = await handle.done;
    assert.equal(job.status, 'succeeded', `batch on modal: ${JSON.stringify(job.error)}`);
    assert.equal(job.device, 'modal 1x A100-40GB', 'device');
    assert.deepEqual(job.progress, { done: 4, total: 4 }, 'per-ligand progress');
    const keys = Object.keys(rig.emu.stats().executions).filter((k) => k.startsWith(job.id)).sort();
    assert.deepEqual(keys, ligands.map((l) => `${job.id}:${l.id}`).sort(), 'one idempotency key per ligand');
    assert.ok(job.costUsd > 0, 'cost from the measured GPU time');
    const single = await rig.svc.submit(rig.queue, { kind: 'boltz2', name: 'one', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L', ccd: 'ATP' }] }).handle.done;
    assert.equal(single.status, 'succeeded', `single on modal: ${JSON.stringify(single.error)}`);
    assert.equal(single.backend, 'modal', 'single prediction on modal too');
  });

  it('validation errors come before any request; a blocking budget refuses before recording; tokens never stored', async () => {
    rig = await cloudRig();
    const before = rig.emu.stats().requests;
    assert.throws(() => rig.svc.submit(rig.queue, { kind: 'boltz2', name: 'x', proteins: [{ id: 'A', sequence: 'MKB' }], ligands: [] }), (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /proteins\[0\]\.sequence/.test(e.message), 'bad residue named');
    assert.throws(() => rig.svc.submit(rig.queue, { kind: 'boltz2', name: 'x', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: 'L', smiles: 'CC', ccd: 'ATP' }] }), (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /exactly one of smiles or ccd/i.test(e.message), 'smiles xor ccd');
    assert.equal(rig.emu.stats().requests, before, 'nothing sent');
    assert.equal(rig.store.list({}).length, 0, 'nothing recorded');

    writeSettings(rig.home, { budget: { monthlyUsd: 0, action: 'block' } });
    rig.svc.reload();
    assert.throws(() => rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA }), (e: unknown) => isTandemError(e, 'BUDGET_EXCEEDED') && /over the monthly budget/.test(e.message), 'blocked by the budget');
    assert.equal(rig.store.list({}).length, 0, 'a blocked job is not recorded');
    writeSettings(rig.home, { budget: { monthlyUsd: 0, action: 'warn' } });
    rig.svc.reload();
    const { handle, plan } = rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA });
    assert.equal(plan.budget?.ok, false, 'warned');
    const j = await handle.done;
    assert.equal(j.status, 'succeeded', 'warn lets it run');
    assert.ok(rig.store.events(j.id).some((e) => typeof e.data.note === 'string' && e.data.note.startsWith('budget warning')), 'the warning is in the job events');

    // a bad token: UNAUTHORIZED, and the token is nowhere in the record, the error or the data dir
    const bad = await cloudRig({ env: { TANDEM_MODAL_TOKEN: 'tok-WRONG-123456' } });
    try {
      const f = await bad.svc.submit(bad.queue, { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA }).handle.done;
      assert.equal(f.status, 'failed', 'failed');
      assert.equal(f.error?.code, 'UNAUTHORIZED', `unauthorized: ${JSON.stringify(f.error)}`);
      assert.ok(!JSON.stringify(toWire(f.error)).includes('tok-WRONG'), 'no token in the error');
      bad.db.pragma('wal_checkpoint(TRUNCATE)');
      assert.deepEqual(filesContaining(bad.home, 'tok-WRONG-123456'), [], 'no token anywhere in the data dir');
    } finally {
      await bad.close();
    }
    rig.db.pragma('wal_checkpoint(TRUNCATE)');
    assert.deepEqual(filesContaining(rig.home, rig.token), [], 'no token anywhere in the data dir');
  });

  it('a profile without a URL fails with a message naming the setting', async () => {
    rig = await cloudRig({ env: { TANDEM_CLOUDRUN_URL: '' } });
    assert.throws(() => rig.svc.submit(rig.queue, { kind: 'boltz2', name: 'x', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [] }), (e: unknown) => isTandemError(e, 'NOT_CONFIGURED') && /TANDEM_CLOUDRUN_URL/.test(e.message), 'names TANDEM_CLOUDRUN_URL');
  });

  it('one switch moves a kind between backends: routing generate to cloud-run is refused clearly, embed-remote to local needs a local engine', async () => {
    rig = await cloudRig();
    assert.throws(() => rig.svc.plan({ kind: 'embed-remote', texts: ['a'] }, 'local'), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /cannot run on this machine/.test(e.message), 'no local engine in this host');
    assert.throws(() => rig.svc.plan({ kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA }, 'cloud-run'), (e: unknown) => isTandemError(e) && /cloud-run/.test(e.message), 'cloud-run does not serve generation');
  });
});

describe('circuit breaker and local fallback for embeddings (real local model)', () => {
  let client: EmbedClient;
  let localEmbed: LocalEmbedder;
  const sh = sharedOrSkip();
  const models = sh.skip ? undefined : path.join(sh.shared, 'models');
  before(() => {
    client = new EmbedClient({ TANDEM_MODELS_DIR: models ?? '' });
    localEmbed = async (texts, o) => {
      const r = await client.embed({ model: o.model, texts }, { signal: o.signal });
      return { vectors: r.vectors, dims: r.dims, device: r.device.used, model: r.model, loadMs: r.timings.loadMs, inferenceMs: r.timings.inferenceMs };
    };
  });
  after(async () => client?.close());

  it('a backend that keeps failing opens the breaker; embeddings then run locally and say why', { skip: sh.skip }, async () => {
    const rig = await cloudRig({ deps: { localEmbed, tuning: { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } } }, env: { TANDEM_MODELS_DIR: models! } });
    try {
      writeSettings(rig.home, { localEmbedModel: 'minishlab/potion-base-2M' });
      rig.svc.reload();
      rig.emu.setFaults({ rate: 1, kinds: ['unavailable'] });
      for (let i = 0; i < 5; i++) {
        const j = await rig.svc.submit(rig.queue, { kind: 'embed-remote', texts: ['protein folding'] }).handle.done;
        assert.equal(j.backend, 'modal', `attempt ${i} went to modal`);
        assert.equal(j.status, 'failed', `attempt ${i} failed`);
        assert.equal(j.error?.code, 'BACKEND_ERROR', `503s exhausted: ${JSON.stringify(j.error)}`);
      }
      assert.equal(rig.svc.breakers.status('modal').state, 'open', 'breaker open');
      const { handle, plan } = rig.svc.submit(rig.queue, { kind: 'embed-remote', texts: ['protein folding', 'ligand binding'] });
      assert.equal(plan.backend, 'local', 'fell back to local');
      assert.match(plan.reason, /modal circuit open after 5 consecutive failures/, 'the reason says why');
      const j = await handle.done;
      assert.equal(j.status, 'succeeded', `local run: ${JSON.stringify(j.error)}`);
      const r = j.result as { answeredBy: { backend: string; model: string; reason: string }; dims: number };
      assert.equal(r.answeredBy.backend, 'local', 'answered locally');
      assert.equal(r.answeredBy.model, 'minishlab/potion-base-2M', 'by the local model');
      assert.equal(j.costUsd, 0, 'local work costs nothing');
      // a generate job is not an embedding: with the breaker open it is recorded and fails fast, without a request
      const before = rig.emu.stats().requests;
      const g = await rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA }).handle.done;
      assert.equal(g.status, 'failed', 'generate fails fast');
      assert.match(g.error?.message ?? '', /circuit open/, 'because the circuit is open');
      assert.equal(rig.emu.stats().requests, before, 'no request sent while open');
    } finally {
      await rig.close();
    }
  });
});
