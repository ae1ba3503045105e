import type { Command } from 'commander';
import { parseJobResult } from '../../../engine/common/job-kinds.js';
import { requireSucceeded } from '../job-outcome.js';
import { type Job, VARIANTS, type Variant } from '../../../engine/index.js';
import type { ApiCollection } from '../../../engine/common/api-contract.js';
import { choice, type CliContext } from '../cli-context.js';
import { ProgressLine } from '../progress.js';
import { withEngine } from '../cli-engine.js';
import { progressFromUpdates, startAndWait } from '../api-jobs.js';

function mib(b: number): string {
  return `${(b / 1024 ** 2).toFixed(1)} MiB`;
}

function describeLive(s: Pick<ApiCollection, 'model' | 'variant' | 'dims'>): string {
  return s.model === null ? 'none: lexical-only (keyword search)' : `${s.model} (${s.variant}), ${s.dims ?? '?'} dims`;
}

export function registerCollections(program: Command, ctx: CliContext): void {
  const cmd = program.command('collections').description('list | show NAME | upgrade NAME --model ID | remove NAME');
  cmd
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const { collections: rows } = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['collections.list']({}));
      if (flags.json) return void ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      if (rows.length === 0) return void ctx.stdout.write('no collections yet: `tandem index PATH --collection NAME` creates one\n');
      for (const r of rows) {
        const up = r.upgradeProgress ? `  upgrading to ${r.upgradeProgress.model}: ${r.upgradeProgress.done}/${r.upgradeProgress.total}` : '';
        ctx.stdout.write(`${r.name.padEnd(24)} ${String(r.documents).padStart(8)} docs ${String(r.chunks).padStart(9)} chunks  ${r.model === null ? 'lexical-only' : `${r.model} (${r.variant})`}  ${mib(r.storedBytes)}${up}\n`);
      }
    });
  cmd
    .command('show <name>')
    .option('--json', 'machine-readable output')
    .action(async (name: string, flags: { json?: boolean }) => {
      const s = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['collections.show']({ name }));
      if (flags.json) return void ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
      ctx.stdout.write(
        [
          `collection  ${s.name}`,
          `model       ${describeLive(s)}`,
          ...(s.upgradeProgress
            ? [`upgrade     to ${s.upgradeProgress.model} (${s.upgradeProgress.variant}): ${s.upgradeProgress.done}/${s.upgradeProgress.total} chunks embedded (search uses the live model until it ends; \`tandem collections upgrade ${JSON.stringify(s.name)} --model ${s.upgradeProgress.model}\` continues it)`]
            : []),
          `root        ${s.root ?? '-'}`,
          `documents   ${s.documents}`,
          `chunks      ${s.chunks}`,
          `models      ${s.models.join(', ') || '-'}`,
          `bytes       ${mib(s.sourceBytes)} source, ${mib(s.storedBytes)} stored (text + vectors)`,
          `created     ${s.createdAt}`,
        ].join('\n') + '\n',
      );
    });
  cmd
    .command('upgrade <name>')
    .description('re-embed a collection with another model; search keeps using the current vectors (or keyword search) until every chunk has a new one. Resumable: after a kill or Ctrl-C, run it again')
    .requiredOption('--model <id>', 'the new embedding model')
    .option('--variant <v>', 'fp32 | int8 | fp16 | static', choice(VARIANTS))
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress on stderr')
    .action(async (name: string, flags: { model: string; variant?: Variant; json?: boolean; quiet?: boolean }) => {
      const progress = new ProgressLine(`upgrading ${name} to ${flags.model}: chunks`, process.stderr, flags.quiet);
      const { answer, jobs } = await withEngine(ctx, {}, (engine) =>
        startAndWait(
          engine,
          () => engine.api['collections.upgrade']({ name, model: flags.model, ...(flags.variant ? { variant: flags.variant } : {}) }),
          (a) => {
            // An upgrade job left running by a killed process is resumed (chunks with a new vector are kept).
            if (a.resumed && !flags.quiet) ctx.stderr.write(`tandem collections upgrade: resuming interrupted job ${a.jobId}\n`);
            return [a.jobId];
          },
          progressFromUpdates((done, total) => progress.update(done, total)),
        ),
      );
      progress.end();
      const job = requireSucceeded(jobs[0] as Job);
      const s = parseJobResult('upgrade', job.result, job.id);
      if (flags.json) ctx.stdout.write(JSON.stringify({ job: answer.jobId, ...s }, null, 2) + '\n');
      const before = s.from ? `${s.from.model} (${s.from.variant})` : 'lexical-only';
      ctx.stderr.write(
        s.alreadyLive
          ? `tandem collections upgrade: ${s.collection} already searches with ${s.to.model} (${s.to.variant}), ${s.chunks} chunks; job ${job.id}\n`
          : `tandem collections upgrade: ${s.collection}: ${before} -> ${s.to.model} (${s.to.variant}), ${s.chunks} chunks (${s.embedded} embedded by this run${s.truncated ? `, ${s.truncated} cut to the model's max length` : ''}), ${s.dims} dims, device ${s.device || 'n/a'}, ${(s.totalMs / 1000).toFixed(1)} s, job ${job.id}\n`,
      );
    });
  cmd
    .command('remove <name>')
    .action(async (name: string) => {
      const { removed } = await withEngine(ctx, {}, (engine) => engine.api['collections.remove']({ name }));
      ctx.stdout.write(`removed collection ${removed}\n`);
    });
}
