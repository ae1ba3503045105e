import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { EmbedClient } from './embed-client.js';
import { RerankEngine } from './rerank-engine.js';
import type { HostTensor } from './tensor-io.js';
import { TextTokenizer } from './tokenizer.js';

const { shared, skip } = sharedOrSkip();
const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HOME: '/nonexistent-tandem-home' };
const client = new EmbedClient(env);
const reranker = new RerankEngine(env);
after(async () => {
  await client.close();
  await reranker.dispose();
});

const CHARRNN = (): string => path.join(shared, 'models', 'fixtures', 'charrnn-shakespeare');

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

test('the char-LSTM through the generic runner: the prompt, one step per call with the state threaded, predicts the reference continuation', { skip }, async () => {
  const vocab = JSON.parse(fs.readFileSync(path.join(CHARRNN(), 'vocab.fixed.json'), 'utf8')) as Record<string, number>;
  const chars = Object.fromEntries(Object.entries(vocab).map(([c, i]) => [i, c]));
  const ref = JSON.parse(fs.readFileSync(path.join(CHARRNN(), 'numpy_reference_greedy.json'), 'utf8')) as { prompt: string; greedy_200: string };
  const model = path.join(CHARRNN(), 'model.onnx');
  let h: HostTensor = { dtype: 'float32', dims: [2, 1, 128], data: new Float32Array(256) };
  let c: HostTensor = { dtype: 'float32', dims: [2, 1, 128], data: new Float32Array(256) };
  let logits: Float32Array = new Float32Array(0);
  const step = async (id: number): Promise<boolean> => {
    const r = await client.runOnnx({ model, device: 'cpu', inputs: { input_ids: { dtype: 'int64', dims: [1], data: new BigInt64Array([BigInt(id)]) }, h_in: h, c_in: c } });
    h = r.outputs.h_out!;
    c = r.outputs.c_out!;
    logits = r.outputs.logits!.data as Float32Array;
    assert.deepEqual(r.outputs.logits!.dims, [1, 65], 'logits [1, 65]');
    return r.modelCached;
  };
  const cached: boolean[] = [];
  for (const ch of ref.prompt) cached.push(await step(vocab[ch]!));
  assert.equal(chars[argmax(logits)], ref.greedy_200[0], `one step after the prompt gives the reference's first character ${JSON.stringify(ref.greedy_200[0])}`);
  let text = '';
  for (let i = 0; i < 24; i++) {
    const next = argmax(logits);
    text += chars[next];
    await step(next);
  }
  assert.equal(text, ref.greedy_200.slice(0, 24), 'greedy continuation equals the numpy reference');
  assert.deepEqual([cached[0], cached.slice(1).every(Boolean)], [false, true], 'the session is opened once and reused');
});

test('the reranker fixture through the generic runner gives the same logits as the rerank engine', { skip }, async () => {
  const dir = path.join(shared, 'models', 'fixtures', 'reranker-tiny-random');
  const tok = TextTokenizer.load(dir);
  const pairs: Array<[string, string]> = readStsb(shared).slice(0, 6).map(([a, b]) => [a, b]);
  const enc = pairs.map(([a, b]) => tok.encodePair(a, b, 512));
  const seq = Math.max(...enc.map((e) => e.ids.length));
  const ids = new BigInt64Array(6 * seq);
  const mask = new BigInt64Array(6 * seq);
  const types = new BigInt64Array(6 * seq);
  enc.forEach((e, r) => e.ids.forEach((id, t) => {
    ids[r * seq + t] = BigInt(id);
    mask[r * seq + t] = 1n;
    types[r * seq + t] = BigInt(e.typeIds[t]!);
  }));
  const r = await client.runOnnx({ model: path.join(dir, 'onnx', 'model.onnx'), inputs: { input_ids: { dtype: 'int64', dims: [6, seq], data: ids }, attention_mask: { dtype: 'int64', dims: [6, seq], data: mask }, token_type_ids: { dtype: 'int64', dims: [6, seq], data: types } } });
  const want = await reranker.rerank({ model: 'fixtures/reranker-tiny-random', pairs });
  assert.deepEqual(r.outputs.logits!.dims, [6, 1], 'logits [6, 1]');
  const got = Array.from(r.outputs.logits!.data as Float32Array);
  assert.ok(Math.max(...got.map((g, i) => Math.abs(g - want.scores[i]!))) < 1e-5, `${got} vs ${want.scores}`);
  assert.ok(['cpu', 'cuda', 'webgpu', 'dml', 'coreml'].includes(r.device.used), 'device reported');
  const only = await client.runOnnx({ model: path.join(dir, 'onnx', 'model.onnx'), outputs: ['logits'], inputs: { input_ids: { dtype: 'int64', dims: [1, 2], data: new BigInt64Array([101n, 102n]) }, attention_mask: { dtype: 'int64', dims: [1, 2], data: new BigInt64Array([1n, 1n]) }, token_type_ids: { dtype: 'int64', dims: [1, 2], data: new BigInt64Array(2) } } });
  assert.deepEqual(Object.keys(only.outputs), ['logits'], 'fetch a named output');
});

test('the worker checks tensors too: a wrong dtype or an unknown output is refused before running', { skip }, async () => {
  const model = path.join(CHARRNN(), 'model.onnx');
  const state = (): HostTensor => ({ dtype: 'float32', dims: [2, 1, 128], data: new Float32Array(256) });
  await assert.rejects(
    client.runOnnx({ model, inputs: { input_ids: { dtype: 'int32', dims: [1], data: new Int32Array([3]) }, h_in: state(), c_in: state() } }),
    (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /input "input_ids": dtype int32, but the model wants int64/.test(e.message),
    'wrong dtype named',
  );
  await assert.rejects(
    client.runOnnx({ model, outputs: ['probs'], inputs: { input_ids: { dtype: 'int64', dims: [1], data: new BigInt64Array([3n]) }, h_in: state(), c_in: state() } }),
    (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /no output "probs"/.test(e.message),
    'unknown output named',
  );
  await assert.rejects(client.runOnnx({ model: '/nonexistent/model.onnx', inputs: {} }), (e: unknown) => isTandemError(e, 'NOT_FOUND'), 'missing file');
});
