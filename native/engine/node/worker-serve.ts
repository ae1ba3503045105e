/**
 * The worker side of an engine worker: its typed methods served over its host's port with the RPC
 * layer (common/rpc.ts `serve`). Under Node the host is a worker_threads parent (env from
 * `workerData.env` over this process's); under Electron a utilityProcess's `process.parentPort`
 * (no Electron import: only the port object the runtime hands us).
 *
 * Results are copied (structured clone), never transferred: detaching an ArrayBuffer invalidates
 * V8's "no buffer was ever detached" protector for the whole isolate, and from then on its
 * optimized code checks every typed-array access. Static pooling ran ~40% slower in the embedding
 * worker after its first transferred result (138 -> 195 ms per 7,640 chunks); copying costs about
 * 0.5 ms per MB (an 11.7 MB Float32Array posted and received through a MessagePort: 5.4 ms). So the
 * ports here post without a transfer list, on purpose.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TandemError } from '../common/errors.js';
import { isCancelled, serve, type CallContext, type PortLike, type RpcHandlers, type RpcServer } from '../common/rpc.js';
import { messagePortLike } from './rpc-ports.js';

/** The method WorkerClient.close calls: cancel the queued and running calls, dispose, then let the thread end. */
export const SHUTDOWN_METHOD = 'worker.shutdown';

interface ElectronParentPort {
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
  off?(ev: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

/** This worker's port to its host, its environment, and `close` (lets the thread or process end). */
export function workerHostPort(entry: string): { port: PortLike; env: NodeJS.ProcessEnv; close: () => void } {
  if (parentPort) {
    const p = parentPort;
    const data = (workerData ?? {}) as { env?: NodeJS.ProcessEnv };
    const port = messagePortLike(p);
    // parentPort.close() ends the thread; 'close' is not this port's business to report as a hangup
    return { env: { ...process.env, ...(data.env ?? {}) }, port: { post: port.post, onMessage: port.onMessage }, close: () => p.close() };
  }
  const ep = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (!ep) throw new Error(`${entry} must run as a worker thread or an Electron utilityProcess`);
  return {
    env: process.env,
    port: {
      post: (m) => ep.postMessage(m),
      onMessage: (cb) => {
        const f = (e: { data: unknown }): void => cb(e.data);
        ep.on('message', f);
        return () => ep.off?.('message', f);
      },
    },
    close: () => process.exit(0),
  };
}

/**
 * Run the handlers one call at a time, in arrival order (a loaded session already uses every core;
 * pdf.js and mammoth are not reentrant). A call cancelled while it waits rejects with `cancelled()`
 * without running.
 */
export function oneAtATime<Api extends object>(handlers: RpcHandlers<Api>, cancelled: () => TandemError): RpcHandlers<Api> & { drain(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  const out: Record<string, unknown> = {};
  for (const [name, h] of Object.entries(handlers as Record<string, (input: unknown, ctx: CallContext) => unknown>)) {
    out[name] = (input: unknown, ctx: CallContext): Promise<unknown> => {
      const p = chain.then(() => {
        if (isCancelled(ctx)) throw cancelled();
        return h(input, ctx);
      });
      chain = p.catch(() => undefined);
      return p;
    };
  }
  out.drain = () => chain.then(() => undefined);
  return out as RpcHandlers<Api> & { drain(): Promise<void> };
}

export interface ServeWorkerOptions {
  /** Release what the worker holds (sessions) before it ends; runs after the queued calls. */
  dispose?: () => Promise<void> | void;
  /** Resolves when the calls already made are finished (oneAtATime's `drain`); shutdown waits for it. */
  drain?: () => Promise<void>;
}

/**
 * Serve `handlers` (the worker's typed method map) to the host until it calls SHUTDOWN_METHOD:
 * then every running and queued call is cancelled (its signal aborted; its answer is not sent, the
 * host rejects it CANCELLED when the thread exits), they finish, `dispose` runs, and the thread ends
 * by itself (terminating a thread while onnxruntime runs in it aborts the whole process).
 */
export function serveWorker<Api extends object>(host: { port: PortLike; close: () => void }, handlers: RpcHandlers<Api>, opts: ServeWorkerOptions = {}): RpcServer {
  const methods = Object.keys(handlers).filter((k) => k !== 'drain');
  const api = {
    ...(handlers as Record<string, unknown>),
    [SHUTDOWN_METHOD]: async (): Promise<null> => {
      server.close(); // aborts the running and queued calls
      await opts.drain?.();
      await opts.dispose?.();
      host.close();
      return null;
    },
  };
  const server = serve(api, host.port, { methods: [...methods, SHUTDOWN_METHOD] });
  return server;
}
