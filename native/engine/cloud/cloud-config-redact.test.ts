import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runTandem } from '../../testing/cli-run.js';
import { redactUrl } from './cloud-config.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-redact-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('redactUrl hides user-info and query/fragment values, keeps scheme, host, port, path and templates', () => {
  assert.equal(redactUrl('https://alice:s3cret@boltz.example.run:8443/v1/predict?token=abc&sig=xyz&debug#k=v'), 'https://***@boltz.example.run:8443/v1/predict?token=***&sig=***&***#k=***');
  assert.equal(redactUrl('https://ws--app-{function}.modal.run'), 'https://ws--app-{function}.modal.run');
  assert.equal(redactUrl('https://ws--app-{function}.modal.run/?key=k1'), 'https://ws--app-{function}.modal.run/?key=***');
  assert.equal(redactUrl('http://127.0.0.1:8080/cloud-run'), 'http://127.0.0.1:8080/cloud-run');
  assert.equal(redactUrl('https://user@host.example/p@th'), 'https://***@host.example/p@th', 'only the authority\'s user-info');
});

test('tandem cloud config prints backend URLs without their user-info or query values (text and --json)', async () => {
  const secrets = ['s3cret-pw', 'qs-token-123', 'modal-user', 'sig-456'];
  const env = {
    ...process.env,
    TANDEM_HOME: path.join(tmp, 'home'),
    TANDEM_MODAL_URL_TEMPLATE: 'https://modal-user:s3cret-pw@ws--app-{function}.modal.run/?key=qs-token-123',
    TANDEM_CLOUDRUN_URL: 'https://boltz.example.run/v1?sig=sig-456&region=eu',
    TANDEM_MODAL_TOKEN: '',
    TANDEM_CLOUDRUN_TOKEN: '',
  };
  const text = await runTandem(['cloud', 'config'], env);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /modal +https:\/\/\*\*\*@ws--app-\{function\}\.modal\.run\/\?key=\*\*\* \(from TANDEM_MODAL_URL_TEMPLATE\)/);
  assert.match(text.stdout, /cloud-run +https:\/\/boltz\.example\.run\/v1\?sig=\*\*\*&region=\*\*\*/);
  const json = await runTandem(['cloud', 'config', '--json'], env);
  assert.equal(json.status, 0, json.stderr);
  const cfg = JSON.parse(json.stdout) as { modal: { urlTemplate: string }; cloudRun: { url: string } };
  assert.equal(cfg.cloudRun.url, 'https://boltz.example.run/v1?sig=***&region=***');
  for (const s of secrets) {
    assert.ok(!text.stdout.includes(s) && !text.stderr.includes(s), `${s} not in the text output`);
    assert.ok(!json.stdout.includes(s), `${s} not in the JSON output`);
  }
});
