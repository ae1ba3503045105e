import ort from 'onnxruntime-node';
import { TandemError } from '../common/errors.js';
import { physicalCores, type DeviceReport, type DeviceRequest } from '../inference/device.js';
import { openSession } from '../inference/onnx-embedder.js';
import type { CausalLm, LmBatch } from './lm.js';

export interface RecurrentOptions {
  file: string;
  device: DeviceRequest;
  allowFallback: boolean;
  threads?: number;
}

/**
 * A recurrent one-step model (the char-level LSTM fixture): input_ids int64[b], h_in/c_in
 * f32[layers, b, hidden] -> logits [b, vocab], h_out, c_out. The state plays the KV cache's part:
 * each step feeds one token and the state carried over, never the prefix.
 */
export class RecurrentLm implements CausalLm {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly device: DeviceReport,
    readonly vocabSize: number,
    readonly loadMs: number,
    readonly layers: number,
    readonly hidden: number,
  ) {}

  static async load(opts: RecurrentOptions): Promise<RecurrentLm> {
    const t0 = performance.now();
    const { session, report } = await openSession(opts.file, opts.device, opts.allowFallback, opts.threads ?? physicalCores());
    const h = session.inputMetadata.find((m) => m.name === 'h_in');
    const ok = ['input_ids', 'h_in', 'c_in'].every((n) => session.inputNames.includes(n)) && ['logits', 'h_out', 'c_out'].every((n) => session.outputNames.includes(n));
    const layers = h && h.isTensor ? h.shape[0] : undefined;
    const hidden = h && h.isTensor ? h.shape[2] : undefined;
    if (!ok || typeof layers !== 'number' || typeof hidden !== 'number') {
      await session.release();
      throw new TandemError('MODEL_INVALID', `${opts.file} is not a one-step recurrent model (input_ids, h_in, c_in -> logits, h_out, c_out with fixed layer and hidden sizes)`);
    }
    const probe = new RecurrentLm(session, report, 0, 0, layers, hidden);
    const zero = probe.zeroState(1);
    const out = await probe.run([0], zero.h, zero.c);
    return new RecurrentLm(session, report, Number((out.logits as ort.Tensor).dims[1]), performance.now() - t0, layers, hidden);
  }

  zeroState(rows: number): { h: ort.Tensor; c: ort.Tensor } {
    const n = this.layers * rows * this.hidden;
    return { h: new ort.Tensor('float32', new Float32Array(n), [this.layers, rows, this.hidden]), c: new ort.Tensor('float32', new Float32Array(n), [this.layers, rows, this.hidden]) };
  }

  async run(ids: readonly number[], h: ort.Tensor, c: ort.Tensor): Promise<ort.InferenceSession.OnnxValueMapType> {
    try {
      return await this.session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((i) => BigInt(i))), [ids.length]), h_in: h, c_in: c });
    } catch (e) {
      throw new TandemError('INFERENCE_FAILED', `onnxruntime failed on a recurrent step of ${ids.length} rows: ${(e as Error).message}`, { cause: e });
    }
  }

  async start(prompts: readonly number[][], opts: { useCache?: boolean } = {}): Promise<LmBatch> {
    if (opts.useCache === false) throw new TandemError('INVALID_ARGUMENT', 'a recurrent model always carries its state; there is no recompute mode');
    const b = new RecurrentBatch(this, prompts);
    await b.prefill(prompts);
    return b;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

class RecurrentBatch implements LmBatch {
  readonly rows: number;
  readonly logits: Float32Array;
  readonly fedPerCall: number[] = [];
  private h: ort.Tensor;
  private c: ort.Tensor;

  constructor(
    private readonly lm: RecurrentLm,
    prompts: readonly number[][],
  ) {
    if (prompts.length === 0) throw new TandemError('INVALID_ARGUMENT', 'a batch needs at least one prompt');
    for (const p of prompts) if (p.length === 0) throw new TandemError('INVALID_INPUT', 'a prompt has no tokens');
    this.rows = prompts.length;
    this.logits = new Float32Array(this.rows * lm.vocabSize);
    ({ h: this.h, c: this.c } = lm.zeroState(this.rows));
  }

  /** Feed one token per row; rows marked `hold` keep their previous state and logits (left padding). */
  private async feed(ids: readonly number[], hold: readonly boolean[]): Promise<void> {
    const out = await this.lm.run(ids, this.h, this.c);
    const h = out.h_out as ort.Tensor;
    const c = out.c_out as ort.Tensor;
    const logits = (out.logits as ort.Tensor).data as Float32Array;
    const { hidden, layers, vocabSize } = this.lm;
    if (hold.some(Boolean)) {
      const hd = h.data as Float32Array;
      const cd = c.data as Float32Array;
      const oldH = this.h.data as Float32Array;
      const oldC = this.c.data as Float32Array;
      for (let r = 0; r < this.rows; r++) {
        if (!hold[r]) continue;
        for (let l = 0; l < layers; l++) {
          const o = (l * this.rows + r) * hidden;
          hd.set(oldH.subarray(o, o + hidden), o);
          cd.set(oldC.subarray(o, o + hidden), o);
        }
      }
    }
    for (let r = 0; r < this.rows; r++) if (!hold[r]) this.logits.set(logits.subarray(r * vocabSize, (r + 1) * vocabSize), r * vocabSize);
    this.h = h;
    this.c = c;
  }

  async prefill(prompts: readonly number[][]): Promise<void> {
    const len = Math.max(...prompts.map((p) => p.length));
    for (let t = 0; t < len; t++) {
      const ids = prompts.map((p) => (t >= len - p.length ? p[t - (len - p.length)]! : 0));
      const hold = prompts.map((p) => t < len - p.length);
      await this.feed(ids, hold);
      this.fedPerCall.push(1);
    }
  }

  async step(tokens: readonly number[]): Promise<void> {
    await this.feed(tokens, tokens.map(() => false));
    this.fedPerCall.push(1);
  }

  dispose(): void {}
}
