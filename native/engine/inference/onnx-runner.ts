/**
 * A worker thread that owns one onnxruntime session (one intra-op thread on CPU) and runs the
 * batches its pool sends: an embedding model (vectors out) or a cross-encoder (one logit per pair
 * out). Several of them run batches in parallel: on CPUs this beats one session spreading each
 * batch over all cores (no per-operator thread synchronisation on small batches).
 */
import { parentPort } from 'node:worker_threads';
import { toWire } from '../common/errors.js';
import { CrossEncoder, type CrossEncoderOptions } from './cross-encoder.js';
import type { DeviceReport } from './device.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';
import type { EncodedPair } from './tokenizer.js';

export type RunnerModel = { kind: 'embedder'; opts: OnnxEmbedderOptions } | { kind: 'cross-encoder'; opts: CrossEncoderOptions };

export type RunnerRequest =
  | { type: 'load'; model: RunnerModel }
  | { type: 'embed'; id: number; batch: number[][] }
  | { type: 'score'; id: number; pairs: EncodedPair[] }
  | { type: 'dispose' };

export type RunnerReply =
  | { type: 'loaded'; dims: number; device: DeviceReport; loadMs: number }
  | { type: 'done'; id: number; data: Float32Array }
  | { type: 'error'; id: number; error: ReturnType<typeof toWire> };

const port = parentPort;
if (!port) throw new Error('onnx-runner must run as a worker thread');
let embedder: OnnxEmbedder | undefined;
let encoder: CrossEncoder | undefined;

async function handle(msg: Exclude<RunnerRequest, { type: 'load' | 'dispose' }>): Promise<Float32Array> {
  if (msg.type === 'embed') {
    if (!embedder) throw new Error('runner asked to embed without an embedding model loaded');
    return embedder.embed(msg.batch);
  }
  if (!encoder) throw new Error('runner asked to score pairs without a cross-encoder loaded');
  return encoder.score(msg.pairs);
}

port.on('message', (msg: RunnerRequest) => {
  void (async () => {
    if (msg.type === 'load') {
      try {
        if (msg.model.kind === 'embedder') {
          embedder = await OnnxEmbedder.load(msg.model.opts);
          port.postMessage({ type: 'loaded', dims: embedder.dims, device: embedder.device, loadMs: embedder.loadMs } satisfies RunnerReply);
        } else {
          encoder = await CrossEncoder.load(msg.model.opts);
          port.postMessage({ type: 'loaded', dims: 1, device: encoder.device, loadMs: encoder.loadMs } satisfies RunnerReply);
        }
      } catch (e) {
        port.postMessage({ type: 'error', id: -1, error: toWire(e) } satisfies RunnerReply);
      }
    } else if (msg.type === 'dispose') {
      await embedder?.dispose();
      await encoder?.dispose();
      embedder = undefined;
      encoder = undefined;
      port.close();
    } else {
      try {
        const data = await handle(msg);
        // Copied, not transferred: a detached buffer slows every typed-array loop here (HostPort).
        port.postMessage({ type: 'done', id: msg.id, data } satisfies RunnerReply);
      } catch (e) {
        port.postMessage({ type: 'error', id: msg.id, error: toWire(e) } satisfies RunnerReply);
      }
    }
  })();
});
