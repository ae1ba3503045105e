import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runTandem } from '../../testing/cli-run.js';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-run-onnx-'));
const env = { ...process.env, TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
const charrnn = (): string => path.join(shared, 'models', 'fixtures', 'charrnn-shakespeare');

interface TensorJson {
  dtype: string;
  dims: number[];
  data?: unknown;
  b64?: string;
}

function writeJson(name: string, v: unknown): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, JSON.stringify(v));
  return f;
}

const zeros = (): number[][][] => [[new Array<number>(128).fill(0)], [new Array<number>(128).fill(0)]];

async function jobsOfKind(kind: string): Promise<Array<{ id: string; kind: string; backend: string; device: string; status: string; timings: { loadMs: number | null; inferenceMs: number | null }; result: { outputs: Record<string, { dtype: string; dims: number[] }> } }>> {
  const r = await runTandem(['jobs', 'list', '--kind', kind, '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('run-onnx: one char-LSTM step from nested inputs; outputs nested on stdout; recorded as a run-onnx job with device and timings', { skip }, async () => {
  const vocab = JSON.parse(fs.readFileSync(path.join(charrnn(), 'vocab.fixed.json'), 'utf8')) as Record<string, number>;
  // A bare array takes the model's dtype (int64); the states are explicit.
  const inputs = writeJson('step.json', { input_ids: [vocab['R']!], h_in: { dtype: 'float32', data: zeros() }, c_in: { dtype: 'float32', data: zeros() } });
  const r = await runTandem(['run-onnx', '--model', path.join(charrnn(), 'model.onnx'), '--inputs', inputs, '--device', 'cpu'], env);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, TensorJson>;
  assert.deepEqual(Object.keys(out).sort(), ['c_out', 'h_out', 'logits'], 'every output');
  assert.deepEqual([out.logits!.dtype, out.logits!.dims], ['float32', [1, 65]], 'logits dtype and dims');
  assert.equal((out.logits!.data as number[][])[0]!.length, 65, 'nested rows');
  assert.deepEqual(out.h_out!.dims, [2, 1, 128], 'state dims');
  assert.match(r.stderr, /tandem run-onnx: model\.onnx on cpu: 3 inputs -> logits float32 \[1, 65\], h_out float32 \[2, 1, 128\], c_out float32 \[2, 1, 128\]; load \d+ ms, run [\d.]+ ms; job \w+/, r.stderr);
  const [job] = await jobsOfKind('run-onnx');
  assert.ok(job, 'a run-onnx job is in the history');
  assert.deepEqual([job.kind, job.backend, job.device, job.status], ['run-onnx', 'local', 'cpu', 'succeeded'], 'kind, backend, device, status');
  assert.ok(job.timings.loadMs !== null && job.timings.inferenceMs !== null, 'load and inference timings recorded');
  assert.deepEqual(job.result.outputs.logits, { dtype: 'float32', dims: [1, 65] }, 'the result names the outputs');

  // The same step with base64 inputs and outputs to a file gives the same numbers.
  const b64 = (a: Float32Array | BigInt64Array): string => Buffer.from(a.buffer).toString('base64');
  const inputs64 = writeJson('step64.json', {
    input_ids: { dtype: 'int64', dims: [1], b64: b64(new BigInt64Array([BigInt(vocab['R']!)])) },
    h_in: { dtype: 'float32', dims: [2, 1, 128], b64: b64(new Float32Array(256)) },
    c_in: { dtype: 'float32', dims: [2, 1, 128], b64: b64(new Float32Array(256)) },
  });
  const file = path.join(tmp, 'out', 'step64.json');
  const r64 = await runTandem(['run-onnx', '--model', path.join(charrnn(), 'model.onnx'), '--inputs', inputs64, '--format', 'base64', '--output', file], env);
  assert.equal(r64.status, 0, r64.stderr);
  assert.equal(r64.stdout, '', 'nothing on stdout with --output');
  const out64 = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, TensorJson>;
  const buf = Buffer.from(out64.logits!.b64!, 'base64');
  const logits64 = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  assert.deepEqual(Array.from(logits64), (out.logits!.data as number[][])[0], 'base64 output equals the nested one');
  assert.equal((await jobsOfKind('run-onnx')).length, 2, 'two jobs recorded');
});

test('run-onnx: a wrong input name, dtype or shape is INVALID_INPUT naming the input; nothing runs or is recorded', { skip }, async () => {
  const before = (await jobsOfKind('run-onnx')).length;
  const model = path.join(charrnn(), 'model.onnx');
  const cases: Array<[string, unknown, RegExp]> = [
    ['name', { input_idz: [1], h_in: zeros(), c_in: zeros() }, /input "input_idz": the model has no such input; its inputs are input_ids, h_in, c_in/],
    ['dtype', { input_ids: [1], h_in: { dtype: 'float64', data: zeros() }, c_in: zeros() }, /input "h_in": dtype float64, but the model wants float32/],
    ['shape', { input_ids: [1], h_in: zeros(), c_in: [[new Array<number>(64).fill(0)], [new Array<number>(64).fill(0)]] }, /input "c_in": shape \[2, 1, 64\]: dimension 2 is 64, but the model wants 128/],
    ['missing', { input_ids: [1], h_in: zeros() }, /input "c_in" is missing/],
  ];
  for (const [what, body, re] of cases) {
    const r = await runTandem(['run-onnx', '--model', model, '--inputs', writeJson(`bad-${what}.json`, body)], env);
    assert.equal(r.status, 1, `${what}: exit 1 (${r.stderr})`);
    assert.match(r.stderr, /^tandem: INVALID_INPUT: /m, `${what}: INVALID_INPUT`);
    assert.match(r.stderr, re, `${what}: names it`);
    assert.equal(r.stdout, '', `${what}: no output`);
  }
  assert.equal((await jobsOfKind('run-onnx')).length, before, 'no job recorded for refused inputs');
});

test('models inspect: text and JSON for a file and for a model id', { skip }, async () => {
  const r = await runTandem(['models', 'inspect', 'fixtures/reranker-tiny-random'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /reranker-tiny-random\/onnx\/model\.onnx\n {2}size {6}16\.7 MiB \(17,549,385 bytes\)/, r.stdout);
  assert.match(r.stdout, /producer {2}make_minilm_arch; IR version 8; opset ai\.onnx 17/, 'producer, IR, opset');
  assert.match(r.stdout, /inputs:\n {2}input_ids +int64 +\[batch, seq\]\n {2}attention_mask +int64 +\[batch, seq\]\n {2}token_type_ids +int64 +\[batch, seq\]\noutputs:\n {2}logits +float32 +\[batch, 1\]/, r.stdout);
  const j = await runTandem(['models', 'inspect', path.join(charrnn(), 'model.onnx'), '--json'], env);
  assert.equal(j.status, 0, j.stderr);
  const info = JSON.parse(j.stdout) as { inputs: Array<{ name: string; type: string; shape: unknown[] }>; opsets: unknown[]; fileSize: number };
  assert.deepEqual(info.inputs.map((i) => [i.name, i.type, i.shape]), [['input_ids', 'int64', ['batch']], ['h_in', 'float32', [2, 'batch', 128]], ['c_in', 'float32', [2, 'batch', 128]]], 'inputs with symbolic dims');
  assert.deepEqual(info.opsets, [{ domain: 'ai.onnx', version: 13 }], 'opset');
  assert.equal(info.fileSize, 1121281, 'size');
  const missing = await runTandem(['models', 'inspect', path.join(tmp, 'nope.onnx')], env);
  assert.equal(missing.status, 1, 'exit 1');
  assert.match(missing.stderr, /^tandem: NOT_FOUND: no file .*nope\.onnx/m, missing.stderr);
});
