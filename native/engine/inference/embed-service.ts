import { TandemError, toWire } from '../common/errors.js';
import { EmbedEngine, type EmbedProgress } from './embed-engine.js';
import type { EmbedHostMessage, PortLike } from './embed-protocol.js';
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
 * Serve an EmbedEngine over a port: one job at a time (a loaded session already uses every
 * core), FIFO, throttled progress, cancel for queued and running jobs. Results are copied, not
 * transferred (see HostPort: a detached buffer slows every typed-array loop in the worker).
 */
export function serveEmbedEngine(port: PortLike, engine: EmbedEngine, onShutdown: () => void = () => {}, siblings: SiblingEngines = {}): void {
  const cancelled = new Set<number>();
  let chain: Promise<void> = Promise.resolve();

  port.onMessage((msg: EmbedHostMessage) => {
    if (msg.type === 'cancel') {
      cancelled.add(msg.jobId);
      return;
    }
    if (msg.type === 'shutdown') {
      chain = chain.then(async () => {
        await engine.dispose();
        await siblings.rerank?.dispose();
        await siblings.tensors?.dispose();
        onShutdown();
      });
      return;
    }
    chain = chain.then(async () => {
      const { jobId } = msg;
      try {
        if (cancelled.has(jobId)) throw new TandemError('CANCELLED', 'embedding job cancelled');
        if (msg.type === 'preload') {
          port.post({ type: 'preloaded', jobId, result: await engine.preload(msg.request) });
          return;
        }
        if (msg.type === 'rerank') {
          if (!siblings.rerank) throw new TandemError('INTERNAL', 'this embedding process hosts no reranker');
          const result = await siblings.rerank.rerank(msg.request, { isCancelled: () => cancelled.has(jobId) });
          port.post({ type: 'reranked', jobId, result });
          return;
        }
        if (msg.type === 'run-onnx') {
          if (!siblings.tensors) throw new TandemError('INTERNAL', 'this embedding process hosts no ONNX runner');
          const result = await siblings.tensors.run(msg.request);
          port.post({ type: 'ran', jobId, result });
          return;
        }
        const hooks = {
          isCancelled: () => cancelled.has(jobId),
          onProgress: progressPoster((progress) => port.post({ type: 'progress', jobId, progress })),
        };
        if (msg.type === 'embed-documents') {
          port.post({ type: 'chunked', jobId, result: await engine.embedDocuments(msg.request, hooks) });
          return;
        }
        const result = await engine.embed(msg.request, hooks);
        port.post({ type: 'result', jobId, result });
      } catch (e) {
        port.post({ type: 'error', jobId, error: toWire(e) });
      } finally {
        cancelled.delete(jobId);
      }
    });
  });
}
