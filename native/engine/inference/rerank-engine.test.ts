import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { isTandemError } from '../common/errors.js';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { EmbedClient } from './embed-client.js';
import { RerankEngine } from './rerank-engine.js';

const { shared, skip } = sharedOrSkip();
const RERANKER = 'fixtures/reranker-tiny-random';
const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HOME: '/nonexistent-tandem-home' };
const engine = new RerankEngine(env);
const client = new EmbedClient(env);
after(async () => {
  await engine.dispose();
  await client.close();
});

/** Pairs from STS-B, plus long ones (runs of sentences) that the 512-token limit cuts. */
function testPairs(): Array<[string, string]> {
  const rows = readStsb(shared);
  const pairs: Array<[string, string]> = rows.slice(0, 40).map(([a, b]) => [a, b]);
  const all = rows.flatMap(([a, b]) => [a, b]);
  pairs.push([all.slice(0, 3).join(' '), all.slice(100, 400).join(' ')]);
  pairs.push([all.slice(500, 800).join(' '), all.slice(900, 1200).join(' ')]);
  pairs.push(['what is a protein', all.slice(1300, 1400).join(' ')]);
  return pairs;
}

/** Reference: Hugging Face's tokenizer (as it truncates) and a plain onnxruntime session, one pair per run (no padding). */
async function referenceLogits(pairs: Array<[string, string]>, opts: { zeroSegments?: boolean } = {}): Promise<number[]> {
  const req = createRequire(import.meta.url);
  const tf = (await import(req.resolve('@huggingface/transformers'))) as typeof import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.join(shared, 'models') + '/';
  const tok = (await tf.AutoTokenizer.from_pretrained(RERANKER)) as unknown as {
    encode(t: string, o?: Record<string, unknown>): number[];
  };
  const session = await ort.InferenceSession.create(path.join(shared, 'models', RERANKER, 'onnx', 'model.onnx'));
  const out: number[] = [];
  for (const [q, d] of pairs) {
    // longest_first to 512 over the two texts' own tokens ([CLS] q [SEP] d [SEP]).
    let a = tok.encode(q, { add_special_tokens: false });
    let b = tok.encode(d, { add_special_tokens: false });
    const firstShorter = a.length <= b.length;
    while (a.length + b.length > 509) {
      if (a.length > b.length || (a.length === b.length && firstShorter)) a = a.slice(0, -1);
      else b = b.slice(0, -1);
    }
    const [cls, sep] = tok.encode('');
    const ids = [cls!, ...a, sep!, ...b, sep!];
    const types = ids.map((_, i) => (i < a.length + 2 || opts.zeroSegments ? 0 : 1));
    const t = (x: number[]) => new ort.Tensor('int64', BigInt64Array.from(x.map(BigInt)), [1, x.length]);
    const r = await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(types) });
    out.push((r.logits!.data as Float32Array)[0]!);
  }
  await session.release();
  return out;
}

test('scores equal a direct onnxruntime run of the fixture on the same pairs (max diff < 1e-5), batched and padded', { skip }, async () => {
  const pairs = testPairs();
  const want = await referenceLogits(pairs);
  const r = await engine.rerank({ model: RERANKER, pairs, device: 'cpu' });
  assert.equal(r.scores.length, pairs.length, 'one score per pair');
  assert.ok(r.batches > 1 && r.batches < pairs.length, `several pairs per batch (${r.batches} batches)`);
  const diff = Math.max(...r.scores.map((s, i) => Math.abs(s - want[i]!)));
  assert.ok(diff < 1e-5, `max |diff| ${diff}`);
  assert.deepEqual(r.truncated, [40, 41, 42], 'the long pairs are flagged as truncated');
  assert.equal(r.maxLength, 512, 'the fixture config says 512');
  assert.equal(r.device.used, 'cpu', 'device reported');
  // The comparison can fail: the scores spread far beyond the tolerance, and getting the segment ids wrong moves them.
  assert.ok(Math.max(...want) - Math.min(...want) > 1e-3, `spread ${Math.max(...want) - Math.min(...want)}`);
  const wrong = await referenceLogits(pairs.slice(0, 10), { zeroSegments: true });
  assert.ok(wrong.filter((w, i) => Math.abs(w - want[i]!) > 1e-5).length >= 8, 'segment ids matter to the scores');

  // Small batches give the same scores (padding and batch-mates do not change a pair's score).
  const small = await engine.rerank({ model: RERANKER, pairs, batchTokens: 64, device: 'cpu' });
  assert.ok(small.batches > r.batches, `more batches with a smaller budget (${small.batches} vs ${r.batches})`);
  assert.ok(small.modelCached, 'the loaded model is reused');
  assert.ok(Math.max(...small.scores.map((s, i) => Math.abs(s - r.scores[i]!))) < 1e-5, 'batch-invariant');

  const sig = await engine.rerank({ model: RERANKER, pairs: pairs.slice(0, 5), activation: 'sigmoid' });
  sig.scores.forEach((s, i) => assert.ok(Math.abs(s - 1 / (1 + Math.exp(-want[i]!))) < 1e-6, `sigmoid of pair ${i}`));
  assert.equal(sig.activation, 'sigmoid', 'activation reported');
});

test('through the embedding worker: same scores, device reported, cancel before start', { skip }, async () => {
  const pairs = testPairs().slice(0, 12);
  const direct = await engine.rerank({ model: RERANKER, pairs });
  const viaWorker = await client.rerank({ model: RERANKER, pairs });
  assert.deepEqual(viaWorker.scores, direct.scores, 'identical scores off the main thread');
  assert.ok(['cpu', 'cuda', 'webgpu', 'dml', 'coreml'].includes(viaWorker.device.used), `device ${viaWorker.device.used}`);
  assert.ok(viaWorker.device.threads >= 1, 'threads reported');
  const again = await client.rerank({ model: RERANKER, pairs: pairs.slice(0, 2) });
  assert.equal(again.modelCached, true, 'the worker keeps the model loaded');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(client.rerank({ model: RERANKER, pairs }, { signal: ac.signal }), (e: unknown) => isTandemError(e, 'CANCELLED'), 'cancelled');
});

test('a bad model id is MODEL_NOT_FOUND naming it; an embedding model is not a reranker', { skip }, async () => {
  await assert.rejects(
    client.rerank({ model: 'nobody/no-such-reranker', pairs: [['q', 'd']] }),
    (e: unknown) => isTandemError(e, 'MODEL_NOT_FOUND') && /nobody\/no-such-reranker/.test(e.message) && /not found in/.test(e.message),
    'MODEL_NOT_FOUND with the id and where it looked',
  );
  await assert.rejects(
    engine.rerank({ model: 'minishlab/potion-base-2M', pairs: [['q', 'd']] }),
    (e: unknown) => isTandemError(e, 'MODEL_INVALID') && /not a reranker/.test(e.message),
    'a catalog embedding model is refused',
  );
  await assert.rejects(
    engine.rerank({ model: 'fixtures/minilm-l6-arch-random', pairs: [['q', 'd']] }),
    (e: unknown) => isTandemError(e, 'MODEL_INVALID') && /one logit per pair/.test(e.message),
    'an encoder without a classification head is refused by its output shape',
  );
  await assert.rejects(engine.rerank({ model: RERANKER, pairs: [['q'] as unknown as [string, string]] }), (e: unknown) => isTandemError(e, 'INVALID_INPUT'), 'a malformed pair');
});
