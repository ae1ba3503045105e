/**
 * Read-only queries over the job history (the `jobs` table) for statistics, costs and budgets:
 * the SQL behind `jobs.stats` (native/engine/jobs/job-stats.ts) and the cloud's month spend and
 * alerts (native/engine/cloud/costs.ts). The store is the only code that speaks SQL; callers turn
 * these rows into their reports.
 */
import type { Db } from './database.js';

const FINISHED_SQL = "('succeeded','failed','cancelled')";
const REMOTE_SQL = "backend IN ('modal','cloud-run')";
const HOUR_MS = 3_600_000;

export interface KindBackendRow {
  kind: string;
  backend: string;
}

/** Jobs per status. */
export function jobStatusCounts(db: Db): Array<{ status: string; n: number }> {
  return db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as Array<{ status: string; n: number }>;
}

/** Whether some job is recorded as running. */
export function hasRunningJob(db: Db): boolean {
  return db.prepare("SELECT 1 FROM jobs WHERE status = 'running' LIMIT 1").get() !== undefined;
}

/** Run time (finished - started) of succeeded jobs per kind and backend: count, nearest-rank p50/p95, mean, min, max (ms). */
export function succeededDurationRows(db: Db): Array<KindBackendRow & { count: number; p50: number; p95: number; mean: number; min: number; max: number }> {
  // nearest rank: the ceil(p * n / 100)-th smallest, ceil by integer arithmetic
  return db
    .prepare(
      `WITH d AS (
         SELECT kind, backend, (unixepoch(finished_at, 'subsec') - unixepoch(started_at, 'subsec')) * 1000.0 AS ms
         FROM jobs WHERE status = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL
       ), r AS (
         SELECT kind, backend, ms,
                ROW_NUMBER() OVER (PARTITION BY kind, backend ORDER BY ms) AS rn,
                COUNT(*) OVER (PARTITION BY kind, backend) AS n
         FROM d
       )
       SELECT kind, backend, n AS count,
              MAX(CASE WHEN rn = (50 * n + 99) / 100 THEN ms END) AS p50,
              MAX(CASE WHEN rn = (95 * n + 99) / 100 THEN ms END) AS p95,
              AVG(ms) AS mean, MIN(ms) AS min, MAX(ms) AS max
       FROM r GROUP BY kind, backend ORDER BY kind, backend`,
    )
    .all() as Array<KindBackendRow & { count: number; p50: number; p95: number; mean: number; min: number; max: number }>;
}

/** Failed and finished (succeeded + failed + cancelled) jobs, overall and per kind and backend. */
export function failedFinishedRows(db: Db): { overall: { failed: number; finished: number }; byKindBackend: Array<KindBackendRow & { failed: number; finished: number }> } {
  const sql = (group: boolean) =>
    `SELECT ${group ? 'kind, backend, ' : ''}COALESCE(SUM(status = 'failed'), 0) AS failed, COUNT(*) AS finished
     FROM jobs WHERE status IN ${FINISHED_SQL}${group ? ' GROUP BY kind, backend ORDER BY kind, backend' : ''}`;
  return {
    overall: db.prepare(sql(false)).get() as { failed: number; finished: number },
    byKindBackend: db.prepare(sql(true)).all() as Array<KindBackendRow & { failed: number; finished: number }>,
  };
}

/** Finished jobs per hour bucket since `since` (ms epoch; bucket 0 is the first hour) until `now`. */
export function finishedPerHourRows(db: Db, since: number, now: number): Array<{ bucket: number; n: number }> {
  return db
    .prepare(
      `SELECT CAST((unixepoch(finished_at, 'subsec') * 1000 - ?) / ${HOUR_MS} AS INTEGER) AS bucket, COUNT(*) AS n
       FROM jobs WHERE status IN ${FINISHED_SQL} AND finished_at >= ? AND finished_at < ?
       GROUP BY bucket`,
    )
    .all(since, new Date(since).toISOString(), new Date(now).toISOString()) as Array<{ bucket: number; n: number }>;
}

/** Finished jobs' cost per kind and backend: count, total and mean (US dollars). */
export function finishedCostRows(db: Db): Array<KindBackendRow & { jobs: number; total: number; avg: number }> {
  return db
    .prepare(
      `SELECT kind, backend, COUNT(*) AS jobs, SUM(cost_usd) AS total, AVG(cost_usd) AS avg
       FROM jobs WHERE status IN ${FINISHED_SQL} GROUP BY kind, backend ORDER BY kind, backend`,
    )
    .all() as Array<KindBackendRow & { jobs: number; total: number; avg: number }>;
}

/** Jobs with a cost that finished in [from, to) (ISO times), per kind and backend, most spent first. */
export function spendRows(db: Db, from: string, to: string): Array<KindBackendRow & { jobs: number; usd: number }> {
  return db
    .prepare(`SELECT kind, backend, COUNT(*) AS jobs, COALESCE(SUM(cost_usd),0) AS usd FROM jobs WHERE finished_at >= ? AND finished_at < ? AND cost_usd > 0 GROUP BY kind, backend ORDER BY usd DESC`)
    .all(from, to) as Array<KindBackendRow & { jobs: number; usd: number }>;
}

/** Remote jobs finished in [from, to), per kind and backend: finished, failed, succeeded, mean cost of the succeeded. */
export function remoteWindowRows(db: Db, from: string, to: string): Array<KindBackendRow & { finished: number; failed: number; succeeded: number; avgCost: number | null }> {
  return db
    .prepare(
      `SELECT kind, backend,
              SUM(status IN ('succeeded','failed','cancelled')) AS finished,
              SUM(status = 'failed') AS failed,
              SUM(status = 'succeeded') AS succeeded,
              AVG(CASE WHEN status = 'succeeded' THEN cost_usd END) AS avgCost
       FROM jobs WHERE ${REMOTE_SQL} AND finished_at >= ? AND finished_at < ? GROUP BY kind, backend`,
    )
    .all(from, to) as Array<KindBackendRow & { finished: number; failed: number; succeeded: number; avgCost: number | null }>;
}

/** Run times (ms, ascending) of succeeded jobs of a kind and backend that finished in [from, to). */
export function succeededRunMsRows(db: Db, kind: string, backend: string, from: string, to: string): number[] {
  const rows = db
    .prepare(
      `SELECT (julianday(finished_at) - julianday(started_at)) * 86400000.0 AS ms FROM jobs
       WHERE kind = ? AND backend = ? AND status = 'succeeded' AND started_at IS NOT NULL AND finished_at >= ? AND finished_at < ? ORDER BY ms`,
    )
    .all(kind, backend, from, to) as Array<{ ms: number }>;
  return rows.map((r) => r.ms);
}
