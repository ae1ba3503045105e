import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { TandemError } from '../common/errors.js';
import { physicalCores, type DeviceReport, type DeviceRequest } from '../inference/device.js';
import { openSession } from '../inference/onnx-embedder.js';
import { halfToFloat } from '../inference/pooling.js';
import type { CausalLm, LmBatch } from './lm.js';

export interface OnnxDecoderOptions {
  file: string;
  device: DeviceRequest;
  /** When false, an accelerator that cannot load is an error instead of a CPU fallback. */
  allowFallback: boolean;
  /** Filler id for left padding (masked out). */
  padId: number;
  threads?: number;
}

type KvType = 'float32' | 'float16';

interface Layout {
  layers: number;
  kvHeads: number;
  headDim: number;
  kvType: KvType;
  hasPositionIds: boolean;
  /** `num_logits_to_keep` / `logits_to_keep`: ask for the last position's logits only. */
  logitsToKeep: string | undefined;
  /** Merged decoders (`use_cache_branch`). */
  useCacheBranch: boolean;
}

function numberDim(d: unknown): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function readConfig(file: string): Record<string, unknown> {
  for (const dir of [path.dirname(file), path.dirname(path.dirname(file))]) {
    const f = path.join(dir, 'config.json');
    if (fs.existsSync(f)) {
      try {
        return JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
      } catch {
        return {};
      }
    }
  }
  return {};
}

/** Work out the KV-cache layout from the graph's inputs (config.json fills symbolic dims). */
function layoutOf(session: ort.InferenceSession, file: string): Layout {
  const names = session.inputNames;
  const need = ['input_ids', 'attention_mask'];
  for (const n of need) if (!names.includes(n)) throw new TandemError('MODEL_INVALID', `${file} has no input "${n}": not a decoder in the onnx-community layout`);
  let layers = 0;
  while (names.includes(`past_key_values.${layers}.key`)) layers++;
  if (layers === 0) throw new TandemError('MODEL_INVALID', `${file} has no past_key_values.N.key inputs: a decoder without a KV cache cannot be run step by step`);
  for (let i = 0; i < layers; i++) {
    if (!session.outputNames.includes(`present.${i}.key`) || !session.outputNames.includes(`present.${i}.value`)) throw new TandemError('MODEL_INVALID', `${file} has no present.${i}.key/value outputs`);
  }
  if (!session.outputNames.includes('logits')) throw new TandemError('MODEL_INVALID', `${file} has no "logits" output`);
  const known = new Set([...need, 'position_ids', 'num_logits_to_keep', 'logits_to_keep', 'use_cache_branch']);
  for (let i = 0; i < layers; i++) known.add(`past_key_values.${i}.key`).add(`past_key_values.${i}.value`);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new TandemError('MODEL_INVALID', `${file} wants inputs ${unknown.join(', ')}, which a text decoder does not feed`);
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  const config = readConfig(file);
  let kvHeads: number | undefined;
  let headDim: number | undefined;
  let kvType: KvType = 'float32';
  if (meta && meta.isTensor) {
    kvHeads = numberDim(meta.shape[1]);
    headDim = numberDim(meta.shape[3]);
    if (meta.type === 'float16') kvType = 'float16';
    else if (meta.type !== 'float32') throw new TandemError('MODEL_INVALID', `${file}: KV cache of type ${meta.type} is not supported (float32 or float16)`);
  }
  const heads = numberDim(config.num_attention_heads);
  kvHeads ??= numberDim(config.num_key_value_heads) ?? heads;
  const hidden = numberDim(config.hidden_size);
  headDim ??= numberDim(config.head_dim) ?? (hidden && heads ? hidden / heads : undefined);
  if (!kvHeads || !headDim) throw new TandemError('MODEL_INVALID', `${file}: cannot tell the KV heads and head size (symbolic in the graph, no config.json beside it)`);
  return {
    layers,
    kvHeads,
    headDim,
    kvType,
    hasPositionIds: names.includes('position_ids'),
    logitsToKeep: names.find((n) => n === 'num_logits_to_keep' || n === 'logits_to_keep'),
    useCacheBranch: names.includes('use_cache_branch'),
  };
}

/**
 * A decoder-only transformer exported in the onnx-community / optimum layout: input_ids,
 * attention_mask, position_ids, past_key_values.N.key/value -> logits, present.N.key/value.
 */
