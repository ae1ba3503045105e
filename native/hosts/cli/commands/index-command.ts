import type { Command } from 'commander';
import { requireSucceeded } from '../job-outcome.js';
import { EmbedClient } from '../../../engine/inference/embed-client.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../../../engine/inference/device.js';
import { JobQueue, JobRunners, type JobRunFn } from '../../../engine/jobs/job-queue.js';
import { JobStore } from '../../../engine/jobs/job-store.js';
import { DEFAULT_INDEX_MODEL, indexJobRunner as sharedIndexJobRunner, sameIndexJob } from '../../../engine/library/index-job.js';
import type { IndexOptions, IndexSummary } from '../../../engine/library/indexer.js';
import { loadCatalog, type Variant } from '../../../engine/models/catalog.js';
import { chooseDefaultEmbeddingModel } from '../../../engine/models/default-model.js';
import type { LibraryStore } from '../../../engine/store/library-store.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { ProgressLine } from '../progress.js';
import { isExpectedReason, type NotIndexed } from '../../../engine/library/index-report.js';
import { openLibrary } from './collections-command.js';
import path from 'node:path';
import type { JsonValue } from '../../../engine/common/errors.js';

interface IndexFlags {
  collection: string;
  model?: string;
  variant?: Variant;
  columns?: string[];
  maxTokens?: number;
  overlap?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  lexicalOnly?: boolean;
  device?: DeviceRequest;
}

export { DEFAULT_INDEX_MODEL };

/**
 * The job runner for `index` jobs: used by `tandem index`, and by `tandem jobs retry` of an index job.
 * Progress counts chunks embedded and written (files read beside them); the rate and ETA are measured
 * from the end of the walk.
 */
export function indexJobRunner(lib: LibraryStore, client: EmbedClient, ctx: CliContext, progress?: ProgressLine, onSummary?: (s: IndexSummary) => void): JobRunFn {
  let started = false;
  return sharedIndexJobRunner(lib, client, ctx.env, (pr) => {
    if (pr.phase === 'scanning') return;
    if (!started) {
      started = true;
      progress?.start();
    }
    progress?.update(pr.chunksEmbedded, pr.chunksTotal, { unit: 'chunks', extra: `${pr.filesDone}/${pr.filesTotal} files read` });
  }, onSummary);
}

/** Paths listed with --verbose. */
const VERBOSE_PATHS = 20;

/** The lines about files not indexed: counts by reason, then (verbose) the first paths, refused and failed ones first. */
function notIndexedReport(s: IndexSummary, verbose: boolean, jobId: string): string[] {
  const lines: string[] = [];
  const refused = Object.entries(s.byReason).filter(([r]) => !isExpectedReason(r));
  const expected = Object.entries(s.byReason).filter(([r]) => isExpectedReason(r));
  const list = (e: Array<[string, number]>) => e.map(([r, n]) => `${n} ${r}`).join(', ');
  if (refused.length) lines.push(`tandem index: not indexed: ${list(refused)}`);
  if (expected.length) lines.push(`tandem index: skipped as asked: ${list(expected)}`);
  const all: NotIndexed[] = [...s.errors, ...s.skipped.filter((k) => !isExpectedReason(k.reason)), ...s.skipped.filter((k) => isExpectedReason(k.reason))];
  if (verbose) {
    for (const k of all.slice(0, VERBOSE_PATHS)) lines.push(`  ${k.path}: ${k.reason}`);
    if (all.length > VERBOSE_PATHS) lines.push(`  ... and ${all.length - VERBOSE_PATHS} more (every path with its reason: --json, or \`tandem jobs show ${jobId}\`)`);
  } else if (all.length) {
    for (const e of s.errors.slice(0, VERBOSE_PATHS)) lines.push(`tandem index: ${e.path}: ${e.reason}`);
    lines.push(`tandem index: --verbose lists the paths, --json every path with its reason`);
  }
  return lines;
}

