import path from 'node:path';
import type { Command } from 'commander';
import type { ApiEvents, ApiInput } from '../../../engine/common/api-contract.js';
import { parseJobResult, type JobResult } from '../../../engine/common/job-kinds.js';
import { type Job, DEFAULT_INDEX_MODEL, isExpectedReason, type NotIndexed, type Variant } from '../../../engine/index.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../../../engine/common/device-text.js';
import { startAndWait } from '../api-jobs.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';
import { requireSucceeded } from '../job-outcome.js';
import { ProgressLine } from '../progress.js';

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

/** Paths listed with --verbose. */
const VERBOSE_PATHS = 20;

/** The lines about files not indexed: counts by reason, then (verbose) the first paths, refused and failed ones first. */
function notIndexedReport(s: JobResult<'index'>, verbose: boolean, jobId: string): string[] {
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

export function registerIndex(program: Command, ctx: CliContext): void {
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
      const progress = new ProgressLine('indexing', process.stderr, flags.quiet);
      let measuring = false;
      let lastKey = '';
      // Progress counts chunks (files read beside them); the rate and ETA are measured from the end of the walk.
      const onUpdate = ({ job, phase, files }: ApiEvents['job.updated']): void => {
        if (phase === 'scanning') return progress.start();
        if ((job.status !== 'running' && job.status !== 'succeeded') || job.progress.total === null || phase === null) return;
        const key = `${job.progress.done}/${job.progress.total}/${files?.done}/${files?.total}`;
        if (key === lastKey) return;
        lastKey = key;
        // (Events are throttled: a short job's first update after the walk may be its last.)
        if (!measuring && job.progress.done < job.progress.total) {
          measuring = true;
          progress.start();
        }
        progress.update(job.progress.done, job.progress.total, { unit: 'chunks', ...(files ? { extra: `${files.done}/${files.total} files read` } : {}) });
      };
      const input: ApiInput<'library.index'> = {
        paths: [path.resolve(root)],
        collection: flags.collection,
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.variant ? { variant: flags.variant } : {}),
        ...(flags.device ? { device: flags.device } : {}),
        ...(flags.columns ? { columns: flags.columns } : {}),
        ...(flags.maxTokens ? { maxTokens: flags.maxTokens } : {}),
        ...(flags.overlap ? { overlapTokens: flags.overlap } : {}),
        ...(flags.lexicalOnly ? { lexicalOnly: true } : {}),
      };
      const { job, s } = await withEngine(ctx, {}, async (engine) => {
        const { jobs } = await startAndWait(
          engine,
          () => engine.api['library.index'](input),
          (a) => {
            // No --model: the collection's own model, or for a new collection the best installed one (a lexical-only run runs no model).
            if (a.modelReason && !flags.quiet) ctx.stderr.write(`tandem index: model ${a.model}: ${a.modelReason}\n`);
            // A job left running by a crashed or killed process is resumed (its finished documents are skipped), not started afresh.
            for (const id of a.resumed ?? []) ctx.stderr.write(`tandem index: resuming interrupted job ${id}\n`);
            return a.jobIds;
          },
          onUpdate,
        );
        progress.end();
        const job = requireSucceeded(jobs[0] as Job);
        // The whole summary (every path not indexed, with its reason); the record keeps a capped copy.
        const { summary } = await engine.api['library.indexReport']({ jobId: job.id });
        return { job, s: parseJobResult('index', summary, job.id) };
      });
      if (flags.json) ctx.stdout.write(JSON.stringify({ job: job.id, ...s }, null, 2) + '\n');
      for (const line of notIndexedReport(s, flags.verbose === true, job.id)) ctx.stderr.write(`${line}\n`);
      if (s.notice) ctx.stderr.write(`tandem index: notice: ${s.notice}\n`);
      // Input asked for and not (all) indexed: exit 3 (hidden and ignored files do not count).
      if (s.filesNotIndexed > 0) ctx.setExitCode(3);
      ctx.stderr.write(
        `tandem index: ${s.collection}: ${s.filesSeen} files (${s.filesIndexed} indexed, ${s.filesUnchanged} unchanged, ${s.filesSkipped} skipped, ${s.errorCount} errors), ` +
          `${s.documentsWritten} documents written, ${s.documentsDeleted} removed, ${s.chunksWritten} chunks, ${s.lexicalOnly ? 'lexical-only (no vectors)' : `device ${s.device || 'n/a'}`}, ${(s.totalMs / 1000).toFixed(1)} s, job ${job.id}\n`,
      );
    });
}
