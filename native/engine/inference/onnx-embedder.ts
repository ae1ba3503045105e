import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { TandemError } from '../common/errors.js';
import { describeAdapter, GPU_PROVIDERS, physicalCores, type DeviceReport, type DeviceRequest, type WebGpuProbeResult } from './device.js';
import { resolveProviders, shortProbeError } from './webgpu-probe.js';
import type { Embedder } from './embedder.js';
import { POOLED_OUTPUT, withPooledOutput } from './pooled-graph.js';
import { clsPool, halfToFloat, l2NormalizeRows, meanPool } from './pooling.js';
import type { Pooling } from '../models/model-resolver.js';

export interface OnnxEmbedderOptions {
  file: string;
  device: DeviceRequest;
  /** When false, an accelerator that cannot load is an error instead of a CPU fallback. */
  allowFallback: boolean;
  pooling: Pooling;
  normalize: boolean;
  padId: number;
  threads?: number;
  /** The WebGPU probe's answer when the caller has it (the runner pool probes once for all runners). */
  webgpu?: WebGpuProbeResult;
  /**
   * On a GPU provider, pool inside the graph (pooled-graph.ts) so a batch hands back batch x hidden
   * floats, not batch x seq x hidden. Default true; false keeps pooling in JS (for comparisons).
   */
  graphPooling?: boolean;
}

/** Models up to this size are read into memory to add the pooling output; larger ones pool in JS. */
const GRAPH_POOLING_MAX_BYTES = 1 << 30;

// ORT's own logging of a provider that fails to load is a native stderr line; we report the reason ourselves.
ort.env.logLevel = 'fatal';

