import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { TextTokenizer } from './tokenizer.js';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { fastEncoder } from './embed-engine.js';
import { isWordAdditive, readTokenizerJson, wordCachedTokens } from './word-cache.js';

const { shared, skip } = sharedOrSkip();

test('the word-cached count equals the tokenizer on every STS-B sentence and on awkward text', { skip }, () => {
  const dir = path.join(shared, 'models', 'minishlab', 'potion-base-2M');
  const tok = TextTokenizer.load(dir);
  const json = readTokenizerJson(dir);
  assert.equal(isWordAdditive(json), true, 'BERT WordPiece is additive over words');
  const plain = (t: string) => tok.countTokens(t);
  const fast = wordCachedTokens((w) => tok.rawEncode(w, false), json)!.count;
  const texts = readStsb(shared).flatMap(([a, b]) => [a, b, `${a}\n\n${b}`]);
  texts.push(
    'naïve café — “quoted” (parenthesised), e-mail: a.b@c.de; 3.14159!!',
    'tab\tseparated\u00a0nbsp\u2003em-space\u3000ideographic\u2028line',
    'zero\ufeffwidth joins, control\u0000char\u0007bell, vertical\u000btab, form\u000cfeed, next\u0085line',
    '中文字符混合English词语和数字123',
    'x'.repeat(150) + ' ' + 'supercalifragilisticexpialidocious'.repeat(3),
    'emoji 🧬🔬 and combining e\u0301 accents',
    '',
    '   leading and trailing   ',
  );
  let mismatches = 0;
  for (const t of texts) if (fast(t) !== plain(t)) mismatches++;
  assert.equal(mismatches, 0, `${mismatches} of ${texts.length} texts counted differently`);
  // a second pass is served from the cache and still agrees
  for (const t of texts.slice(0, 100)) assert.equal(fast(t), plain(t), `cached count of ${JSON.stringify(t.slice(0, 40))}`);
});

test('non-additive tokenizers (byte-level BPE) get no word cache', { skip }, () => {
  const json = readTokenizerJson(path.join(shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
  assert.equal(isWordAdditive(json), false, 'Qwen BPE is not additive');
  assert.equal(wordCachedTokens((w) => [w.length], json), null, 'no cached tokens: the engine uses the tokenizer itself');
  assert.equal(isWordAdditive(null), false, 'unreadable tokenizer.json: not additive');
});

test('word-cached ids equal encoding the whole text (no specials), and give up past the limit', { skip }, () => {
  const dir = path.join(shared, 'models', 'minishlab', 'potion-base-2M');
  const tok = TextTokenizer.load(dir);
  const ids = wordCachedTokens((w) => tok.rawEncode(w, false), readTokenizerJson(dir))!.idsUpTo;
  const texts = readStsb(shared).flatMap(([a, b]) => [a, b]);
  texts.push('naïve café — “quoted”, zero\ufeffwidth, tab\there, 中文English', 'emoji 🧬 e\u0301');
  let bad = 0;
  for (const t of texts) if (JSON.stringify(ids(t, 10_000)) !== JSON.stringify(tok.rawEncode(t, false))) bad++;
  assert.equal(bad, 0, `${bad} of ${texts.length} texts encoded differently`);
  assert.equal(ids('one two three four', 2), null, 'over the limit: null (the caller truncates)');
});

test('word-cached tokens: ids and counts from one cache equal the tokenizer; none for byte-level BPE', { skip }, () => {
  const dir = path.join(shared, 'models', 'minishlab', 'potion-base-2M');
  const tok = TextTokenizer.load(dir);
  const words = wordCachedTokens((w) => tok.rawEncode(w, false), readTokenizerJson(dir))!;
  assert.ok(words, 'BERT-style: available');
  assert.ok(words.count.isSeparator, 'the counter says it is additive');
  const texts = readStsb(shared).flatMap(([a, b]) => [a, `${a}\n\n${b}`]);
  texts.push('naïve café — “quoted”, zero\ufeffwidth, tab\there, 中文English', 'emoji 🧬 e\u0301', '', '  ');
  let bad = 0;
  for (const t of texts) {
    const want = tok.rawEncode(t, false);
    if (JSON.stringify(words.ids(t)) !== JSON.stringify(want) || words.count(t) !== want.length) bad++;
  }
  assert.equal(bad, 0, `${bad} of ${texts.length} texts tokenized differently`);
  assert.equal(wordCachedTokens((w) => [w.length], readTokenizerJson(path.join(shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'))), null);
});

test('the embedding engine\'s cached encoder with [CLS]/[SEP] equals TextTokenizer.encode (HF parity) on STS-B, and defers long texts', { skip }, () => {
  const dir = path.join(shared, 'models', 'fixtures', 'minilm-l6-arch-random');
  const tok = TextTokenizer.load(dir);
  assert.deepEqual(tok.specialWrap, { before: [tok.rawEncode('', true)[0]], after: [tok.rawEncode('', true)[1]] }, 'BERT: [CLS] before, [SEP] after');
  const enc = fastEncoder(tok, wordCachedTokens((w) => tok.rawEncode(w, false), readTokenizerJson(dir)), true)!;
  assert.ok(enc, 'available for a BERT tokenizer');
  const texts = readStsb(shared).flatMap(([a, b]) => [a, b]);
  texts.push('naïve café — “quoted”, zero\ufeffwidth, tab\there, 中文English', 'emoji 🧬 e\u0301', '\u0007');
  let bad = 0;
  for (const t of texts) if (JSON.stringify(enc(t, 128)) !== JSON.stringify(tok.encode(t, 128).ids)) bad++;
  assert.equal(bad, 0, `${bad} of ${texts.length} texts encoded differently`);
  assert.equal(enc('one two three four', 5), null, '5 tokens leave room for 3 words only: null, the caller truncates');
  assert.deepEqual(enc('one two three', 5), tok.encode('one two three', 5).ids, 'exactly at the limit: kept');
  const qwen = TextTokenizer.load(path.join(shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
  assert.equal(fastEncoder(qwen, wordCachedTokens((w) => qwen.rawEncode(w, false), readTokenizerJson(path.join(shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'))), true), null, 'byte-level BPE: no cached encoder');
});
