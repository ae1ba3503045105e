import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { createLocalGenerator, GenerateClient } from './index.js';

const { shared, skip } = sharedOrSkip();
const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gen-')) };
const client = new GenerateClient(env);
after(() => client.close());
const generate = createLocalGenerator(client, { threads: 1 });
const RNN = 'fixtures/charrnn-shakespeare';

test('the LocalGenerator streams tokens from the worker and keeps the model loaded between calls', { skip }, async () => {
  const ref = JSON.parse(fs.readFileSync(path.join(shared, 'models', RNN, 'numpy_reference_greedy.json'), 'utf8')) as { prompt: string; greedy_200: string };
  const pieces: string[] = [];
  const first = await generate({ model: RNN, prompt: ref.prompt, maxTokens: 120 }, { signal: new AbortController().signal, onToken: (t) => pieces.push(t) });
  assert.equal(first.text, ref.greedy_200.slice(0, 120), 'greedy text from the worker');
  assert.equal(pieces.join(''), first.text, 'the streamed tokens are the text');
  assert.ok(pieces.length >= 100, `one piece per token (${pieces.length})`);
  assert.equal(first.output, null, 'no schema, no output');
  assert.deepEqual(first.usage, { promptTokens: ref.prompt.length, completionTokens: 120 }, 'usage');
  assert.equal(first.device, 'cpu', 'device');
  assert.equal(first.model, RNN, 'model');
  assert.ok(first.loadMs > 0 && first.inferenceMs > 0, 'timings');
  const second = await generate({ model: RNN, prompt: ref.prompt, maxTokens: 5 }, { signal: new AbortController().signal });
  assert.equal(second.loadMs, 0, 'the second call reuses the loaded model');
});

test('an abort signal cancels a running generation in the worker; the next call still works', { skip }, async () => {
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(
    generate({ model: RNN, prompt: 'ROMEO:\n', maxTokens: 100_000 }, { signal: ac.signal, onToken: () => ++n === 5 && ac.abort() }),
    (e: unknown) => isTandemError(e, 'CANCELLED'),
    'CANCELLED',
  );
  const ok = await generate({ model: RNN, prompt: 'ROMEO:\n', maxTokens: 3 }, { signal: new AbortController().signal });
  assert.equal(ok.usage.completionTokens, 3, 'still serving');
});

test('a schema-constrained call returns validated JSON; one whose max tokens cannot fit the schema fails with its code across the worker boundary', { skip }, async () => {
  const schema = { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } }, required: ['ok', 'n'] };
  const r = await generate({ model: 'fixtures/tiny-decoder-random', prompt: 'JSON please', schema, maxTokens: 64, temperature: 1, seed: 3 }, { signal: new AbortController().signal });
  const o = r.output as { ok: boolean; n: number };
  assert.equal(typeof o.ok, 'boolean', 'ok is a boolean');
  assert.ok(Number.isInteger(o.n), 'n is an integer');
  assert.deepEqual(JSON.parse(r.text), r.output, 'the text is the JSON');
  await assert.rejects(
    generate({ model: 'fixtures/tiny-decoder-random', prompt: 'JSON please', schema, maxTokens: 2, temperature: 1, seed: 3 }, { signal: new AbortController().signal }),
    (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /this schema needs at least \d+ tokens \(max tokens 2\)/.test(e.message) && e.data?.reason === 'budget',
    'refused before generating, with the reason as data',
  );
});

test('stream(): an async iterator of pieces whose return value is the result; breaking out cancels', { skip }, async () => {
  const it = client.stream({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 30, threads: 1 });
  let text = '';
  let next = await it.next();
  while (!next.done) {
    text += next.value.text;
    next = await it.next();
  }
  assert.equal(text, next.value.outputs[0]!.text, 'the pieces are the text of the result');
  assert.equal(next.value.outputs[0]!.completionTokens, 30, 'the result comes as the return value');
  let pieces = 0;
  for await (const _piece of client.stream({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 100_000, threads: 1 })) {
    if (++pieces === 3) break;
  }
  assert.equal(pieces, 3, 'left the loop early');
  const ok = await client.generate({ model: RNN, prompts: ['ROMEO:\n'], maxTokens: 2, threads: 1 });
  assert.equal(ok.outputs[0]!.completionTokens, 2, 'the worker was freed by the cancel and serves the next call');
});
