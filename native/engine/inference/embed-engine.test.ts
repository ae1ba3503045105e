import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { dot, maxAbsDiff, spearman } from '../../testing/stats.js';
import { EmbedEngine, type EmbedDocumentsResult } from './embed-engine.js';
import { TextTokenizer } from './tokenizer.js';

const { shared, skip } = sharedOrSkip();
const env = (): NodeJS.ProcessEnv => ({ TANDEM_MODELS_DIR: path.join(shared, 'models'), TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-home-')) });
const engine = new EmbedEngine(env());
after(() => engine.dispose());

/** Reference: one sentence at a time, no padding, plain mean over all tokens, L2 norm. */
async function referenceVectors(modelDir: string, file: string, texts: string[]): Promise<Float32Array[]> {
  const tok = TextTokenizer.load(modelDir);
  const s = await ort.InferenceSession.create(path.join(modelDir, file), { intraOpNumThreads: 1 });
  const out: Float32Array[] = [];
  for (const t of texts) {
    const ids = tok.rawEncode(t);
    const shape = [1, ids.length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), shape),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), shape),
    };
    const r = await s.run(feeds);
    const h = r.last_hidden_state!.data as Float32Array;
    const dim = h.length / ids.length;
    const v = new Float32Array(dim);
    for (let t2 = 0; t2 < ids.length; t2++) for (let d = 0; d < dim; d++) v[d]! += h[t2 * dim + d]! / ids.length;
    const n = Math.hypot(...v);
    out.push(v.map((x) => x / n));
  }
  await s.release();
  return out;
}

// int8 models are dynamically quantized: each MatMul's activation scale is computed over the whole
// batch tensor, so an int8 vector depends on its batch-mates at ~1e-3 (transformers.js alike).
// fp32 is exact to 1e-5; int8 is held to cosine >= 0.999 against the unbatched reference.
const TOLERANCE = { fp32: { maxAbs: 1e-5 }, int8: { minCos: 0.999 } } as const;

for (const [model, variant, file] of [
  ['fixtures/minilm-l6-arch-random', 'fp32', 'onnx/model.onnx'],
  ['fixtures/minilm-l6-arch-random', 'int8', 'onnx/model_quantized.onnx'],
  ['minishlab/potion-base-2M', 'fp32', 'onnx/model.onnx'],
] as const) {
  test(`${model} ${variant}: batched vectors equal a direct ORT run with reference pooling (${variant === 'fp32' ? '1e-5' : 'cosine 0.999'})`, { skip }, async () => {
    const texts = readStsb(shared).slice(0, 60).flatMap(([a, b]) => [a, b]);
    const ref = await referenceVectors(path.join(shared, 'models', model), file, texts);
    const got = await engine.embed({ model, variant, texts, inputType: 'none' });
    assert.equal(got.count, texts.length);
    let worst = 0;
    let minCos = 1;
    ref.forEach((r, i) => {
      const v = got.vectors.subarray(i * got.dims, (i + 1) * got.dims);
      worst = Math.max(worst, maxAbsDiff(r, v));
      minCos = Math.min(minCos, r.reduce((s, x, d) => s + x * v[d]!, 0));
    });
    if (variant === 'fp32') assert.ok(worst <= TOLERANCE.fp32.maxAbs, `max abs diff ${worst}`);
    else assert.ok(minCos >= TOLERANCE.int8.minCos, `min cosine ${minCos}`);
  });
}

