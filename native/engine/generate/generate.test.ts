import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { GenerateEngine, type GenerateRequest } from './generate-engine.js';
import { OnnxDecoder } from './onnx-decoder.js';

const { shared, skip } = sharedOrSkip();
const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gen-')) };
const TINY = 'fixtures/tiny-decoder-random';
const RNN = 'fixtures/charrnn-shakespeare';

// One engine per model: each keeps its model loaded across the tests, as the worker does.
const tiny = new GenerateEngine(env);
const rnn = new GenerateEngine(env);
after(async () => {
  await tiny.dispose();
  await rnn.dispose();
});

function reference(): { prompt: string; greedy_200: string } {
  return JSON.parse(fs.readFileSync(path.join(shared, 'models', RNN, 'numpy_reference_greedy.json'), 'utf8')) as { prompt: string; greedy_200: string };
}

describe('the KV cache of the tiny decoder', { skip }, () => {
  test('step-by-step logits with the cache equal a full recompute (1e-4); the cache feeds one position per step', async () => {
    const dir = path.join(shared, 'models', TINY);
    const lm = await OnnxDecoder.load({ file: path.join(dir, 'onnx', 'model.onnx'), device: 'cpu', allowFallback: true, padId: 151643, threads: 1 });
    try {
      const prompt = [9707, 1879, 11, 1246, 525, 498, 30];
      const cached = await lm.start([prompt]);
      const full = await lm.start([prompt], { useCache: false });
      let maxDiff = 0;
      for (let step = 0; step < 12; step++) {
        for (let i = 0; i < lm.vocabSize; i++) maxDiff = Math.max(maxDiff, Math.abs(cached.logits[i]! - full.logits[i]!));
        // Feed the greedy token of the cached run to both.
        let best = 0;
        for (let i = 1; i < lm.vocabSize; i++) if (cached.logits[i]! > cached.logits[best]!) best = i;
        await cached.step([best]);
        await full.step([best]);
      }
      assert.ok(maxDiff <= 1e-4, `max |cached - recomputed| = ${maxDiff}`);
      assert.deepEqual(cached.fedPerCall, [7, ...new Array<number>(12).fill(1)], 'prefill once, then one new position per step: the prefix is never fed again');
      assert.deepEqual(full.fedPerCall, Array.from({ length: 13 }, (_, i) => 7 + i), 'the recompute feeds the whole sequence every step');
      cached.dispose();
      full.dispose();
    } finally {
      await lm.dispose();
    }
  });

  test('a left-padded batch gives each prompt the greedy continuation it gets alone', async () => {
    const prompts = ['Hi', 'The quick brown fox jumps over the lazy dog, again and again.', 'Protein folding is', '日本語 🧬 emoji and a longer tail of words here'];
    const base: Omit<GenerateRequest, 'prompts'> = { model: TINY, maxTokens: 16, seed: 0, chat: false };
    const batch = await tiny.generate({ ...base, prompts });
    assert.equal(batch.outputs.length, 4, 'one output per prompt');
    const lengths = batch.outputs.map((o) => o.promptTokens);
    assert.ok(new Set(lengths).size > 2, `prompts of different lengths (${lengths.join(', ')}): padding is exercised`);
    for (let i = 0; i < prompts.length; i++) {
      const alone = await tiny.generate({ ...base, prompts: [prompts[i]!] });
      assert.equal(batch.outputs[i]!.text, alone.outputs[0]!.text, `prompt ${i}: batched text equals its text alone`);
      assert.equal(batch.outputs[i]!.completionTokens, alone.outputs[0]!.completionTokens, `prompt ${i}: same token count`);
    }
    assert.deepEqual(batch.fedPerCall.slice(1), new Array<number>(batch.steps).fill(1), 'the batch also decodes one position per step');
  });

  test('EOS ids come from generation_config.json and the tokenizer; the chat template from tokenizer_config.json', async () => {
    const { gen } = await tiny.preload({ model: TINY });
    assert.deepEqual([...gen.eosIds].sort(), [151643, 151645], 'eos ids');
    assert.ok(gen.chat, 'the tokenizer config carries a chat template');
    const r = await tiny.generate({ model: TINY, prompts: ['hello'], maxTokens: 3, seed: 1 });
    assert.ok(r.outputs[0]!.promptTokens > 20, `the prompt went through the chat template (${r.outputs[0]!.promptTokens} tokens)`);
  });
});

