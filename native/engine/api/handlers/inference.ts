/**
 * inference.*: embeddings of a page of texts with a local model (vectors as base64 float32, progress
 * as `inference.progress` events, cancel by request id), loading a model ahead, and `run-onnx`
 * jobs (an ONNX model on named tensors). The `run-onnx` runner is registered in the engine's queue
 * (`inferenceRunners`), so `jobs.retry`/`jobs.resume` re-run such jobs.
 */
import { TandemError, type JsonValue } from '../../common/errors.js';
import type { EmbedClient } from '../../inference/embed-client.js';
import { resolveOnnxFile } from '../../inference/onnx-file.js';
import { encodeOutputs, loadInputs, RUN_ONNX_KIND, runOnnxJobRunner, type RunOnnxParams } from '../../inference/run-onnx-job.js';
import type { JobRunFn } from '../../jobs/job-queue.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';

/** The runners of this area, by kind (a retried run-onnx job writes to its output file; without one its tensors are not kept). */
export function inferenceRunners(client: EmbedClient): { [RUN_ONNX_KIND]: JobRunFn<typeof RUN_ONNX_KIND> } {
  return { [RUN_ONNX_KIND]: runOnnxJobRunner(client) };
}

/** Float32 rows as base64 of their little-endian bytes (no copy of the vectors before encoding). */
function float32Base64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function inferenceHandlers(ctx: EngineContext): HandlersOf<MethodsOf<'inference.'>> {
  const { client, events, env, catalog, queue, jobs } = ctx;
  /** Embed calls in flight by request id: inference.cancel aborts one. */
  const inflight = new Map<string, AbortController>();
  return {
    'inference.embed': async ({ texts, requestId, ...request }) => {
      if (requestId !== undefined && inflight.has(requestId)) throw new TandemError('CONFLICT', `inference.embed: request ${requestId} is already running`);
      const abort = new AbortController();
      if (requestId !== undefined) inflight.set(requestId, abort);
      try {
        const r = await client.embed(
          { ...request, texts },
          { signal: abort.signal, ...(requestId !== undefined ? { onProgress: (p) => events.emit('inference.progress', { requestId, done: p.done, total: p.total }) } : {}) },
        );
        return { model: r.model, variant: r.variant, dims: r.dims, count: r.count, vectors: float32Base64(r.vectors), truncated: r.truncated, maxLength: r.maxLength, tokens: r.tokens, device: { ...r.device }, modelCached: r.modelCached, timings: { ...r.timings } };
      } finally {
        if (requestId !== undefined) inflight.delete(requestId);
      }
    },
    'inference.load': async (request) => {
      const r = await client.preload(request);
      return { dims: r.dims, loadMs: r.loadMs, device: { ...r.device } };
    },
    'inference.cancel': ({ requestId }) => {
      const a = inflight.get(requestId);
      a?.abort(new TandemError('CANCELLED', `embedding request ${requestId} cancelled`));
      return { cancelled: a !== undefined };
    },
    'inference.runOnnx': async ({ model, inputs, device, allowFallback, format, output, fetch }) => {
      const file = resolveOnnxFile(model, env, catalog);
      // Checked against the model before anything is recorded.
      const { feeds, digest } = loadInputs(inputs, file);
      const params: RunOnnxParams = { model: file, inputs, device, allowFallback, format, output, fetch };
      let outputs: Record<string, JsonValue> | null = null;
      const handle = queue.submit(
        { kind: RUN_ONNX_KIND, backend: 'local', params, inputDigest: digest },
        jobs.observed(() => runOnnxJobRunner(client, feeds, (r) => (outputs = encodeOutputs(r.outputs, format)))),
      );
      jobs.track(handle);
      jobs.publish(handle.id);
      const job = await handle.done;
      return { job: jobs.shown(job), inputs: Object.keys(feeds), outputs };
    },
  };
}
