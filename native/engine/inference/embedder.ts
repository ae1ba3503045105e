import type { DeviceReport } from './device.js';

/** A loaded model that turns token id sequences into pooled, L2-normalised vectors. */
export interface Embedder {
  readonly dims: number;
  readonly device: DeviceReport;
  /** Whether the tokenizer should add the template's special tokens ([CLS]/[SEP]...) for this embedder. */
  readonly addSpecialTokens: boolean;
  /** How many batches may be in flight at once (parallel runners). */
  readonly concurrency?: number;
  /** Milliseconds spent loading and warming up. */
  readonly loadMs: number;
  /** Embed one batch of id sequences; returns rows x dims, normalised. */
  embed(batch: number[][]): Promise<Float32Array>;
  dispose(): Promise<void>;
}
