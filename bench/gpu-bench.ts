/**
 * npm run bench:gpu [-- --sentences N] [-- --repeat N] [-- --json]   (or bench/gpu-check.sh)
 *
 * The MiniLM-L6-architecture fixture (fp32, int8, fp16) through Tandem's embed path on the CPU
 * and on each GPU provider onnxruntime-node can use here (CUDA, WebGPU): sentences/s (best of
 * --repeat warm runs), max abs difference and lowest cosine of the vectors vs the same variant on
 * the CPU, for fp16 also the lowest cosine vs the CPU's fp32, cold load ms (worker start, adapter
 * probe, session, warm-up) and the adapter. The fixture publishes no fp16 file: one is converted
 * from its fp32 weights (onnx-fp16.ts, kept in the temp folder) and the rows say so. Each provider x variant runs in
 * its own child process so its cold load is its own. On a CPU-only machine it prints the CPU rows
 * and, for each GPU provider, why it is absent. A software adapter (llvmpipe) is measured when it
 * is the only one (marked software: a CPU pretending to be a GPU, for correctness, not speed).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceleratorPrecheck, describeAdapter, pickAdapter, type DeviceReport, type DeviceRequest } from '../native/engine/inference/device.js';
import { EmbedClient } from '../native/engine/inference/embed-client.js';
import { probeWebGpu } from '../native/engine/inference/webgpu-probe.js';
import { modelsWithFp16 } from '../native/testing/fp16-models.js';
import { readStsb, sharedDir } from '../native/testing/shared.js';

const MODEL = 'fixtures/minilm-l6-arch-random';
const FILES = { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx', fp16: 'onnx/model_fp16.onnx' } as const;
type V = keyof typeof FILES;
type Provider = 'cpu' | 'cuda' | 'webgpu';

interface One {
  provider: Provider;
  variant: V;
  sentences: number;
  coldLoadMs: number;
  sentencesPerSec: number;
  device: DeviceReport;
  vectors: string;
}

interface Row {
  provider: Provider;
  variant: V | '-';
  adapter: string;
  sentencesPerSec: number | null;
  maxAbsDiffVsCpu: number | null;
  /** Lowest cosine between a vector and its CPU twin. */
  minCosineVsCpu: number | null;
  /** fp16 rows: lowest cosine vs the CPU provider's fp32 vectors (the fp16 bar is 0.999). */
  minCosineVsCpuFp32: number | null;
  coldLoadMs: number | null;
  note: string;
}

const args = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};

function modelsDir(): string | undefined {
  if (process.env.TANDEM_MODELS_DIR && fs.existsSync(path.join(process.env.TANDEM_MODELS_DIR, MODEL))) return process.env.TANDEM_MODELS_DIR;
  const s = sharedDir();
  return s && fs.existsSync(path.join(s, 'models', MODEL)) ? path.join(s, 'models') : undefined;
}

function texts(n: number): string[] {
  const s = sharedDir();
  let pool: string[] = [];
  try {
    if (s) pool = readStsb(s).flatMap(([a, b]) => [a, b]);
  } catch {
    /* no STS-B: synthetic sentences */
  }
  if (pool.length === 0) pool = Array.from({ length: 500 }, (_, i) => `Sentence ${i} about tides, enzymes and cold starts, ${'word '.repeat(i % 23)}end.`);
  return Array.from({ length: n }, (_, i) => pool[i % pool.length]!);
}

