import type { Worker } from 'node:worker_threads';
import { fromWire, TandemError } from '../engine/common/errors.js';
import type { EmbedProgress, EmbedRequest, EmbedResult } from './embed-engine.js';
import type { EmbedHostMessage, EmbedWorkerMessage } from './embed-protocol.js';
import { spawnWorker } from '../engine/node/spawn-worker.js';
import type { RerankRequest, RerankResult } from './rerank-engine.js';
import type { TensorRunRequest, TensorRunResult } from './tensor-run-engine.js';

export interface EmbedCallOptions {
  onProgress?: (p: EmbedProgress) => void;
  signal?: AbortSignal;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress: ((p: EmbedProgress) => void) | undefined;
}

/** The worker entry next to this module: `.ts` when run from sources (tsx), `.js` in the bundle. */
/**
 * Host side of the embedding worker: jobs go to a worker thread, so the host's event loop
 * never runs inference. The worker is started on first use and restarted if it dies.
 */
export class EmbedClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const env: NodeJS.ProcessEnv = {};
    for (const k of ['TANDEM_HOME', 'TANDEM_MODELS_DIR']) if (this.env[k] !== undefined) env[k] = this.env[k];
    const w = spawnWorker('embed-worker', import.meta.url, { workerData: { env } });
    w.on('message', (m: EmbedWorkerMessage) => this.onMessage(m));
    w.on('error', (e) => this.failAll(new TandemError('INTERNAL', `embedding worker crashed: ${e.message}`, { cause: e })));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      if (code !== 0) this.failAll(new TandemError('INTERNAL', `embedding worker exited with code ${code}`));
    });
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onMessage(m: EmbedWorkerMessage): void {
    const p = this.pending.get(m.jobId);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.progress);
      return;
    }
    this.pending.delete(m.jobId);
    if (m.type === 'error') p.reject(fromWire(m.error));
    else p.resolve(m.result);
    if (this.pending.size === 0) this.worker?.unref();
  }

  private call<T>(msg: Omit<Extract<EmbedHostMessage, { type: 'embed' | 'preload' | 'rerank' | 'run-onnx' }>, 'jobId'>, opts: EmbedCallOptions): Promise<T> {
    if (opts.signal?.aborted) return Promise.reject(new TandemError('CANCELLED', 'embedding job cancelled'));
    const w = this.ensureWorker();
    w.ref();
    const jobId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => w.postMessage({ type: 'cancel', jobId } satisfies EmbedHostMessage);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(jobId, {
        resolve: (v) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onProgress: opts.onProgress,
      });
      w.postMessage({ ...msg, jobId } as EmbedHostMessage);
    });
  }

  embed(request: EmbedRequest, opts: EmbedCallOptions = {}): Promise<EmbedResult> {
    return this.call<EmbedResult>({ type: 'embed', request }, opts);
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
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    for (const id of this.pending.keys()) w.postMessage({ type: 'cancel', jobId: id } satisfies EmbedHostMessage);
    w.ref();
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'shutdown' } satisfies EmbedHostMessage);
    const timer = setTimeout(() => void w.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
    this.failAll(new TandemError('CANCELLED', 'embedding client closed'));
  }
}
