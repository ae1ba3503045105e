import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { loadCatalog } from '../models/catalog.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { GenerateEngine } from './generate-engine.js';
import { findGenerator } from './generator-model.js';

const { shared, skip } = sharedOrSkip();
const QWEN = 'onnx-community/Qwen2.5-0.5B-Instruct';

test('the catalog lists the three local generators with fp32/int8/fp16 variants and pinned tokenizer files', () => {
  const catalog = loadCatalog();
  const ids = ['onnx-community/Qwen2.5-0.5B-Instruct', 'onnx-community/Qwen2.5-1.5B-Instruct', 'HuggingFaceTB/SmolLM2-360M-Instruct'];
  for (const id of ids) {
    const e = catalog.models.find((m) => m.id === id);
    assert.ok(e, `${id} is in the catalog`);
    assert.equal(e.kind, 'generator', `${id} kind`);
    assert.equal(e.task, 'generate', `${id} task`);
    assert.ok(e.variants.int8, `${id} has an int8 variant`);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) assert.ok(e.files.some((x) => x.path === f), `${id} ships ${f}`);
  }
  const q = catalog.models.find((m) => m.id === QWEN)!;
  assert.deepEqual(Object.keys(q.variants).sort(), ['fp16', 'fp32', 'int8'], 'Qwen2.5-0.5B: three variants');
  assert.equal(q.variants.int8, 'onnx/model_quantized.onnx', 'the int8 file name of the onnx-community export');
});

test('the pinned Qwen2.5 tokenizer files are the bytes of the shared copy', { skip }, () => {
  const q = loadCatalog().models.find((m) => m.id === QWEN)!;
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
    const pin = q.files.find((f) => f.path === name)!;
    const bytes = fs.readFileSync(path.join(shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct', name));
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), pin.sha256, `${name} sha256`);
    assert.equal(bytes.length, pin.size, `${name} size`);
  }
});

test('a catalog model on disk is found by its variant files and runs through the engine', { skip }, async () => {
  // A stand-in folder for the Qwen id: the real tokenizer, the tiny decoder's weights as the int8 file.
  const models = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-genmodels-'));
  const dir = path.join(models, QWEN);
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const tiny = path.join(shared, 'models', 'fixtures', 'tiny-decoder-random');
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'config.json']) fs.copyFileSync(path.join(tiny, f), path.join(dir, f));
  fs.symlinkSync(path.join(tiny, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'model_quantized.onnx'));
  const env = { TANDEM_MODELS_DIR: models, TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-genhome-')) };
  try {
    const found = findGenerator(QWEN, env);
    assert.equal(found.kind, 'decoder', 'a decoder');
    assert.deepEqual(Object.keys(found.variants), ['int8'], 'only the int8 weights are on disk');
    assert.equal(found.defaultVariant, 'int8', 'the catalog default (fp32) is absent, so the one on disk');
    assert.throws(() => findGenerator('onnx-community/Qwen2.5-1.5B-Instruct', env), (e: unknown) => isTandemError(e, 'MODEL_NOT_FOUND') && /tandem models pull onnx-community\/Qwen2.5-1.5B-Instruct/.test(e.message), 'a catalog model not on disk: pull it');
    const engine = new GenerateEngine(env);
    try {
      const r = await engine.generate({ model: QWEN, prompts: ['hi'], maxTokens: 3, threads: 1 });
      assert.equal(r.variant, 'int8', 'ran the int8 file');
      await assert.rejects(engine.generate({ model: QWEN, variant: 'fp16', prompts: ['hi'], maxTokens: 1 }), (e: unknown) => isTandemError(e, 'MODEL_NOT_FOUND') && /no fp16 weights/.test(e.message), 'a variant not on disk');
    } finally {
      await engine.dispose();
    }
  } finally {
    fs.rmSync(models, { recursive: true, force: true });
  }
});

test('the char-level LSTM folder is found as a recurrent model', { skip }, () => {
  const found = findGenerator('fixtures/charrnn-shakespeare', { TANDEM_MODELS_DIR: path.join(shared, 'models'), TANDEM_HOME: os.tmpdir() });
  assert.equal(found.kind, 'recurrent', 'recurrent');
  assert.ok(found.variants.fp32?.endsWith('model.onnx'), 'its one graph');
});
