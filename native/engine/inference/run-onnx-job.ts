/**
 * `run-onnx` jobs: an ONNX model run on named tensors read from a JSON file (a researcher's own
 * model). The inputs are checked against the model before a job is recorded; a retry reads and
 * checks the file again. Outputs go to the params' output file, or back to the caller.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TandemError, type JsonValue } from '../common/errors.js';
import type { JobParams, JobResultInput } from '../common/job-kinds.js';

/**
 * What the job's code gets from the queue that runs it (the part of native/engine/jobs' run
 * context it uses; this layer does not depend on the job system).
 */
export interface LocalJobRun<P = unknown> {
  /** Its params as its kind's schema reads them (common/job-kinds.ts). */
  readonly job: { readonly id: string; readonly params: P };
  readonly signal: AbortSignal;
  setDevice(device: string): void;
  setTimings(timings: { loadMs?: number; inferenceMs?: number }): void;
  note(message: string): void;
}
import type { EmbedClient } from './embed-client.js';
import type { DeviceRequest } from './device.js';
import { inspectOnnx } from './onnx-inspect.js';
import { decodeInputs, encodeTensor, validateFeeds, type HostTensor, type TensorFormat } from './tensor-io.js';
import type { TensorRunResult } from './tensor-run-engine.js';

export const RUN_ONNX_KIND = 'run-onnx';

/** The params of a `run-onnx` job: enough to run it again (`tandem jobs retry`). */
export interface RunOnnxParams {
  model: string;
  inputs: string;
  device: DeviceRequest;
  allowFallback: boolean;
  format: TensorFormat;
  /** Where the outputs were written; null = back to the caller (stdout). */
  output: string | null;
  fetch: string[] | null;
}

/** Parse and check an inputs file against the model: nothing runs (and no job is recorded) when it is wrong. */
export function loadInputs(file: string, model: string): { feeds: Record<string, HostTensor>; digest: string } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new TandemError('NOT_FOUND', `inputs file ${file} not found`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new TandemError('INVALID_INPUT', `inputs file ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const info = inspectOnnx(model);
  const feeds = decodeInputs(json, info);
  validateFeeds(info, feeds);
  return { feeds, digest: crypto.createHash('sha256').update(bytes).digest('hex') };
}

/** Outputs in the inputs' forms: `{"name": tensor, ...}`. */
export function encodeOutputs(outputs: Record<string, HostTensor>, format: TensorFormat): Record<string, JsonValue> {
  const o: Record<string, JsonValue> = {};
  for (const [name, t] of Object.entries(outputs)) o[name] = encodeTensor(t, format);
  return o;
}

/** Outputs as a JSON file body. */
export function outputsJson(outputs: Record<string, HostTensor>, format: TensorFormat): string {
  return JSON.stringify(encodeOutputs(outputs, format)) + '\n';
}

function writeAtomic(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

/**
 * The job runner for `run-onnx` jobs. `preloaded` carries the already-checked tensors when the
 * caller just read them; a retry reads and checks the inputs file again. Outputs go to the params'
 * output file, or to `onOutputs` when there is none.
 */
export function runOnnxJobRunner(client: EmbedClient, preloaded?: Record<string, HostTensor>, onOutputs?: (r: TensorRunResult) => void): (run: LocalJobRun<JobParams<'run-onnx'>>) => Promise<JobResultInput<'run-onnx'>> {
  return async (run) => {
    const p = run.job.params; // model, inputs, device... checked by the kind's schema
    const feeds = preloaded ?? loadInputs(p.inputs, p.model).feeds;
    const r = await client.runOnnx(
      { model: p.model, inputs: feeds, device: p.device, allowFallback: p.allowFallback, ...(p.fetch ? { outputs: p.fetch } : {}) },
      { signal: run.signal },
    );
    run.setDevice(r.device.used);
    run.setTimings({ loadMs: r.timings.loadMs, inferenceMs: r.timings.inferenceMs });
    if (r.device.fallbackReason) run.note(`device ${r.device.used}: ${r.device.fallbackReason}`);
    if (p.output) writeAtomic(p.output, outputsJson(r.outputs, p.format));
    else onOutputs?.(r);
    return {
      outputs: Object.fromEntries(Object.entries(r.outputs).map(([name, t]) => [name, { dtype: t.dtype, dims: t.dims }])),
      output: p.output,
      device: { ...r.device },
      modelCached: r.modelCached,
      timings: r.timings,
    };
  };
}
