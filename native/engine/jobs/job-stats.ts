import type { Db } from '../store/database.js';
import { failedFinishedRows, finishedCostRows, finishedPerHourRows, jobStatusCounts, succeededDurationRows } from '../store/job-queries.js';
import { JOB_STATUSES, type Job, type JobStatus } from './job-types.js';

/** Statistics over the whole job history, computed in SQL. Durations in ms, costs in US dollars. */
export interface JobStats {
  generatedAt: string;
  counts: Record<JobStatus, number> & { total: number };
  /** Run time (finished_at - started_at) of succeeded jobs, nearest-rank percentiles. */
  durations: DurationStats[];
  errorRate: { overall: ErrorRate; byKindBackend: (ErrorRate & KindBackend)[] };
  throughput: Throughput;
  cost: { totalUsd: number; byKindBackend: CostStats[] };
}

export interface KindBackend {
  kind: string;
  backend: string;
}

export interface DurationStats extends KindBackend {
  count: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

/** failed / finished (succeeded + failed + cancelled); null when nothing finished. */
export interface ErrorRate {
  failed: number;
  finished: number;
  rate: number | null;
}

/** Jobs finished (any final status) per hour over the last `windowHours`, oldest hour first. */
export interface Throughput {
  windowHours: number;
  series: { hourStart: string; finished: number }[];
  total: number;
  perHourAvg: number;
}

/** Over finished jobs. */
export interface CostStats extends KindBackend {
  jobs: number;
  totalUsd: number;
  avgUsd: number;
}

const HOUR_MS = 3_600_000;

export function jobStats(db: Db, opts: { now?: number; windowHours?: number } = {}): JobStats {
  const now = opts.now ?? Date.now();
  const windowHours = opts.windowHours ?? 24;
  return {
    generatedAt: new Date(now).toISOString(),
    counts: statusCounts(db),
    durations: durationStats(db),
    errorRate: errorRates(db),
    throughput: throughput(db, now, windowHours),
    cost: costStats(db),
  };
}

function statusCounts(db: Db): JobStats['counts'] {
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  let total = 0;
  for (const r of jobStatusCounts(db)) {
    counts[r.status as JobStatus] = r.n;
    total += r.n;
  }
  return { ...counts, total };
}

function durationStats(db: Db): DurationStats[] {
  const ms = (x: number) => Math.round(x * 1000) / 1000;
  return succeededDurationRows(db).map((r) => ({ kind: r.kind, backend: r.backend, count: r.count, p50Ms: ms(r.p50), p95Ms: ms(r.p95), meanMs: ms(r.mean), minMs: ms(r.min), maxMs: ms(r.max) }));
}

function errorRates(db: Db): JobStats['errorRate'] {
  const rate = (r: { failed: number; finished: number }): ErrorRate => ({ failed: r.failed, finished: r.finished, rate: r.finished > 0 ? r.failed / r.finished : null });
  const { overall, byKindBackend } = failedFinishedRows(db);
  return { overall: rate(overall), byKindBackend: byKindBackend.map((r) => ({ kind: r.kind, backend: r.backend, ...rate(r) })) };
}

function throughput(db: Db, now: number, windowHours: number): Throughput {
  const since = now - windowHours * HOUR_MS;
  const rows = finishedPerHourRows(db, since, now);
  const series = Array.from({ length: windowHours }, (_, i) => ({ hourStart: new Date(since + i * HOUR_MS).toISOString(), finished: 0 }));
  let total = 0;
  for (const r of rows) {
    const slot = series[Math.min(Math.max(r.bucket, 0), windowHours - 1)]!;
    slot.finished += r.n;
    total += r.n;
  }
  return { windowHours, series, total, perHourAvg: windowHours > 0 ? total / windowHours : 0 };
}

function costStats(db: Db): JobStats['cost'] {
  const byKindBackend = finishedCostRows(db).map((r) => ({ kind: r.kind, backend: r.backend, jobs: r.jobs, totalUsd: r.total, avgUsd: r.avg }));
  return { totalUsd: byKindBackend.reduce((s, r) => s + r.totalUsd, 0), byKindBackend };
}

// --- export ---

/** Run time of a finished job in ms (finished - started), or null. */
export function runMs(job: Job): number | null {
  const { startedAt, finishedAt } = job.timings;
  return startedAt && finishedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : null;
}

type CsvValue = string | number | null;

export const CSV_COLUMNS: readonly { name: string; value: (j: Job) => CsvValue }[] = [
  { name: 'id', value: (j) => j.id },
  { name: 'kind', value: (j) => j.kind },
  { name: 'label', value: (j) => j.label },
  { name: 'backend', value: (j) => j.backend },
  { name: 'status', value: (j) => j.status },
  { name: 'priority', value: (j) => j.priority },
  { name: 'device', value: (j) => j.device },
  { name: 'queued_at', value: (j) => j.timings.queuedAt },
  { name: 'started_at', value: (j) => j.timings.startedAt },
  { name: 'finished_at', value: (j) => j.timings.finishedAt },
  { name: 'duration_ms', value: runMs },
  { name: 'queue_ms', value: (j) => j.timings.queueMs },
  { name: 'load_ms', value: (j) => j.timings.loadMs },
  { name: 'inference_ms', value: (j) => j.timings.inferenceMs },
  { name: 'transfer_ms', value: (j) => j.timings.transferMs },
  { name: 'progress_done', value: (j) => j.progress.done },
  { name: 'progress_total', value: (j) => j.progress.total },
  { name: 'cost_usd', value: (j) => j.costUsd },
  { name: 'error_code', value: (j) => j.error?.code ?? null },
  { name: 'error_message', value: (j) => j.error?.message ?? null },
  { name: 'retry_of', value: (j) => j.retryOf },
  { name: 'remote_id', value: (j) => j.remoteId },
  { name: 'input_digest', value: (j) => j.inputDigest },
  { name: 'params', value: (j) => JSON.stringify(j.params) },
  { name: 'result', value: (j) => (j.result === null ? null : JSON.stringify(j.result)) },
];

/** One RFC 4180 field: quoted (quotes doubled) when it holds a comma, quote, CR or LF; null is empty. */
export function csvField(v: CsvValue): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV lines (each ending CRLF), header first: stream them for big histories. */
export function* jobsCsvLines(jobs: Iterable<Job>): Generator<string> {
  yield CSV_COLUMNS.map((c) => csvField(c.name)).join(',') + '\r\n';
  for (const j of jobs) yield CSV_COLUMNS.map((c) => csvField(c.value(j))).join(',') + '\r\n';
}

export function jobsToCsv(jobs: Iterable<Job>): string {
  return [...jobsCsvLines(jobs)].join('');
}

/** A JSON array of job records (the same shape as `tandem jobs list --json`). */
export function jobsToJson(jobs: Iterable<Job>): string {
  return JSON.stringify([...jobs], null, 2) + '\n';
}
