/**
 * npm run bench:rerank [-- --json] [-- --repeat N] [-- --models-dir DIR --model ID]
 *
 * Reranking latency: 50 (query, passage) pairs of ~200 passage tokens through a cross-encoder, the
 * way `tandem search --rerank` scores its top 50 (issue 6 target: <= 400 ms on 2 cores for a
 * MiniLM-L6-sized cross-encoder). A MiniLM-L6-sized cross-encoder with random weights is made
 * locally (not committed):
 *   /usr/bin/python3 ../shared/tools/make_minilm_arch.py --head classifier DIR/onnx/model.onnx
 *   /usr/bin/python3 ../shared/tools/make_minilm_arch.py --head classifier --int8 DIR/onnx/model_quantized.onnx
 * plus the tokenizer files of ../shared/models/fixtures/reranker-tiny-random and a config.json with
 * hidden_size 384 / 6 layers. Without --model it uses that fixture (2 layers, 128 hidden).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbedClient } from '../native/engine/inference/embed-client.js';
import { readStsb, sharedDir } from '../native/testing/shared.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const shared = sharedDir();
if (!shared) {
  console.log('bench:rerank skipped: ../shared (models and STS-B) is absent');
  process.exit(0);
}
const modelsDir = arg('--models-dir') ?? path.join(shared, 'models');
const model = arg('--model') ?? 'fixtures/reranker-tiny-random';
const repeat = Number(arg('--repeat') ?? 10);
const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: [modelsDir, path.join(shared, 'models')].join(path.delimiter), TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-rerank-bench-')) };

const sentences = readStsb(shared).flatMap(([a, b]) => [a, b]);
// ~200-token passages: 21 STS-B sentences per passage (about 204 tokens per pair)
const passages = Array.from({ length: 50 }, (_, i) => sentences.slice(i * 21, i * 21 + 21).join(' '));
const query = 'what did the man eat for breakfast';
const pairs = passages.map((p) => [query, p] as [string, string]);

const rows: { variant: string; pairs: number; passageTokens: number; loadMs: number; p50Ms: number; minMs: number; device: string }[] = [];
for (const variant of ['fp32', 'int8'] as const) {
  const client = new EmbedClient(env);
  try {
    const t0 = performance.now();
    const first = await client.rerank({ model, variant, pairs });
    const loadMs = performance.now() - t0;
    const times: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const t = performance.now();
      await client.rerank({ model, variant, pairs });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const tokens = (first as unknown as { tokens?: number }).tokens;
    rows.push({ variant, pairs: pairs.length, passageTokens: tokens ? Math.round(tokens / pairs.length) : NaN, loadMs: Math.round(loadMs), p50Ms: Math.round(times[Math.floor(times.length / 2)]!), minMs: Math.round(times[0]!), device: first.device.used });
  } catch (e) {
    console.error(`bench:rerank: ${variant}: ${(e as Error).message}`);
  } finally {
    await client.close();
  }
}
if (process.argv.includes('--json')) console.log(JSON.stringify({ model, cpus: os.availableParallelism(), rows }, null, 2));
else {
  console.log(`bench:rerank  ${model}, 50 pairs, ${os.availableParallelism()} CPUs, ${repeat} warm runs (target p50 <= 400 ms for a MiniLM-L6-sized cross-encoder)`);
  console.log('variant  pairs  tokens/pair  first call ms  p50 ms  min ms  device');
  for (const r of rows) console.log(`${r.variant.padEnd(7)} ${String(r.pairs).padStart(6)} ${String(r.passageTokens).padStart(12)} ${String(r.loadMs).padStart(14)} ${String(r.p50Ms).padStart(7)} ${String(r.minMs).padStart(7)}  ${r.device}`);
}
fs.rmSync(env.TANDEM_HOME!, { recursive: true, force: true });