export class OnnxDecoder implements CausalLm {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly device: DeviceReport,
    readonly vocabSize: number,
    readonly loadMs: number,
    readonly layout: Layout,
    private readonly padId: number,
  ) {}

  static async load(opts: OnnxDecoderOptions): Promise<OnnxDecoder> {
    const t0 = performance.now();
    const threads = opts.threads ?? physicalCores();
    const { session, report } = await openSession(opts.file, opts.device, opts.allowFallback, threads);
    let layout: Layout;
    try {
      layout = layoutOf(session, opts.file);
    } catch (e) {
      await session.release();
      throw e;
    }
    const probe = new OnnxDecoder(session, report, 0, 0, layout, opts.padId);
    // Warm-up (allocates arenas, picks kernels) and tells the logits width.
    const out = await probe.run([[opts.padId]], [[1]], [[0]], probe.emptyPast(1), 0);
    const vocab = Number(out.logits.dims[2]);
    return new OnnxDecoder(session, report, vocab, performance.now() - t0, layout, opts.padId);
  }

  emptyPast(rows: number): Record<string, ort.Tensor> {
    const { layers, kvHeads, headDim, kvType } = this.layout;
    const past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < layers; i++) {
      for (const kv of ['key', 'value']) {
        past[`past_key_values.${i}.${kv}`] = new ort.Tensor(kvType, kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [rows, kvHeads, 0, headDim]);
      }
    }
    return past;
  }

  /** One forward pass: ids/mask/positions are row-major [rows, seq] / [rows, total] / [rows, seq]. */
  async run(ids: number[][], mask: number[][], positions: number[][], past: Record<string, ort.Tensor>, pastLen: number): Promise<{ logits: ort.Tensor; present: Record<string, ort.Tensor> }> {
    const rows = ids.length;
    const seq = ids[0]!.length;
    const total = mask[0]!.length;
    const big = (m: number[][], width: number): BigInt64Array => {
      const a = new BigInt64Array(rows * width);
      for (let r = 0; r < rows; r++) for (let t = 0; t < width; t++) a[r * width + t] = BigInt(m[r]![t]!);
      return a;
    };
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', big(ids, seq), [rows, seq]),
      attention_mask: new ort.Tensor('int64', big(mask, total), [rows, total]),
      ...past,
    };
    if (this.layout.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', big(positions, seq), [rows, seq]);
    if (this.layout.logitsToKeep) feeds[this.layout.logitsToKeep] = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    if (this.layout.useCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(pastLen > 0 ? 1 : 0), [1]);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      throw new TandemError('INFERENCE_FAILED', `onnxruntime failed on a decoder step of ${rows}x${seq} (past ${pastLen}): ${(e as Error).message}`, { cause: e });
    }
    const present: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.layout.layers; i++) {
      for (const kv of ['key', 'value']) present[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`] as ort.Tensor;
    }
    return { logits: out.logits as ort.Tensor, present };
  }

  async start(prompts: readonly number[][], opts: { useCache?: boolean } = {}): Promise<LmBatch> {
    const batch = new DecoderBatch(this, prompts, opts.useCache ?? true, this.padId);
    await batch.prefill();
    return batch;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

class DecoderBatch implements LmBatch {
  readonly rows: number;
  logits: Float32Array;
  readonly fedPerCall: number[] = [];
  /** Left padding of each row. */
  private readonly pads: number[];
  /** Tokens so far (including padding), for recompute mode and the mask width. */
  private readonly seqs: number[][];
  private past: Record<string, ort.Tensor>;
  private pastLen = 0;

  constructor(
    private readonly lm: OnnxDecoder,
    prompts: readonly number[][],
    private readonly useCache: boolean,
    padId: number,
  ) {
    if (prompts.length === 0) throw new TandemError('INVALID_ARGUMENT', 'a batch needs at least one prompt');
    for (const p of prompts) if (p.length === 0) throw new TandemError('INVALID_INPUT', 'a prompt has no tokens');
    this.rows = prompts.length;
    const len = Math.max(...prompts.map((p) => p.length));
    this.pads = prompts.map((p) => len - p.length);
    this.seqs = prompts.map((p) => [...new Array<number>(len - p.length).fill(padId), ...p]);
    this.logits = new Float32Array(this.rows * lm.vocabSize);
    this.past = lm.emptyPast(this.rows);
  }

  private maskRows(total: number): number[][] {
    return this.pads.map((pad) => Array.from({ length: total }, (_, t) => (t < pad ? 0 : 1)));
  }

  /** Hugging Face's position ids: cumsum(mask) - 1, padding positions set to 1. */
  private positionRows(from: number, to: number): number[][] {
    return this.pads.map((pad) => Array.from({ length: to - from }, (_, i) => (from + i < pad ? 1 : from + i - pad)));
  }

  private takeLast(t: ort.Tensor): void {
    const [rows, seq, vocab] = t.dims.map(Number) as [number, number, number];
    const data = t.type === 'float16' ? halfToFloat(t.data as Uint16Array) : (t.data as Float32Array);
    if (seq === 1) {
      this.logits = data; // already [rows, vocab]: no copy
      return;
    }
    if (this.logits.length !== rows * vocab) this.logits = new Float32Array(rows * vocab);
    for (let r = 0; r < rows; r++) this.logits.set(data.subarray((r * seq + seq - 1) * vocab, (r * seq + seq) * vocab), r * vocab);
  }

  private async forwardAll(): Promise<void> {
    const total = this.seqs[0]!.length;
    const out = await this.lm.run(this.seqs, this.maskRows(total), this.positionRows(0, total), this.lm.emptyPast(this.rows), 0);
    this.fedPerCall.push(total);
    this.takeLast(out.logits);
  }

  async prefill(): Promise<void> {
    if (!this.useCache) return this.forwardAll();
    const total = this.seqs[0]!.length;
    const out = await this.lm.run(this.seqs, this.maskRows(total), this.positionRows(0, total), this.past, 0);
    this.fedPerCall.push(total);
    this.past = out.present;
    this.pastLen = total;
    this.takeLast(out.logits);
  }

  async step(tokens: readonly number[]): Promise<void> {
    if (tokens.length !== this.rows) throw new TandemError('INTERNAL', `step got ${tokens.length} tokens for ${this.rows} rows`);
    for (let r = 0; r < this.rows; r++) this.seqs[r]!.push(tokens[r]!);
    if (!this.useCache) return this.forwardAll();
    const total = this.pastLen + 1;
    const out = await this.lm.run(
      tokens.map((t) => [t]),
      this.maskRows(total),
      this.positionRows(this.pastLen, total),
      this.past,
      this.pastLen,
    );
    this.fedPerCall.push(1);
    this.past = out.present;
    this.pastLen = total;
    this.takeLast(out.logits);
  }

  async feedTokens(tokens: readonly number[]): Promise<Float32Array> {
    if (this.rows !== 1 || !this.useCache) throw new TandemError('INTERNAL', 'feedTokens() needs a batch of one row with the cache');
    if (tokens.length === 0) throw new TandemError('INTERNAL', 'feedTokens() needs at least one token');
    this.seqs[0]!.push(...tokens);
    const total = this.pastLen + tokens.length;
    const out = await this.lm.run([[...tokens]], this.maskRows(total), this.positionRows(this.pastLen, total), this.past, this.pastLen);
    this.fedPerCall.push(tokens.length);
    this.past = out.present;
    this.pastLen = total;
    const t = out.logits;
    return t.type === 'float16' ? halfToFloat(t.data as Uint16Array) : (t.data as Float32Array);
  }

  rewind(drop: number, next: Float32Array): void {
    if (drop < 0 || drop > this.pastLen - this.pads[0]! - 1) throw new TandemError('INTERNAL', `cannot rewind ${drop} of ${this.pastLen} positions`);
    this.logits = next;
    if (drop === 0) return;
    const keep = this.pastLen - drop;
    const { kvHeads, headDim, kvType } = this.lm.layout;
    const cut: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(this.past)) {
      const src = t.data as Float32Array | Uint16Array;
      const dst = kvType === 'float16' ? new Uint16Array(kvHeads * keep * headDim) : new Float32Array(kvHeads * keep * headDim);
      for (let h = 0; h < kvHeads; h++) dst.set(src.subarray(h * this.pastLen * headDim, (h * this.pastLen + keep) * headDim), h * keep * headDim);
      cut[name] = new ort.Tensor(kvType, dst, [1, kvHeads, keep, headDim]);
    }
    this.past = cut;
    this.pastLen = keep;
    this.seqs[0]!.length = keep;
  }

  dispose(): void {
    this.past = {};
  }
}
