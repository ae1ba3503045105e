import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../../cloud-emulator/index.js';
import { runTandem } from '../../testing/cli-run.js';
import { filesContaining, PROTEIN, TEST_TOKEN } from '../../testing/cloud-rig.js';
import { sharedOrSkip } from '../../testing/shared.js';

const sh = sharedOrSkip();

/** The documented CLI against the emulator on 127.0.0.1 (a real server, in this process). */
describe('tandem cloud / submit against the emulator', () => {
  let emu: RunningEmulator;
  let home: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cloudcli-'));
    emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN, coldStartMs: { 'qwen-32b': 300 }, idleMs: 600_000 });
    env = { ...process.env, TANDEM_HOME: home, TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_CLOUDRUN_URL: emu.cloudRunUrl, TANDEM_MODAL_TOKEN: TEST_TOKEN, TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN, TANDEM_CLOUD_POLL_MS: '20' };
  });
  after(async () => {
    await emu.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('config shows where each setting came from and whether a token is set, never the token', async () => {
    const r = await runTandem(['cloud', 'config', '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout) as { profile: string; modal: { urlTemplate: string; hasToken: boolean }; sources: Record<string, string> };
    assert.equal(cfg.profile, 'development', 'default profile');
    assert.equal(cfg.modal.urlTemplate, emu.modalTemplate, 'url from env');
    assert.equal(cfg.modal.hasToken, true, 'token present');
    assert.equal(cfg.sources.modalUrl, 'TANDEM_MODAL_URL_TEMPLATE', 'source named');
    assert.ok(!r.stdout.includes(TEST_TOKEN), 'no token printed');
  });

  it('a profile without a URL fails with a clear message naming the setting, before any request', async () => {
    const before = emu.stats().requests;
    const r = await runTandem(['submit', 'generate', '--prompt', 'hi', '--schema', writeSchema(), '--profile', 'staging', '--wait'], { ...env, TANDEM_MODAL_URL_TEMPLATE: '' });
    assert.equal(r.status, 1, `exit 1: ${r.stderr}`);
    assert.match(r.stderr, /no Modal URL for profile "staging": set TANDEM_MODAL_URL_TEMPLATE/, 'names the setting and profile');
    assert.equal(emu.stats().requests, before, 'nothing sent');
  });

  it('health, warmup (measured cold start, recorded as a job), then a warm generate', async () => {
    const h = await runTandem(['cloud', 'health', '--json'], env);
    assert.equal(h.status, 0, h.stderr);
    const rows = JSON.parse(h.stdout) as { backend: string; ok: boolean }[];
    assert.deepEqual(rows.map((x) => [x.backend, x.ok]), [['modal', true], ['cloud-run', true]], 'both healthy');

    const w = await runTandem(['cloud', 'warmup', '--backend', 'modal', '--json'], env);
    assert.equal(w.status, 0, w.stderr);
    const wj = JSON.parse(w.stdout) as { kind: string; status: string; timings: { loadMs: number }; costUsd: number; result: { coldStart: boolean; modelLoadMs: number } };
    assert.equal(wj.kind, 'warmup', 'a warmup job');
    assert.equal(wj.result.coldStart, true, 'it paid the cold start');
    assert.ok(wj.timings.loadMs >= 300, `the measured cold start is recorded: ${wj.timings.loadMs}`);
    assert.ok(wj.costUsd > 0, 'the cold start has a cost');

    const g = await runTandem(['submit', 'generate', '--prompt', 'Name a protein', '--schema', writeSchema(), '--wait', '--json'], env);
    assert.equal(g.status, 0, g.stderr);
    const gj = JSON.parse(g.stdout) as { status: string; timings: { loadMs: number }; result: { output: { name: string } } };
    assert.equal(gj.status, 'succeeded', 'generated');
    assert.equal(gj.timings.loadMs, 0, 'warm after the warmup');
    assert.equal(typeof gj.result.output.name, 'string', 'output follows the schema');
  });

  it('submit boltz2 --wait prints the id, the timing breakdown, scores and files; without --wait it runs in the background', async () => {
    const r = await runTandem(['submit', 'boltz2', '--protein', PROTEIN.slice(0, 50), '--ligand', 'CCO', '--affinity', '--wait'], env);
    assert.equal(r.status, 0, r.stderr);
    const [id, ...rest] = r.stdout.trim().split('\n');
    assert.match(id!, /^[0-9A-Z]{26}$/, 'first line is the job id');
    const text = rest.join('\n');
    assert.match(text, /boltz2 succeeded on cloud-run \(cloud-run 1x L4\)/, 'status and device');
    assert.match(text, /queue .*cold start\/load .*inference .*transfer .*cost \$/, 'timing breakdown and cost');
    assert.match(text, /confidence confidence_score=0\.\d{3}/, 'scores');
    assert.match(text, /structure: .*\.cif/, 'structure file');

    const bg = await runTandem(['submit', 'boltz2', '--protein', PROTEIN.slice(0, 40), '--ccd', 'ATP'], env);
    assert.equal(bg.status, 0, bg.stderr);
    const bgId = bg.stdout.trim();
    assert.match(bg.stderr, /running in the background/, 'says where it runs');
    let status = '';
    for (let i = 0; i < 200 && status !== 'succeeded'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      const s = await runTandem(['jobs', 'show', bgId, '--json'], env);
      status = (JSON.parse(s.stdout) as { job: { status: string } }).job.status;
      if (status === 'failed') break;
    }
    assert.equal(status, 'succeeded', 'the background job finished');
  });

  it('bad input is refused with a specific message before any request', async () => {
    const before = emu.stats().requests;
    const r = await runTandem(['submit', 'boltz2', '--protein', 'MKTAYZ', '--ligand', 'CCO'], env);
    assert.equal(r.status, 1, `exit 1: ${r.stderr}`);
    assert.match(r.stderr, /proteins\[0\]\.sequence: invalid residue 'Z' at position 6/, 'names the residue');
    const s = await runTandem(['submit', 'generate', '--prompt', 'x', '--schema', path.join(home, 'missing.json')], env);
    assert.match(s.stderr, /cannot read schema file/, 'missing schema file');
    assert.equal(emu.stats().requests, before, 'nothing sent');
  });

  it('costs: spend, projection and budget; route switches a kind; no token anywhere in the data dir', async () => {
    const b = await runTandem(['cloud', 'budget', '--monthly', '100', '--action', 'block'], env);
    assert.equal(b.status, 0, b.stderr);
    const c = await runTandem(['cloud', 'costs', '--json'], env);
    assert.equal(c.status, 0, c.stderr);
    const cj = JSON.parse(c.stdout) as { month: { spentUsd: number; projectedUsd: number }; budget: { monthlyUsd: number }; alerts: unknown[] };
    assert.ok(cj.month.spentUsd > 0, 'spend from the jobs above');
    assert.ok(cj.month.projectedUsd >= cj.month.spentUsd, 'projection');
    assert.equal(cj.budget.monthlyUsd, 100, 'budget');
    const rt = await runTandem(['cloud', 'route', 'boltz2', 'modal', '--json'], env);
    assert.equal(rt.status, 0, rt.stderr);
    assert.equal((JSON.parse(rt.stdout) as Record<string, string>).boltz2, 'modal', 'switched');
    const bad = await runTandem(['cloud', 'route', 'boltz3', 'modal'], env);
    assert.match(bad.stderr, /unknown job kind "boltz3"/, 'bad kind named');
    assert.deepEqual(filesContaining(home, TEST_TOKEN), [], 'no token in the database, results or logs');
  });

  it('generate falls back to the local model when Modal is unreachable, saying why; --backend local forces it', { skip: sh.skip }, async () => {
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-genfallback-'));
    try {
      fs.writeFileSync(path.join(local, 'cloud.json'), JSON.stringify({ localGenerateModel: 'fixtures/tiny-decoder-random' }));
      // a bounded schema: a random-weight model must still finish the value within max tokens
      const schema = path.join(local, 'bounded.json');
      fs.writeFileSync(schema, JSON.stringify({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 8 } } }));
      const e2 = { ...env, TANDEM_HOME: local, TANDEM_MODELS_DIR: path.join(sh.shared, 'models'), TANDEM_MODAL_URL_TEMPLATE: 'http://127.0.0.1:9/{function}' };
      const r = await runTandem(['submit', 'generate', '--prompt', 'Name a protein', '--schema', schema, '--max-tokens', '60', '--wait', '--json'], e2);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { backend: string; status: string; device: string; params: { route: { reason: string } }; result: { output: { name: string }; answeredBy: { backend: string; model: string; reason: string } } };
      assert.equal(j.status, 'succeeded', 'answered');
      assert.equal(j.backend, 'local', 'by this machine');
      assert.match(j.params.route.reason, /^modal unreachable: ECONNREFUSED.*fell back to local fixtures\/tiny-decoder-random/, 'the record says why');
      assert.equal(j.result.answeredBy.model, 'fixtures/tiny-decoder-random', 'which model answered');
      assert.equal(typeof j.result.output.name, 'string', 'the output passes the same schema');
      const forced = await runTandem(['submit', 'generate', '--prompt', 'x', '--schema', schema, '--max-tokens', '60', '--backend', 'local', '--wait', '--json'], { ...e2, TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate });
      assert.equal(forced.status, 0, forced.stderr);
      const fj = JSON.parse(forced.stdout) as { backend: string; params: { route: { reason: string } } };
      assert.equal(fj.backend, 'local', '--backend local forces it');
      assert.equal(fj.params.route.reason, 'policy local', 'and says so');
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });

  function writeSchema(): string {
    const p = path.join(home, 'schema.json');
    fs.writeFileSync(p, JSON.stringify({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }));
    return p;
  }
});