test('a sentence alone equals the same sentence in a batch with much longer ones (1e-5)', { skip }, async () => {
  const short = 'A man is playing a guitar.';
  const long = 'The committee, after a long and often heated debate that stretched well past midnight, finally agreed to postpone the vote on the new research funding rules until the next plenary session in the spring. '.repeat(2);
  for (const model of ['fixtures/minilm-l6-arch-random', 'minishlab/potion-base-2M']) {
    for (const variant of ['fp32', 'static'] as const) {
      if (variant === 'static' && !model.startsWith('minishlab')) continue;
      const alone = await engine.embed({ model, variant, texts: [short] });
      const mixed = await engine.embed({ model, variant, texts: [long, short, long + ' again', long], batchTokens: 100_000 });
      const d = maxAbsDiff(alone.vectors, mixed.vectors.subarray(mixed.dims, 2 * mixed.dims));
      assert.ok(d <= 1e-5, `${model} ${variant}: max abs diff ${d}`);
    }
  }
  const a8 = await engine.embed({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', texts: [short] });
  const m8 = await engine.embed({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', texts: [long, short, long], batchTokens: 100_000 });
  let cos = 0;
  for (let d = 0; d < a8.dims; d++) cos += a8.vectors[d]! * m8.vectors[a8.dims + d]!;
  assert.ok(cos >= TOLERANCE.int8.minCos, `int8 cosine ${cos}`);
});

for (const variant of ['static', 'fp32'] as const) {
  test(`potion-base-2M (${variant === 'static' ? 'native static path' : 'ONNX path'}): STS-B Spearman is 72.80 ± 0.05`, { skip }, async () => {
    const rows = readStsb(shared);
    const r = await engine.embed({ model: 'minishlab/potion-base-2M', variant, texts: rows.flatMap(([a, b]) => [a, b]) });
    assert.equal(r.device.used, variant === 'static' ? 'native' : 'cpu');
    const cos = rows.map((_, i) => dot(r.vectors, 2 * i, 2 * i + 1, r.dims));
    const rho = 100 * spearman(cos, rows.map((x) => x[2]));
    assert.ok(Math.abs(rho - 72.8) <= 0.05, `Spearman ${rho.toFixed(3)}`);
  });
}

test('potion-base-2M puts "eating bread" closer to "eating food" than to a movie review', { skip }, async () => {
  for (const variant of ['static', 'fp32'] as const) {
    const r = await engine.embed({ model: 'minishlab/potion-base-2M', variant, texts: ['A man is eating a piece of bread.', 'A man is eating food.', 'The new movie is awesome.'] });
    assert.ok(dot(r.vectors, 0, 1, r.dims) > dot(r.vectors, 0, 2, r.dims) + 0.1, variant);
  }
});

test('"hello world" through the static path matches Model2Vec (first values)', { skip }, async () => {
  const r = await engine.embed({ model: 'minishlab/potion-base-2M', variant: 'static', texts: ['hello world'] });
  assert.ok(maxAbsDiff(Array.from(r.vectors.slice(0, 4)), [-0.0634, -0.1497, -0.2706, 0.1603]) < 1e-3);
});

test('a 100,000-character text is truncated and the result says so', { skip }, async () => {
  const r = await engine.embed({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', texts: ['short text', 'word '.repeat(20_000)] });
  assert.deepEqual(r.truncated, [1]);
  assert.equal(r.maxLength, 512);
  assert.ok(r.vectors.every(Number.isFinite));
});

test('empty text and non-strings are refused with INVALID_INPUT naming the index', { skip }, async () => {
  await assert.rejects(engine.embed({ model: 'minishlab/potion-base-2M', texts: ['ok', '   '] }), { code: 'INVALID_INPUT', message: /text 1 is empty/ });
  await assert.rejects(engine.embed({ model: 'minishlab/potion-base-2M', texts: ['ok', 3 as unknown as string] }), { code: 'INVALID_INPUT', message: /text 1 is number/ });
});

test('unknown model, variant and device are clear errors', { skip }, async () => {
  await assert.rejects(engine.embed({ model: 'nobody/nothing', texts: ['x'] }), { code: 'MODEL_NOT_FOUND', message: /nobody\/nothing not found in .*models import/ });
  await assert.rejects(engine.embed({ model: 'fixtures/minilm-l6-arch-random', variant: 'fp16', texts: ['x'] }), { code: 'MODEL_NOT_FOUND', message: /no fp16 weights/ });
  await assert.rejects(engine.embed({ model: 'minishlab/potion-base-2M', device: 'tpu' as never, texts: ['x'] }), { code: 'INVALID_ARGUMENT' });
});

test('--device cuda without CUDA falls back to CPU with the reason, or fails cleanly with fallback off', { skip }, async () => {
  const r = await engine.embed({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', device: 'cuda', texts: ['hello'] });
  if (r.device.used === 'cuda') return; // a machine with a working CUDA setup
  assert.equal(r.device.used, 'cpu');
  assert.equal(r.device.requested, 'cuda');
  assert.match(r.device.fallbackReason ?? '', /cuda: /);
  await assert.rejects(engine.embed({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', device: 'cuda', allowFallback: false, texts: ['hello'] }), {
    code: 'DEVICE_UNAVAILABLE',
    message: /CPU fallback is disabled: cuda: /,
  });
});

test('the model is loaded once and reused across jobs', { skip }, async () => {
  const a = await engine.embed({ model: 'minishlab/potion-base-2M', variant: 'fp32', texts: ['one'] });
  const b = await engine.embed({ model: 'minishlab/potion-base-2M', variant: 'fp32', texts: ['two'] });
  assert.equal(b.modelCached, true);
  assert.equal(b.timings.loadMs, 0);
  assert.ok(a.modelCached || a.timings.loadMs > 0);
});

test('a NaN in a vector fails the job with NUMERIC_ERROR naming the text', { skip }, async () => {
  // A static model whose row for "bread" is NaN: the tokenizer is the real one, the table is ours.
  const src = path.join(shared, 'models', 'minishlab/potion-base-2M');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-nan-'));
  const dir = path.join(root, 'local', 'nan-model');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  const tok = TextTokenizer.load(src);
  const rows = 30000;
  const dim = 4;
  const data = new Float32Array(rows * dim).fill(0.5);
  const bread = tok.encode('bread', 8, false).ids[0]!;
  data[bread * dim] = NaN;
  const header = Buffer.from(JSON.stringify({ embeddings: { dtype: 'F32', shape: [rows, dim], data_offsets: [0, data.byteLength] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, header, Buffer.from(data.buffer)]));
  const e = new EmbedEngine({ TANDEM_MODELS_DIR: root, TANDEM_HOME: root });
  await assert.rejects(e.embed({ model: 'local/nan-model', texts: ['fine words', 'some bread'] }), { code: 'NUMERIC_ERROR', message: /NaN in the vector of text 1/ });
  const ok = await e.embed({ model: 'local/nan-model', texts: ['fine words'] });
  assert.equal(ok.count, 1);
});

/**
 * An engine whose catalog holds `test/e5-like`: potion-base-2M's files under an e5-style entry with
 * query/passage prefixes and the given maximum length.
 */
function e5LikeEngine(tmpPrefix: string, opts: { maxLength: number; queryPrefix: string }): EmbedEngine {
  const src = path.join(shared, 'models', 'minishlab/potion-base-2M');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const dir = path.join(root, 'test', 'e5-like');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'model.safetensors']) fs.symlinkSync(path.join(src, f), path.join(dir, f));
  const entry = {
    id: 'test/e5-like', repo: 'test/e5-like', revision: 'main', task: 'embedding' as const, license: 'mit', dims: 64, maxLength: opts.maxLength,
    pooling: 'mean' as const, normalize: true, prefixes: { query: opts.queryPrefix, passage: 'passage: ' },
    files: [{ path: 'model.safetensors', sha256: null, size: null }], variants: { static: 'model.safetensors' }, defaultVariant: 'static' as const,
  };
  return new EmbedEngine({ TANDEM_MODELS_DIR: root, TANDEM_HOME: root }, { version: 1 as const, models: [entry] });
}

test('per-model prefixes: --as query/passage prepend the catalog\'s strings, none adds nothing', { skip }, async () => {
  const e = e5LikeEngine('tandem-prefix-', { maxLength: 512, queryPrefix: 'query: ' });
  const text = 'how do plants make energy';
  const [q, p, n, qManual] = await Promise.all([
    e.embed({ model: 'test/e5-like', texts: [text], inputType: 'query' }),
    e.embed({ model: 'test/e5-like', texts: [text], inputType: 'passage' }),
    e.embed({ model: 'test/e5-like', texts: [text], inputType: 'none' }),
    e.embed({ model: 'test/e5-like', texts: ['query: ' + text], inputType: 'none' }),
  ]);
  assert.deepEqual(Array.from(q.vectors), Array.from(qManual.vectors));
  assert.ok(maxAbsDiff(q.vectors, p.vectors) > 1e-3, 'query and passage prefixes must differ');
  assert.ok(maxAbsDiff(q.vectors, n.vectors) > 1e-3, 'no prefix must differ from the query prefix');
});

/** The chunk texts of an embedDocuments result, in order. */
function chunkTexts(docs: Array<{ text: string }>, r: EmbedDocumentsResult): string[] {
  return Array.from(r.chunks.doc, (d, i) => docs[d]!.text.slice(r.chunks.start[i], r.chunks.end[i]));
}

test('embedDocuments chunks with the model\'s tokenizer and gives the very vectors of the chunk texts: static, and ONNX with [CLS]/[SEP]', { skip }, async () => {
  const pairs = readStsb(shared).slice(0, 120);
  const documents: Array<{ text: string; pages?: Array<{ page: number; start: number; end: number }> }> = [];
  for (let i = 0; i < pairs.length; i += 12) documents.push({ text: pairs.slice(i, i + 12).map(([a, b]) => `${a} ${b}`).join(i % 24 ? '\n\n' : ' ') });
  documents.push({ text: '' }, { text: '   \n ' });
  documents.push({ text: 'naïve café — “quoted”, zero\ufeffwidth, tab\there, 中文English. ' + 'emoji 🧬 e\u0301 accents. '.repeat(12) });
  const paged = 'The first page talks about cells and membranes. '.repeat(6) + 'The second page is about energy in plants. '.repeat(6);
  const cut = paged.indexOf('The second');
  documents.push({ text: paged, pages: [{ page: 1, start: 0, end: cut }, { page: 2, start: cut, end: paged.length }] });
  for (const [model, variant] of [['minishlab/potion-base-2M', 'static'], ['fixtures/minilm-l6-arch-random', 'fp32']] as const) {
    const tok = TextTokenizer.load(path.join(shared, 'models', model));
    const r = await engine.embedDocuments({ model, variant, documents, maxTokens: 40, overlapTokens: 8 });
    assert.equal(r.maxTokens, 40);
    assert.equal(r.overlapTokens, 8);
    const texts = chunkTexts(documents, r);
    assert.ok(texts.length > documents.length, `${model}: several chunks per document (${texts.length})`);
    assert.equal(r.count, texts.length);
    assert.ok(!Array.from(r.chunks.doc).some((d) => d === 10 || d === 11), 'blank documents have no chunks');
    texts.forEach((t, i) => {
      assert.equal(r.chunks.tokens[i], tok.rawEncode(t, false).length, `${model} chunk ${i}: its token count is the tokenizer's`);
      assert.ok(r.chunks.tokens[i]! <= 40, `${model} chunk ${i} within maxTokens`);
      assert.equal(t, t.trim(), 'chunks start and end on text');
    });
    const pagedIdx = documents.length - 1;
    const pages = Array.from(r.chunks.doc).flatMap((d, i) => (d === pagedIdx ? [[r.chunks.start[i]!, r.chunks.page[i]!]] : []));
    assert.ok(pages.length >= 2 && pages.every(([start, page]) => page === (start! < cut ? 1 : 2)), `pages follow the chunk starts: ${JSON.stringify(pages)}`);
    assert.ok(Array.from(r.chunks.doc).every((d, i) => d === pagedIdx || r.chunks.page[i] === 0), 'no page without page ranges');
    const byText = await engine.embed({ model, variant, texts });
    assert.equal(r.tokens, byText.tokens, `${model}: same number of tokens`);
    assert.deepEqual(Array.from(r.vectors), Array.from(byText.vectors), `${model} ${variant}: identical vectors`);
  }
});

test('embedDocuments puts the model\'s prefix before the chunks (as ids when it ends a word, as text otherwise), and refuses malformed requests', { skip }, async () => {
  const e = e5LikeEngine('tandem-docs-', { maxLength: 16, queryPrefix: 'query:' });
  try {
    const documents = [{ text: 'how do plants make energy from light. cells divide and grow into tissues over many days and nights in the lab' }];
    for (const inputType of ['passage', 'query'] as const) {
      const r = await e.embedDocuments({ model: 'test/e5-like', inputType, documents });
      assert.ok(r.maxTokens <= 16, `maxTokens capped by the model's length: ${r.maxTokens}`);
      const texts = chunkTexts(documents, r);
      assert.ok(texts.length >= 2, `${inputType}: the document is cut (${texts.length} chunks)`);
      const byText = await e.embed({ model: 'test/e5-like', texts, inputType });
      assert.deepEqual(Array.from(r.vectors), Array.from(byText.vectors), `${inputType}: the prefix is put before each chunk`);
      assert.deepEqual(r.truncated, byText.truncated, `${inputType}: the same rows cut to the model's length`);
    }
    const bad = (req: object) => e.embedDocuments({ model: 'test/e5-like', documents, ...req } as Parameters<EmbedEngine['embedDocuments']>[0]);
    await assert.rejects(bad({ documents: 'text' }), { code: 'INVALID_ARGUMENT', message: /documents must be an array/ });
    await assert.rejects(bad({ documents: [{ text: 'ok' }, { text: 3 }] }), { code: 'INVALID_INPUT', message: /document 1 has no text/ });
    await assert.rejects(bad({ documents: [{ text: 'ok', pages: [{ page: 1, start: 0 }] }] }), { code: 'INVALID_INPUT', message: /document 0: pages must be an array of \{ page, start, end \} integers/ });
    await assert.rejects(bad({ maxTokens: 0 }), { code: 'INVALID_ARGUMENT', message: /maxTokens must be an integer >= 1, got 0/ });
    await assert.rejects(bad({ overlapTokens: 1.5 }), { code: 'INVALID_ARGUMENT', message: /overlapTokens must be an integer >= 0, got 1.5/ });
  } finally {
    await e.dispose();
  }
});
