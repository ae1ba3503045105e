import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../../cloud-emulator/index.js';
import { isTandemError } from '../common/errors.js';
import { FAST_TUNING, TEST_TOKEN } from '../../testing/cloud-rig.js';
import { createApiService, type ApiService } from './api-service.js';

const PROTEIN = 'MNIFEMLRIDEGLRLKIYKDTEGYYTIGIGHLLTKSPSLNAAKSELDKAIGRNTNGVITKDEAEKLFNQDVDAAVRGILRNAKLKPVYDSLDAVRRAAINMVFQMGETGVAGFTNSLRMLQQKRWDEAAVNLAKSRWYNQTPNRAKRVITTFRTGTWDAYKNL';
const REQUEST = { kind: 'boltz2' as const, name: 'b', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L', ccd: 'ATP' }] };

/**
 * Cloud settings in the UI (issue 18 point 5): routing, prices, budget and alert thresholds are
 * edited in the active profile of cloud.json (atomically, other fields kept) and the next
 * plan / submit / costs use them without a restart.
 */
describe('cloud.setRoute / setPrice / setBudget / setAlerts: the active profile, used at once', () => {
  let emu: RunningEmulator;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let svc: ApiService;
  const file = () => path.join(home, 'cloud.json');
  const saved = () => JSON.parse(fs.readFileSync(file(), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const refused = (p: Promise<unknown> | unknown, code: string, re: RegExp) =>
    assert.rejects(
      () => Promise.resolve(p),
      (e: unknown) => isTandemError(e, code as never) && re.test((e as Error).message),
    );

  before(async () => {
    emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cloud-profile-'));
    // Other settings the edits must keep: a cap, a shared price and the staging profile's URL.
    fs.writeFileSync(file(), JSON.stringify({ concurrency: { 'modal:generate': 3 }, prices: { modal: { H100: 4.5 } }, profiles: { staging: { cloudRun: { url: 'https://staging.example.org' } } } }));
    env = { TANDEM_HOME: home, TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9', TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_CLOUDRUN_URL: emu.cloudRunUrl, TANDEM_MODAL_TOKEN: TEST_TOKEN, TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN };
    svc = createApiService({ env, host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING, pollIntervalMs: 10 } });
  });

  after(async () => {
    await svc.close();
    await emu.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('a price changes the next estimate; written to the active profile, other fields kept; null goes back to the built-in price', async () => {
    const plan0 = (await svc.api['cloud.plan']({ request: REQUEST })).plan;
    assert.equal(plan0.estimate!.ratePerGpuHour, 0.65, 'the built-in L4 price on Cloud Run');
    const r = await svc.api['cloud.setPrice']({ backend: 'cloud-run', gpu: 'L4', rate: 1.95 });
    assert.deepEqual([r.profile, r.prices['cloud-run']!.L4, r.prices.modal!.H100], ['development', 1.95, 4.5], 'the effective table: the profile over the shared prices');
    const plan1 = (await svc.api['cloud.plan']({ request: REQUEST })).plan;
    assert.equal(plan1.estimate!.ratePerGpuHour, 1.95, 'the next plan uses the new price, no restart');
    assert.ok(Math.abs(plan1.estimate!.usd / plan0.estimate!.usd - 3) < 1e-9, `three times the rate, three times the estimate (${plan0.estimate!.usd} -> ${plan1.estimate!.usd})`);
    assert.ok(Math.abs(plan1.estimates!.cold.usd / plan0.estimates!.cold.usd - 3) < 1e-9, 'the cold figure too');

    const s = saved();
    assert.deepEqual(s.profiles.development, { prices: { 'cloud-run': { L4: 1.95 } } }, 'in profiles.development');
    assert.deepEqual([s.concurrency, s.prices, s.profiles.staging], [{ 'modal:generate': 3 }, { modal: { H100: 4.5 } }, { cloudRun: { url: 'https://staging.example.org' } }], 'the other fields are kept');
    assert.deepEqual(fs.readdirSync(home).filter((f) => f.includes('.tmp')), [], 'no temporary file left (tmp + rename)');

    const back = await svc.api['cloud.setPrice']({ backend: 'cloud-run', gpu: 'L4', rate: null });
    assert.equal(back.prices['cloud-run']!.L4, 0.65, 'null: the built-in price again');
    assert.equal(saved().profiles?.development, undefined, 'and the emptied profile is dropped');
    assert.equal((await svc.api['cloud.plan']({ request: REQUEST })).plan.estimate!.usd, plan0.estimate!.usd, 'the estimate is back');
  });

  it('validation errors name the field, and nothing is written', async () => {
    const before = fs.readFileSync(file(), 'utf8');
    await refused(svc.api['cloud.setPrice']({ backend: 'cloud-run', gpu: 'L4', rate: -1 }), 'INVALID_ARGUMENT', /cloud\.setPrice: invalid input: rate:/);
    await refused(svc.api['cloud.setPrice']({ backend: 'cloud-run', gpu: 'L4', rate: 5000 }), 'INVALID_ARGUMENT', /rate:/);
    await refused(svc.api['cloud.setPrice']({ backend: 'cloud-run', gpu: '../x', rate: 1 }), 'INVALID_ARGUMENT', /gpu: a GPU type/);
    await refused(svc.call('cloud.setPrice', { backend: 'aws', gpu: 'L4', rate: 1 }), 'INVALID_ARGUMENT', /backend:/);
    await refused(svc.call('cloud.setRoute', { kind: 'boltz2', policy: 'aws' }), 'INVALID_ARGUMENT', /cloud\.setRoute: invalid input: policy:/);
    await refused(svc.call('cloud.setRoute', { kind: 'boltz3', policy: 'modal' }), 'INVALID_ARGUMENT', /kind:/);
    await refused(svc.call('cloud.setBudget', { monthlyUsd: -5 }), 'INVALID_ARGUMENT', /cloud\.setBudget: invalid input: monthlyUsd:/);
    await refused(svc.call('cloud.setBudget', { monthlyUsd: 5, action: 'shout' }), 'INVALID_ARGUMENT', /action:/);
    await refused(svc.call('cloud.setAlerts', { errorRate: 2 }), 'INVALID_ARGUMENT', /cloud\.setAlerts: invalid input: errorRate:/);
    await refused(svc.call('cloud.setAlerts', { slowdown: 0 }), 'INVALID_ARGUMENT', /slowdown:/);
    assert.equal(fs.readFileSync(file(), 'utf8'), before, 'cloud.json unchanged');
  });

  it('routing moves the next plan; another profile keeps its own', async () => {
    assert.equal((await svc.api['cloud.plan']({ request: REQUEST })).plan.backend, 'cloud-run', 'Boltz-2 on Cloud Run by default');
    const r = await svc.api['cloud.setRoute']({ kind: 'boltz2', policy: 'modal' });
    assert.deepEqual([r.profile, r.routing.boltz2], ['development', 'modal']);
    const plan = (await svc.api['cloud.plan']({ request: REQUEST })).plan;
    assert.deepEqual([plan.backend, plan.policy], ['modal', 'modal'], 'the next plan goes to Modal');
    assert.deepEqual(saved().profiles.development.routing, { boltz2: 'modal' });
    const cfg = await svc.api['cloud.config']({});
    assert.match(cfg.sources.routing ?? '', /profiles\.development\.routing/, 'the config says where routing came from');

    const staging = createApiService({ env: { ...env, TANDEM_PROFILE: 'staging' }, host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING } });
    try {
      assert.equal((await staging.api['cloud.config']({})).routing.boltz2, 'auto', 'staging keeps its own routing');
    } finally {
      await staging.close();
    }
    await svc.api['cloud.setRoute']({ kind: 'boltz2', policy: 'auto' });
    assert.equal((await svc.api['cloud.plan']({ request: REQUEST })).plan.backend, 'cloud-run', 'and back');
  });

  it('a budget below the estimate: the plan says so, a blocking one refuses submit before anything is recorded or sent; removing it over a shared budget leaves none', async () => {
    const est = (await svc.api['cloud.plan']({ request: REQUEST })).plan.estimate!.usd;
    const warn = await svc.api['cloud.setBudget']({ monthlyUsd: est / 2, action: 'warn' });
    assert.deepEqual([warn.profile, warn.budget], ['development', { monthlyUsd: est / 2, action: 'warn' }]);
    const planned = (await svc.api['cloud.plan']({ request: REQUEST })).plan;
    assert.equal(planned.budget?.ok, false, 'the next plan is over the budget');
    assert.match(planned.budget?.message ?? '', /over the monthly budget/);

    await svc.api['cloud.setBudget']({ monthlyUsd: est / 2, action: 'block' });
    const jobs = (await svc.api['jobs.list']({})).jobs.length;
    const sent = emu.stats().requests;
    await refused(svc.api['cloud.submit']({ request: REQUEST }), 'BUDGET_EXCEEDED', /budget/);
    assert.equal((await svc.api['jobs.list']({})).jobs.length, jobs, 'nothing recorded');
    assert.equal(emu.stats().requests, sent, 'nothing sent');

    await svc.api['cloud.setBudget']({ monthlyUsd: est * 100, action: 'block' });
    assert.equal((await svc.api['cloud.plan']({ request: REQUEST })).plan.budget?.ok, true, 'a raised budget lets it through');

    // A budget shared by every profile (top level), removed for this profile only.
    const s = saved();
    fs.writeFileSync(file(), JSON.stringify({ ...s, budget: { monthlyUsd: 1, action: 'block' } }));
    const removed = await svc.api['cloud.setBudget']({ monthlyUsd: null });
    assert.equal(removed.budget, null, 'no budget for this profile');
    assert.deepEqual([saved().budget, saved().profiles.development.budget], [{ monthlyUsd: 1, action: 'block' }, null], 'the shared one is kept, this profile says none');
    assert.equal((await svc.api['cloud.plan']({ request: REQUEST })).plan.budget, null, 'the plan checks no budget');
  });

  it('alert thresholds: set, shown by cloud.config, null resets one to the built-in value', async () => {
    assert.deepEqual((await svc.api['cloud.config']({})).alertThresholds, { costAnomaly: 0.2, errorRate: 0.01, slowdown: 0.1 }, 'the seed rules');
    const r = await svc.api['cloud.setAlerts']({ costAnomaly: 0.5, errorRate: 0.05 });
    assert.deepEqual(r.alertThresholds, { costAnomaly: 0.5, errorRate: 0.05, slowdown: 0.1 });
    assert.deepEqual(saved().profiles.development.alerts, { costAnomaly: 0.5, errorRate: 0.05 });
    const back = await svc.api['cloud.setAlerts']({ costAnomaly: null });
    assert.deepEqual(back.alertThresholds, { costAnomaly: 0.2, errorRate: 0.05, slowdown: 0.1 });
    assert.deepEqual((await svc.api['cloud.config']({})).alertThresholds, back.alertThresholds, 'the config agrees');
  });
});
