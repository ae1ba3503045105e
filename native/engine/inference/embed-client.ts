import { TandemError } from '../common/errors.js';
import type { RpcCallOptions } from '../common/rpc.js';
import { WorkerClient } from '../node/worker-client.js';
import type { EmbedDocumentsRequest, EmbedDocumentsResult, EmbedProgress, EmbedRequest, EmbedResult } from './embed-engine.js';
import type { EmbedPreloadResult, EmbedWorkerApi, EmbedWorkerEvents } from './embed-protocol.js';
import type { RerankRequest, RerankResult } from './rerank-engine.js';
import type { TensorRunRequest, TensorRunResult } from './tensor-run-engine.js';

export interface EmbedCallOptions {
  onProgress?: (p: EmbedProgress) => void;
  signal?: AbortSignal;
}

function callOptions(opts: EmbedCallOptions): RpcCallOptions {
  const onProgress = opts.onProgress;
  return {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(onProgress
      ? {
          onEvent: (name: string, payload: unknown) => {
            if (name === 'progress') onProgress(payload as EmbedWorkerEvents['progress']);
          },
        }
      : {}),
  };
}

/**
 * Host side of the embedding worker (engine/node/worker-client.ts): calls go to a worker thread,
 * so the host's event loop never runs inference. The worker is started on first use and restarted
 * if it dies.
 */
export class EmbedClient {
  private readonly rpc: WorkerClient<EmbedWorkerApi>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.rpc = new WorkerClient<EmbedWorkerApi>({ entry: 'embed-worker', from: import.meta.url, noun: 'embedding', cancelled: () => new TandemError('CANCELLED', 'embedding job cancelled') }, env);
  }

  embed(request: EmbedRequest, opts: EmbedCallOptions = {}): Promise<EmbedResult> {
    return this.rpc.call('embed', request, callOptions(opts));
  }

  /** Chunk documents with the model's tokenizer and embed the chunks, in the worker (see EmbedDocumentsRequest). */
  embedDocuments(request: EmbedDocumentsRequest, opts: EmbedCallOptions = {}): Promise<EmbedDocumentsResult> {
    return this.rpc.call('embedDocuments', request, callOptions(opts));
  }

  preload(request: Omit<EmbedRequest, 'texts'>, opts: EmbedCallOptions = {}): Promise<EmbedPreloadResult> {
    return this.rpc.call('preload', request, callOptions(opts));
  }

  /** Score (query, document) pairs with a cross-encoder, in the worker (batched, cancellable between batches). */
  rerank(request: RerankRequest, opts: Omit<EmbedCallOptions, 'onProgress'> = {}): Promise<RerankResult> {
    return this.rpc.call('rerank', request, callOptions(opts));
  }

  /** Run an ONNX file on named tensors in the worker (inputs are copied; the session stays open for the next run). */
  runOnnx(request: TensorRunRequest, opts: Omit<EmbedCallOptions, 'onProgress'> = {}): Promise<TensorRunResult> {
    return this.rpc.call('runOnnx', request, callOptions(opts));
  }

  /**
   * Stop the worker: running work is cancelled, sessions are released, the thread exits by itself
   * (terminating a thread while onnxruntime runs in it aborts the whole process). Forced after 10 s.
   */
  close(): Promise<void> {
    return this.rpc.close();
  }
}
