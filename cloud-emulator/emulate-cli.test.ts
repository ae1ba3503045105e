import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { call } from './test-support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'native/hosts/cli/bin.ts');
const TOKEN = 'emulate-cli-test-token';

test('tandem emulate prints the URL and env vars, serves the protocol with the token, and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', bin, 'emulate', '--port', '0', '--time-scale', '0.001', '--token-env', 'EMU_TEST_TOKEN', '--redirect-after-ms', '5000'], {
    cwd: root,
    env: { ...process.env, EMU_TEST_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
      });
      void exited.then((code) => reject(new Error(`tandem emulate exited early (${code}): ${stderr}`)));
    });
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+);.* TANDEM_MODAL_URL_TEMPLATE=(\S+) TANDEM_CLOUDRUN_URL=(\S+)$/.exec(line);
    assert.ok(m, `the printed line: ${line}`);
    const [, url, template, cloudRun] = m;
    assert.equal(template, `${url}/modal/{function}`, 'the Modal template');
    assert.equal(cloudRun, `${url}/cloud-run`, 'the Cloud Run URL');
    const auth = { authorization: `Bearer ${TOKEN}` };
    const health = await call(cloudRun!, 'GET', '/health', { headers: auth });
    assert.equal(health.status, 200, health.text);
    assert.equal(health.json.model, 'boltz-2', 'Cloud Run health body');
    assert.equal((await call(cloudRun!, 'GET', '/health')).status, 401, 'the token from --token-env is required');
    const warm = await call(url!, 'GET', '/modal/embed-warmup', { headers: auth });
    assert.deepEqual(warm.json, { status: 'warm', model_load_ms: 12 }, '--time-scale scales the default cold start (12000 ms x 0.001)');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `exit code after SIGTERM (stderr: ${stderr})`);
    assert.match(stderr, /SIGTERM, stopped after 3 requests/, 'a closing line on stderr');
    assert.ok(!stdout.includes(TOKEN) && !stderr.includes(TOKEN), 'the token is never printed');
  } finally {
    child.kill('SIGKILL');
  }
});

test('tandem emulate refuses bad arguments with exit code 2', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', bin, 'emulate', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  const badKind = run(['--fault-rate', '0.1', '--faults', 'reset,meteor']);
  assert.equal(badKind.status, 2, badKind.stderr);
  assert.match(badKind.stderr, /unknown fault kind "meteor"/, 'names the bad kind');
  const badRate = run(['--fault-rate', '1.5']);
  assert.equal(badRate.status, 2, badRate.stderr);
  assert.match(badRate.stderr, /expected a rate between 0 and 1, got "1.5"/, 'names the bad rate');
  const noToken = run(['--token-env', 'EMU_TEST_UNSET_VAR'], { EMU_TEST_UNSET_VAR: '' });
  assert.equal(noToken.status, 2, noToken.stderr);
  assert.match(noToken.stderr, /EMU_TEST_UNSET_VAR is not set or empty/, 'names the variable');
});
