import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../../cloud-emulator/index.js';
import { isTandemError } from '../common/errors.js';
import { FAST_TUNING, TEST_TOKEN } from '../../testing/cloud-rig.js';
import { createApiService, type ApiService } from './api-service.js';

/** cloud.setBackend: the Cloud page edits the active profile's backend URLs; health works at once, no restart. */
describe('cloud.setBackend (Cloud settings in the UI)', () => {
  let emu: RunningEmulator;
  let home: string;
  let svc: ApiService;

  before(async () => {
    emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cloud-settings-'));
    // No URLs in the environment: only the tokens (their names are what the settings hold).
    const env: NodeJS.ProcessEnv = { TANDEM_HOME: home, TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9', TANDEM_MODAL_TOKEN: TEST_TOKEN, MY_RUN_TOKEN: TEST_TOKEN };
    svc = createApiService({ env, host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING, pollIntervalMs: 10 } });
  });

  after(async () => {
    await svc.close();
    await emu.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('sets both URLs and a token variable name in the active profile; health answers without a restart', async () => {
    const before = await svc.api['cloud.health']({ backend: 'cloud-run' });
    assert.equal(before.backends[0]!.error?.code, 'NOT_CONFIGURED', 'no URL yet');

    const run = await svc.api['cloud.setBackend']({ backend: 'cloud-run', url: emu.cloudRunUrl, tokenEnv: 'MY_RUN_TOKEN' });
    assert.deepEqual([run.profile, run.url, run.tokenEnv, run.hasToken, run.overriddenBy], ['development', emu.cloudRunUrl, 'MY_RUN_TOKEN', true, null]);
    assert.match(run.source ?? '', /profiles\.development\.cloudRun\.url/, 'from the settings file');
    const modal = await svc.api['cloud.setBackend']({ backend: 'modal', url: emu.modalTemplate });
    assert.equal(modal.url, emu.modalTemplate);

    const saved = JSON.parse(fs.readFileSync(path.join(home, 'cloud.json'), 'utf8')) as { profiles: Record<string, unknown> };
    assert.deepEqual(saved.profiles.development, { cloudRun: { url: emu.cloudRunUrl, tokenEnv: 'MY_RUN_TOKEN' }, modal: { urlTemplate: emu.modalTemplate } }, 'written for the active profile');
    assert.equal(fs.readFileSync(path.join(home, 'cloud.json'), 'utf8').includes(TEST_TOKEN), false, 'never the token');

    const h = await svc.api['cloud.health']({});
    assert.deepEqual(h.backends.map((b) => [b.backend, b.ok]), [['modal', true], ['cloud-run', true]], `both healthy at once: ${JSON.stringify(h.backends.map((b) => b.error))}`);
    const c = await svc.api['cloud.config']({});
    assert.equal(c.cloudRun.tokenEnv, 'MY_RUN_TOKEN');
  });

  it('refuses a URL that is not http(s) and a Modal template without {function}; removing a URL unsets it', async () => {
    const refused = async (input: Parameters<ApiService['api']['cloud.setBackend']>[0], re: RegExp) =>
      assert.rejects(() => Promise.resolve(svc.api['cloud.setBackend'](input)), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && re.test((e as Error).message));
    await refused({ backend: 'cloud-run', url: 'ftp://example.org' }, /Cloud Run URL: "ftp:\/\/example.org" is not http\(s\)/);
    await refused({ backend: 'cloud-run', url: 'not a url' }, /is not a URL/);
    await refused({ backend: 'modal', url: 'https://ws--app.modal.run' }, /no \{function\} placeholder/);
    const gone = await svc.api['cloud.setBackend']({ backend: 'cloud-run', url: null });
    assert.deepEqual([gone.url, gone.source], [null, null]);
    const h = await svc.api['cloud.health']({ backend: 'cloud-run' });
    assert.equal(h.backends[0]!.error?.code, 'NOT_CONFIGURED');
  });
});