describe('prompt-lookup drafts (greedy, one prompt)', { skip }, () => {
  test('rewinding the cache after a multi-token feed gives the logits of feeding only the kept tokens (1e-4)', async () => {
    const dir = path.join(shared, 'models', TINY);
    const lm = await OnnxDecoder.load({ file: path.join(dir, 'onnx', 'model.onnx'), device: 'cpu', allowFallback: true, padId: 151643, threads: 1 });
    try {
      const prompt = [9707, 1879, 11, 1246, 525, 498, 30];
      const a = await lm.start([prompt]);
      const b = await lm.start([prompt]);
      const out = await a.feedTokens!([100, 200, 300, 400]);
      assert.equal(out.length, 4 * lm.vocabSize, 'one logits row per fed token');
      a.rewind!(2, out.subarray(lm.vocabSize, 2 * lm.vocabSize)); // keep 100, 200
      await b.step([100]);
      await b.step([200]);
      const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
      assert.ok(diff(a.logits, b.logits) <= 1e-4, `logits after the kept tokens match (max diff ${diff(a.logits, b.logits)})`);
      await a.step([555]);
      await b.step([555]);
      assert.ok(diff(a.logits, b.logits) <= 1e-4, `the next step after a rewind matches too (max diff ${diff(a.logits, b.logits)}): no stale cache entry`);
      assert.deepEqual(a.fedPerCall, [7, 4, 1], 'prefill, one call for four tokens, one step');
      a.dispose();
      b.dispose();
    } finally {
      await lm.dispose();
    }
  });

  test('the drafts change the number of model calls, never the text (plain and under a JSON schema)', async () => {
    const prompts = ['the protein binds a small ligand near the active site while researchers measure affinity and structure', 'Hi', 'a b c a b c a b c a b', '日本語 🧬 emoji'];
    let saved = 0;
    for (const p of prompts) {
      const base: GenerateRequest = { model: TINY, prompts: [p], maxTokens: 48, seed: 0, chat: false, ignoreEos: true };
      const plain = await tiny.generate({ ...base, lookup: false });
      const drafted = await tiny.generate(base);
      assert.equal(drafted.outputs[0]!.text, plain.outputs[0]!.text, `prompt ${JSON.stringify(p)}: the same greedy text`);
      assert.equal(drafted.outputs[0]!.completionTokens, plain.outputs[0]!.completionTokens, 'the same token count');
      assert.equal(plain.drafted, 0, 'lookup: false drafts nothing');
      assert.ok(drafted.draftKept <= drafted.drafted, 'kept <= drafted');
      assert.equal(drafted.fedPerCall.slice(1).reduce((x, y) => x + y, 0), plain.outputs[0]!.completionTokens - 1 + drafted.drafted - drafted.draftKept, 'positions fed after the prefill = tokens + rejected drafts');
      saved += plain.steps - drafted.steps;
    }
    assert.ok(saved > 0, `the repetitive outputs of the random model were decoded in fewer calls (${saved} saved)`);
    const schema = { type: 'object', properties: { tags: { type: 'array', items: { enum: ['alpha', 'beta', 'gamma'] }, maxItems: 6 }, n: { type: 'integer' } }, required: ['tags', 'n'] };
    const req: GenerateRequest = { model: TINY, prompts: ['{"tags": ["alpha", "beta"], "n": 3} and again:'], maxTokens: 64, seed: 0, chat: false, schema };
    const plain = await tiny.generate({ ...req, lookup: false });
    const drafted = await tiny.generate(req);
    assert.equal(drafted.outputs[0]!.text, plain.outputs[0]!.text, 'under a schema: the same JSON');
    assert.deepEqual(drafted.outputs[0]!.output, plain.outputs[0]!.output, 'the same parsed output');
  });

  test('sampling and batches of prompts decode one token per call (drafts are for greedy, one prompt)', async () => {
    const sampled = await tiny.generate({ model: TINY, prompts: ['a b c a b c a b'], maxTokens: 16, seed: 3, temperature: 0.8, chat: false, ignoreEos: true });
    assert.equal(sampled.drafted, 0, 'sampling: no drafts');
    const batch = await tiny.generate({ model: TINY, prompts: ['a b c a b c', 'Hi'], maxTokens: 16, seed: 0, chat: false, ignoreEos: true });
    assert.equal(batch.drafted, 0, 'a batch: no drafts');
  });
});

