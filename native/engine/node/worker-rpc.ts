import type { ResourceLimits, Worker } from 'node:worker_threads';
import { fromWire, TandemError, type WireError } from '../common/errors.js';
import { spawnWorker } from './spawn-worker.js';

/** What every engine worker answers: events along the way, then a result or an error per job. */
type Reply = { type: string; jobId: number; result?: unknown; error?: WireError };
/** What every engine worker takes besides its own jobs. */
type Control = { type: 'cancel'; jobId: number } | { type: 'shutdown' };

/** A job message as a client writes it: the jobId is added by WorkerRpc.call. */
export type JobMessage<H> = H extends { jobId: number } ? Omit<H, 'jobId'> : never;

export interface WorkerRpcSpec<R extends Reply> {
  /** The worker entry (see spawn-worker.ts) and the module URL it is found from. */
  entry: string;
  from: string;
  /** For messages: "embedding", "generation". */
  noun: string;
  /** Replies that report progress and are not the job's end. */
  isEvent: (m: R) => boolean;
  /** The error a cancelled call rejects with before it is sent. */
  cancelled: () => TandemError;
  /**
   * Heap limits for the thread (added to spawn-worker's stack size). A worker that runs past its
   * heap dies alone: its jobs reject with INTERNAL whose `cause.code` is ERR_WORKER_OUT_OF_MEMORY,
   * and the next call starts a fresh worker.
   */
  resourceLimits?: ResourceLimits;
}

export interface RpcCallOptions<R> {
  signal?: AbortSignal;
  onEvent?: (m: R) => void;
}

interface Pending<R> {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent: ((m: R) => void) | undefined;
  /** The thread the job was sent to: only its own death fails the job. */
  worker: Worker;
}

/**
 * Host side of an engine worker: jobs go to a worker thread, so the host's event loop never runs
 * inference. The worker is started on first use (with the host's TANDEM_HOME and
 * TANDEM_MODELS_DIR), restarted if it dies, and unref'd while idle. A signal cancels a job in the
 * worker; close() lets running work stop and the thread exit by itself (terminating a thread while
 * onnxruntime runs in it aborts the whole process), forced after 10 s.
 */
export class WorkerRpc<H extends { type: string }, R extends Reply> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<R>>();

  constructor(
    private readonly spec: WorkerRpcSpec<R>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private post(w: Worker, msg: H | Control): void {
    w.postMessage(msg);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const env: NodeJS.ProcessEnv = {};
    for (const k of ['TANDEM_HOME', 'TANDEM_MODELS_DIR']) if (this.env[k] !== undefined) env[k] = this.env[k];
    const w = spawnWorker(this.spec.entry, this.spec.from, { workerData: { env }, ...(this.spec.resourceLimits ? { resourceLimits: this.spec.resourceLimits } : {}) });
    w.on('message', (m: R) => this.onMessage(m));
    w.on('error', (e) => {
      // The thread is going away (out of memory, an uncaught exception): later calls get a new one.
      if (this.worker === w) this.worker = undefined;
      this.failAll(new TandemError('INTERNAL', `${this.spec.noun} worker crashed: ${e.message}`, { cause: e }), w);
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      if (code !== 0) this.failAll(new TandemError('INTERNAL', `${this.spec.noun} worker exited with code ${code}`), w);
    });
    this.worker = w;
    return w;
  }

  /** Reject the pending jobs (those sent to `w` only, when given). */
  private failAll(e: Error, w?: Worker): void {
    for (const [id, p] of this.pending) {
      if (w && p.worker !== w) continue;
      this.pending.delete(id);
      p.reject(e);
    }
  }

  private onMessage(m: R): void {
    const p = this.pending.get(m.jobId);
    if (!p) return;
    if (this.spec.isEvent(m)) {
      p.onEvent?.(m);
      return;
    }
    this.pending.delete(m.jobId);
    if (m.type === 'error') p.reject(fromWire(m.error!));
    else p.resolve(m.result);
    if (this.pending.size === 0) this.worker?.unref();
  }

  /** Send one job (its jobId is added here) and wait for its result. */
  call<T>(msg: JobMessage<H>, opts: RpcCallOptions<R> = {}): Promise<T> {
    if (opts.signal?.aborted) return Promise.reject(this.spec.cancelled());
    const w = this.ensureWorker();
    w.ref();
    const jobId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.post(w, { type: 'cancel', jobId });
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
        onEvent: opts.onEvent,
        worker: w,
      });
      this.post(w, { ...msg, jobId } as unknown as H);
    });
  }

  /** Stop the worker: running jobs are cancelled, it releases its sessions and exits by itself. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    for (const id of this.pending.keys()) this.post(w, { type: 'cancel', jobId: id });
    w.ref();
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    this.post(w, { type: 'shutdown' });
    const timer = setTimeout(() => void w.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
    this.failAll(new TandemError('CANCELLED', `${this.spec.noun} client closed`));
  }
}
