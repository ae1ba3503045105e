import fs from 'node:fs';
import { requireSucceeded } from '../job-outcome.js';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { TandemError, type JsonValue } from '../../../engine/common/errors.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../../../engine/inference/device.js';
import { GenerateClient, type GenerateRequest, type GenerateResult } from '../../../engine/generate/index.js';
import { JobQueue, JobRunners, type JobRunFn } from '../../../engine/jobs/job-queue.js';
import { JobStore } from '../../../engine/jobs/job-store.js';
import type { Variant } from '../../../engine/models/catalog.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { openLibrary } from './collections-command.js';
import { describeDevice } from '../../../engine/inference/device.js';

/** The params of a `generate-local` job: the request, enough to run it again (`tandem jobs retry`). */
export type GenerateLocalParams = Omit<GenerateRequest, 'prompts' | 'useCache'> & { prompt: string; schemaFile?: string };

interface GenerateFlags {
  model: string;
  prompt: string;
  schema?: string;
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  stream?: boolean;
  raw?: boolean;
  system?: string;
  variant?: Exclude<Variant, 'static'>;
  device: DeviceRequest;
  fallback: boolean;
  threads?: number;
  json?: boolean;
}

function nonNegNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0, got "${v}"`);
  return n;
}

function probability(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`expected a number in (0, 1], got "${v}"`);
  return n;
}

function nonNegInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer >= 0, got "${v}"`);
  return n;
}

