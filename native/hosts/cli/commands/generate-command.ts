import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { ApiInput } from '../../../engine/common/api-contract.js';
import { TandemError } from '../../../engine/common/errors.js';
import type { GenerateResult, Variant } from '../../../engine/index.js';
import { DEVICE_REQUESTS, describeDevice, type DeviceRequest } from '../../../engine/common/device-text.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { callRunningJob } from '../api-jobs.js';
import { withEngine } from '../cli-engine.js';
import { requireSucceeded } from '../job-outcome.js';

interface GenerateFlags {
  model: string;
  prompt: string;
  schema?: string;
  lenient?: boolean;
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


export function registerGenerate(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description('generate text (or schema-valid JSON) with a local model; recorded as a generate-local job')
    .requiredOption('--model <id>', 'a generative model id, e.g. onnx-community/Qwen2.5-0.5B-Instruct or fixtures/tiny-decoder-random')
    .requiredOption('--prompt <text>', 'the prompt (a user message under the model\'s chat template; see --raw)')
    .option('--schema <file>', 'a JSON Schema file: the output is constrained to JSON valid under it')
    .option('--lenient', 'with --schema: decode keywords local decoding cannot enforce (oneOf branches it cannot tell apart, uniqueItems of objects...) without them and check them on the output, instead of refusing the schema')
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
      const input: ApiInput<'generate.run'> = {
        model: flags.model,
        prompt: flags.prompt,
        device: flags.device,
        allowFallback: flags.fallback,
        ...(schema ? { schema: schema as Record<string, unknown>, schemaFile: schemaFile! } : {}),
        ...(flags.lenient ? { lenient: true } : {}),
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
      await withEngine(ctx, {}, async (engine) => {
        // The job's id comes with its first job.updated event: its text streams as the UI's generate.token events, Ctrl-C cancels it.
        let jobId: string | undefined;
        let streamed = false;
        const offToken =
          flags.stream && !flags.json
            ? engine.events.on('generate.token', (t) => {
                if (t.jobId !== jobId) return;
                streamed = true;
                ctx.stdout.write(t.text);
              })
            : () => {};
        let job;
        try {
          ({ job } = await callRunningJob(engine, 'generate-local', () => engine.api['generate.run'](input), (u) => (jobId = u.job.id)));
        } finally {
          offToken();
        }
        if (streamed) ctx.stdout.write('\n');
        requireSucceeded(job);
        const res = job.result as unknown as {
          text: string;
          output: unknown;
          finishReason: string;
          budgetForcedClose?: boolean;
          checkedAfter?: Array<{ keyword: string; pointer: string }>;
          narrowed?: Array<{ keyword: string; pointer: string }>;
          usage: { promptTokens: number; completionTokens: number };
          device: GenerateResult['device'];
          variant: string;
          seed: number;
          timings: { loadMs: number; prefillMs: number; inferenceMs: number; grammarMs?: number };
        };
        if (flags.json) ctx.stdout.write(JSON.stringify({ job: job.id, ...res }, null, 2) + '\n');
        else if (!flags.stream) ctx.stdout.write(res.text + '\n');
        const decodeMs = res.timings.inferenceMs - res.timings.prefillMs;
        const tps = decodeMs > 0 ? ((Math.max(res.usage.completionTokens - 1, 0) / decodeMs) * 1000).toFixed(1) : 'n/a';
        ctx.stderr.write(
          `tandem generate: ${res.usage.completionTokens} tokens (${res.finishReason}${res.budgetForcedClose ? '; max tokens ran low: closed early on the shortest valid path' : ''}) after a ${res.usage.promptTokens}-token prompt, ${flags.model} (${res.variant}) on ${describeDevice(res.device)}; ` +
            `load ${res.timings.loadMs.toFixed(0)} ms, ${res.timings.grammarMs !== undefined ? `schema ${res.timings.grammarMs.toFixed(0)} ms, ` : ''}first token ${res.timings.prefillMs.toFixed(0)} ms, ${tps} tokens/s; seed ${res.seed}; job ${job.id}\n`,
        );
        if (res.narrowed?.length) ctx.stderr.write(`tandem generate: enforced on a subset (some valid values are never written): ${res.narrowed.map((d) => `${d.keyword} at ${d.pointer || '(root)'}`).join(', ')}\n`);
        if (res.checkedAfter?.length) ctx.stderr.write(`tandem generate: --lenient: not enforced while decoding, checked on the output (passed): ${res.checkedAfter.map((d) => `${d.keyword} at ${d.pointer || '(root)'}`).join(', ')}\n`);
      });
    });
}
