/**
 * A worker thread that owns one onnxruntime session (one intra-op thread on CPU) and embeds the
 * batches its pool sends. Several of them run batches in parallel: on CPUs this beats one session
 * spreading each batch over all cores (no per-operator thread synchronisation on small batches).
 */
import { parentPort } from 'node:worker_threads';
import { toWire } from '../engine/common/errors.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';

export type RunnerRequest = { type: 'load'; opts: OnnxEmbedderOptions } | { type: 'embed'; id: number; batch: number[][] } | { type: 'dispose' };

export type RunnerReply =
  | { type: 'loaded'; dims: number; device: OnnxEmbedder['device']; loadMs: number }
  | { type: 'embedded'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number; error: ReturnType<typeof toWire> };

const port = parentPort;
if (!port) throw new Error('onnx-runner must run as a worker thread');
let embedder: OnnxEmbedder | undefined;

port.on('message', (msg: RunnerRequest) => {
  void (async () => {
    if (msg.type === 'load') {
      try {
        embedder = await OnnxEmbedder.load(msg.opts);
        port.postMessage({ type: 'loaded', dims: embedder.dims, device: embedder.device, loadMs: embedder.loadMs } satisfies RunnerReply);
      } catch (e) {
        port.postMessage({ type: 'error', id: -1, error: toWire(e) } satisfies RunnerReply);
      }
    } else if (msg.type === 'embed') {
      try {
        if (!embedder) throw new Error('runner used before its model was loaded');
        const vectors = await embedder.embed(msg.batch);
        port.postMessage({ type: 'embedded', id: msg.id, vectors } satisfies RunnerReply, [vectors.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ type: 'error', id: msg.id, error: toWire(e) } satisfies RunnerReply);
      }
    } else {
      await embedder?.dispose();
      embedder = undefined;
      port.close();
    }
  })();
});
