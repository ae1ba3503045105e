import type { EmbedDocumentsRequest, EmbedDocumentsResult, EmbedProgress, EmbedRequest, EmbedResult } from './embed-engine.js';
import type { RerankRequest, RerankResult } from './rerank-engine.js';
import type { TensorRunRequest, TensorRunResult } from './tensor-run-engine.js';

/** What a preload reports. */
export interface EmbedPreloadResult {
  device: EmbedResult['device'];
  dims: number;
  loadMs: number;
}

/**
 * The embedding process's methods (embed-service.ts serves them in embed-worker.ts; EmbedClient
 * calls them). Results are copied, never transferred (see engine/node/worker-serve.ts).
 */
export interface EmbedWorkerApi {
  /** Embed texts; `progress` events (EmbedProgress) along the way. */
  embed(request: EmbedRequest): Promise<EmbedResult>;
  /** Documents to chunk with the model's tokenizer, then embed (the indexer); `progress` events too. */
  embedDocuments(request: EmbedDocumentsRequest): Promise<EmbedDocumentsResult>;
  preload(request: Omit<EmbedRequest, 'texts'>): Promise<EmbedPreloadResult>;
  /** Score (query, document) pairs with a cross-encoder (RerankEngine, in the same process). */
  rerank(request: RerankRequest): Promise<RerankResult>;
  /** Run an ONNX file on named tensors (TensorRunEngine, in the same process). */
  runOnnx(request: TensorRunRequest): Promise<TensorRunResult>;
}

/** Progress events of `embed` and `embedDocuments` calls. */
export interface EmbedWorkerEvents {
  progress: EmbedProgress;
}
