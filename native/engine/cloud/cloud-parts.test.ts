import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { JobStore } from '../jobs/job-store.js';
import { openDatabase, storePath, type Db } from '../store/database.js';
import { CircuitBreakers } from './circuit-breaker.js';
import { endpointFor, envTokenSource, readSettings, resolveCloudConfig, writeSettings } from './cloud-config.js';
import { checkBudget, computeAlerts, monthSpend } from './costs.js';
import { FunctionLimiter } from './function-limiter.js';
import { ResultFiles, safeName } from './result-files.js';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cloud-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe('cloud config', () => {
  it('defaults to the development profile with nothing configured, and names the missing setting', () => {
    const env = { TANDEM_HOME: home };
    const cfg = resolveCloudConfig(env);
    assert.equal(cfg.profile, 'development', 'default profile');
    assert.equal(cfg.modal.urlTemplate, null, 'no modal url');
    assert.throws(
      () => endpointFor(cfg, 'modal', envTokenSource(env)),
      (e: unknown) => isTandemError(e, 'NOT_CONFIGURED') && /TANDEM_MODAL_URL_TEMPLATE/.test(e.message) && /development/.test(e.message),
      'a missing Modal URL names TANDEM_MODAL_URL_TEMPLATE and the profile',
    );
    assert.throws(() => endpointFor(cfg, 'cloud-run', envTokenSource(env)), (e: unknown) => isTandemError(e, 'NOT_CONFIGURED') && /TANDEM_CLOUDRUN_URL/.test(e.message), 'a missing Cloud Run URL names TANDEM_CLOUDRUN_URL');
  });

  it('layers the settings file, env vars and flags, and reads tokens only from the referenced env var', () => {
    writeSettings(home, {
      profile: 'staging',
      profiles: {
        staging: { modal: { urlTemplate: 'https://stage--app-{function}.modal.run', tokenEnv: 'STAGE_MODAL_TOKEN' }, cloudRun: { url: 'https://boltz-stage.a.run.app' } },
        production: { modal: { urlTemplate: 'https://prod--app-{function}.modal.run' } },
      },
      routing: { boltz2: 'modal' },
    });
    const env = { TANDEM_HOME: home, STAGE_MODAL_TOKEN: 'secret-stage', TANDEM_MODAL_TOKEN: 'not-this-one' };
    const cfg = resolveCloudConfig(env);
    assert.equal(cfg.profile, 'staging', 'profile from the file');
    assert.equal(cfg.modal.urlTemplate, 'https://stage--app-{function}.modal.run', 'staging modal url');
    assert.equal(cfg.routing.boltz2, 'modal', 'routing from the file');
    assert.equal(endpointFor(cfg, 'modal', envTokenSource(env)).token, 'secret-stage', 'token from the referenced env var');
    assert.equal(endpointFor(cfg, 'cloud-run', envTokenSource(env)).token, undefined, 'no cloud-run token set');
    assert.ok(!JSON.stringify(cfg).includes('secret-stage'), 'the resolved config never holds a token');

    const env2 = { ...env, TANDEM_PROFILE: 'production', TANDEM_CLOUDRUN_URL: 'http://127.0.0.1:9/run' };
    const cfg2 = resolveCloudConfig(env2);
    assert.equal(cfg2.profile, 'production', 'env profile over the file');
    assert.equal(cfg2.cloudRun.url, 'http://127.0.0.1:9/run', 'env url');
    assert.equal(cfg2.sources.cloudRunUrl, 'TANDEM_CLOUDRUN_URL', 'source recorded');
    const cfg3 = resolveCloudConfig(env2, { profile: 'development', cloudRunUrl: 'http://127.0.0.1:10/x' });
    assert.equal(cfg3.profile, 'development', 'flag over env');
    assert.equal(cfg3.cloudRun.url, 'http://127.0.0.1:10/x', 'flag url over env');
  });

  it('rejects a bad profile name, a bad URL and a malformed settings file with specific messages', () => {
    assert.throws(() => resolveCloudConfig({ TANDEM_HOME: home, TANDEM_PROFILE: 'prod' }), /TANDEM_PROFILE must be one of development, staging, production/, 'bad profile');
    assert.throws(() => resolveCloudConfig({ TANDEM_HOME: home, TANDEM_CLOUDRUN_URL: 'ftp://x' }), /TANDEM_CLOUDRUN_URL is not an http\(s\) URL/, 'bad url');
    fs.writeFileSync(path.join(home, 'cloud.json'), '{"profiles": {"staging": {"modal": {"url": "x"}}}}');
    assert.throws(() => readSettings(home), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /cloud\.json: profiles\.staging\.modal/.test(e.message), 'names the file and field');
    fs.writeFileSync(path.join(home, 'cloud.json'), '{not json');
    assert.throws(() => readSettings(home), /is not valid JSON/, 'malformed JSON');
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, half-opens after the cooldown with one trial, closes on success', () => {
    let now = 1000;
    const b = new CircuitBreakers({ failureThreshold: 3, cooldownMs: 100, now: () => now });
    for (let i = 0; i < 2; i++) b.recordFailure('modal', 'BACKEND_ERROR: 503');
    assert.equal(b.status('modal').state, 'closed', 'below the threshold');
    b.recordFailure('modal', 'BACKEND_ERROR: 503');
    assert.equal(b.status('modal').state, 'open', 'open at the threshold');
    assert.equal(b.allow('modal'), false, 'open: no calls');
    assert.equal(b.status('cloud-run').state, 'closed', 'per backend');
    now += 150;
    assert.equal(b.status('modal').state, 'half-open', 'after the cooldown');
    assert.equal(b.allow('modal'), true, 'one trial');
    assert.equal(b.allow('modal'), false, 'only one trial at a time');
    b.recordFailure('modal', 'again');
    assert.equal(b.status('modal').state, 'open', 'a failed trial re-opens');
    now += 150;
    assert.equal(b.allow('modal'), true, 'trial');
    b.recordSuccess('modal');
    assert.equal(b.status('modal').state, 'closed', 'success closes');
  });

  it('seeds from history: an old failure streak has cooled down, a recent one is open', () => {
    const now = 1_000_000;
    const b = new CircuitBreakers({ failureThreshold: 2, cooldownMs: 1000, now: () => now });
    b.seed('modal', [{ ok: false, at: now - 5000 }, { ok: false, at: now - 4000 }]);
    assert.equal(b.status('modal').state, 'half-open', 'old streak: half-open');
    b.seed('cloud-run', [{ ok: false, at: now - 20 }, { ok: false, at: now - 10 }]);
    assert.equal(b.status('cloud-run').state, 'open', 'recent streak: open');
  });
});

