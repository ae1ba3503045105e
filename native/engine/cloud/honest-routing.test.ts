/**
 * Issue 18 point 2: a kind is routed to the local model only when that model is on disk. With Modal
 * unconfigured and no local generator, the plan, the submit and the CLI name both facts and record
 * nothing; with the local fallback installed (`tandem models import` of the tiny decoder fixture),
 * the result, the plan and the CLI summary say which model answered instead of the one asked for.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createApiService } from '../api/api-service.js';
import { runTandem } from '../../testing/cli-run.js';
import { rejects } from '../../testing/rejects.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { JobStore } from '../jobs/job-store.js';
import { openDatabase, storePath } from '../store/database.js';

const sh = sharedOrSkip();
const BOUNDED = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 8 } } };
const BOTH = /^Modal is not configured \(set TANDEM_MODAL_URL_TEMPLATE or open Cloud settings\) and the local fallback onnx-community\/Qwen2\.5-0\.5B-Instruct is not installed \(tandem models pull onnx-community\/Qwen2\.5-0\.5B-Instruct\); no Modal URL for profile "development"/;

function tempHome(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-routing-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** No Modal URL, no model directory but the (empty) cache in TANDEM_HOME: nothing to generate with. */
function bareEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '', TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' };
  delete env.TANDEM_MODAL_URL_TEMPLATE;
  delete env.TANDEM_CLOUDRUN_URL;
  delete env.TANDEM_PROFILE;
  return env;
}

describe('honest routing: the local model only when it is installed', () => {
  it('Modal unconfigured and no local generator: cloud.plan and cloud.submit fail naming both facts; nothing is recorded', async (t) => {
    const home = tempHome(t);
    const svc = createApiService({ env: bareEnv(home), host: 'test', progressIntervalMs: 0 });
    t.after(() => svc.close());
    const request = { kind: 'generate' as const, model: 'qwen-32b' as const, prompt: 'Name a protein', schema: BOUNDED };
    await rejects(svc.api['cloud.plan']({ request, policy: 'auto' }), 'NOT_CONFIGURED', 'the plan', BOTH);
    await rejects(svc.api['cloud.submit']({ request, policy: 'auto' }), 'NOT_CONFIGURED', 'the submit', BOTH);
    await rejects(svc.api['cloud.plan']({ request, policy: 'local' }), 'MODEL_NOT_FOUND', 'policy local', /generation on this machine needs onnx-community\/Qwen2\.5-0\.5B-Instruct, which is not installed \(tandem models pull onnx-community\/Qwen2\.5-0\.5B-Instruct\)/);
    const jobs = await svc.api['jobs.list']({});
    assert.equal(jobs.jobs.length, 0, 'no job recorded: it would only have failed MODEL_NOT_FOUND');
  });

  it('the same through `tandem submit generate`: exit code, both facts on stderr, no job', async (t) => {
    const home = tempHome(t);
    const schema = path.join(home, 'schema.json');
    fs.writeFileSync(schema, JSON.stringify(BOUNDED));
    const env = bareEnv(home);
    const r = await runTandem(['submit', 'generate', '--prompt', 'Name a protein', '--schema', schema, '--wait'], env);
    assert.notEqual(r.status, 0, 'fails');
    assert.match(r.stderr, /Modal is not configured \(set TANDEM_MODAL_URL_TEMPLATE or open Cloud settings\) and the local fallback onnx-community\/Qwen2\.5-0\.5B-Instruct is not installed \(tandem models pull onnx-community\/Qwen2\.5-0\.5B-Instruct\)/, r.stderr);
    assert.equal(r.stdout, '', 'no job id printed');
    const db = openDatabase(storePath(home));
    try {
      assert.equal(new JobStore(db).list({}).length, 0, 'no job recorded');
    } finally {
      db.close();
    }
  });

  it('with the local fallback installed (tandem models import), the plan, the result and the CLI summary say which model answered instead of qwen-32b', { skip: sh.skip }, async (t) => {
    const home = tempHome(t);
    const env = bareEnv(home);
    const id = 'local/tiny-decoder';
    const imp = await runTandem(['models', 'import', path.join(sh.shared, 'models', 'fixtures', 'tiny-decoder-random'), '--id', id], env);
    assert.equal(imp.status, 0, imp.stderr);
    fs.writeFileSync(path.join(home, 'cloud.json'), JSON.stringify({ localGenerateModel: id }));
    const schema = path.join(home, 'schema.json');
    fs.writeFileSync(schema, JSON.stringify(BOUNDED));

    const r = await runTandem(['submit', 'generate', '--prompt', 'Name a protein', '--schema', schema, '--max-tokens', '60', '--wait', '--json'], env, { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /tandem submit: local: Modal is not configured \(set TANDEM_MODAL_URL_TEMPLATE or open Cloud settings\): answered by local local\/tiny-decoder/, 'the plan says why');
    assert.match(r.stderr, /answered by local\/tiny-decoder on this machine, NOT qwen-32b as asked/, 'the plan says a different model answers');
    const job = JSON.parse(r.stdout) as { status: string; backend: string; result: { answeredBy: { model: string; where: string; substitutedFor: string | null; backend: string } } };
    assert.equal(job.status, 'succeeded', 'answered');
    assert.equal(job.backend, 'local', 'on this machine');
    assert.deepEqual(
      { model: job.result.answeredBy.model, where: job.result.answeredBy.where, substitutedFor: job.result.answeredBy.substitutedFor },
      { model: id, where: 'this machine', substitutedFor: 'qwen-32b' },
      'the result names the model that answered and the one it stands in for',
    );

    const text = await runTandem(['submit', 'generate', '--prompt', 'Name an enzyme', '--schema', schema, '--max-tokens', '60', '--wait'], env, { timeoutMs: 120_000 });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /answered by local\/tiny-decoder on this machine \([^)]+\), NOT qwen-32b as asked: a different model answered/, `the summary says so plainly:\n${text.stdout}`);

    // The API plan carries the same facts for the Generate page.
    const svc = createApiService({ env, host: 'test', progressIntervalMs: 0 });
    t.after(() => svc.close());
    const { plan } = await svc.api['cloud.plan']({ request: { kind: 'generate', model: 'qwen-80b', prompt: 'p', schema: BOUNDED }, policy: 'auto' });
    assert.equal(plan.backend, 'local', plan.reason);
    assert.deepEqual(plan.answeredBy, { model: id, where: 'this machine', substitutedFor: 'qwen-80b' }, 'the plan says who answers');
  });
});
