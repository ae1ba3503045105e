import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { TextTokenizer } from './tokenizer.js';

const { shared, skip } = sharedOrSkip();
const MINILM = 'Xenova/all-MiniLM-L6-v2';

async function hfTokenizer(modelsDir: string, id: string) {
  const req = createRequire(import.meta.url);
  const tf = (await import(req.resolve('@huggingface/transformers'))) as typeof import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = modelsDir + '/';
  return tf.AutoTokenizer.from_pretrained(id);
}

test('token ids equal Hugging Face AutoTokenizer on every STS-B test sentence', { skip }, async () => {
  const models = path.join(shared, 'models');
  const ref = await hfTokenizer(models, MINILM);
  const ours = TextTokenizer.load(path.join(models, MINILM));
  const sentences = readStsb(shared).flatMap(([a, b]) => [a, b]);
  assert.equal(sentences.length, 2758);
  let mismatches = 0;
  let first = '';
  for (const s of sentences) {
    const want = ref.encode(s);
    const got = ours.encode(s, 512).ids;
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      mismatches++;
      first ||= `${JSON.stringify(s)}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`;
    }
  }
  assert.equal(mismatches, 0, `first mismatch: ${first}`);
});

test('lowercasing, accent stripping, punctuation and CJK splitting match the reference', { skip }, async () => {
  const models = path.join(shared, 'models');
  const ref = await hfTokenizer(models, MINILM);
  const ours = TextTokenizer.load(path.join(models, MINILM));
  for (const s of ['Héllo WÖRLD, naïve café!', '日本語のテキスト and 中文', "don't stop-believing...", 'tab\tand\u00a0nbsp  spaces', 'emoji 🤖 and ünïcödé', 'x'.repeat(150)]) {
    assert.deepEqual(ours.encode(s, 512).ids, ref.encode(s), s);
  }
});

test('truncation keeps [CLS] ... [SEP] and cuts the text, like Python tokenizers', { skip }, () => {
  const ours = TextTokenizer.load(path.join(shared, 'models', MINILM));
  const long = 'the quick brown fox jumps over the lazy dog. '.repeat(3000); // ~135k chars
  const full = ours.rawEncode(long);
  const enc = ours.encode(long, 256);
  assert.equal(enc.truncated, true);
  assert.equal(enc.ids.length, 256);
  assert.deepEqual(enc.ids, [...full.slice(0, 255), full[full.length - 1]]);
  const short = ours.encode('a short one', 256);
  assert.equal(short.truncated, false);
  assert.deepEqual(short.ids, ours.rawEncode('a short one'));
});

test('a text just over the limit and one exactly at it', { skip }, () => {
  const ours = TextTokenizer.load(path.join(shared, 'models', MINILM));
  const words = (n: number) => Array.from({ length: n }, () => 'cat').join(' ');
  assert.equal(ours.encode(words(14), 16).truncated, false);
  assert.equal(ours.encode(words(14), 16).ids.length, 16);
  const over = ours.encode(words(15), 16);
  assert.equal(over.truncated, true);
  assert.equal(over.ids.length, 16);
  assert.equal(over.ids[15], ours.rawEncode('')[1]);
});

test('static (Model2Vec) tokenization adds no special tokens', { skip }, () => {
  const tok = TextTokenizer.load(path.join(shared, 'models', 'minishlab/potion-base-2M'));
  const withSpecial = tok.encode('hello world', 512, true).ids;
  const without = tok.encode('hello world', 512, false).ids;
  assert.deepEqual(withSpecial.slice(1, -1), without);
  assert.equal(tok.specialCount, 2);
});

test('a folder without tokenizer.json is a clear MODEL_INVALID error', () => {
  assert.throws(() => TextTokenizer.load('/nonexistent-dir'), (e: { code?: string; message?: string }) => e.code === 'MODEL_INVALID' && /tokenizer\.json/.test(e.message ?? ''));
});
