import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { TandemError } from '../common/errors.js';
import { DEVICE_REQUESTS, physicalCores, type DeviceReport, type DeviceRequest } from './device.js';
import { openSession } from './onnx-embedder.js';
import { inspectOnnx, type OnnxModelInfo } from './onnx-inspect.js';
import { isTensorDtype, validateFeeds, type HostTensor } from './tensor-io.js';

export interface TensorRunRequest {
  /** Absolute path of the .onnx file. */
  model: string;
  device?: DeviceRequest;
  /** Default true: an accelerator that fails to load falls back to CPU (the reason is reported). */
  allowFallback?: boolean;
  threads?: number;
  inputs: Record<string, HostTensor>;
  /** Outputs to fetch (default: all). */
  outputs?: string[];
}

export interface TensorRunResult {
  outputs: Record<string, HostTensor>;
  device: DeviceReport;
  /** True when the session was already open from an earlier run (loadMs is then 0). */
  modelCached: boolean;
  timings: { loadMs: number; inferenceMs: number; totalMs: number };
}

interface Loaded {
  session: ort.InferenceSession;
  device: DeviceReport;
  info: OnnxModelInfo;
}

/** Sessions kept open for repeated runs of the same files (a researcher's loop); the oldest is closed beyond this. */
const MAX_OPEN_SESSIONS = 2;

function toOrt(name: string, t: HostTensor): ort.Tensor {
  try {
    return new ort.Tensor(t.dtype, t.data as never, t.dims);
  } catch (e) {
    throw new TandemError('INVALID_INPUT', `input "${name}": onnxruntime refused the tensor: ${(e as Error).message}`, { cause: e, data: { tensor: name } });
  }
}

function fromOrt(name: string, t: ort.Tensor): HostTensor {
  if (!isTensorDtype(t.type)) throw new TandemError('INFERENCE_FAILED', `output "${name}" has type ${t.type}, which tensor files cannot hold`);
  const dims = t.dims.map(Number);
  const data = t.data;
  // Copy out of onnxruntime's buffer so it can be released.
  const copy = Array.isArray(data) ? [...(data as string[])] : (data as Exclude<HostTensor['data'], string[]>).slice();
  return { dtype: t.type, dims, data: copy };
}

/**
 * Runs researchers' own ONNX models on named tensors: the session is opened on the requested
 * device (CUDA/DirectML/CoreML -> CPU with the reason) and kept for the next run; inputs are
 * checked against the file's declared interface first. Hosted in the embedding worker.
 */
export class TensorRunEngine {
  private readonly sessions = new Map<string, Promise<Loaded>>();

  private async load(req: TensorRunRequest): Promise<{ loaded: Loaded; cached: boolean }> {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(req.model);
    } catch (e) {
      throw new TandemError('NOT_FOUND', `model file ${req.model} not found`, { cause: e });
    }
    const device = req.device ?? 'auto';
    const allowFallback = req.allowFallback ?? true;
    const threads = req.threads ?? physicalCores();
    const key = [req.model, stat.size, stat.mtimeMs, device, allowFallback, threads].join('|');
    const existing = this.sessions.get(key);
    if (existing) return { loaded: await existing, cached: true };
    const p = (async (): Promise<Loaded> => {
      const info = inspectOnnx(req.model);
      const { session, report } = await openSession(req.model, device, allowFallback, threads);
      return { session, device: report, info };
    })();
    this.sessions.set(key, p);
    try {
      const loaded = await p;
      while (this.sessions.size > MAX_OPEN_SESSIONS) {
        const [oldKey, old] = this.sessions.entries().next().value as [string, Promise<Loaded>];
        this.sessions.delete(oldKey);
        await (await old.catch(() => undefined))?.session.release();
      }
      return { loaded, cached: false };
    } catch (e) {
      this.sessions.delete(key);
      throw e;
    }
  }

  async run(req: TensorRunRequest): Promise<TensorRunResult> {
    const t0 = performance.now();
    if (typeof req.model !== 'string' || !req.model) throw new TandemError('INVALID_ARGUMENT', 'model path is required');
    if (req.device !== undefined && !DEVICE_REQUESTS.includes(req.device)) throw new TandemError('INVALID_ARGUMENT', `unknown device "${String(req.device)}": expected one of ${DEVICE_REQUESTS.join(', ')}`);
    const { loaded, cached } = await this.load(req);
    const tLoaded = performance.now();
    const { session, info } = loaded;
    validateFeeds(info, req.inputs);
    const fetches = req.outputs ?? session.outputNames;
    for (const o of fetches) {
      if (!session.outputNames.includes(o)) throw new TandemError('INVALID_ARGUMENT', `the model has no output "${o}"; its outputs are ${session.outputNames.join(', ')}`);
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(req.inputs)) feeds[name] = toOrt(name, t);
    let out: ort.InferenceSession.OnnxValueMapType;
    const tRun = performance.now();
    try {
      out = await session.run(feeds, fetches);
    } catch (e) {
      throw new TandemError('INFERENCE_FAILED', `onnxruntime failed running ${req.model}: ${(e as Error).message}`, { cause: e });
    }
    const tDone = performance.now();
    const outputs: Record<string, HostTensor> = {};
    for (const name of fetches) {
      const v = out[name] as ort.Tensor | undefined;
      if (!v) throw new TandemError('INFERENCE_FAILED', `onnxruntime returned no "${name}"`);
      outputs[name] = fromOrt(name, v);
      v.dispose?.();
    }
    return {
      outputs,
      device: loaded.device,
      modelCached: cached,
      timings: { loadMs: cached ? 0 : tLoaded - t0, inferenceMs: tDone - tRun, totalMs: performance.now() - t0 },
    };
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) await (await p.catch(() => undefined))?.session.release();
  }
}
