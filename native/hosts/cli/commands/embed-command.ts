import fs from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { ApiInput, ApiOutput } from '../../../engine/common/api-contract.js';
import { EMBED_PAGE_MAX } from '../../../engine/common/contract/inference.js';
import { TandemError } from '../../../engine/common/errors.js';
import { type InputType, type Variant, f32RowsFormatter, type F32RowsFormatter } from '../../../engine/index.js';
import { DEVICE_REQUESTS, type DeviceRequest, describeDevice } from '../../../engine/common/device-text.js';
import { itemsFromTexts, readInputFile, type InputItem, type ParsedInput } from '../input.js';
import { ProgressLine } from '../progress.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';

/** Items per inference.embed call (a page): bounds memory, keeps length-sorting effective, lets output stream. */
const CHUNK = EMBED_PAGE_MAX;
type EmbedBase = Omit<ApiInput<'inference.embed'>, 'texts' | 'requestId'>;
type EmbedPage = ApiOutput<'inference.embed'>;

interface EmbedFlags {
  model: string;
  variant?: Variant;
  device: DeviceRequest;
  fallback: boolean;
  text?: string[];
  input?: string;
  output?: string;
  as: InputType;
  batchTokens?: number;
  threads?: number;
  quiet?: boolean;
}


async function writeAll(out: NodeJS.WritableStream, s: string | Buffer): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

/** A page's vectors: base64 of little-endian float32 rows (copied only when the decoded bytes are not 4-aligned). */
export function pageVectors(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new Float32Array(new Uint8Array(buf).buffer);
}

/** The JSONL lines of one page, in input order; values as the shortest text of each float32 (engine/node/f32-rows.ts). */
function formatRows(format: F32RowsFormatter, items: InputItem[], r: EmbedPage): string | Buffer {
  const truncated = new Set(r.truncated);
  const heads = items.map((it) => `{"id":${JSON.stringify(it.id)},"embedding":[`);
  const tails = items.map((_, i) => (truncated.has(i) ? '],"truncated":true}' : ']}'));
  return format(pageVectors(r.vectors), r.dims, heads, tails);
}

