import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { formatDuration, formatPercent, formatTable, formatTree, formatUsd, formatWhen, oneLine, runMs, type JobStats, BACKENDS, JOB_STATUSES, type Backend, type Job, type JobEvent, type JobStatus } from '../../../engine/index.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';
import { startAndWait } from '../api-jobs.js';

interface FilterFlags {
  status?: JobStatus;
  kind?: string;
  backend?: Backend;
}

function json(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

function progressOf(j: Job): string {
  if (j.progress.total !== null) return `${j.progress.done}/${j.progress.total}`;
  return j.progress.done > 0 ? String(j.progress.done) : '-';
}

/** Run time of a finished job, time so far of a running one. */
function elapsedMs(j: Job, now: number): number | null {
  if (j.status === 'running' && j.timings.startedAt) return now - Date.parse(j.timings.startedAt);
  return runMs(j);
}

function listTable(jobs: Job[]): string {
  const now = Date.now();
  const rows = jobs.map((j) => [j.id, j.kind, j.label || '-', j.backend, j.status, progressOf(j), formatWhen(j.timings.queuedAt), formatDuration(elapsedMs(j, now)), formatUsd(j.costUsd), j.error ? oneLine(`${j.error.code}: ${j.error.message}`, 60) : '']);
  return formatTable(['ID', 'KIND', 'LABEL', 'BACKEND', 'STATUS', 'PROGRESS', 'QUEUED', 'DURATION', 'COST', 'ERROR'], rows, [5, 7, 8]);
}

/** Where a job's time went: queue wait, load, inference, transfer, the rest, run time, total. */
export function timingBreakdown(j: Job): { queueMs: number | null; loadMs: number | null; inferenceMs: number | null; transferMs: number | null; otherMs: number | null; runMs: number | null; totalMs: number | null } {
  const t = j.timings;
  const run = runMs(j);
  const other = run === null ? null : Math.max(0, run - (t.loadMs ?? 0) - (t.inferenceMs ?? 0) - (t.transferMs ?? 0));
  const total = t.finishedAt ? Date.parse(t.finishedAt) - Date.parse(t.queuedAt) : null;
  return { queueMs: t.queueMs, loadMs: t.loadMs, inferenceMs: t.inferenceMs, transferMs: t.transferMs, otherMs: other, runMs: run, totalMs: total };
}

function keyValues(rows: [string, string][], indent = ''): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`.trimEnd()).join('\n') + '\n';
}

/** The whole record, nothing cut: the result in full (files indexed and skipped by reason, result files, scores...). */
function showText(j: Job, events: JobEvent[]): string {
  const b = timingBreakdown(j);
  const head = keyValues([
    ['job', j.id],
    ['kind', j.kind],
    ['label', j.label || '-'],
    ['backend', j.backend],
    ['device', j.device ?? '-'],
    ['status', j.status],
    ['priority', String(j.priority)],
    ['progress', progressOf(j)],
    ['params', JSON.stringify(j.params)],
    ['input', `sha256:${j.inputDigest}`],
    ['cost', formatUsd(j.costUsd)],
    ['error', j.error ? `${j.error.code}: ${j.error.message}` : '-'],
    ['retry of', j.retryOf ?? '-'],
    ['remote id', j.remoteId ?? '-'],
  ]);
  const timings = keyValues(
    [
      ['queued', formatWhen(j.timings.queuedAt)],
      ['started', formatWhen(j.timings.startedAt)],
      ['finished', formatWhen(j.timings.finishedAt)],
      ['in queue', formatDuration(b.queueMs)],
      ['model load', formatDuration(b.loadMs)],
      ['inference', formatDuration(b.inferenceMs)],
      ['transfer', formatDuration(b.transferMs)],
      ['other', formatDuration(b.otherMs)],
      ['run time', formatDuration(b.runMs)],
      ['total', formatDuration(b.totalMs)],
    ],
    '  ',
  );
  const ev = formatTable(
    ['AT', 'EVENT', 'DATA'],
    events.map((e) => [formatWhen(e.at), e.type, Object.keys(e.data).length ? JSON.stringify(e.data) : '']),
  )
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
  const result = j.result === null ? '  -\n' : formatTree(j.result, '  ');
  return `${head}\nresult\n${result}\ntimings\n${timings}\nevents\n${ev}`;
}

function statsText(s: JobStats): string {
  const c = s.counts;
  const out: string[] = [];
  out.push(`jobs: ${c.total} (${JOB_STATUSES.map((st) => `${c[st]} ${st}`).join(', ')})`);
  const e = s.errorRate.overall;
  out.push(`error rate: ${formatPercent(e.rate)} (${e.failed} failed of ${e.finished} finished)`);
  const t = s.throughput;
  out.push(`throughput, last ${t.windowHours} h: ${t.total} finished, ${t.perHourAvg.toFixed(2)}/h average; per hour (oldest first): ${t.series.map((x) => x.finished).join(' ')}`);
  out.push(`cost: ${formatUsd(s.cost.totalUsd)} in total`);
  const errs = new Map(s.errorRate.byKindBackend.map((r) => [`${r.kind}\0${r.backend}`, r]));
  const costs = new Map(s.cost.byKindBackend.map((r) => [`${r.kind}\0${r.backend}`, r]));
  const durs = new Map(s.durations.map((r) => [`${r.kind}\0${r.backend}`, r]));
  const keys = [...new Set([...errs.keys(), ...costs.keys(), ...durs.keys()])].sort();
  if (keys.length > 0) {
    const rows = keys.map((k) => {
      const [kind, backend] = k.split('\0') as [string, string];
      const d = durs.get(k);
      const er = errs.get(k);
      const co = costs.get(k);
      return [kind, backend, String(er?.finished ?? 0), String(d?.count ?? 0), formatDuration(d?.p50Ms), formatDuration(d?.p95Ms), formatPercent(er?.rate ?? null), formatUsd(co?.avgUsd ?? 0), formatUsd(co?.totalUsd ?? 0)];
    });
    out.push('');
    out.push(formatTable(['KIND', 'BACKEND', 'FINISHED', 'SUCCEEDED', 'P50', 'P95', 'ERRORS', 'COST/JOB', 'COST'], rows, [2, 3, 4, 5, 6, 7, 8]).trimEnd());
  }
  return out.join('\n') + '\n';
}

function addFilters(cmd: Command): Command {
  return cmd
    .option('--status <s>', JOB_STATUSES.join(' | '), choice(JOB_STATUSES))
    .option('--kind <k>', 'only jobs of this kind (embed, index...)')
    .option('--backend <b>', BACKENDS.join(' | '), choice(BACKENDS));
}

/**
 * `tandem jobs ...`: every subcommand is a client of the engine's API; retry and resume run the
 * jobs in this process's engine (its runners: index, upgrade, eval from files, run-onnx, generate,
 * the cloud's) and wait for them.
 */
export function registerJobs(program: Command, ctx: CliContext): void {
  const jobs = program.command('jobs').description('the job history: list, show, stats, cancel, retry, export');

  addFilters(jobs.command('list').description('recent jobs, newest first'))
    .option('--limit <n>', 'at most N jobs', positiveInt, 20)
    .option('--json', 'a JSON array of job records')
    .action(async (flags: FilterFlags & { limit: number; json?: boolean }) => {
      const list = await withEngine(ctx, { readOnly: true }, async (engine) => {
        // The API pages at most 5000 jobs per call: follow its cursor up to --limit.
        const out: Job[] = [];
        let cursor: string | null = null;
        do {
          const page = await engine.api['jobs.list']({ ...filterOf(flags), limit: Math.min(flags.limit - out.length, 5000), ...(cursor ? { cursor } : {}) });
          // The contract's job record is the store's Job (its params typed as JSON there).
          out.push(...(page.jobs as Job[]));
          cursor = page.nextCursor;
        } while (cursor && out.length < flags.limit);
        return out;
      });
      if (flags.json) return json(ctx, list);
      if (list.length === 0) ctx.stdout.write('no jobs\n');
      else ctx.stdout.write(listTable(list));
    });

  jobs
    .command('show <id>')
    .description('one job: its record, where its time went, and its events')
    .option('--json', '{"job", "timings", "events"} as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const shown = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['jobs.show']({ id }));
      if (flags.json) return json(ctx, shown);
      ctx.stdout.write(showText(shown.job as Job, shown.events as JobEvent[]));
    });

  jobs
    .command('stats')
    .description('counts by status, p50/p95 run time, error rate, throughput over 24 h, cost')
    .option('--json', 'as JSON')
    .action(async (flags: { json?: boolean }) => {
      // The contract types the stats loosely; the engine answers with jobStats' record.
      const s = (await withEngine(ctx, { readOnly: true }, (engine) => engine.api['jobs.stats']({}))) as unknown as JobStats;
      if (flags.json) return json(ctx, s);
      ctx.stdout.write(statsText(s));
    });

  jobs
    .command('cancel <id>')
    .description('cancel a queued, running or interrupted job')
    .option('--json', 'print the cancelled record as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { before, after } = await withEngine(ctx, {}, async (engine) => {
        const { job: before } = await engine.api['jobs.show']({ id });
        const { job: after } = await engine.api['jobs.cancel']({ id });
        return { before, after };
      });
      if (flags.json) return json(ctx, after);
      const note = before.status === 'running' ? '; the process running it stops at its next progress report' : '';
      ctx.stdout.write(`cancelled ${id} (it was ${before.status}${note})\n`);
    });

  jobs
    .command('retry <id>')
    .description('retry a failed, cancelled or interrupted job as a new job linked to it; prints the new id')
    .option('--json', 'print the new record as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { jobs: finals } = await withEngine(ctx, {}, (engine) =>
        startAndWait(
          engine,
          () => engine.api['jobs.retry']({ id }),
          ({ job, scheduled }) => {
            if (flags.json) json(ctx, job);
            else ctx.stdout.write(`${job.id}\n`);
            if (scheduled) return [job.id];
            ctx.stderr.write(`tandem jobs: ${job.id} retries ${id} and is queued; this command cannot run ${job.kind} jobs itself, the next host that runs ${job.kind} jobs picks it up\n`);
            return [];
          },
        ),
      );
      const final = finals[0];
      if (!final) return;
      ctx.stderr.write(`tandem jobs: ${final.id} ${final.status}${final.error ? `: ${final.error.code}: ${final.error.message}` : ''}\n`);
      if (final.status === 'failed') ctx.setExitCode(1);
      if (final.status === 'cancelled') ctx.setExitCode(130);
    });

  jobs
    .command('resume [ids...]')
    .description('run queued or interrupted jobs to the end here (a remote batch resumes polling its backend); --all for every one this command can run')
    .option('--all', 'every queued or interrupted job')
    .option('--json', 'print the final records as JSON')
    .action(async (ids: string[], flags: { all?: boolean; json?: boolean }) => {
      if (ids.length === 0 && !flags.all) throw new InvalidArgumentError('give job ids, or --all');
      const { jobs: finals } = await withEngine(ctx, {}, (engine) =>
        startAndWait(
          engine,
          async () => (flags.all ? (await engine.api['jobs.resumeAll']({})).jobs : await Promise.all(ids.map(async (id) => (await engine.api['jobs.resume']({ id })).job))),
          (started) => {
            if (started.length === 0) ctx.stderr.write('tandem jobs: nothing to resume\n');
            return started.map((j) => j.id);
          },
        ),
      );
      if (flags.json) json(ctx, finals);
      for (const j of finals) ctx.stderr.write(`tandem jobs: ${j.id} ${j.kind} ${j.status}${j.error ? `: ${j.error.code}: ${j.error.message}` : ''}\n`);
      if (finals.some((j) => j.status === 'failed')) ctx.setExitCode(1);
    });

  addFilters(jobs.command('export').description('the job history as CSV (RFC 4180, header row) or JSON'))
    .requiredOption('--format <f>', 'csv | json', choice(['csv', 'json'] as const))
    .option('--output <file>', 'write here instead of stdout')
    .action(async (flags: FilterFlags & { format: 'csv' | 'json'; output?: string }) => {
      const { text } = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['jobs.export']({ format: flags.format, ...filterOf(flags) }));
      if (!flags.output) return void ctx.stdout.write(text);
      const tmp = `${flags.output}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, flags.output);
      ctx.stderr.write(`tandem jobs: wrote ${flags.output}\n`);
    });
}

function filterOf(f: FilterFlags): FilterFlags {
  return { ...(f.status ? { status: f.status } : {}), ...(f.kind ? { kind: f.kind } : {}), ...(f.backend ? { backend: f.backend } : {}) };
}