/** Child: one provider x variant, cold, then `repeat` warm runs; vectors to a file for the diff. */
async function runOne(provider: Provider, variant: V, n: number, repeat: number, out: string, models: string): Promise<void> {
  const env = { ...process.env, TANDEM_MODELS_DIR: models, TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gpubench-')) };
  const client = new EmbedClient(env);
  const input = texts(n);
  const base = { model: MODEL, variant, device: provider as DeviceRequest, allowFallback: false };
  try {
    const t0 = performance.now();
    const pre = await client.preload(base);
    const coldLoadMs = performance.now() - t0;
    let best = 0;
    let vectors: Float32Array = new Float32Array(0);
    for (let r = 0; r < repeat; r++) {
      const t = performance.now();
      const res = await client.embed({ ...base, texts: input });
      best = Math.max(best, input.length / ((performance.now() - t) / 1000));
      vectors = res.vectors;
    }
    fs.writeFileSync(out, Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
    const one: One = { provider, variant, sentences: n, coldLoadMs, sentencesPerSec: best, device: pre.device, vectors: out };
    process.stdout.write(JSON.stringify(one) + '\n');
  } finally {
    await client.close();
  }
}

function fmt(x: number | null, digits = 0): string {
  return x === null ? '-' : x.toFixed(digits);
}

async function main(): Promise<void> {
  if (args[0] === '--one') {
    await runOne(args[1] as Provider, args[2] as V, Number(args[3]), Number(args[4]), args[5]!, args[6]!);
    return;
  }
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  const n = flag('--sentences', 256);
  const repeat = flag('--repeat', 2);
  const models = modelsDir();
  if (!models) {
    console.error(`bench:gpu: ${MODEL} not found (set TANDEM_MODELS_DIR to a folder holding it, or put ../shared/models beside the project)`);
    process.exit(2);
  }
  const variants = (Object.keys(FILES) as V[]).filter((v) => v === 'fp16' || fs.existsSync(path.join(models, MODEL, FILES[v])));
  // fp16: the published file, else one converted from fp32 (an overlay models folder in the temp dir).
  const modelsFor: Partial<Record<V, string>> = {};
  let fp16Note = '';
  let fp16Absent = '';
  try {
    const t = performance.now();
    const half = modelsWithFp16(models, MODEL);
    modelsFor.fp16 = half.models;
    if (half.made) fp16Note = `no fp16 file published: model_fp16.onnx converted from fp32 (onnx-fp16.ts${half.stats ? `, ${Math.round(performance.now() - t)} ms` : ', cached'})`;
  } catch (e) {
    fp16Absent = `no fp16 file for this model, and converting fp32 failed: ${(e as Error).message}`;
    variants.splice(variants.indexOf('fp16'), 1);
  }
  const rows: Row[] = [];
  // Which GPU providers can run here, and why the others cannot.
  const gpus: Array<{ provider: Provider; absent?: string; adapter: string; software?: boolean }> = [];
  const cudaWhy = process.platform === 'linux' && process.arch === 'x64' ? acceleratorPrecheck('cuda') : `CUDA is offered on linux-x64 only (this is ${process.platform}-${process.arch})`;
  gpus.push(cudaWhy ? { provider: 'cuda', absent: cudaWhy, adapter: '-' } : { provider: 'cuda', adapter: 'CUDA device 0' });
  const probe = await probeWebGpu({ software: true });
  const adapter = pickAdapter(probe, true);
  gpus.push(adapter ? { provider: 'webgpu', adapter: describeAdapter(adapter), software: adapter.software } : { provider: 'webgpu', absent: `no WebGPU adapter: ${probe.reason ?? 'none found'}`, adapter: '-' });
  console.error(`bench:gpu: ${MODEL} [${variants.join(', ')}], ${n} sentences, best of ${repeat}; webgpu probe ${probe.ms} ms: ${probe.adapters.map(describeAdapter).join(', ') || probe.reason}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gpubench-out-'));
  const self = fileURLToPath(import.meta.url);
  const measure = (provider: Provider, variant: V): One | string => {
    const out = path.join(tmp, `${provider}-${variant}.f32`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--one', provider, variant, String(n), String(repeat), out, modelsFor[variant] ?? models], { encoding: 'utf8', env: process.env, timeout: 1_800_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) return (r.stderr.trim().split('\n').filter((l) => !/^Warning: max/.test(l)).pop() ?? `exit ${r.status}`).slice(0, 200);
    return JSON.parse(line) as One;
  };
  const readVec = (file: string) => new Float32Array(fs.readFileSync(file).buffer.slice(0));
  const minCosine = (a: Float32Array, b: Float32Array | undefined): number | null => {
    if (!b || a.length !== b.length) return null;
    const dims = a.length / n;
    let cos = 1;
    for (let row = 0; row < n; row++) {
      let ab = 0, aa = 0, bb = 0;
      for (let k = row * dims; k < (row + 1) * dims; k++) {
        ab += a[k]! * b[k]!;
        aa += a[k]! * a[k]!;
        bb += b[k]! * b[k]!;
      }
      cos = Math.min(cos, ab / Math.sqrt(aa * bb || 1));
    }
    return cos;
  };
  let cpuFp32: Float32Array | undefined;
  for (const variant of variants) {
    console.error(`bench:gpu: cpu ${variant}...`);
    const cpu = measure('cpu', variant);
    const cpuVec = typeof cpu === 'string' ? undefined : readVec(cpu.vectors);
    if (variant === 'fp32') cpuFp32 = cpuVec;
    const vsFp32 = (vec: Float32Array) => (variant === 'fp16' ? minCosine(vec, cpuFp32) : null);
    const variantNote = variant === 'fp16' ? fp16Note : '';
    rows.push(
      typeof cpu === 'string' || !cpuVec
        ? { provider: 'cpu', variant, adapter: '-', sentencesPerSec: null, maxAbsDiffVsCpu: null, minCosineVsCpu: null, minCosineVsCpuFp32: null, coldLoadMs: null, note: `failed: ${String(cpu)}` }
        : { provider: 'cpu', variant, adapter: `${cpu.device.threads} runner(s)`, sentencesPerSec: cpu.sentencesPerSec, maxAbsDiffVsCpu: 0, minCosineVsCpu: 1, minCosineVsCpuFp32: vsFp32(cpuVec), coldLoadMs: cpu.coldLoadMs, note: variantNote },
    );
    for (const g of gpus) {
      if (g.absent) continue;
      console.error(`bench:gpu: ${g.provider} ${variant}...`);
      const r = measure(g.provider, variant);
      if (typeof r === 'string') {
        rows.push({ provider: g.provider, variant, adapter: g.adapter, sentencesPerSec: null, maxAbsDiffVsCpu: null, minCosineVsCpu: null, minCosineVsCpuFp32: null, coldLoadMs: null, note: `failed: ${r}` });
        continue;
      }
      const vec = readVec(r.vectors);
      let d: number | null = null;
      if (cpuVec && cpuVec.length === vec.length) {
        d = 0;
        for (let i = 0; i < vec.length; i++) d = Math.max(d, Math.abs(vec[i]! - cpuVec[i]!));
      }
      const note = [g.software ? 'software adapter: correctness only, not GPU speed' : '', variantNote].filter(Boolean).join('; ');
      rows.push({ provider: g.provider, variant, adapter: r.device.adapter ?? g.adapter, sentencesPerSec: r.sentencesPerSec, maxAbsDiffVsCpu: d, minCosineVsCpu: minCosine(vec, cpuVec), minCosineVsCpuFp32: vsFp32(vec), coldLoadMs: r.coldLoadMs, note });
    }
  }
  if (fp16Absent) rows.push({ provider: 'cpu', variant: 'fp16', adapter: '-', sentencesPerSec: null, maxAbsDiffVsCpu: null, minCosineVsCpu: null, minCosineVsCpuFp32: null, coldLoadMs: null, note: fp16Absent });
  for (const g of gpus) if (g.absent) rows.push({ provider: g.provider, variant: '-', adapter: '-', sentencesPerSec: null, maxAbsDiffVsCpu: null, minCosineVsCpu: null, minCosineVsCpuFp32: null, coldLoadMs: null, note: `absent: ${g.absent}` });
  fs.rmSync(tmp, { recursive: true, force: true });

  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify({ model: MODEL, sentences: n, repeat, host: `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}`, rows }, null, 2) + '\n');
    return;
  }
  const table = [
    ['provider', 'variant', 'adapter', 'sentences/s', 'max abs diff vs cpu', 'min cosine', 'min cos vs cpu fp32', 'cold load ms', 'note'],
    ...rows.map((r) => [r.provider, r.variant, r.adapter, fmt(r.sentencesPerSec, 1), r.maxAbsDiffVsCpu === null ? '-' : r.maxAbsDiffVsCpu.toExponential(1), fmt(r.minCosineVsCpu, 6), fmt(r.minCosineVsCpuFp32, 6), fmt(r.coldLoadMs), r.note]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((x, c) => (c === row.length - 1 ? x : x.padEnd(widths[c]!))).join('  ');
  console.log(`${MODEL}, ${n} sentences, best of ${repeat} warm runs; ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}`);
  console.log(line(table[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table.slice(1)) console.log(line(row));
}

await main();
