/**
 * npm run bench:embed [-- --json] [-- --repeat N]
 *
 * All STS-B test sentences through the MiniLM-L6-architecture fixture, fp32 and int8:
 *  (a) tandem    Tandem's embed path end to end (worker, tokenize, length-bucketed batches, pool, normalise)
 *  (b) plain-ort a plain onnxruntime-node session over pre-tokenized, length-sorted batches of 32 (the ceiling)
 *  (c) transformers.js feature-extraction pipeline on the same ONNX file, batches of 32 (the peer)
 * Each system runs in its own child process so cold load time and peak RSS are its own.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { physicalCores } from '../native/engine/inference/device.js';
import { EmbedClient } from '../native/engine/inference/embed-client.js';
import { TextTokenizer } from '../native/engine/inference/tokenizer.js';
import { readStsb, sharedDir } from '../native/testing/shared.js';

const MODEL = 'fixtures/minilm-l6-arch-random';
const FILES = { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx' } as const;
type V = keyof typeof FILES;
type System = 'tandem' | 'plain-ort' | 'transformers.js';

interface Row {
  system: System;
  variant: V;
  sentences: number;
  coldLoadMs: number;
  bestSentencesPerSec: number;
  medianSentencesPerSec: number;
  peakRssMiB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(system: System, variant: V, repeat: number, shared: string): Promise<Row> {
  const modelsDir = path.join(shared, 'models');
  const texts = readStsb(shared).flatMap(([a, b]) => [a, b]);
  const rates: number[] = [];
  let coldLoadMs = 0;
  if (system === 'tandem') {
    const client = new EmbedClient({ TANDEM_MODELS_DIR: modelsDir, TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-')) });
    const t0 = performance.now();
    await client.preload({ model: MODEL, variant });
    coldLoadMs = performance.now() - t0;
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      await client.embed({ model: MODEL, variant, texts });
      rates.push((texts.length / (performance.now() - t)) * 1000);
    }
    await client.close();
  } else if (system === 'plain-ort') {
    const dir = path.join(modelsDir, MODEL);
    const tok = TextTokenizer.load(dir);
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(path.join(dir, FILES[variant]), { intraOpNumThreads: physicalCores(), graphOptimizationLevel: 'all' });
    coldLoadMs = performance.now() - t0;
    const enc = texts.map((t) => tok.rawEncode(t)).sort((a, b) => a.length - b.length);
    const feeds = [];
    for (let i = 0; i < enc.length; i += 32) {
      const b = enc.slice(i, i + 32);
      const L = b[b.length - 1]!.length;
      const ids = new BigInt64Array(b.length * L);
      const m = new BigInt64Array(b.length * L);
      b.forEach((e, j) => e.forEach((id, k) => ((ids[j * L + k] = BigInt(id)), (m[j * L + k] = 1n))));
      const shape = [b.length, L];
      feeds.push({ input_ids: new ort.Tensor('int64', ids, shape), attention_mask: new ort.Tensor('int64', m, shape), token_type_ids: new ort.Tensor('int64', new BigInt64Array(b.length * L), shape) });
    }
    await s.run(feeds[0]!);
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      for (const f of feeds) await s.run(f);
      rates.push((texts.length / (performance.now() - t)) * 1000);
    }
  } else {
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.localModelPath = modelsDir + '/';
    const t0 = performance.now();
    const ext = await tf.pipeline('feature-extraction', MODEL, { dtype: variant === 'fp32' ? 'fp32' : 'q8' });
    await ext(['warm up'], { pooling: 'mean', normalize: true });
    coldLoadMs = performance.now() - t0;
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      for (let j = 0; j < texts.length; j += 32) await ext(texts.slice(j, j + 32), { pooling: 'mean', normalize: true });
      rates.push((texts.length / (performance.now() - t)) * 1000);
    }
  }
  return {
    system,
    variant,
    sentences: texts.length,
    coldLoadMs: Math.round(coldLoadMs),
    bestSentencesPerSec: Math.round(Math.max(...rates)),
    medianSentencesPerSec: Math.round(median(rates)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const shared = sharedDir();
  if (!shared) {
    console.log('bench:embed skipped: ../shared (models and STS-B) is absent');
    return;
  }
  const repeat = Number(args[args.indexOf('--repeat') + 1]) || 3;
  const one = args.indexOf('--one');
  if (one >= 0) {
    const row = await measure(args[one + 1] as System, args[one + 2] as V, repeat, shared);
    process.stdout.write(JSON.stringify(row) + '\n');
    return;
  }
  const rows: Row[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const variant of ['fp32', 'int8'] as V[]) {
    for (const system of ['tandem', 'plain-ort', 'transformers.js'] as System[]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--one', system, variant, '--repeat', String(repeat)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`${system} ${variant} failed: ${r.stderr}`);
      rows.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as Row);
    }
  }
  const ratio = (v: V, other: System) => {
    const t = rows.find((r) => r.system === 'tandem' && r.variant === v)!;
    const o = rows.find((r) => r.system === other && r.variant === v)!;
    return t.bestSentencesPerSec / o.bestSentencesPerSec;
  };
  const summary = (['fp32', 'int8'] as V[]).map((v) => ({ variant: v, vsPlainOrt: +ratio(v, 'plain-ort').toFixed(2), vsTransformersJs: +ratio(v, 'transformers.js').toFixed(2) }));
  if (args.includes('--json')) {
    console.log(JSON.stringify({ model: MODEL, cpus: os.availableParallelism(), repeat, rows, summary }, null, 2));
    return;
  }
  console.log(`bench:embed  ${MODEL}, ${rows[0]!.sentences} STS-B sentences, best/median of ${repeat}, ${os.availableParallelism()} CPUs`);
  console.log('variant  system            sent/s best  sent/s median  cold load ms  peak RSS MiB');
  for (const r of rows) {
    console.log(`${r.variant.padEnd(8)} ${r.system.padEnd(17)} ${String(r.bestSentencesPerSec).padStart(12)} ${String(r.medianSentencesPerSec).padStart(14)} ${String(r.coldLoadMs).padStart(13)} ${String(r.peakRssMiB).padStart(13)}`);
  }
  for (const s of summary) console.log(`${s.variant}: tandem = ${s.vsPlainOrt}x plain session (target >= 0.95), ${s.vsTransformersJs}x transformers.js (target >= 2.3)`);
}

await main();