describe('the char-level LSTM (a real model) through the same loop', { skip }, () => {
  test('greedy output equals the numpy reference exactly (200 characters)', async () => {
    const ref = reference();
    const r = await rnn.generate({ model: RNN, prompts: [ref.prompt], maxTokens: 200, seed: 0 });
    assert.equal(r.outputs[0]!.text, ref.greedy_200, 'greedy text');
    assert.equal(r.outputs[0]!.completionTokens, 200, 'one token per character');
    assert.equal(r.outputs[0]!.finishReason, 'length', 'stopped by max tokens');
  });

  test('streamed pieces add up to the text; a stop string ends it and is never streamed', async () => {
    const ref = reference();
    const pieces: string[] = [];
    const r = await rnn.generate({ model: RNN, prompts: [ref.prompt], maxTokens: 200, stop: ['the sea'] }, { onText: (_row, t) => pieces.push(t) });
    const want = ref.greedy_200.slice(0, ref.greedy_200.indexOf('the sea'));
    assert.equal(r.outputs[0]!.text, want, 'text cut before the stop string');
    assert.equal(r.outputs[0]!.finishReason, 'stop', 'finish reason');
    assert.equal(pieces.join(''), want, 'the stream is the text');
    assert.ok(pieces.length > 10, `streamed as it came (${pieces.length} pieces)`);
    assert.ok(!pieces.join('').includes('the sea'), 'the stop string never reached the stream');
  });

  test('seeded sampling: the same seed gives the same text, other seeds other texts; top-k 1 and a tiny top-p are greedy', async () => {
    const ref = reference();
    const run = async (extra: Partial<GenerateRequest>): Promise<string> => (await rnn.generate({ model: RNN, prompts: [ref.prompt], maxTokens: 80, ...extra })).outputs[0]!.text;
    const a = await run({ temperature: 1, seed: 42 });
    const b = await run({ temperature: 1, seed: 42 });
    assert.equal(a, b, 'same seed, same text');
    const others = new Set([a, await run({ temperature: 1, seed: 1 }), await run({ temperature: 1, seed: 2 })]);
    assert.equal(others.size, 3, 'different seeds, different texts');
    const greedy = ref.greedy_200.slice(0, 80);
    assert.equal(await run({ temperature: 1, topK: 1, seed: 5 }), greedy, 'top-k 1 is greedy');
    assert.equal(await run({ temperature: 0.8, topP: 0.001, seed: 5 }), greedy, 'a tiny nucleus is greedy');
    assert.notEqual(await run({ temperature: 1.5, topK: 10, seed: 5 }), greedy, 'a hot sample differs from greedy');
  });

  test('a batch of prompts of different lengths (left padding, state held) equals one-by-one', async () => {
    const prompts = ['ROMEO:\n', 'JULIET:\nO Romeo, ', 'First Citizen:\nBefore we proceed any further, hear me speak.\n'];
    const batch = await rnn.generate({ model: RNN, prompts, maxTokens: 40, seed: 0 });
    for (let i = 0; i < prompts.length; i++) {
      const alone = await rnn.generate({ model: RNN, prompts: [prompts[i]!], maxTokens: 40, seed: 0 });
      assert.equal(batch.outputs[i]!.text, alone.outputs[0]!.text, `prompt ${i}`);
    }
  });

  test('cancellation stops a running generation; the engine serves the next request', async () => {
    const ac = new AbortController();
    let streamed = 0;
    await assert.rejects(
      rnn.generate({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 5000 }, {
        signal: ac.signal,
        onText: () => {
          if (++streamed === 3) ac.abort();
        },
      }),
      (e: unknown) => isTandemError(e, 'CANCELLED'),
      'rejects with CANCELLED',
    );
    assert.ok(streamed >= 3 && streamed < 50, `stopped soon after the abort (${streamed} pieces)`);
    const ok = await rnn.generate({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 5 });
    assert.equal(ok.outputs[0]!.completionTokens, 5, 'still serving');
  });

  test('asking for CUDA where there is none falls back to the CPU and says why', async () => {
    const r = await rnn.generate({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 2, device: 'cuda' });
    assert.equal(r.device.used, 'cpu', 'runs on the CPU');
    assert.match(r.device.fallbackReason ?? '', /cuda/i, 'and says why');
    assert.ok(r.loadMs > 0, 'a new (model, device) pair is a new load');
    const again = await rnn.generate({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 2, device: 'cuda' });
    assert.equal(again.loadMs, 0, 'the loaded model is reused by the next request');
  });

  test('bad requests fail with clear codes', async () => {
    await assert.rejects(rnn.generate({ model: RNN, prompts: ['ROMEO:\n'], temperature: -1 }), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /temperature/.test(e.message), 'negative temperature');
    await assert.rejects(rnn.generate({ model: RNN, prompts: ['ROMEO:\n'], topP: 0 }), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /topP/.test(e.message), 'top-p 0');
    await assert.rejects(rnn.generate({ model: RNN, prompts: ['{unknown chars}'] }), (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /not in this model's vocabulary/.test(e.message), 'a character the model does not know');
    await assert.rejects(rnn.generate({ model: RNN, prompts: ['x'], chat: true }), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /no chat template/.test(e.message), 'chat on a model without a template');
    await assert.rejects(rnn.generate({ model: 'nobody/nothing', prompts: ['x'] }), (e: unknown) => isTandemError(e, 'MODEL_NOT_FOUND'), 'an unknown model');
  });
});