export function readSchemaFile(file: string): object {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `schema file ${file} not found`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TandemError('INVALID_ARGUMENT', `schema file ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TandemError('INVALID_ARGUMENT', `schema file ${file} must hold a JSON Schema object`);
  return json;
}


/**
 * The job runner for `generate-local` jobs: one prompt through the generation worker. Streamed
 * text goes to `onText`; a row error (e.g. `truncated`) fails the job with its code.
 */
export function generateJobRunner(client: GenerateClient, onText?: (text: string) => void): JobRunFn {
  return async (run) => {
    const p = run.job.params as unknown as GenerateLocalParams & { schema?: object };
    if (typeof p.model !== 'string' || typeof p.prompt !== 'string') throw new TandemError('INVALID_ARGUMENT', `generate-local job ${run.job.id} lacks model or prompt in its params`);
    const request: GenerateRequest = { ...p, prompts: [p.prompt] };
    delete (request as Partial<GenerateLocalParams>).prompt;
    delete (request as Partial<GenerateLocalParams>).schemaFile;
    const r = await client.generate(request, { signal: run.signal, ...(onText ? { onText: (_row: number, t: string) => onText(t) } : {}) });
    run.setDevice(r.device.used);
    run.setTimings({ loadMs: r.loadMs, inferenceMs: r.inferenceMs });
    if (r.device.fallbackReason) run.note(`device ${r.device.used}: ${r.device.fallbackReason}`);
    const o = r.outputs[0]!;
    if (o.error) throw new TandemError(o.error.code, o.error.message, o.error.data ? { data: o.error.data } : {});
    return {
      text: o.text,
      output: (o.output ?? null) as JsonValue,
      finishReason: o.finishReason,
      ...(o.budgetForcedClose ? { budgetForcedClose: true } : {}),
      usage: { promptTokens: o.promptTokens, completionTokens: o.completionTokens },
      model: r.model,
      variant: r.variant,
      device: { ...r.device } as unknown as JsonValue,
      seed: r.seed,
      timings: { loadMs: r.loadMs, prefillMs: r.prefillMs, inferenceMs: r.inferenceMs },
    };
  };
}

export function registerGenerate(program: Command, ctx: CliContext, runners: JobRunners = new JobRunners()): void {
  // `tandem jobs retry ID` of a generate-local job runs through this.
  runners.register('generate-local', async (run) => {
    const client = new GenerateClient(ctx.env);
    try {
      return await generateJobRunner(client)(run);
    } finally {
      await client.close();
    }
  });
  program
    .command('generate')
    .description('generate text (or schema-valid JSON) with a local model; recorded as a generate-local job')
    .requiredOption('--model <id>', 'a generative model id, e.g. onnx-community/Qwen2.5-0.5B-Instruct or fixtures/tiny-decoder-random')
    .requiredOption('--prompt <text>', 'the prompt (a user message under the model\'s chat template; see --raw)')
    .option('--schema <file>', 'a JSON Schema file: the output is constrained to JSON valid under it')
    .option('--max-tokens <n>', 'most tokens to generate (default 256)', positiveInt)
    .option('--temperature <t>', 'sampling temperature; 0 = greedy (default)', nonNegNumber)
    .option('--top-k <k>', 'sample among the k most likely tokens', nonNegInt)
    .option('--top-p <p>', 'sample among the most likely tokens holding probability p', probability)
    .option('--seed <s>', 'sampling seed: the same seed gives the same text (default random, reported)', nonNegInt)
    .option('--stop <s...>', 'stop strings: the text ends before the first one (ignored with --schema)')
    .option('--stream', 'print tokens as they are generated')
    .option('--raw', 'send the prompt as raw text, without the chat template')
    .option('--system <text>', 'a system message (chat template)')
    .option('--variant <v>', 'fp32 | int8 | fp16 (default: the model\'s default)', choice(['fp32', 'int8', 'fp16']))
    .option('--device <d>', DEVICE_REQUESTS.join(' | '), choice(DEVICE_REQUESTS), 'auto')
    .option('--no-fallback', 'fail instead of falling back to CPU when the device cannot be used')
    .option('--threads <n>', 'intra-op threads (default: 1 for models under 64 MiB, else the physical cores)', positiveInt)
    .option('--json', 'print the job result as JSON (text, output, usage, device, timings)')
    .action(async (flags: GenerateFlags) => {
      const schemaFile = flags.schema ? path.resolve(flags.schema) : undefined;
      const schema = schemaFile ? readSchemaFile(schemaFile) : undefined;
      const params: GenerateLocalParams & { schema?: object } = {
        model: flags.model,
        prompt: flags.prompt,
        device: flags.device,
        allowFallback: flags.fallback,
        ...(schema ? { schema, schemaFile: schemaFile! } : {}),
        ...(flags.maxTokens !== undefined ? { maxTokens: flags.maxTokens } : {}),
        ...(flags.temperature !== undefined ? { temperature: flags.temperature } : {}),
        ...(flags.topK !== undefined ? { topK: flags.topK } : {}),
        ...(flags.topP !== undefined ? { topP: flags.topP } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.stop ? { stop: flags.stop } : {}),
        ...(flags.raw ? { chat: false } : {}),
        ...(flags.system !== undefined ? { system: flags.system } : {}),
        ...(flags.variant ? { variant: flags.variant } : {}),
        ...(flags.threads ? { threads: flags.threads } : {}),
      };
      const lib = openLibrary(ctx);
      const jobs = new JobStore(lib.db);
      const client = new GenerateClient(ctx.env);
      const queue = new JobQueue(jobs, { runners: new JobRunners() });
      let handleId: string | undefined;
      const onSigint = () => handleId && queue.cancel(handleId, 'interrupted by Ctrl-C');
      process.once('SIGINT', onSigint);
      let streamed = false;
      try {
        jobs.markInterrupted();
        const stream = flags.stream && !flags.json ? (t: string) => ((streamed = true), ctx.stdout.write(t)) : undefined;
        const handle = queue.submit(
          { kind: 'generate-local', backend: 'local', params: params as unknown as Record<string, JsonValue>, input: { prompt: flags.prompt, schema: (schema ?? null) as JsonValue } },
          generateJobRunner(client, stream),
        );
        handleId = handle.id;
        const job = await handle.done;
        if (streamed) ctx.stdout.write('\n');
        requireSucceeded(job);
        const res = job.result as unknown as {
          text: string;
          output: unknown;
          finishReason: string;
          budgetForcedClose?: boolean;
          usage: { promptTokens: number; completionTokens: number };
          device: GenerateResult['device'];
          variant: string;
          seed: number;
          timings: { loadMs: number; prefillMs: number; inferenceMs: number };
        };
        if (flags.json) ctx.stdout.write(JSON.stringify({ job: job.id, ...res }, null, 2) + '\n');
        else if (!flags.stream) ctx.stdout.write(res.text + '\n');
        const decodeMs = res.timings.inferenceMs - res.timings.prefillMs;
        const tps = decodeMs > 0 ? ((Math.max(res.usage.completionTokens - 1, 0) / decodeMs) * 1000).toFixed(1) : 'n/a';
        ctx.stderr.write(
          `tandem generate: ${res.usage.completionTokens} tokens (${res.finishReason}${res.budgetForcedClose ? '; max tokens ran low: closed early on the shortest valid path' : ''}) after a ${res.usage.promptTokens}-token prompt, ${flags.model} (${res.variant}) on ${describeDevice(res.device)}; ` +
            `load ${res.timings.loadMs.toFixed(0)} ms, first token ${res.timings.prefillMs.toFixed(0)} ms, ${tps} tokens/s; seed ${res.seed}; job ${job.id}\n`,
        );
      } finally {
        process.off('SIGINT', onSigint);
        await client.close();
        lib.db.close();
      }
    });
}
