/**
 * `tandem index --device`: the device reaches the embedding worker (the summary names the one that
 * ran), an unknown one is refused by the option parser, and `webgpu` by name takes whatever adapter
 * exists, software included (skipped where none is: no Vulkan/D3D12/Metal device for Dawn).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runTandem } from '../../testing/cli-run.js';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-index-device-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MODEL = 'fixtures/minilm-l6-arch-random';
const docs = path.join(tmp, 'docs');
fs.mkdirSync(docs);
fs.writeFileSync(path.join(docs, 'zebra.txt'), 'The zebra named Archibald jumps fences.');

const env = (name: string): NodeJS.ProcessEnv => ({ ...process.env, TANDEM_HOME: path.join(tmp, name), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' });
const index = (device: string, name: string) => runTandem(['index', docs, '--collection', 'c', '--model', MODEL, '--variant', 'fp32', '--device', device, '--json', '--quiet'], env(name), { timeoutMs: 180_000 });

test('index --device cpu runs the model on the CPU (the summary says cpu, not what auto would pick)', { skip }, async () => {
  const r = await index('cpu', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { device: string; chunksWritten: number };
  assert.equal(s.device, 'cpu');
  assert.equal(s.chunksWritten, 1);
});

test('index --device with an unknown device is refused before anything runs', async () => {
  const r = await index('tpu', 'bad');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--device/);
  assert.match(r.stderr, /webgpu/);
});

test('index --device webgpu runs on the WebGPU adapter, a software one included', { skip }, async (t) => {
  const r = await index('webgpu', 'webgpu');
  if (r.status !== 0 && /adapter|webgpu/i.test(r.stderr) && !/webgpu:/.test(r.stdout)) return t.skip(`no WebGPU adapter here: ${r.stderr.trim().split('\n').pop()}`);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { device: string; chunksWritten: number };
  assert.match(s.device, /^webgpu: /);
  assert.equal(s.chunksWritten, 1);
});
