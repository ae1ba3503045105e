/**
 * The job history's tables (`jobs`, `job_events`, `job_checkpoints`): every SQL statement the job
 * store (native/engine/jobs/job-store.ts) runs, as small row-level methods taking and returning
 * plain rows. What the rows mean (transitions, events, labels, digests) is the job store's; this
 * class only reads and writes them. Statements are prepared once, when the table is made.
 */
import type { Statement } from 'better-sqlite3';
import { TandemError } from '../common/errors.js';
import type { Db } from './database.js';

/** A `jobs` row as SQLite returns it. */
export interface JobRow {
  id: string;
  kind: string;
  backend: string;
  device: string | null;
  params: string;
  input_digest: string;
  status: string;
  priority: number;
  progress_done: number;
  progress_total: number | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  load_ms: number | null;
  inference_ms: number | null;
  queue_ms: number | null;
  transfer_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  cost_usd: number;
  result: string | null;
  retry_of: string | null;
  remote_id: string | null;
  /** Absent on a store not yet at schema v4 (read-only), NULL on rows written before it. */
  label?: string | null;
}

/** A `job_events` row (`data` is JSON text). */
export interface EventRow {
  id: number;
  job_id: string;
  at: string;
  type: string;
  data: string;
}

/** A new `jobs` row (status queued). `params` is JSON text. */
export interface NewJobRow {
  id: string;
  kind: string;
  backend: string;
  params: string;
  inputDigest: string;
  priority: number;
  queuedAt: string;
  retryOf: string | null;
  label: string;
}

/** A finished job's columns. NULL metrics (and progress, result) keep what the row has. */
export interface FinishRow {
  status: 'succeeded' | 'failed' | 'cancelled';
  finishedAt: string;
  progressDone: number | null;
  progressTotal: number | null;
  loadMs: number | null;
  inferenceMs: number | null;
  transferMs: number | null;
  costUsd: number | null;
  device: string | null;
  result: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** Which rows `iterateRows` reads; every given field must match. */
export interface JobRowFilter {
  statuses?: readonly string[];
  kind?: string;
  backend?: string;
  /** Only ids below this one. */
  before?: string;
  limit?: number;
}

interface Statements {
  get: Statement<[string], JobRow>;
  insert: Statement<[string, string, string, string, string, number, string, string | null, string]>;
  event: Statement<[string, string, string, string]>;
  progress: Statement<[number, number, string]>;
  status: Statement<[string], { status: string }>;
  checkpoint: Statement<[string, string]>;
  checkpoints: Statement<[string], { doc_key: string }>;
  events: Statement<[string], EventRow>;
  ownerOf: Statement<[string], { data: string }>;
  maxId: Statement<[], { id: string }>;
  markRunning: Statement<[string, number, string | null, string]>;
  setRunning: Statement<[string]>;
  runningRows: Statement<[], JobRow>;
  setInterrupted: Statement<[string]>;
  setInfo: Statement<[string | null, string | null, string]>;
  finish: Statement<[string, string, number | null, number | null, number | null, number | null, number | null, number | null, string | null, string | null, string | null, string | null, string]>;
}

function prepareStatements(db: Db): Statements {
  try {
    return {
      get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO jobs (id, kind, backend, params, input_digest, status, priority, queued_at, retry_of, label)
         VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
      ),
      event: db.prepare('INSERT INTO job_events (job_id, at, type, data) VALUES (?, ?, ?, ?)'),
      progress: db.prepare("UPDATE jobs SET progress_done = ?, progress_total = ? WHERE id = ? AND status = 'running'"),
      status: db.prepare('SELECT status FROM jobs WHERE id = ?'),
      checkpoint: db.prepare('INSERT OR IGNORE INTO job_checkpoints (job_id, doc_key) VALUES (?, ?)'),
      checkpoints: db.prepare('SELECT doc_key FROM job_checkpoints WHERE job_id = ?'),
      events: db.prepare('SELECT * FROM job_events WHERE job_id = ? ORDER BY id'),
      ownerOf: db.prepare("SELECT data FROM job_events WHERE job_id = ? AND type IN ('started', 'resumed') ORDER BY id DESC LIMIT 1"),
      maxId: db.prepare('SELECT id FROM jobs ORDER BY id DESC LIMIT 1'),
      markRunning: db.prepare("UPDATE jobs SET status = 'running', started_at = ?, queue_ms = ?, device = COALESCE(?, device) WHERE id = ?"),
      setRunning: db.prepare("UPDATE jobs SET status = 'running' WHERE id = ?"),
      runningRows: db.prepare("SELECT * FROM jobs WHERE status = 'running' ORDER BY id"),
      setInterrupted: db.prepare("UPDATE jobs SET status = 'interrupted' WHERE id = ? AND status = 'running'"),
      setInfo: db.prepare('UPDATE jobs SET device = COALESCE(?, device), remote_id = COALESCE(?, remote_id) WHERE id = ?'),
      finish: db.prepare(
        `UPDATE jobs SET status = ?, finished_at = ?,
           progress_done = COALESCE(?, progress_done), progress_total = COALESCE(?, progress_total),
           load_ms = COALESCE(?, load_ms), inference_ms = COALESCE(?, inference_ms), transfer_ms = COALESCE(?, transfer_ms),
           cost_usd = COALESCE(?, cost_usd), device = COALESCE(?, device),
           result = COALESCE(?, result), error_code = ?, error_message = ?
         WHERE id = ?`,
      ),
    };
  } catch (e) {
    throw new TandemError('STORE_ERROR', `the job tables are not there (${(e as Error).message}); open the store with openDatabase(), which migrates it`, { cause: e });
  }
}

