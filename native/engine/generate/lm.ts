import type { DeviceReport } from '../inference/device.js';

/**
 * A causal language model the generation loop can drive: start a batch of prompts, then feed one
 * token per row per step. Implementations keep whatever state they need between steps (a KV cache
 * for transformer decoders, the recurrent state for an LSTM): the prefix is never fed again.
 */
export interface CausalLm {
  /** Width of a logits row (may exceed the tokenizer's vocabulary). */
  readonly vocabSize: number;
  readonly device: DeviceReport;
  readonly loadMs: number;
  /** Start a batch. Prompts of different lengths are left-padded; every prompt needs at least one token. */
  start(prompts: readonly number[][], opts?: { useCache?: boolean }): Promise<LmBatch>;
  dispose(): Promise<void>;
}

export interface LmBatch {
  readonly rows: number;
  /** Next-token logits of every row, row-major [rows, vocabSize]; valid until the next step. */
  readonly logits: Float32Array;
  /** Feed one token per row (finished rows get any filler id) and compute the next logits. */
  step(tokens: readonly number[]): Promise<void>;
  /**
   * Optional (a batch of one row, with a cache): feed several tokens in one call. Returns the
   * next-token logits after each of them, row-major [tokens.length, vocabSize], valid until the
   * next call; `logits` is not changed until {@link rewind} picks the row to continue from.
   */
  feedTokens?(tokens: readonly number[]): Promise<Float32Array>;
  /** Forget the last `drop` positions fed (draft tokens that were not kept); `logits` becomes `next`. */
  rewind?(drop: number, next: Float32Array): void;
  /** For tests and benchmarks: input positions per row fed to the model by each call (prefill first). */
  readonly fedPerCall: readonly number[];
  dispose(): void;
}