async function createSession(model: string | Uint8Array, provider: string, threads: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    // WebGPU: Dawn picks the adapter (a hardware one first); nodes it has no kernel for run on CPU.
    executionProviders: provider === 'webgpu' ? [{ name: 'webgpu', validationMode: 'basic' }] : [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/**
 * Load a session on the first provider that works; record why the others did not. `gpuModel`,
 * when given, supplies the model bytes a GPU provider loads instead of the file (undefined: the file).
 */
export async function openSession(
  file: string,
  device: DeviceRequest,
  allowFallback: boolean,
  threads: number,
  webgpu?: WebGpuProbeResult,
  gpuModel?: () => Uint8Array | undefined,
): Promise<{ session: ort.InferenceSession; report: DeviceReport }> {
  const plan = await resolveProviders(device, webgpu);
  const reasons = [...plan.skipped];
  for (const { provider, adapter } of plan.providers) {
    if (provider === 'cpu' && reasons.length > 0 && !allowFallback) {
      throw new TandemError('DEVICE_UNAVAILABLE', `device ${device} unavailable and CPU fallback is disabled: ${reasons.join('; ')}`, { data: { device } });
    }
    try {
      const session = await createSession((GPU_PROVIDERS.includes(provider) && gpuModel?.()) || file, provider, threads);
      const report: DeviceReport = { requested: device, used: provider, threads };
      if (adapter) report.adapter = describeAdapter(adapter);
      if (reasons.length > 0) report.fallbackReason = reasons.join('; ');
      return { session, report };
    } catch (e) {
      if (provider === 'cpu') {
        throw new TandemError('MODEL_INVALID', `onnxruntime cannot load ${file}: ${(e as Error).message}`, { cause: e });
      }
      reasons.push(`${provider}: ${shortProbeError((e as Error).message)}`);
    }
  }
  throw new TandemError('DEVICE_UNAVAILABLE', `no execution provider could load ${file}: ${reasons.join('; ')}`);
}

/** A transformer encoder run by onnxruntime-node, pooled and normalised in JS. */
export class OnnxEmbedder implements Embedder {
  readonly addSpecialTokens = true;
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly device: DeviceReport,
    readonly dims: number,
    readonly loadMs: number,
    private readonly opts: OnnxEmbedderOptions,
    private readonly output: string,
    private readonly pooled: boolean,
  ) {}

  static async load(opts: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
    const t0 = performance.now();
    const threads = opts.threads ?? physicalCores();
    const pooling = opts.pooling;
    const graphPooling =
      opts.graphPooling !== false && (pooling === 'mean' || pooling === 'cls')
        ? () => (fs.statSync(opts.file).size <= GRAPH_POOLING_MAX_BYTES ? withPooledOutput(fs.readFileSync(opts.file), pooling) : undefined)
        : undefined;
    const { session, report } = await openSession(opts.file, opts.device, opts.allowFallback, threads, opts.webgpu, graphPooling);
    const wantsPooled = opts.pooling === 'sentence_embedding' || (opts.pooling === 'mean' && session.outputNames.includes('sentence_embedding'));
    const output =
      wantsPooled && session.outputNames.includes('sentence_embedding')
        ? 'sentence_embedding'
        : session.outputNames.includes(POOLED_OUTPUT)
          ? POOLED_OUTPUT
          : session.outputNames.includes('last_hidden_state')
            ? 'last_hidden_state'
            : session.outputNames[0];
    if (!output) throw new TandemError('MODEL_INVALID', `${opts.file} has no outputs`);
    for (const name of session.inputNames) {
      if (!['input_ids', 'attention_mask', 'token_type_ids'].includes(name)) {
        await session.release();
        throw new TandemError('MODEL_INVALID', `${opts.file} wants input "${name}"; an embedding model takes input_ids, attention_mask and optionally token_type_ids`);
      }
    }
    const pooled = output === 'sentence_embedding' || output === POOLED_OUTPUT;
    const probe = new OnnxEmbedder(session, report, 0, 0, opts, output, pooled);
    // Warm-up: the first run allocates arenas and picks kernels; also tells us the output width.
    const warm = await probe.runRaw([[opts.padId, opts.padId]]);
    const dims = warm.dims;
    return new OnnxEmbedder(session, report, dims, performance.now() - t0, opts, output, pooled);
  }

  private async runRaw(batch: number[][]): Promise<{ data: Float32Array; dims: number; seq: number }> {
    const rows = batch.length;
    let seq = 1;
    for (const b of batch) if (b.length > seq) seq = b.length;
    const n = rows * seq;
    const ids = new BigInt64Array(n);
    const mask = new BigInt64Array(n);
    const pad = BigInt(this.opts.padId);
    for (let r = 0; r < rows; r++) {
      const row = batch[r]!;
      const o = r * seq;
      for (let t = 0; t < seq; t++) {
        if (t < row.length) {
          ids[o + t] = BigInt(row[t]!);
          mask[o + t] = 1n;
        } else ids[o + t] = pad;
      }
    }
    const shape = [rows, seq];
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      feeds[name] = new ort.Tensor('int64', name === 'input_ids' ? ids : name === 'attention_mask' ? mask : new BigInt64Array(n), shape);
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds, [this.output]);
    } catch (e) {
      throw new TandemError('INFERENCE_FAILED', `onnxruntime failed on a batch of ${rows}x${seq}: ${(e as Error).message}`, { cause: e });
    }
    const t = out[this.output] as ort.Tensor;
    const raw = t.type === 'float16' ? halfToFloat(t.data as Uint16Array) : (t.data as Float32Array);
    const dims = Number(t.dims[t.dims.length - 1]);
    t.dispose?.();
    return { data: raw, dims, seq };
  }

  async embed(batch: number[][]): Promise<Float32Array> {
    const { data, dims, seq } = await this.runRaw(batch);
    let v: Float32Array;
    if (this.pooled) v = data;
    else if (this.opts.pooling === 'cls') v = clsPool(data, batch.length, seq, dims);
    else v = meanPool(data, batch.length, seq, dims, batch.map((b) => b.length));
    if (this.opts.normalize) l2NormalizeRows(v, dims);
    return v;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
