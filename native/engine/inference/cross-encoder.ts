import ort from 'onnxruntime-node';
import { TandemError } from '../common/errors.js';
import type { DeviceReport, DeviceRequest, WebGpuProbeResult } from './device.js';
import { openSession } from './onnx-embedder.js';
import { halfToFloat } from './pooling.js';
import type { EncodedPair } from './tokenizer.js';

export interface CrossEncoderOptions {
  file: string;
  device: DeviceRequest;
  /** When false, an accelerator that cannot load is an error instead of a CPU fallback. */
  allowFallback: boolean;
  padId: number;
  threads: number;
  /** The WebGPU probe's answer when the caller has it (the runner pool probes once for all runners). */
  webgpu?: WebGpuProbeResult;
}

/** The inputs a cross-encoder export may take; anything else is not a cross-encoder. */
const PAIR_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/**
 * A cross-encoder (sequence classification with one label) run by onnxruntime-node: a batch of
 * tokenized pairs in, one raw logit per pair out. One session per model, intra-op threads over
 * the physical cores, loaded once and warmed up.
 */
export class CrossEncoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly device: DeviceReport,
    readonly loadMs: number,
    private readonly output: string,
    private readonly padId: number,
  ) {}

  static async load(opts: CrossEncoderOptions): Promise<CrossEncoder> {
    const t0 = performance.now();
    const { session, report } = await openSession(opts.file, opts.device, opts.allowFallback, opts.threads, opts.webgpu);
    const fail = async (why: string): Promise<never> => {
      await session.release();
      throw new TandemError('MODEL_INVALID', `${opts.file} is not a cross-encoder reranker: ${why}`);
    };
    for (const name of session.inputNames) {
      if (!(PAIR_INPUTS as readonly string[]).includes(name)) await fail(`it wants input "${name}" (a reranker takes ${PAIR_INPUTS.join(', ')})`);
    }
    if (!session.inputNames.includes('input_ids')) await fail('it has no input_ids input');
    const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    if (output === undefined) return fail('it has no outputs');
    const enc = new CrossEncoder(session, report, 0, output, opts.padId);
    // Warm-up (allocates arenas, picks kernels) and a check that there is one logit per pair.
    await enc.score([{ ids: [opts.padId, opts.padId], typeIds: [0, 0], truncated: false }]);
    return new CrossEncoder(session, report, performance.now() - t0, output, opts.padId);
  }

  /** Raw logits, one per pair, in batch order. Rows are right-padded with the pad id (mask 0). */
  async score(batch: ReadonlyArray<EncodedPair>): Promise<Float32Array> {
    const rows = batch.length;
    let seq = 1;
    for (const b of batch) if (b.ids.length > seq) seq = b.ids.length;
    const n = rows * seq;
    const ids = new BigInt64Array(n).fill(BigInt(this.padId));
    const mask = new BigInt64Array(n);
    const types = new BigInt64Array(n);
    for (let r = 0; r < rows; r++) {
      const row = batch[r]!;
      const o = r * seq;
      for (let t = 0; t < row.ids.length; t++) {
        ids[o + t] = BigInt(row.ids[t]!);
        mask[o + t] = 1n;
        types[o + t] = BigInt(row.typeIds[t] ?? 0);
      }
    }
    const shape = [rows, seq];
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      feeds[name] = new ort.Tensor('int64', name === 'input_ids' ? ids : name === 'attention_mask' ? mask : types, shape);
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds, [this.output]);
    } catch (e) {
      throw new TandemError('INFERENCE_FAILED', `onnxruntime failed on a batch of ${rows}x${seq} pairs: ${(e as Error).message}`, { cause: e });
    }
    const t = out[this.output] as ort.Tensor;
    const perRow = t.dims.length === 1 ? 1 : t.dims.slice(1).reduce((a, d) => a * Number(d), 1);
    if (Number(t.dims[0]) !== rows || perRow !== 1) {
      throw new TandemError('MODEL_INVALID', `output "${this.output}" has shape [${t.dims.join(', ')}] for ${rows} pairs; a reranker gives one logit per pair ([${rows}, 1])`);
    }
    const data = t.type === 'float16' ? halfToFloat(t.data as Uint16Array) : t.type === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>);
    const logits = new Float32Array(data);
    t.dispose?.();
    return logits;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
