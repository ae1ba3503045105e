import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../../cloud-emulator/index.js';
import type { ApiEvents } from '../common/api-contract.js';
import { FAST_TUNING, filesContaining, LIGANDS, PROTEIN, TEST_TOKEN } from '../../testing/cloud-rig.js';
import { readResultFile } from './api-cloud.js';
import { createApiService, type ApiService } from './api-service.js';
import { rejects } from '../../testing/rejects.js';

const SCHEMA = { type: 'object', required: ['title', 'n'], properties: { title: { type: 'string' }, n: { type: 'integer', minimum: 0 } } };

/** The final job.updated of `id`, and every job.event of it seen on the way. */
function finished(svc: ApiService, id: string, events: ApiEvents['job.event'][] = []): Promise<ApiEvents['job.updated']['job']> {
  return new Promise((resolve) => {
    const offEv = svc.events.on('job.event', (e) => {
      if (e.jobId === id) events.push(e);
    });
    const off = svc.events.on('job.updated', (e) => {
      if (e.job.id === id && ['succeeded', 'failed', 'cancelled'].includes(e.job.status)) {
        off();
        offEv();
        resolve(e.job);
      }
    });
  });
}

describe('cloud API methods against the emulator (real HTTP, real store)', () => {
  let emu: RunningEmulator;
  let home: string;
  let svc: ApiService;

  before(async () => {
    emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-cloud-'));
    const env: NodeJS.ProcessEnv = {
      TANDEM_HOME: home,
      TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9',
      TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate,
      TANDEM_CLOUDRUN_URL: emu.cloudRunUrl,
      TANDEM_MODAL_TOKEN: TEST_TOKEN,
      TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN,
    };
    svc = createApiService({ env, host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING, pollIntervalMs: 10 } });
  });

  after(async () => {
    await svc.close();
    await emu.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('cloud.config: profile, URLs and where they came from, token set (never the token), functions and warm-up targets', async () => {
    const c = await svc.api['cloud.config']({});
    assert.equal(c.profile, 'development', 'default profile');
    assert.equal(c.sources.profile, 'default', 'and where it came from');
    assert.equal(c.modal.urlTemplate, emu.modalTemplate, 'Modal URL');
    assert.equal(c.sources.modalUrl, 'TANDEM_MODAL_URL_TEMPLATE', 'from the env var');
    assert.equal(c.cloudRun.hasToken, true, 'token set');
    assert.equal(JSON.stringify(c).includes(TEST_TOKEN), false, 'the token itself is never sent');
    assert.ok(c.functions.some((f) => f.backend === 'cloud-run' && f.name === 'predict' && f.gpu.type === 'L4'), 'Cloud Run predict on L4');
    assert.ok(c.warmups.some((w) => w.backend === 'modal' && w.function === 'qwen-80b-warmup'), 'a warm-up per model family');
    assert.deepEqual(c.routing.boltz2, 'auto', 'routing');
  });

  it('cloud.health: both backends ok; cloud.warmup returns a job whose result carries the measured cold start', async () => {
    const h = await svc.api['cloud.health']({});
    assert.deepEqual(
      h.backends.map((b) => [b.backend, b.ok, b.error]),
      [
        ['modal', true, null],
        ['cloud-run', true, null],
      ],
      'both healthy',
    );
    await emu.scaleToZero();
    const { jobId } = await svc.api['cloud.warmup']({ backend: 'modal', function: 'qwen-80b-warmup' });
    const done = finished(svc, jobId);
    const job = await done;
    assert.equal(job.status, 'succeeded', `warm-up succeeded: ${JSON.stringify(job.error)}`);
    assert.equal(job.kind, 'warmup', 'recorded as a warmup job');
    const r = job.result as { coldStart: boolean; modelLoadMs: number; function: string };
    assert.equal(r.coldStart, true, 'it was cold');
    assert.ok(r.modelLoadMs > 0, `measured cold start: ${r.modelLoadMs} ms`);
    assert.equal(r.function, 'qwen-80b-warmup', 'the function asked for');
  });

  it('cloud.submit boltz2: plan first, then a live job with result files readable through results.read (and nothing outside)', async () => {
    const request = { kind: 'boltz2' as const, name: 'lyso', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L1', smiles: 'CCO' }], affinity: true };
    const { plan } = await svc.api['cloud.plan']({ request });
    assert.equal(plan.backend, 'cloud-run', 'auto routes Boltz-2 to Cloud Run');
    assert.ok(plan.estimate && plan.estimate.usd > 0 && /L4/.test(plan.estimate.basis), 'an estimate with its basis');
    const sub = await svc.api['cloud.submit']({ request });
    assert.equal(sub.plan.backend, 'cloud-run', 'submit follows the same plan');
    const job = await finished(svc, sub.jobId);
    assert.equal(job.status, 'succeeded', `boltz2 succeeded: ${JSON.stringify(job.error)}`);
    const r = job.result as { files: { structure: string; confidence: string }; answeredBy: { backend: string } };
    assert.equal(r.answeredBy.backend, 'cloud-run', 'answered by Cloud Run');
    const cif = await svc.api['results.read']({ jobId: sub.jobId, file: r.files.structure });
    assert.match(cif.text, /^data_/, 'the mmCIF text');
    assert.match(cif.text, /_atom_site\.Cartn_x/, 'with atoms');
    const byName = await svc.api['results.read']({ jobId: sub.jobId, file: path.basename(r.files.confidence) });
    assert.ok(typeof JSON.parse(byName.text).confidence_score === 'number', 'a name relative to the results folder works too');

    await rejects(svc.api['results.read']({ jobId: sub.jobId, file: '../../tandem.db' }), 'INVALID_ARGUMENT', 'a relative path out of the folder', /not a result file/);
    await rejects(svc.api['results.read']({ jobId: sub.jobId, file: path.join(home, 'tandem.db') }), 'INVALID_ARGUMENT', 'an absolute path outside', /not a result file/);
    await rejects(svc.api['results.read']({ jobId: 'NOSUCHJOB', file: 'x.cif' }), 'NOT_FOUND', 'an unknown job');
    await rejects(svc.api['results.read']({ jobId: '../x', file: 'x.cif' }), 'INVALID_ARGUMENT', 'a job id with a path in it');
  });

  it('results.read follows no symlink out of the results folder', () => {
    const dir = path.join(home, 'results', 'LINKJOB');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(home, 'secret.txt'), 'secret');
    fs.symlinkSync(path.join(home, 'secret.txt'), path.join(dir, 'link.cif'));
    fs.writeFileSync(path.join(dir, 'ok.cif'), 'data_ok\n');
    assert.equal(readResultFile(home, 'LINKJOB', 'ok.cif').text, 'data_ok\n', 'a plain file reads');
    assert.throws(() => readResultFile(home, 'LINKJOB', 'link.cif'), /not a result file/, 'a symlink pointing outside is refused');
    assert.throws(() => readResultFile(home, 'LINKJOB', 'ok.cif', 3), /at most 3/, 'a file over the size cap is refused');
  });

  it('cloud.submit boltz2-batch: per-ligand job events arrive live and the progress counts every ligand', async () => {
    const ligands = LIGANDS.slice(0, 4).map((smiles, i) => ({ id: `L${i + 1}`, smiles }));
    const events: ApiEvents['job.event'][] = [];
    const sub = await svc.api['cloud.submit']({ request: { kind: 'boltz2-batch', name: 'screen', proteins: [{ id: 'A', sequence: PROTEIN }], ligands } });
    const job = await finished(svc, sub.jobId, events);
    assert.equal(job.status, 'succeeded', `batch succeeded: ${JSON.stringify(job.error)}`);
    assert.deepEqual(job.progress, { done: 4, total: 4 }, 'progress over every ligand');
    const perLigand = events.filter((e) => typeof e.data.ligandId === 'string').map((e) => e.data.ligandId);
    assert.deepEqual([...perLigand].sort(), ['L1', 'L2', 'L3', 'L4'], `a job.event per ligand with its id: ${JSON.stringify(perLigand)}`);
    assert.ok(events.every((e) => e.data.confidence === undefined || typeof e.data.confidence === 'object'), 'with its confidence');
  });

  it('budget, the routing switch and prices: plan and submit follow the settings; costs and alerts are reported', async () => {
    const request = { kind: 'boltz2' as const, name: 'b', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L', ccd: 'ATP' }] };
    const before = (await svc.api['cloud.plan']({ request })).plan.estimate!.usd;
    const p = await svc.api['cloud.setPrice']({ backend: 'cloud-run', gpu: 'L4', rate: 1.3 });
    assert.equal(p.prices['cloud-run']!.L4, 1.3, 'price stored');
    const afterPrice = (await svc.api['cloud.plan']({ request })).plan.estimate!.usd;
    assert.ok(Math.abs(afterPrice / before - 2) < 1e-9, `doubling the L4 rate doubles the estimate (${before} -> ${afterPrice})`);

    const r = await svc.api['cloud.setRoute']({ kind: 'boltz2', policy: 'modal' });
    assert.equal(r.routing.boltz2, 'modal', 'the switch is stored');
    assert.equal((await svc.api['cloud.plan']({ request })).plan.backend, 'modal', 'and Boltz-2 now plans onto Modal');
    await svc.api['cloud.setRoute']({ kind: 'boltz2', policy: 'auto' });

    const costs = await svc.api['cloud.costs']({});
    assert.ok(costs.month.spentUsd > 0, 'the jobs above cost something this month');
    assert.ok(costs.month.projectedUsd >= costs.month.spentUsd, 'the projection is at least the spend');
    assert.ok(Array.isArray(costs.alerts), 'alerts are listed');

    const b = await svc.api['cloud.setBudget']({ monthlyUsd: 0.000001, action: 'block' });
    assert.deepEqual(b.budget, { monthlyUsd: 0.000001, action: 'block' }, 'budget stored');
    const planned = (await svc.api['cloud.plan']({ request })).plan;
    assert.equal(planned.budget?.ok, false, 'the plan says it is over the budget');
    await rejects(svc.api['cloud.submit']({ request }), 'BUDGET_EXCEEDED', 'a blocking budget refuses before recording');
    const alerts = (await svc.api['cloud.costs']({})).alerts;
    assert.ok(alerts.some((a) => a.rule === 'budget' && a.severity === 'critical'), `a budget alert: ${JSON.stringify(alerts)}`);
    assert.equal((await svc.api['cloud.setBudget']({ monthlyUsd: null })).budget, null, 'budget removed');
  });

  it('cloud.validate lists every field error; checks generate output against its schema; bad requests fail before any job', async () => {
    const v = await svc.api['cloud.validate']({ request: { kind: 'boltz2', name: 'x', proteins: [{ id: 'A', sequence: 'MKB' }], ligands: [{ id: 'L', smiles: 'C', ccd: 'ATP' }] } });
    assert.equal(v.ok, false, 'not ok');
    assert.deepEqual(v.errors.map((e) => e.field), ['proteins[0].sequence', 'ligands[0]'], 'each bad field');
    assert.match(v.errors[0]!.message, /invalid residue 'B' at position 3/, 'residue and position');
    const g = await svc.api['cloud.validate']({ request: { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: { type: 'object', properties: { a: { type: 'nope' } } } } });
    assert.deepEqual(g.errors.map((e) => e.field), ['schema'], 'a schema that does not compile');
    const out = await svc.api['cloud.validate']({ request: { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA }, output: { title: 'x', n: -1 } });
    assert.equal(out.ok, true, 'the request is fine');
    assert.equal(out.output?.ok, false, 'the output breaks the schema');
    assert.match(out.output?.errors ?? '', /\/n/, 'naming the field');
    const count = (await svc.api['jobs.list']({})).jobs.length;
    await rejects(svc.api['cloud.submit']({ request: { kind: 'boltz2', name: 'x', proteins: [{ id: 'A', sequence: 'MKB' }], ligands: [] } }), 'INVALID_INPUT', 'an invalid residue', /position 3/);
    assert.equal((await svc.api['jobs.list']({})).jobs.length, count, 'nothing recorded');
  });

  it('cloud.submit generate: output valid under the schema, answered by a named model and backend; no token anywhere in the data dir', async () => {
    const sub = await svc.api['cloud.submit']({ request: { kind: 'generate', model: 'qwen-32b', prompt: 'Name a protein', schema: SCHEMA } });
    assert.equal(sub.plan.backend, 'modal', 'generate plans onto Modal');
    const job = await finished(svc, sub.jobId);
    assert.equal(job.status, 'succeeded', `generate succeeded: ${JSON.stringify(job.error)}`);
    const r = job.result as { output: unknown; answeredBy: { backend: string; model: string } };
    assert.deepEqual([r.answeredBy.backend, r.answeredBy.model], ['modal', 'qwen-32b'], 'who answered');
    const check = await svc.api['cloud.validate']({ request: { kind: 'generate', model: 'qwen-32b', prompt: 'p', schema: SCHEMA }, output: r.output });
    assert.equal(check.output?.ok, true, 'the output is valid under the schema');
    assert.deepEqual(filesContaining(home, TEST_TOKEN), [], 'the token is in no file of the data dir');
  });

  it('without a Cloud Run URL, health says which setting is missing and warmup fails at once', async () => {
    const home2 = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-cloud2-'));
    const svc2 = createApiService({ env: { TANDEM_HOME: home2, TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_MODAL_TOKEN: TEST_TOKEN }, host: 'test', cloud: { tuning: FAST_TUNING } });
    try {
      const h = await svc2.api['cloud.health']({});
      const run = h.backends.find((b) => b.backend === 'cloud-run')!;
      assert.equal(run.ok, false, 'cloud-run not ok');
      assert.equal(run.error?.code, 'NOT_CONFIGURED', 'not configured');
      assert.match(run.error?.message ?? '', /TANDEM_CLOUDRUN_URL/, 'naming the setting');
      assert.equal(h.backends.find((b) => b.backend === 'modal')?.ok, true, 'modal still answers');
      await rejects(svc2.api['cloud.warmup']({ backend: 'cloud-run' }), 'NOT_CONFIGURED', 'warm-up without a URL', /TANDEM_CLOUDRUN_URL/);
      assert.equal((await svc2.api['jobs.list']({})).jobs.length, 0, 'no job recorded');
    } finally {
      await svc2.close();
      fs.rmSync(home2, { recursive: true, force: true });
    }
  });
});
