import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { longestFirstLengths, TextTokenizer } from './tokenizer.js';

const { shared, skip } = sharedOrSkip();
const RERANKER = 'fixtures/reranker-tiny-random';

interface HfBatch {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
}
type HfTokenizer = ((text: string | string[], opts: Record<string, unknown>) => HfBatch) & { encode(text: string, opts?: Record<string, unknown>): number[] };

async function hfTokenizer(modelsDir: string, id: string): Promise<HfTokenizer> {
  const req = createRequire(import.meta.url);
  const tf = (await import(req.resolve('@huggingface/transformers'))) as typeof import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = modelsDir + '/';
  return (await tf.AutoTokenizer.from_pretrained(id)) as unknown as HfTokenizer;
}

/**
 * Independent statement of `longest_first` (Hugging Face tokenizers): remove one token at a time
 * from the longer text; on a tie, from the text that started shorter (the first when they started equal).
 */
function tokenByToken(n1: number, n2: number, budget: number): [number, number] {
  let a = n1;
  let b = n2;
  const firstStartedShorter = n1 <= n2;
  while (a + b > budget) {
    if (a > b || (a === b && firstStartedShorter)) a--;
    else b--;
  }
  return [a, b];
}

test('longest_first lengths: the Rust tokenizers crate table and a token-by-token statement agree', () => {
  // truncate_encodings_longest_first in huggingface/tokenizers (max_length 7; lengths 0, 2, 4, 8).
  const table: Array<[number, number, number, number]> = [
    [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7], [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
    [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4], [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
  ];
  for (const [n1, n2, w1, w2] of table) assert.deepEqual(longestFirstLengths(n1, n2, 7), [w1, w2], `(${n1}, ${n2}) -> (${w1}, ${w2})`);
  for (let budget = 1; budget <= 24; budget++) {
    for (let n1 = 0; n1 <= 30; n1++) {
      for (let n2 = 0; n2 <= 30; n2++) {
        assert.deepEqual(longestFirstLengths(n1, n2, budget), tokenByToken(n1, n2, budget), `n1 ${n1} n2 ${n2} budget ${budget}`);
      }
    }
  }
});

test('pairs that fit: ids, segment ids and padding equal AutoTokenizer(queries, {text_pair, truncation, padding, max_length}) on all STS-B pairs', { skip }, async () => {
  const models = path.join(shared, 'models');
  const ref = await hfTokenizer(models, RERANKER);
  const ours = TextTokenizer.load(path.join(models, RERANKER));
  const pairs = readStsb(shared);
  assert.equal(pairs.length, 1379, 'all STS-B test pairs');
  let mismatches = 0;
  let first = '';
  for (let i = 0; i < pairs.length; i += 32) {
    const chunk = pairs.slice(i, i + 32);
    const want = ref(chunk.map((p) => p[0]), { text_pair: chunk.map((p) => p[1]), truncation: true, padding: true, max_length: 512, return_tensor: false });
    const enc = chunk.map(([a, b]) => ours.encodePair(a, b, 512));
    const width = Math.max(...enc.map((e) => e.ids.length));
    enc.forEach((e, r) => {
      const pad = width - e.ids.length;
      const got = {
        ids: [...e.ids, ...new Array<number>(pad).fill(ours.padId)],
        types: [...e.typeIds, ...new Array<number>(pad).fill(0)],
        mask: [...e.ids.map(() => 1), ...new Array<number>(pad).fill(0)],
      };
      const exp = { ids: want.input_ids[r], types: want.token_type_ids[r], mask: want.attention_mask[r] };
      if (JSON.stringify(got) !== JSON.stringify(exp)) {
        mismatches++;
        first ||= `${JSON.stringify(chunk[r])}: want ${JSON.stringify(exp)} got ${JSON.stringify(got)}`;
      }
      if (e.truncated) mismatches++;
    });
  }
  assert.equal(mismatches, 0, `first mismatch: ${first}`);
});

test('long pairs: [CLS] q [SEP] d [SEP] cut longest-first, each side equal to the reference tokenization of that text', { skip }, async () => {
  const models = path.join(shared, 'models');
  const ref = await hfTokenizer(models, RERANKER);
  const ours = TextTokenizer.load(path.join(models, RERANKER));
  const sentences = readStsb(shared).flatMap(([a, b]) => [a, b]);
  const cls = ref.encode('')[0]!;
  const sep = ref.encode('')[1]!;
  // Long texts are runs of consecutive STS-B sentences; every combination of short/long sides and limits.
  const texts: string[] = [];
  for (let i = 0, n = 1; i + n < sentences.length && texts.length < 120; i += n, n = (n % 60) + 1 + (texts.length % 7)) texts.push(sentences.slice(i, i + n).join(' '));
  let checked = 0;
  let cut = 0;
  let bothCut = 0;
  for (const maxLength of [32, 64, 128, 512]) {
    for (let i = 0; i < texts.length; i++) {
      const q = texts[i]!;
      const d = texts[(i * 7 + 3) % texts.length]!;
      const a = ref.encode(q, { add_special_tokens: false });
      const b = ref.encode(d, { add_special_tokens: false });
      const [n1, n2] = tokenByToken(a.length, b.length, maxLength - 3);
      const want = [cls, ...a.slice(0, n1), sep, ...b.slice(0, n2), sep];
      const wantTypes = [...new Array<number>(n1 + 2).fill(0), ...new Array<number>(n2 + 1).fill(1)];
      const got = ours.encodePair(q, d, maxLength);
      assert.deepEqual(got.ids, want, `max ${maxLength}, pair ${i}: ${a.length}+${b.length} tokens`);
      assert.deepEqual(got.typeIds, wantTypes, `segment ids, max ${maxLength}, pair ${i}`);
      assert.ok(got.ids.length <= maxLength, `pair ${i} fits ${maxLength}`);
      assert.equal(got.truncated, n1 < a.length || n2 < b.length, `truncated flag, max ${maxLength}, pair ${i}`);
      if (got.truncated) cut++;
      if (n1 < a.length && n2 < b.length) bothCut++;
      // When it fits, this is exactly the library call with truncation and padding (one row: no padding).
      if (!got.truncated) {
        const one = ref([q], { text_pair: [d], truncation: true, padding: true, max_length: maxLength, return_tensor: false });
        assert.deepEqual(got.ids, one.input_ids[0], `fits: equal to AutoTokenizer, max ${maxLength}, pair ${i}`);
        assert.deepEqual(got.typeIds, one.token_type_ids[0], `fits: segment ids equal to AutoTokenizer, max ${maxLength}, pair ${i}`);
      }
      checked++;
    }
  }
  assert.ok(cut > 100 && bothCut > 20 && cut < checked, `a mix of cut and uncut pairs, some cut on both sides (${checked} pairs, ${cut} cut, ${bothCut} both)`);
});

test('a pair too small for its template is an INVALID_ARGUMENT', { skip }, () => {
  const ours = TextTokenizer.load(path.join(shared, 'models', RERANKER));
  assert.equal(ours.pairSpecialCount, 3, '[CLS] [SEP] [SEP]');
  assert.throws(() => ours.encodePair('a', 'b', 4), (e: { code?: string }) => e.code === 'INVALID_ARGUMENT', 'max length 4 leaves one token for two texts');
  const tight = ours.encodePair('alpha beta', 'gamma delta', 5);
  assert.equal(tight.ids.length, 5, 'one token each');
  assert.equal(tight.truncated, true, 'cut');
});
