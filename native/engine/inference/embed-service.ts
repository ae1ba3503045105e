import { TandemError } from '../common/errors.js';
import { isCancelled, type CallContext, type PortLike, type RpcHandlers, type RpcServer } from '../common/rpc.js';
import { oneAtATime, serveWorker } from '../node/worker-serve.js';
import type { EmbedEngine, EmbedProgress } from './embed-engine.js';
import type { EmbedWorkerApi, EmbedWorkerEvents } from './embed-protocol.js';
import type { RerankEngine } from './rerank-engine.js';
import type { TensorRunEngine } from './tensor-run-engine.js';

/** Progress messages at most this often (the last one always goes): a static model finishes a batch every few microseconds, and a message per batch cost the worker and the host more than the pooling (40 ms per 7,640 chunks, scratch measurement). */
export const PROGRESS_INTERVAL_MS = 50;

/** Post the first progress, then at most one per PROGRESS_INTERVAL_MS, and always the final one (done = total). */
export function progressPoster(post: (p: EmbedProgress) => void, intervalMs = PROGRESS_INTERVAL_MS, now: () => number = () => performance.now()): (p: EmbedProgress) => void {
  let last = -Infinity;
  return (p) => {
    const t = now();
    if (p.done < p.total && t - last < intervalMs) return;
    last = t;
    post(p);
  };
}

/** Engines served next to the embedding engine in the same process. */
export interface SiblingEngines {
  rerank?: RerankEngine;
  tensors?: TensorRunEngine;
}

/**
 * EmbedWorkerApi over an EmbedEngine: one call at a time (a loaded session already uses every
 * core), FIFO, throttled progress, cancel for queued and running calls.
 */
export function embedHandlers(engine: EmbedEngine, siblings: SiblingEngines = {}): RpcHandlers<EmbedWorkerApi> & { drain(): Promise<void> } {
  // isCancelled(ctx), not ctx.signal: the signal is created on first use, and costs more than a small call
  const hooks = (ctx: CallContext) => ({
    isCancelled: () => isCancelled(ctx),
    onProgress: progressPoster((p) => ctx.emit('progress', p satisfies EmbedWorkerEvents['progress'])),
  });
  return oneAtATime<EmbedWorkerApi>(
    {
      embed: (request, ctx) => engine.embed(request, hooks(ctx)),
      embedDocuments: (request, ctx) => engine.embedDocuments(request, hooks(ctx)),
      preload: (request) => engine.preload(request),
      rerank: (request, ctx) => {
        if (!siblings.rerank) throw new TandemError('INTERNAL', 'this embedding process hosts no reranker');
        return siblings.rerank.rerank(request, { isCancelled: () => isCancelled(ctx) });
      },
      runOnnx: (request) => {
        if (!siblings.tensors) throw new TandemError('INTERNAL', 'this embedding process hosts no ONNX runner');
        return siblings.tensors.run(request);
      },
    },
    () => new TandemError('CANCELLED', 'embedding job cancelled'),
  );
}

/**
 * Serve an EmbedEngine (and its siblings) on the host's port until the host shuts it down: then
 * the queued calls finish, every session is released and `host.close()` lets the process end.
 * Results are copied, not transferred (see worker-serve.ts: a detached buffer slows every
 * typed-array loop in the worker).
 */
export function serveEmbedEngine(host: { port: PortLike; close: () => void }, engine: EmbedEngine, siblings: SiblingEngines = {}): RpcServer {
  const handlers = embedHandlers(engine, siblings);
  return serveWorker<EmbedWorkerApi>(host, handlers, {
    drain: handlers.drain,
    dispose: async () => {
      await engine.dispose();
      await siblings.rerank?.dispose();
      await siblings.tensors?.dispose();
    },
  });
}
