/**
 * inference.* and generate.run through createEngine: run-onnx and generate-local jobs run in the
 * engine's queue, so jobs.retry re-runs them there; embed pages carry float32 vectors; a request in
 * flight is cancelled by its id. Real ONNX inference on the shared fixtures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isTandemError } from '../common/errors.js';
import type { ApiJob } from '../common/api-contract.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { createEngine, type Engine } from './create-engine.js';

const { shared, skip } = sharedOrSkip();

function engine(t: TestContext): Engine {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-inference-'));
  const e = createEngine({ env: { TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(shared, 'models'), TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' }, host: 'test' });
  t.after(async () => {
    await e.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  return e;
}

/** A job to its end, through job.updated events. */
function ended(e: Engine, id: string): Promise<ApiJob> {
  return new Promise((resolve) => {
    const off = e.events.on('job.updated', (u) => {
      if (u.job.id === id && ['succeeded', 'failed', 'cancelled'].includes(u.job.status)) {
        off();
        resolve(u.job);
      }
    });
  });
}

test('run-onnx and generate-local jobs started through the API are retried by the engine\'s own runners', { skip }, async (t) => {
  const e = engine(t);
  const charrnn = path.join(shared, 'models', 'fixtures', 'charrnn-shakespeare');
  const inputs = path.join(os.tmpdir(), `tandem-step-${process.pid}.json`);
  const zeros = [[new Array<number>(128).fill(0)], [new Array<number>(128).fill(0)]];
  fs.writeFileSync(inputs, JSON.stringify({ input_ids: [5], h_in: { dtype: 'float32', data: zeros }, c_in: { dtype: 'float32', data: zeros } }));
  t.after(() => fs.rmSync(inputs, { force: true }));
  // Outputs under a path whose folder is a file: the job fails writing them; once the folder can be made, a retry succeeds.
  const blocker = path.join(os.tmpdir(), `tandem-blocker-${process.pid}`);
  fs.writeFileSync(blocker, '');
  t.after(() => fs.rmSync(blocker, { recursive: true, force: true }));
  const output = path.join(blocker, 'out.json');

  const first = await e.api['inference.runOnnx']({ model: charrnn, inputs, device: 'cpu', output });
  assert.equal(first.job.status, 'failed');
  assert.deepEqual(first.inputs.sort(), ['c_in', 'h_in', 'input_ids']);
  fs.rmSync(blocker);
  const retry = await e.api['jobs.retry']({ id: first.job.id });
  assert.equal(retry.scheduled, true, 'this engine runs run-onnx jobs');
  const again = await ended(e, retry.job.id);
  assert.equal(again.status, 'succeeded');
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(output, 'utf8')) as object).sort(), ['c_out', 'h_out', 'logits'], 'the retry wrote the outputs');
  const direct = await e.api['inference.runOnnx']({ model: charrnn, inputs, device: 'cpu' });
  assert.equal(JSON.stringify(direct.outputs) + '\n', fs.readFileSync(output, 'utf8'), 'the same tensors as returned inline');

  const input = { model: 'fixtures/tiny-decoder-random', prompt: 'Hi', maxTokens: 40, temperature: 1, seed: 11, threads: 1 };
  const tokens: string[] = [];
  const offTokens = e.events.on('generate.token', (tok) => tokens.push(tok.text));
  const gen = await e.api['generate.run'](input);
  offTokens();
  assert.equal(gen.job.status, 'succeeded');
  const text = (gen.job.result as { text: string }).text;
  assert.equal(tokens.join(''), text, 'the text streamed as generate.token');
  // Cancelled as soon as it is recorded, then retried: the engine's runner runs it to the same text.
  const off = e.events.on('job.updated', (u) => {
    if (u.job.kind === 'generate-local' && u.job.id !== gen.job.id) {
      off();
      void e.api['jobs.cancel']({ id: u.job.id });
    }
  });
  const cancelled = await e.api['generate.run'](input);
  assert.equal(cancelled.job.status, 'cancelled');
  const g2 = await e.api['jobs.retry']({ id: cancelled.job.id });
  assert.equal(g2.scheduled, true, 'this engine runs generate-local jobs');
  const regenerated = await ended(e, g2.job.id);
  assert.equal((regenerated.result as { text: string }).text, text, 'same seed, same text');
});

test('inference.embed: a page of float32 vectors; too many texts refused; a request in flight cancelled by its id', { skip }, async (t) => {
  const e = engine(t);
  const page = await e.api['inference.embed']({ model: 'minishlab/potion-base-2M', texts: ['a', 'b c'] });
  const buf = Buffer.from(page.vectors, 'base64');
  assert.equal(buf.byteLength, page.count * page.dims * 4);
  const v = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const norm = Math.hypot(...v.subarray(0, page.dims));
  assert.ok(Math.abs(norm - 1) < 1e-4, `L2-normalised (${norm})`);
  await assert.rejects(e.api['inference.embed']({ model: 'minishlab/potion-base-2M', texts: new Array<string>(4097).fill('x') }), (err: unknown) => isTandemError(err, 'INVALID_ARGUMENT'));

  const texts = Array.from({ length: 4000 }, (_, i) => `text ${i} `.repeat(60));
  const progress: number[] = [];
  e.events.on('inference.progress', (p) => progress.push(p.done));
  const running = e.api['inference.embed']({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', device: 'cpu', texts, requestId: 'r1' });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await e.api['inference.cancel']({ requestId: 'r1' }), { cancelled: true });
  await assert.rejects(running, (err: unknown) => isTandemError(err, 'CANCELLED'));
  assert.deepEqual(await e.api['inference.cancel']({ requestId: 'r1' }), { cancelled: false }, 'nothing left in flight');
});
