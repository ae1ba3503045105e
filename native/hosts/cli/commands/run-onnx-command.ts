import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ApiInput } from '../../../engine/common/api-contract.js';
import { describeTensor, type HostTensor, type TensorFormat, type TensorRunResult } from '../../../engine/index.js';
import { DEVICE_REQUESTS, describeDevice, type DeviceRequest } from '../../../engine/common/device-text.js';
import { choice, type CliContext } from '../cli-context.js';
import { callRunningJob } from '../api-jobs.js';
import { withEngine } from '../cli-engine.js';
import { requireSucceeded } from '../job-outcome.js';

interface RunOnnxFlags {
  model: string;
  inputs: string;
  device: DeviceRequest;
  fallback: boolean;
  output?: string;
  format: TensorFormat;
  fetch?: string[];
}

/** The `inference.runOnnx` call for these flags: paths made absolute here (the engine does not share our working directory). */
export function runOnnxInput(flags: RunOnnxFlags): ApiInput<'inference.runOnnx'> {
  return {
    model: fs.existsSync(flags.model) ? path.resolve(flags.model) : flags.model,
    inputs: path.resolve(flags.inputs),
    device: flags.device,
    allowFallback: flags.fallback,
    format: flags.format,
    output: flags.output ? path.resolve(flags.output) : null,
    fetch: flags.fetch ?? null,
  };
}

export function registerRunOnnx(program: Command, ctx: CliContext): void {
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
      const input = runOnnxInput(flags);
      await withEngine(ctx, {}, async (engine) => {
        // The job's id comes with its first job.updated event: Ctrl-C cancels it through the API.
        const { job, inputs, outputs } = await callRunningJob(engine, 'run-onnx', () => engine.api['inference.runOnnx'](input));
        requireSucceeded(job);
        if (outputs) ctx.stdout.write(JSON.stringify(outputs) + '\n');
        const res = job.result as unknown as { outputs: Record<string, { dtype: HostTensor['dtype']; dims: number[] }>; output: string | null; device: { used: string; fallbackReason?: string }; timings: TensorRunResult['timings'] };
        const outs = Object.entries(res.outputs).map(([name, o]) => describeTensor(name, { ...o, data: [] }));
        ctx.stderr.write(
          `tandem run-onnx: ${path.basename((job.params as { model: string }).model)} on ${describeDevice(res.device)}: ${inputs.length} inputs -> ${outs.join(', ')}; ` +
            `load ${res.timings.loadMs.toFixed(0)} ms, run ${res.timings.inferenceMs.toFixed(1)} ms${res.output ? `, written to ${res.output}` : ''}; job ${job.id}\n`,
        );
      });
    });
}
