/**
 * The host side of an engine worker: a typed RPC client (common/rpc.ts `createClient<Api>`) over
 * a worker thread, with the thread's lifecycle around it. The worker is started on first use (with
 * the host's TANDEM_HOME and TANDEM_MODELS_DIR), restarted if it dies, and unref'd while idle. A
 * signal cancels a call in the worker (the call then ends with the worker's answer, so the worker
 * is known idle); close() cancels running calls, lets the worker release what it holds and exit by
 * itself (terminating a thread while onnxruntime runs in it aborts the whole process), forced
 * after 10 s.
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { TandemError } from '../common/errors.js';
import { createClient, type PortLike, type RpcCallOptions, type RpcClient, type RpcInput, type RpcMethod, type RpcOutput } from '../common/rpc.js';
import { spawnWorker } from './spawn-worker.js';
import { SHUTDOWN_METHOD } from './worker-serve.js';

export interface WorkerClientSpec {
  /** The worker entry (see spawn-worker.ts) and the module URL it is found from. */
  entry: string;
  from: string;
  /** For messages: "embedding", "generation". */
  noun: string;
  /** The error a call rejects with when its signal is aborted before it is sent. */
  cancelled: () => TandemError;
  /**
   * Heap limits for the thread (added to spawn-worker's stack size). A worker that runs past its
   * heap dies alone: its calls reject with INTERNAL whose `cause.code` is ERR_WORKER_OUT_OF_MEMORY,
   * and the next call starts a fresh worker.
   */
  resourceLimits?: ResourceLimits;
}

interface Live<Api extends object> {
  worker: Worker;
  client: RpcClient<Api>;
  /** close() was called. */
  closing: boolean;
  /** Why the thread went away: what its pending calls reject with. */
  death?: Error;
}

/** A worker thread as a PortLike: posts copy (no transfer list, see worker-serve.ts); its end is the owner's to report ('error', 'exit'). */
export function workerPort(w: Worker): PortLike {
  return {
    post: (m) => w.postMessage(m),
    onMessage: (cb) => {
      const f = (m: unknown): void => cb(m);
      w.on('message', f);
      return () => void w.off('message', f);
    },
  };
}

export class WorkerClient<Api extends object> {
  private live: Live<Api> | undefined;

  constructor(
    private readonly spec: WorkerClientSpec,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  private ensure(): Live<Api> {
    if (this.live) return this.live;
    const env: NodeJS.ProcessEnv = {};
    for (const k of ['TANDEM_HOME', 'TANDEM_MODELS_DIR']) if (this.env[k] !== undefined) env[k] = this.env[k];
    const w = spawnWorker(this.spec.entry, this.spec.from, { workerData: { env }, ...(this.spec.resourceLimits ? { resourceLimits: this.spec.resourceLimits } : {}) });
    const live: Live<Api> = { worker: w, client: createClient(workerPort(w), { awaitCancelled: true }), closing: false };
    const die = (e: Error): void => {
      if (this.live === live) this.live = undefined;
      live.death ??= e;
      live.client.close();
    };
    // The thread is going away (out of memory, an uncaught exception): later calls get a new one.
    w.on('error', (e) => die(new TandemError('INTERNAL', `${this.spec.noun} worker crashed: ${e.message}`, { cause: e })));
    w.on('exit', (code) =>
      die(code === 0 || live.closing ? new TandemError('CANCELLED', `${this.spec.noun} client closed`) : new TandemError('INTERNAL', `${this.spec.noun} worker exited with code ${code}`)),
    );
    this.live = live;
    return live;
  }

  /** Call `method` in the worker: resolves to its output, rejects with its error (code, message and data kept). */
  call<M extends RpcMethod<Api>>(method: M, input: RpcInput<Api, M>, opts: RpcCallOptions = {}): Promise<RpcOutput<Api, M>> {
    if (opts.signal?.aborted) return Promise.reject(this.spec.cancelled());
    const live = this.ensure();
    live.worker.ref();
    // Only the caller's signal: an AbortSignal costs ~15 us to create under load, more than the
    // rest of a call; close() cancels running calls in the worker itself (serveWorker's shutdown).
    return live.client.call(method, input, opts).then(
      (out) => {
        if (live.client.pending() === 0) live.worker.unref();
        return out;
      },
      (e: unknown) => {
        if (live.client.pending() === 0) live.worker.unref();
        throw live.death ?? e;
      },
    );
  }

  /** Stop the worker: running calls are cancelled, it releases what it holds and exits by itself. */
  async close(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    live.worker.ref();
    const exited = new Promise<void>((resolve) => live.worker.once('exit', () => resolve()));
    live.closing = true;
    (live.client as unknown as RpcClient<{ [SHUTDOWN_METHOD](input: null): Promise<null> }>).call(SHUTDOWN_METHOD, null).catch(() => undefined);
    const timer = setTimeout(() => void live.worker.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
