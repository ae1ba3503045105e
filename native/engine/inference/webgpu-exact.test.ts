/**
 * The GPU path, run: embeddings, reranking and generation on onnxruntime-node's WebGPU provider
 * (Dawn) equal the CPU provider's to 1e-4 (fp32); fp16 embeddings are within cosine 0.999 of the
 * CPU provider's fp32 ones (the fixture publishes no fp16 file: testing/fp16-models.ts makes one). In CI and here the adapter is Mesa's software
 * Vulkan device llvmpipe (Mesa >= 24 from bookworm-backports; .ci/run installs it); on a machine
 * with a GPU it is the GPU. Where no adapter can be found the tests skip and say why.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { modelsWithFp16 } from '../../testing/fp16-models.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { OnnxDecoder } from '../generate/onnx-decoder.js';
import { EmbedClient } from './embed-client.js';
import { describeAdapter, pickAdapter } from './device.js';
import { probeWebGpu } from './webgpu-probe.js';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const { shared, skip: sharedSkip } = sharedOrSkip();
const probe = await probeWebGpu({ software: true });
const adapter = pickAdapter(probe, true);
const skip = sharedSkip || (adapter ? false : `skipped: no WebGPU adapter (${probe.reason ?? 'none found'})`);
if (adapter) console.log(`# webgpu adapter: ${describeAdapter(adapter)} (probe ${probe.ms} ms)`);
else console.log(`# ${skip}`);

const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HOME: '/nonexistent-tandem-home' };
const client = new EmbedClient(env);
after(() => client.close());

const TEXTS = ['Tides rise twice a day.', 'The enzyme binds its substrate.', 'A short one.', 'Cold starts cost minutes on large models, seconds on small ones.', 'x'];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const [model, variant] of [
  ['fixtures/minilm-l6-arch-random', 'fp32'],
  ['minishlab/potion-base-2M', 'fp32'],
] as const) {
  test(`embeddings: ${model} ${variant} on webgpu equal the CPU provider's to 1e-4`, { skip, timeout: 600_000 }, async () => {
    const gpu = await client.embed({ model, variant, device: 'webgpu', allowFallback: false, texts: TEXTS, threads: 1 });
    const cpu = await client.embed({ model, variant, device: 'cpu', texts: TEXTS, threads: 1 });
    assert.equal(gpu.device.used, 'webgpu', 'ran on webgpu');
    assert.equal(gpu.device.adapter, describeAdapter(adapter!), 'the report names the adapter');
    assert.equal(gpu.device.fallbackReason, undefined, 'no fallback');
    const d = maxAbsDiff(gpu.vectors, cpu.vectors);
    console.log(`# ${model} ${variant}: max abs diff ${d.toExponential(2)} over ${gpu.count}x${gpu.dims}`);
    assert.ok(d <= 1e-4, `max abs diff ${d}`);
  });
}

function minCosine(a: Float32Array, b: Float32Array, dims: number): number {
  assert.equal(a.length, b.length, 'same length');
  let m = 1;
  for (let o = 0; o < a.length; o += dims) {
    let ab = 0, aa = 0, bb = 0;
    for (let k = o; k < o + dims; k++) {
      ab += a[k]! * b[k]!;
      aa += a[k]! * a[k]!;
      bb += b[k]! * b[k]!;
    }
    m = Math.min(m, ab / Math.sqrt(aa * bb));
  }
  return m;
}

// fp16: the fixture with a converted model_fp16.onnx, through its own worker.
const FP16_MODEL = 'fixtures/minilm-l6-arch-random';
let fp16Client: EmbedClient | undefined;
after(() => fp16Client?.close());
function fp16Embed(device: 'cpu' | 'webgpu') {
  if (!fp16Client) {
    const { models } = modelsWithFp16(path.join(shared, 'models'), FP16_MODEL);
    fp16Client = new EmbedClient({ TANDEM_MODELS_DIR: models, TANDEM_HOME: '/nonexistent-tandem-home' });
  }
  return fp16Client.embed({ model: FP16_MODEL, variant: 'fp16', device, allowFallback: false, texts: TEXTS, threads: 1 });
}

for (const device of ['cpu', 'webgpu'] as const) {
  test(`embeddings: ${FP16_MODEL} fp16 on ${device} are within cosine 0.999 of the CPU provider's fp32`, { skip: device === 'cpu' ? sharedSkip : skip, timeout: 600_000 }, async () => {
    const half = await fp16Embed(device);
    const cpu = await client.embed({ model: FP16_MODEL, variant: 'fp32', device: 'cpu', texts: TEXTS, threads: 1 });
    assert.equal(half.device.used, device);
    assert.equal(half.variant, 'fp16', 'the fp16 file ran');
    const cos = minCosine(half.vectors, cpu.vectors, cpu.dims);
    console.log(`# ${FP16_MODEL} fp16 on ${device}: min cosine ${cos.toFixed(6)}, max abs diff ${maxAbsDiff(half.vectors, cpu.vectors).toExponential(2)} vs cpu fp32`);
    assert.ok(cos >= 0.999, `min cosine ${cos}`);
  });
}

test('reranking: fixtures/reranker-tiny-random on webgpu equals the CPU provider to 1e-4', { skip, timeout: 600_000 }, async () => {
  const pairs: Array<[string, string]> = TEXTS.map((t, i) => [TEXTS[(i + 1) % TEXTS.length]!, t]);
  const gpu = await client.rerank({ model: 'fixtures/reranker-tiny-random', device: 'webgpu', allowFallback: false, pairs, threads: 1 });
  const cpu = await client.rerank({ model: 'fixtures/reranker-tiny-random', device: 'cpu', pairs, threads: 1 });
  assert.equal(gpu.device.used, 'webgpu');
  const d = maxAbsDiff(gpu.scores, cpu.scores);
  console.log(`# reranker: max abs diff ${d.toExponential(2)} over ${pairs.length} pairs`);
  assert.ok(d <= 1e-4, `max abs diff ${d}`);
});

test('generation: fixtures/tiny-decoder-random, greedy steps with the KV cache on webgpu equal the CPU provider', { skip, timeout: 600_000 }, async () => {
  const file = path.join(shared, 'models', 'fixtures', 'tiny-decoder-random', 'onnx', 'model.onnx');
  const prompts = [[9707, 11, 1879, 0], [40, 1079]];
  const run = async (device: 'webgpu' | 'cpu') => {
    const lm = await OnnxDecoder.load({ file, device, allowFallback: false, padId: 151643, threads: 1 });
    try {
      const batch = await lm.start(prompts, { useCache: true });
      const steps: Float32Array[] = [];
      const tokens: number[][] = [];
      for (let s = 0; s < 4; s++) {
        const logits = Float32Array.from(batch.logits);
        steps.push(logits);
        const next = prompts.map((_, r) => {
          const row = logits.subarray(r * lm.vocabSize, (r + 1) * lm.vocabSize);
          let best = 0;
          for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
          return best;
        });
        tokens.push(next);
        await batch.step(next);
      }
      return { device: lm.device, steps, tokens };
    } finally {
      await lm.dispose();
    }
  };
  const gpu = await run('webgpu');
  const cpu = await run('cpu');
  assert.equal(gpu.device.used, 'webgpu');
  assert.deepEqual(gpu.tokens, cpu.tokens, 'the same greedy tokens');
  let d = 0;
  for (let s = 0; s < cpu.steps.length; s++) d = Math.max(d, maxAbsDiff(gpu.steps[s]!, cpu.steps[s]!));
  console.log(`# decoder: max abs logit diff ${d.toExponential(2)} over ${cpu.steps.length} steps x ${prompts.length} rows`);
  assert.ok(d <= 1e-4, `max abs logit diff ${d}`);
});
