import type { DeviceReport, DeviceRequest } from './device.js';
import type { Embedder } from './embedder.js';
import { l2NormalizeRows } from './pooling.js';
import { readSafetensor, type Tensor2D } from './safetensors.js';

/**
 * Model2Vec static embeddings (the potion family): a token -> vector table, mean over the
 * tokens of a text (no special tokens), then L2 normalisation. Pure JS, no ORT: the fast tier.
 */
export class StaticEmbedder implements Embedder {
  readonly addSpecialTokens = false;
  readonly dims: number;
  readonly device: DeviceReport;

  private constructor(
    private readonly table: Tensor2D,
    readonly loadMs: number,
    requested: DeviceRequest,
    private readonly normalize: boolean,
    private readonly skipIds: Set<number>,
  ) {
    this.dims = table.cols;
    this.device = { requested, used: 'native', threads: 1 };
    if (requested !== 'auto' && requested !== 'cpu') {
      this.device.fallbackReason = `a static (Model2Vec) model runs as a table lookup on the CPU; device ${requested} is not used`;
    }
  }

  static load(file: string, opts: { device: DeviceRequest; normalize: boolean; skipIds?: number[] }): StaticEmbedder {
    const t0 = performance.now();
    const table = readSafetensor(file, 'embeddings');
    return new StaticEmbedder(table, performance.now() - t0, opts.device, opts.normalize, new Set(opts.skipIds ?? []));
  }

  async embed(batch: number[][]): Promise<Float32Array> {
    const { data, cols, rows } = this.table;
    const out = new Float32Array(batch.length * cols);
    for (let r = 0; r < batch.length; r++) {
      const o = r * cols;
      let n = 0;
      for (const id of batch[r]!) {
        if (id < 0 || id >= rows || this.skipIds.has(id)) continue;
        const base = id * cols;
        for (let d = 0; d < cols; d++) out[o + d]! += data[base + d]!;
        n++;
      }
      if (n > 0) for (let d = 0; d < cols; d++) out[o + d]! /= n;
    }
    if (this.normalize) l2NormalizeRows(out, cols);
    return out;
  }

  async dispose(): Promise<void> {}
}