describe('function limiter', () => {
  it('never lets more than the cap run per key, FIFO, and an aborted waiter leaves the line', async () => {
    const lim = new FunctionLimiter((k) => (k === 'modal:generate' ? 2 : 1));
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = async (i: number) => {
      const release = await lim.acquire('modal:generate');
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      release();
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => task(i)));
    assert.equal(peak, 2, 'at most 2 at once');
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7], 'FIFO');

    const hold = await lim.acquire('cloud-run:predict');
    const ac = new AbortController();
    const waiting = lim.acquire('cloud-run:predict', ac.signal);
    ac.abort(new Error('gone'));
    await assert.rejects(waiting, /gone/, 'aborted waiter rejects');
    hold();
    const again = await lim.acquire('cloud-run:predict');
    again();
    assert.equal(lim.snapshot()['cloud-run:predict']!.inFlight, 0, 'all released');
  });
});

describe('costs and alerts', () => {
  let db: Db;
  let store: JobStore;
  let clock = 0;
  beforeEach(() => {
    db = openDatabase(storePath(home));
    store = new JobStore(db, { now: () => clock });
  });
  afterEach(() => db.close());

  /** A finished remote job with a given cost and run time, finished `agoMs` before now. */
  function finished(kind: string, backend: 'modal' | 'cloud-run', ok: boolean, usd: number, runMs: number, finishedAt: number): void {
    clock = finishedAt - runMs - 10;
    const j = store.createJob({ kind, backend, params: {}, input: null });
    clock = finishedAt - runMs;
    store.start(j.id);
    clock = finishedAt;
    if (ok) store.succeed(j.id, { costUsd: usd });
    else store.fail(j.id, new Error('x'), { costUsd: usd });
  }

  it('month spend, projection and the budget check', () => {
    const now = Date.UTC(2026, 10, 11, 0, 0, 0); // 10 days into November
    finished('generate', 'modal', true, 3, 1000, now - 3600_000);
    finished('boltz2', 'cloud-run', true, 2, 1000, now - 7200_000);
    finished('boltz2', 'cloud-run', true, 50, 1000, Date.UTC(2026, 9, 20)); // October: not this month
    const m = monthSpend(db, now);
    assert.equal(m.month, '2026-11', 'month');
    assert.equal(m.spentUsd, 5, 'spent this month only');
    assert.ok(Math.abs(m.projectedUsd - 15) < 1e-9, `projection 5 $ in 10 of 30 days = 15 $, got ${m.projectedUsd}`);
    assert.equal(checkBudget(db, null, 1, now), null, 'no budget, no check');
    const ok = checkBudget(db, { monthlyUsd: 10, action: 'block' }, 4, now)!;
    assert.equal(ok.ok, true, '5 + 4 <= 10');
    const over = checkBudget(db, { monthlyUsd: 10, action: 'block' }, 6, now)!;
    assert.equal(over.ok, false, '5 + 6 > 10');
    assert.match(over.message, /\$5\.00 spent \+ \$6\.00 estimated = \$11\.00 > \$10\.00/, 'explains the numbers');
  });

  it('raises the seed alerts: cost anomaly > 20 %, error rate > 1 %, slowdown > 10 %, and none on a steady history', () => {
    const now = Date.UTC(2026, 10, 20);
    const day = 86_400_000;
    for (let i = 0; i < 10; i++) finished('boltz2', 'cloud-run', true, 0.02, 100_000, now - 3 * day - i * 1000);
    for (let i = 0; i < 10; i++) finished('boltz2', 'cloud-run', true, 0.02, 101_000, now - 3600_000 - i * 1000);
    assert.deepEqual(computeAlerts(db, { now }), [], 'steady: no alerts');

    for (let i = 0; i < 10; i++) finished('generate', 'modal', true, 0.1, 10_000, now - 3 * day - i * 1000);
    for (let i = 0; i < 10; i++) finished('generate', 'modal', true, 0.13, 12_000, now - 3600_000 - i * 1000);
    finished('generate', 'modal', false, 0, 1000, now - 1000);
    const alerts = computeAlerts(db, { now });
    const rules = alerts.filter((a) => a.scope === 'generate on modal').map((a) => a.rule).sort();
    assert.deepEqual(rules, ['cost-anomaly', 'error-rate', 'slowdown'], `all three rules fire: ${JSON.stringify(alerts)}`);
    const cost = alerts.find((a) => a.rule === 'cost-anomaly')!;
    assert.ok(Math.abs(cost.value - 0.3) < 1e-9, `cost up 30 %, got ${cost.value}`);
    assert.ok(alerts.every((a) => a.scope !== 'boltz2 on cloud-run'), 'the steady kind stays quiet');
  });
});

describe('result files', () => {
  it('writes atomically under results/<job>/ and sanitises names', () => {
    const f = new ResultFiles(home, '01JOB');
    const p = f.write('../../etc/passwd', 'x');
    assert.equal(path.dirname(p), path.join(home, 'results', '01JOB'), 'stays in the job folder');
    assert.equal(safeName('a/b\\c d'), 'a_b_c_d', 'separators replaced');
    assert.equal(safeName('.hidden'), '_hidden', 'no dot files');
    assert.deepEqual(fs.readdirSync(f.dir).filter((n) => n.endsWith('.tmp')), [], 'no temp files left');
    assert.throws(() => new ResultFiles(home, '../x'), /bad job id/, 'job id checked');
  });
});