export function registerEmbed(program: Command, ctx: CliContext): void {
  program
    .command('embed')
    .description('embed texts with a local model; JSONL {"id","embedding"} in input order')
    .requiredOption('--model <id>', 'model id, a path under a models directory (e.g. Xenova/all-MiniLM-L6-v2)')
    .option('--variant <v>', 'fp32 | int8 | fp16 | static (default: the model\'s default)', choice(['fp32', 'int8', 'fp16', 'static']))
    .option('--device <d>', 'auto | cpu | cuda | webgpu | dml | coreml (auto: CUDA, then a hardware WebGPU adapter, then CPU; webgpu by name also takes a software adapter)', choice(DEVICE_REQUESTS), 'auto')
    .option('--no-fallback', 'fail instead of falling back to CPU when the requested accelerator cannot load')
    .option('--text <text...>', 'texts to embed (ids are 1, 2, ...)')
    .option('--input <file>', 'JSONL lines {"id": ..., "text": ...} or a plain text file (one text per line, id = line number)')
    .option('--output <file>', 'write JSONL here instead of stdout')
    .option('--as <type>', 'query | passage | none: which of the model\'s prefixes to use (e5 "query: "/"passage: ")', choice(['query', 'passage', 'none']), 'passage')
    .option('--batch-tokens <n>', 'max padded tokens per batch (default 512)', positiveInt)
    .option('--threads <n>', 'intra-op threads (default: physical cores)', positiveInt)
    .option('--quiet', 'no progress on stderr')
    .action(async (flags: EmbedFlags) => {
      if (!!flags.text === !!flags.input) throw new TandemError('INVALID_ARGUMENT', 'give either --text T... or --input FILE');
      const base: EmbedBase = {
        model: flags.model,
        device: flags.device,
        allowFallback: flags.fallback,
        inputType: flags.as,
        ...(flags.variant ? { variant: flags.variant } : {}),
        ...(flags.batchTokens ? { batchTokens: flags.batchTokens } : {}),
        ...(flags.threads ? { threads: flags.threads } : {}),
      };
      // The engine (read-only store: embed records nothing) pages the texts through inference.embed.
      await withEngine(ctx, { readOnly: true }, async (engine) => {
        const format = f32RowsFormatter().format;
        // The worker starts and loads the model while the input is read (its error, if any, is the
        // first embed call's error too).
        const preloaded = engine.api['inference.load'](base).catch(() => undefined);
        let input: ParsedInput;
        try {
          input = flags.input ? readInputFile(flags.input) : itemsFromTexts(flags.text ?? []);
        } catch (e) {
          await preloaded;
          throw e;
        }
        for (const p of input.problems) ctx.stderr.write(`tandem embed: ${flags.input ?? '--text'} line ${p.line}: ${p.message} (skipped)\n`);
        const out: NodeJS.WritableStream = flags.output ? fs.createWriteStream(flags.output) : ctx.stdout;
        // Pages in flight (at most two: the next is embedded while this one is written), by request id.
        const inflight = new Map<string, number>();
        // Ctrl-C: the pages in flight are cancelled through the API, and no further page is sent.
        let interrupted = false;
        const onSigint = () => {
          interrupted = true;
          for (const requestId of inflight.keys()) void engine.api['inference.cancel']({ requestId }).catch(() => {});
        };
        process.once('SIGINT', onSigint);
        const progress = new ProgressLine('embedding', process.stderr, flags.quiet);
        const total = input.items.length;
        const offProgress = engine.events.on('inference.progress', (p) => {
          const start = inflight.get(p.requestId);
          if (start !== undefined) progress.update(start + p.done, total);
        });
        const t0 = performance.now();
        let done = 0;
        let first: EmbedPage | undefined;
        let loadMs = 0;
        let truncated = 0;
        let inferMs = 0;
        try {
          if (total === 0) await engine.api['inference.load'](base);
          loadMs += (await preloaded)?.loadMs ?? 0;
          const submit = (start: number) => {
            if (interrupted) throw new TandemError('CANCELLED', 'embedding job cancelled');
            const items = input.items.slice(start, start + CHUNK);
            const requestId = `embed-${start}`;
            inflight.set(requestId, start);
            const result = engine.api['inference.embed']({ ...base, texts: items.map((i) => i.text), requestId });
            void result.then(
              () => inflight.delete(requestId),
              () => inflight.delete(requestId),
            );
            return { items, result };
          };
          let next = total > 0 ? submit(0) : undefined;
          for (let start = 0; next; start += CHUNK) {
            const cur = next;
            const r = await cur.result;
            next = start + CHUNK < total ? submit(start + CHUNK) : undefined;
            first ??= r;
            loadMs += r.timings.loadMs;
            inferMs += r.timings.inferenceMs;
            truncated += r.truncated.length;
            for (const i of r.truncated) ctx.stderr.write(`tandem embed: id ${JSON.stringify(cur.items[i]!.id)} (line ${cur.items[i]!.line}) was truncated to ${r.maxLength} tokens\n`);
            await writeAll(out, formatRows(format, cur.items, r));
            done += cur.items.length;
          }
        } finally {
          process.off('SIGINT', onSigint);
          offProgress();
          progress.end();
          if (flags.output) {
            (out as fs.WriteStream).end();
            await once(out, 'close');
          }
        }
        const secs = (performance.now() - t0) / 1000;
        const dev = first ? describeDevice(first.device) : 'n/a';
        const summary = [
          `${done} embedded`,
          first ? `${first.dims}-d ${flags.model} (${first.variant})` : flags.model,
          `device ${dev}`,
          `model load ${loadMs.toFixed(0)} ms`,
          `${(done / Math.max(secs, 1e-9)).toFixed(0)} texts/s overall (${inferMs > 0 ? ((done / inferMs) * 1000).toFixed(0) : 0}/s inference)`,
          `${truncated} truncated`,
          `${input.problems.length} skipped`,
        ];
        if (input.blankLines) summary.push(`${input.blankLines} blank lines ignored`);
        ctx.stderr.write(`tandem embed: ${summary.join(', ')}\n`);
        if (input.problems.length > 0) ctx.setExitCode(3);
      });
    });
}