export function registerIndex(program: Command, ctx: CliContext, runners: JobRunners = new JobRunners()): void {
  // `tandem jobs retry ID` of an index job runs through this.
  runners.register('index', async (run) => {
    const lib = openLibrary(ctx);
    const client = new EmbedClient(ctx.env);
    try {
      return await indexJobRunner(lib, client, ctx)(run);
    } finally {
      await client.close();
      lib.db.close();
    }
  });
  program
    .command('index <path>')
    .description('add a folder or file to a collection (incremental; safe to re-run after a crash)')
    .requiredOption('--collection <name>', 'collection to add to (created on first use)')
    .option('--model <id>', `embedding model (default: the collection's model; for a new collection the best installed embedding model, else the built-in ${DEFAULT_INDEX_MODEL})`)
    .option('--variant <v>', 'fp32 | int8 | fp16 | static', choice(['fp32', 'int8', 'fp16', 'static']))
    .option('--device <d>', `${DEVICE_REQUESTS.join(' | ')} (default auto: CUDA, then a hardware WebGPU adapter, then CPU; webgpu by name also takes a software adapter)`, choice(DEVICE_REQUESTS))
    .option('--lexical-only', 'keyword (BM25) search only: no embedding model runs; `tandem collections upgrade NAME --model ID` adds vectors later')
    .option('--columns <cols...>', 'CSV/TSV columns that form the text (names or 0-based indices)')
    .option('--max-tokens <n>', 'chunk size in tokens (default 256, capped by the model)', positiveInt)
    .option('--overlap <n>', 'chunk overlap in tokens (default 32)', positiveInt)
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress on stderr')
    .option('--verbose', 'list the first 20 files not indexed, with their reasons')
    .action(async (root: string, flags: IndexFlags) => {
      const lib = openLibrary(ctx);
      const jobs = new JobStore(lib.db);
      const client = new EmbedClient(ctx.env);
      const progress = new ProgressLine('indexing', process.stderr, flags.quiet);
      const existing = flags.model ? undefined : lib.getCollection(flags.collection);
      // No --model: the collection's own model, or for a new collection the best installed one.
      let model = flags.model ?? existing?.model;
      if (!model) {
        const choice = chooseDefaultEmbeddingModel(loadCatalog(), ctx.env);
        model = choice.id;
        // (A lexical-only run or collection runs no model: its tokenizer only measures chunks.)
        if (!flags.quiet && !flags.lexicalOnly && existing?.model !== null) ctx.stderr.write(`tandem index: model ${choice.id}: ${choice.reason}\n`);
      }
      const variant = flags.variant;
      const params: IndexOptions = {
        root: path.resolve(root),
        collection: flags.collection,
        model,
        ...(variant ? { variant } : {}),
        ...(flags.device && flags.device !== 'auto' ? { device: flags.device } : {}),
        ...(flags.columns ? { columns: flags.columns } : {}),
        ...(flags.maxTokens ? { maxTokens: flags.maxTokens } : {}),
        ...(flags.overlap ? { overlapTokens: flags.overlap } : {}),
        // Lexical-only when asked; without --model, a default model that cannot load gives way to lexical-only (with a notice).
        ...(flags.lexicalOnly ? { lexicalOnly: true } : {}),
        ...(flags.model ? {} : { lexicalFallback: true }),
      };
      const queue = new JobQueue(jobs, { runners: new JobRunners() });
      const onSigint = () => handleId && queue.cancel(handleId, 'interrupted by Ctrl-C');
      let handleId: string | undefined;
      process.once('SIGINT', onSigint);
      try {
        // Jobs left running by a crashed or killed process become `interrupted`; the same index
        // job is then resumed (its finished documents are skipped), not started afresh.
        jobs.markInterrupted();
        const prior = jobs.list({ status: 'interrupted', kind: 'index', limit: 20 }).find((j) => sameIndexJob(j, params));
        if (prior) ctx.stderr.write(`tandem index: resuming interrupted job ${prior.id}\n`);
        let full: IndexSummary | undefined;
        const run = indexJobRunner(lib, client, ctx, progress, (s) => (full = s));
        const handle = prior ? queue.schedule(prior.id, run) : queue.submit({ kind: 'index', backend: 'local', params: params as unknown as Record<string, JsonValue>, input: params as unknown as JsonValue }, run);
        handleId = handle.id;
        const job = await handle.done;
        progress.end();
        requireSucceeded(job);
        // The whole summary (every path not indexed, with its reason); the record keeps a capped copy.
        const s = full ? { ...full, errorCount: full.errors.length } : (job.result as unknown as IndexSummary & { errorCount: number });
        if (flags.json) ctx.stdout.write(JSON.stringify({ job: job.id, ...s }, null, 2) + '\n');
        for (const line of notIndexedReport(s, flags.verbose === true, job.id)) ctx.stderr.write(`${line}\n`);
        if (s.notice) ctx.stderr.write(`tandem index: notice: ${s.notice}\n`);
        // Input asked for and not (all) indexed: exit 3 (hidden and ignored files do not count).
        if (s.filesNotIndexed > 0) ctx.setExitCode(3);
        ctx.stderr.write(
          `tandem index: ${s.collection}: ${s.filesSeen} files (${s.filesIndexed} indexed, ${s.filesUnchanged} unchanged, ${s.filesSkipped} skipped, ${s.errorCount} errors), ` +
            `${s.documentsWritten} documents written, ${s.documentsDeleted} removed, ${s.chunksWritten} chunks, ${s.lexicalOnly ? 'lexical-only (no vectors)' : `device ${s.device || 'n/a'}`}, ${(s.totalMs / 1000).toFixed(1)} s, job ${job.id}\n`,
        );
      } finally {
        process.off('SIGINT', onSigint);
        await client.close();
        lib.db.close();
      }
    });
}
