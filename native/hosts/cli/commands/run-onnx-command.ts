import crypto from 'node:crypto';
import { requireSucceeded } from '../job-outcome.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TandemError, type JsonValue } from '../../../engine/common/errors.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../../../engine/inference/device.js';
import { EmbedClient } from '../../../engine/inference/embed-client.js';
import { resolveOnnxFile } from '../../../engine/inference/onnx-file.js';
import { inspectOnnx } from '../../../engine/inference/onnx-inspect.js';
import { decodeInputs, describeTensor, encodeTensor, validateFeeds, type HostTensor, type TensorFormat } from '../../../engine/inference/tensor-io.js';
import type { TensorRunResult } from '../../../engine/inference/tensor-run-engine.js';
import { JobQueue, JobRunners, type JobRunFn } from '../../../engine/jobs/job-queue.js';
import { JobStore } from '../../../engine/jobs/job-store.js';
import { choice, type CliContext } from '../cli-context.js';
import { openLibrary } from './collections-command.js';
import { describeDevice } from '../../../engine/inference/device.js';

/** The params of a `run-onnx` job: enough to run it again (`tandem jobs retry`). */
export interface RunOnnxParams {
  model: string;
  inputs: string;
  device: DeviceRequest;
  allowFallback: boolean;
  format: TensorFormat;
  /** Where the outputs were written; null = stdout. */
  output: string | null;
  fetch: string[] | null;
}

interface RunOnnxFlags {
  model: string;
  inputs: string;
  device: DeviceRequest;
  fallback: boolean;
  output?: string;
  format: TensorFormat;
  fetch?: string[];
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

/** Outputs as a JSON file body: `{"name": tensor, ...}`, the same forms the inputs take. */
export function outputsJson(outputs: Record<string, HostTensor>, format: TensorFormat): string {
  const o: Record<string, JsonValue> = {};
  for (const [name, t] of Object.entries(outputs)) o[name] = encodeTensor(t, format);
  return JSON.stringify(o) + '\n';
}

function writeAtomic(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

/**
 * The job runner for `run-onnx` jobs. `preloaded` carries the already-checked tensors when the
 * CLI just read them; a retry reads and checks the inputs file again. Outputs go to the params'
 * output file, or to `onOutputs` (stdout) when there is none.
 */
export function runOnnxJobRunner(client: EmbedClient, preloaded?: Record<string, HostTensor>, onOutputs?: (r: TensorRunResult) => void): JobRunFn {
  return async (run) => {
    const p = run.job.params as unknown as RunOnnxParams;
    if (typeof p.model !== 'string' || typeof p.inputs !== 'string') throw new TandemError('INVALID_ARGUMENT', `run-onnx job ${run.job.id} lacks model or inputs in its params`);
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
      device: { ...r.device } as unknown as JsonValue,
      modelCached: r.modelCached,
      timings: r.timings,
    } as JsonValue;
  };
}

export function registerRunOnnx(program: Command, ctx: CliContext, runners: JobRunners = new JobRunners()): void {
  // `tandem jobs retry ID` of a run-onnx job runs through this.
  runners.register('run-onnx', async (run) => {
    const client = new EmbedClient(ctx.env);
    try {
      return await runOnnxJobRunner(client)(run);
    } finally {
      await client.close();
    }
  });
  program
    .command('run-onnx')
    .description("run an ONNX model on named tensors (a researcher's own model), recorded as a job")
    .requiredOption('--model <path>', 'the .onnx file (or a folder with model.onnx, or a model id)')
    .requiredOption('--inputs <file>', 'JSON {"name": {"dtype", "data": nested} | {"dtype", "dims", "b64"}, ...}')
    .option('--device <d>', DEVICE_REQUESTS.join(' | '), choice(DEVICE_REQUESTS), 'auto')
    .option('--no-fallback', 'fail instead of falling back to CPU when the device cannot be used')
    .option('--output <file>', 'write the outputs here (default stdout)')
    .option('--format <f>', 'outputs as nested arrays or base64 typed arrays', choice(['nested', 'base64']), 'nested')
    .option('--fetch <names...>', 'only these outputs (default all)')
    .action(async (flags: RunOnnxFlags) => {
      const model = resolveOnnxFile(flags.model, ctx.env);
      const inputsFile = path.resolve(flags.inputs);
      const { feeds, digest } = loadInputs(inputsFile, model);
      const params: RunOnnxParams = {
        model,
        inputs: inputsFile,
        device: flags.device,
        allowFallback: flags.fallback,
        format: flags.format,
        output: flags.output ? path.resolve(flags.output) : null,
        fetch: flags.fetch ?? null,
      };
      const lib = openLibrary(ctx);
      const jobs = new JobStore(lib.db);
      const client = new EmbedClient(ctx.env);
      const queue = new JobQueue(jobs, { runners: new JobRunners() });
      let handleId: string | undefined;
      const onSigint = () => handleId && queue.cancel(handleId, 'interrupted by Ctrl-C');
      process.once('SIGINT', onSigint);
      let stdoutBody: string | undefined;
      try {
        jobs.markInterrupted();
        const run = runOnnxJobRunner(client, feeds, (r) => (stdoutBody = outputsJson(r.outputs, flags.format)));
        const handle = queue.submit({ kind: 'run-onnx', backend: 'local', params: params as unknown as Record<string, JsonValue>, inputDigest: digest }, run);
        handleId = handle.id;
        const job = await handle.done;
        requireSucceeded(job);
        if (stdoutBody !== undefined) ctx.stdout.write(stdoutBody);
        const res = job.result as unknown as { outputs: Record<string, { dtype: HostTensor['dtype']; dims: number[] }>; device: { used: string; fallbackReason?: string }; timings: TensorRunResult['timings'] };
        const outs = Object.entries(res.outputs).map(([name, o]) => describeTensor(name, { ...o, data: [] }));
        ctx.stderr.write(
          `tandem run-onnx: ${path.basename(model)} on ${describeDevice(res.device)}: ${Object.keys(feeds).length} inputs -> ${outs.join(', ')}; ` +
            `load ${res.timings.loadMs.toFixed(0)} ms, run ${res.timings.inferenceMs.toFixed(1)} ms${params.output ? `, written to ${params.output}` : ''}; job ${job.id}\n`,
        );
      } finally {
        process.off('SIGINT', onSigint);
        await client.close();
        lib.db.close();
      }
    });
}
