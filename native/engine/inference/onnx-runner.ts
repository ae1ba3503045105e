/**
 * A worker thread that owns one onnxruntime session (one intra-op thread on CPU) and runs the
 * batches its pool sends: an embedding model (vectors out) or a cross-encoder (one logit per pair
 * out). Several of them run batches in parallel: on CPUs this beats one session spreading each
 * batch over all cores (no per-operator thread synchronisation on small batches).
 */
import { serveWorker, workerHostPort } from '../node/worker-serve.js';
import { CrossEncoder, type CrossEncoderOptions } from './cross-encoder.js';
import type { DeviceReport } from './device.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';
import type { EncodedPair } from './tokenizer.js';

export type RunnerModel = { kind: 'embedder'; opts: OnnxEmbedderOptions } | { kind: 'cross-encoder'; opts: CrossEncoderOptions };

/** The runner's methods (called by OnnxRunnerPool over the RPC layer). Outputs are copied, not transferred (see worker-serve.ts). */
export interface RunnerApi {
  load(model: RunnerModel): Promise<{ dims: number; device: DeviceReport; loadMs: number }>;
  /** Vectors for a batch of token ids (an embedding model loaded). */
  embed(input: { batch: number[][] }): Promise<Float32Array>;
  /** One logit per pair (a cross-encoder loaded). */
  score(input: { pairs: EncodedPair[] }): Promise<Float32Array>;
}

let embedder: OnnxEmbedder | undefined;
let encoder: CrossEncoder | undefined;

serveWorker<RunnerApi>(
  workerHostPort('onnx-runner'),
  {
    load: async (model) => {
      if (model.kind === 'embedder') {
        embedder = await OnnxEmbedder.load(model.opts);
        return { dims: embedder.dims, device: embedder.device, loadMs: embedder.loadMs };
      }
      encoder = await CrossEncoder.load(model.opts);
      return { dims: 1, device: encoder.device, loadMs: encoder.loadMs };
    },
    embed: ({ batch }) => {
      if (!embedder) throw new Error('runner asked to embed without an embedding model loaded');
      return embedder.embed(batch);
    },
    score: ({ pairs }) => {
      if (!encoder) throw new Error('runner asked to score pairs without a cross-encoder loaded');
      return encoder.score(pairs);
    },
  },
  {
    dispose: async () => {
      await embedder?.dispose();
      await encoder?.dispose();
      embedder = undefined;
      encoder = undefined;
    },
  },
);