/**
 * Row-level access to the job tables of one database. Throws STORE_ERROR when made over a
 * database without them (not opened through `openDatabase`, which migrates). Errors of the
 * statements themselves (a trigger's 'job record is final', a full disk) come out as SQLite threw them.
 */
export class JobTable {
  private readonly stmt: Statements;

  constructor(private readonly db: Db) {
    this.stmt = prepareStatements(db);
  }

  /** Run `fn` in one IMMEDIATE transaction (nested calls become savepoints); a throw rolls it back. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  getRow(id: string): JobRow | undefined {
    return this.stmt.get.get(id);
  }

  statusOf(id: string): string | undefined {
    return this.stmt.status.get(id)?.status;
  }

  /** The greatest job id, or null when there are no jobs. */
  maxId(): string | null {
    return this.stmt.maxId.get()?.id ?? null;
  }

  insertRow(r: NewJobRow): void {
    this.stmt.insert.run(r.id, r.kind, r.backend, r.params, r.inputDigest, r.priority, r.queuedAt, r.retryOf, r.label);
  }

  /** Append one event (`data` is JSON text). */
  appendEvent(jobId: string, at: string, type: string, data: string): void {
    this.stmt.event.run(jobId, at, type, data);
  }

  /** Write a running job's progress; false when the job is not running (or not there). */
  setProgress(id: string, done: number, total: number): boolean {
    return this.stmt.progress.run(done, total, id).changes > 0;
  }

  /** queued -> running: started_at, queue_ms, and the device when given. */
  markRunning(id: string, startedAt: string, queueMs: number, device: string | null): void {
    this.stmt.markRunning.run(startedAt, queueMs, device, id);
  }

  /** Status running again (a resume; started_at keeps the first start). */
  setRunning(id: string): void {
    this.stmt.setRunning.run(id);
  }

  /** Rows with status running, oldest id first. */
  runningRows(): JobRow[] {
    return this.stmt.runningRows.all();
  }

  /** running -> interrupted (no change when the job is not running). */
  setInterrupted(id: string): void {
    this.stmt.setInterrupted.run(id);
  }

  /** Set the device and/or the backend's id; NULL keeps what the row has. */
  setInfo(id: string, device: string | null, remoteId: string | null): void {
    this.stmt.setInfo.run(device, remoteId, id);
  }

  /** Write a job's final status, time, metrics and result or error. */
  finishRow(id: string, f: FinishRow): void {
    this.stmt.finish.run(f.status, f.finishedAt, f.progressDone, f.progressTotal, f.loadMs, f.inferenceMs, f.transferMs, f.costUsd, f.device, f.result, f.errorCode, f.errorMessage, id);
  }

  /** The data (JSON text) of the job's latest 'started' or 'resumed' event. */
  ownerData(id: string): string | null {
    return this.stmt.ownerOf.get(id)?.data ?? null;
  }

  /** The job's events, oldest first. */
  events(jobId: string): EventRow[] {
    return this.stmt.events.all(jobId);
  }

  /** Record one finished document of a job (idempotent). */
  addCheckpoint(jobId: string, docKey: string): void {
    this.stmt.checkpoint.run(jobId, docKey);
  }

  /** Document keys recorded for the job. */
  checkpoints(jobId: string): string[] {
    return this.stmt.checkpoints.all(jobId).map((r) => r.doc_key);
  }

  /** Rows matching the filter, newest (greatest id) first, read lazily. */
  *iterateRows(filter: JobRowFilter = {}): Generator<JobRow> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.statuses !== undefined) {
      where.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
      args.push(...filter.statuses);
    }
    const eq: [string, string | undefined][] = [
      ['kind = ?', filter.kind],
      ['backend = ?', filter.backend],
      ['id < ?', filter.before],
    ];
    for (const [clause, value] of eq) {
      if (value === undefined) continue;
      where.push(clause);
      args.push(value);
    }
    let sql = `SELECT * FROM jobs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    if (filter.limit !== undefined) {
      sql += ' LIMIT ?';
      args.push(filter.limit);
    }
    yield* this.db.prepare(sql).iterate(...args) as IterableIterator<JobRow>;
  }
}
