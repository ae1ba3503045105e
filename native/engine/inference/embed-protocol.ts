import type { WireError } from '../common/errors.js';
import type { EmbedDocumentsRequest, EmbedDocumentsResult, EmbedProgress, EmbedRequest, EmbedResult } from './embed-engine.js';
import type { RerankRequest, RerankResult } from './rerank-engine.js';
import type { TensorRunRequest, TensorRunResult } from './tensor-run-engine.js';

/** Messages from a host to the embedding process (worker thread or Electron utilityProcess). */
export type EmbedHostMessage =
  | { type: 'embed'; jobId: number; request: EmbedRequest }
  /** Documents to chunk with the model's tokenizer, then embed (the indexer): answered with 'chunked'. */
  | { type: 'embed-documents'; jobId: number; request: EmbedDocumentsRequest }
  | { type: 'preload'; jobId: number; request: Omit<EmbedRequest, 'texts'> }
  /** Score (query, document) pairs with a cross-encoder (RerankEngine, in the same process). */
  | { type: 'rerank'; jobId: number; request: RerankRequest }
  /** Run an ONNX file on named tensors (TensorRunEngine, in the same process). */
  | { type: 'run-onnx'; jobId: number; request: TensorRunRequest }
  | { type: 'cancel'; jobId: number }
  /** Finish what runs, release every session, then exit (terminating a thread inside onnxruntime aborts the process). */
  | { type: 'shutdown' };

/** Messages from the embedding process back to its host. */
export type EmbedWorkerMessage =
  | { type: 'progress'; jobId: number; progress: EmbedProgress }
  | { type: 'result'; jobId: number; result: EmbedResult }
  | { type: 'chunked'; jobId: number; result: EmbedDocumentsResult }
  | { type: 'preloaded'; jobId: number; result: { device: EmbedResult['device']; dims: number; loadMs: number } }
  | { type: 'reranked'; jobId: number; result: RerankResult }
  | { type: 'ran'; jobId: number; result: TensorRunResult }
  | { type: 'error'; jobId: number; error: WireError };

/** The smallest port both worker_threads' parentPort and Electron's process.parentPort can be adapted to. */
export interface PortLike {
  /** Copies, never transfers (see HostPort). */
  post(msg: EmbedWorkerMessage): void;
  onMessage(cb: (msg: EmbedHostMessage) => void): void;
}
