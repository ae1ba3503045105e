import type { Worker } from 'node:worker_threads';
import { fromWire, TandemError } from '../engine/common/errors.js';
import { spawnWorker } from '../engine/node/spawn-worker.js';
import type { GenerateRequest, GenerateResult } from './generate-engine.js';
import type { GenerateHostMessage, GenerateWorkerMessage, PreloadResult } from './generate-protocol.js';

export interface GenerateCallOptions {
  signal?: AbortSignal;
  /** Streamed text of prompt `row` as it is generated. */
  onText?: (row: number, text: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onText: ((row: number, text: string) => void) | undefined;
}

/**
 * Host side of the generation worker: inference runs in a worker thread, which keeps the loaded
 * model (and its vocabulary index and compiled schemas) between calls. Started on first use,
 * restarted if it dies.
 */
export class GenerateClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const env: NodeJS.ProcessEnv = {};
    for (const k of ['TANDEM_HOME', 'TANDEM_MODELS_DIR']) if (this.env[k] !== undefined) env[k] = this.env[k];
    const w = spawnWorker('generate-worker', import.meta.url, { workerData: { env } });
    w.on('message', (m: GenerateWorkerMessage) => this.onMessage(m));
    w.on('error', (e) => this.failAll(new TandemError('INTERNAL', `generation worker crashed: ${e.message}`, { cause: e })));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      if (code !== 0) this.failAll(new TandemError('INTERNAL', `generation worker exited with code ${code}`));
    });
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onMessage(m: GenerateWorkerMessage): void {
    const p = this.pending.get(m.jobId);
    if (!p) return;
    if (m.type === 'text') {
      p.onText?.(m.row, m.text);
      return;
    }
    this.pending.delete(m.jobId);
    if (m.type === 'error') p.reject(fromWire(m.error));
    else p.resolve(m.result);
    if (this.pending.size === 0) this.worker?.unref();
  }

  private call<T>(msg: { type: 'generate'; request: GenerateRequest; stream: boolean } | { type: 'preload'; request: Omit<GenerateRequest, 'prompts'> }, opts: GenerateCallOptions): Promise<T> {
    if (opts.signal?.aborted) return Promise.reject(new TandemError('CANCELLED', 'generation cancelled'));
    const w = this.ensureWorker();
    w.ref();
    const jobId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => w.postMessage({ type: 'cancel', jobId } satisfies GenerateHostMessage);
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
        onText: opts.onText,
      });
      w.postMessage({ ...msg, jobId } as GenerateHostMessage);
    });
  }

  /** Generate for one or more prompts; `onText` streams each prompt's text as it comes. */
  generate(request: GenerateRequest, opts: GenerateCallOptions = {}): Promise<GenerateResult> {
    return this.call<GenerateResult>({ type: 'generate', request, stream: opts.onText !== undefined }, opts);
  }

  /**
   * The same as `generate`, as an async iterator of streamed pieces; its return value is the result.
   * Breaking out of the loop cancels the generation.
   */
  async *stream(request: GenerateRequest, opts: { signal?: AbortSignal } = {}): AsyncGenerator<{ row: number; text: string }, GenerateResult> {
    const queue: Array<{ row: number; text: string }> = [];
    let wake: (() => void) | undefined;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) ac.abort();
    let settled = false;
    const done = this.generate(request, {
      signal: ac.signal,
      onText: (row, text) => {
        queue.push({ row, text });
        wake?.();
      },
    }).finally(() => {
      settled = true;
      wake?.();
    });
    done.catch(() => {}); // surfaced by the `await done` below
    try {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (settled) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      return await done;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!settled) ac.abort();
    }
  }

  /** Load a model ahead of the first request (the load is then not paid by a job). */
  preload(request: Omit<GenerateRequest, 'prompts'>, opts: GenerateCallOptions = {}): Promise<PreloadResult> {
    return this.call<PreloadResult>({ type: 'preload', request }, opts);
  }

  /**
   * Stop the worker: running work is cancelled, the session released, the thread exits by itself
   * (terminating a thread while onnxruntime runs in it aborts the whole process). Forced after 10 s.
   */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    for (const id of this.pending.keys()) w.postMessage({ type: 'cancel', jobId: id } satisfies GenerateHostMessage);
    w.ref();
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ type: 'shutdown' } satisfies GenerateHostMessage);
    const timer = setTimeout(() => void w.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
    this.failAll(new TandemError('CANCELLED', 'generation client closed'));
  }
}
