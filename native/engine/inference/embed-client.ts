import { TandemError } from '../common/errors.js';
import { WorkerRpc, type JobMessage } from '../node/worker-rpc.js';
import type { EmbedDocumentsRequest, EmbedDocumentsResult, EmbedProgress, EmbedRequest, EmbedResult } from './embed-engine.js';
import type { EmbedHostMessage, EmbedWorkerMessage } from './embed-protocol.js';
import type { RerankRequest, RerankResult } from './rerank-engine.js';
import type { TensorRunRequest, TensorRunResult } from './tensor-run-engine.js';

export interface EmbedCallOptions {
  onProgress?: (p: EmbedProgress) => void;
  signal?: AbortSignal;
}

/**
 * Host side of the embedding worker (engine/node/worker-rpc.ts): jobs go to a worker thread, so
 * the host's event loop never runs inference. The worker is started on first use and restarted if
 * it dies.
 */
export class EmbedClient {
  private readonly rpc: WorkerRpc<EmbedHostMessage, EmbedWorkerMessage>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.rpc = new WorkerRpc(
      { entry: 'embed-worker', from: import.meta.url, noun: 'embedding', isEvent: (m) => m.type === 'progress', cancelled: () => new TandemError('CANCELLED', 'embedding job cancelled') },
      env,
    );
  }

  private call<T>(msg: JobMessage<EmbedHostMessage>, opts: EmbedCallOptions): Promise<T> {
    const onProgress = opts.onProgress;
    const onEvent = (m: EmbedWorkerMessage): void => {
      if (m.type === 'progress') onProgress?.(m.progress);
    };
    return this.rpc.call<T>(msg, { ...(opts.signal ? { signal: opts.signal } : {}), onEvent });
  }

  embed(request: EmbedRequest, opts: EmbedCallOptions = {}): Promise<EmbedResult> {
    return this.call<EmbedResult>({ type: 'embed', request }, opts);
  }

  /** Chunk documents with the model's tokenizer and embed the chunks, in the worker (see EmbedDocumentsRequest). */
  embedDocuments(request: EmbedDocumentsRequest, opts: EmbedCallOptions = {}): Promise<EmbedDocumentsResult> {
    return this.call<EmbedDocumentsResult>({ type: 'embed-documents', request }, opts);
  }

  preload(request: Omit<EmbedRequest, 'texts'>, opts: EmbedCallOptions = {}): Promise<{ device: EmbedResult['device']; dims: number; loadMs: number }> {
    return this.call({ type: 'preload', request }, opts);
  }

  /** Score (query, document) pairs with a cross-encoder, in the worker (batched, cancellable between batches). */
  rerank(request: RerankRequest, opts: Omit<EmbedCallOptions, 'onProgress'> = {}): Promise<RerankResult> {
    return this.call<RerankResult>({ type: 'rerank', request }, opts);
  }

  /** Run an ONNX file on named tensors in the worker (inputs are copied; the session stays open for the next run). */
  runOnnx(request: TensorRunRequest, opts: Omit<EmbedCallOptions, 'onProgress'> = {}): Promise<TensorRunResult> {
    return this.call<TensorRunResult>({ type: 'run-onnx', request }, opts);
  }

  /**
   * Stop the worker: running work finishes, sessions are released, the thread exits by itself
   * (terminating a thread while onnxruntime runs in it aborts the whole process). Forced after 10 s.
   */
  close(): Promise<void> {
    return this.rpc.close();
  }
}
