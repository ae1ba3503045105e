import os from 'node:os';
import { isErrorCode, storageError, TandemError, toWire, type JsonValue } from '../common/errors.js';
import type { Db } from '../store/database.js';
import { JobTable, type JobRow } from '../store/job-table.js';
import { assertJson, inputDigest as digestOf } from './canonical-json.js';
import { JobIdGenerator } from './job-id.js';
import { jobLabel } from './job-label.js';
import { DEFAULT_PARAM_SCHEMAS, validateParams, type ParamSchemas } from './job-params.js';
import {
  BACKENDS,
  isFinished,
  JOB_STATUSES,
  RETRYABLE_STATUSES,
  type Backend,
  type Job,
  type JobEvent,
  type JobEventType,
  type JobOwner,
  type JobStatus,
  type JsonObject,
} from './job-types.js';

export interface CreateJobInput {
  kind: string;
  backend: Backend;
  params: unknown;
  /** The job's input (texts, file list...): only its digest is stored. Give this or `inputDigest`. */
  input?: unknown;
  /** A precomputed sha256 hex digest, for inputs too big to hand over as JSON. */
  inputDigest?: string;
  priority?: number;
  retryOf?: string;
}

/** What a run measured. Numbers are milliseconds (costUsd: US dollars, the job's total). */
export interface RunMetrics {
  loadMs?: number;
  inferenceMs?: number;
  transferMs?: number;
  costUsd?: number;
  device?: string;
}

export interface SucceedInput extends RunMetrics {
  result?: JsonValue;
}

export interface ListFilter {
  status?: JobStatus | readonly JobStatus[];
  kind?: string;
  backend?: Backend;
  /** Default 50. */
  limit?: number;
  /** A job id: only jobs created before it (for paging; lists are newest first). */
  before?: string;
}

export interface JobStoreOptions {
  /** Clock in ms since the epoch (tests pass a fake one). */
  now?: () => number;
  /** Minimum time between two progress writes of one job. Default 250 ms. */
  progressIntervalMs?: number;
  paramSchemas?: ParamSchemas;
  /** This process, recorded when it starts or resumes a job. */
  owner?: JobOwner;
}

export interface MarkInterruptedOptions {
  /**
   * Whether the process that started a running job is still alive (its job is then left alone).
   * Default: the same host, another pid, and that pid exists. Jobs of this very process are
   * always considered dead: call this at start-up, before starting jobs.
   */
  isOwnerAlive?: (owner: JobOwner) => boolean;
}

/** A run's checked metrics (NULL: not measured, the row keeps what it has). */
type Metrics = { [K in keyof RunMetrics]-?: Exclude<RunMetrics[K], undefined> | null };

/** In-memory progress of a running job, so `progress()` is cheap to call per batch. */
interface LiveProgress {
  done: number;
  total: number;
  writtenAt: number;
  writtenDone: number;
  eventDecile: number;
}

const KIND_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;
const MAX_ERROR_MESSAGE = 4000;
const DEFAULT_LIST_LIMIT = 50;

const TERMS: Record<string, string> = {
  start: 'started',
  'report progress on': 'reporting progress',
  succeed: 'succeeded',
  fail: 'failed',
  cancel: 'cancelled',
  interrupt: 'interrupted',
  resume: 'resumed',
  retry: 'retried',
  annotate: 'annotated',
  checkpoint: 'checkpointed',
};

export function rowToJob(r: JobRow): Job {
  const params = JSON.parse(r.params) as JsonObject;
  return {
    id: r.id,
    kind: r.kind,
    label: r.label ?? jobLabel(r.kind, params),
    backend: r.backend as Backend,
    device: r.device,
    params,
    inputDigest: r.input_digest,
    status: r.status as JobStatus,
    priority: r.priority,
    progress: { done: r.progress_done, total: r.progress_total },
    timings: {
      queuedAt: r.queued_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      loadMs: r.load_ms,
      inferenceMs: r.inference_ms,
      queueMs: r.queue_ms,
      transferMs: r.transfer_ms,
    },
    error: r.error_code === null ? null : { code: isErrorCode(r.error_code) ? r.error_code : 'INTERNAL', message: r.error_message ?? '' },
    costUsd: r.cost_usd,
    result: r.result === null ? null : (JSON.parse(r.result) as JsonValue),
    retryOf: r.retry_of,
    remoteId: r.remote_id,
  };
}

function defaultOwner(): JobOwner {
  return { pid: process.pid, host: os.hostname() };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function nonNegative(v: number | undefined, what: string, id: string): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TandemError('INVALID_ARGUMENT', `job ${id}: ${what} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

function asStoreError(e: unknown): TandemError {
  if (e instanceof TandemError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/job record is final/.test(msg)) return new TandemError('CONFLICT', `a finished job record cannot change (${msg})`, { cause: e });
  return storageError(e) ?? new TandemError('STORE_ERROR', `job store: ${msg}`, { cause: e });
}

/**
 * The job history in SQLite. Every state change writes the row and appends an event in one
 * transaction; illegal transitions throw CONFLICT; finished records never change.
 *
 * Transitions: queued -> running (start) | cancelled | failed; running -> succeeded | failed |
 * cancelled | interrupted (markInterrupted); interrupted -> running (resume) | cancelled | failed.
 */
export class JobStore {
  private readonly now: () => number;
  private readonly progressIntervalMs: number;
  private readonly schemas: ParamSchemas;
  private readonly owner: JobOwner;
  private readonly ids = new JobIdGenerator();
  private readonly live = new Map<string, LiveProgress>();
  private readonly table: JobTable;

  constructor(
    readonly db: Db,
    opts: JobStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.progressIntervalMs = opts.progressIntervalMs ?? 250;
    this.schemas = opts.paramSchemas ?? DEFAULT_PARAM_SCHEMAS;
    this.owner = opts.owner ?? defaultOwner();
    this.table = new JobTable(db);
  }

  /** Record a new job (status queued, plus its 'queued' event). Call this before any work runs. */
  createJob(input: CreateJobInput): Job {
    const kind = input.kind;
    if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) throw new TandemError('INVALID_ARGUMENT', `job kind must be lowercase letters, digits, '.', '_' or '-' (at most 64), got ${JSON.stringify(kind)}`);
    if (!(BACKENDS as readonly string[]).includes(input.backend)) throw new TandemError('INVALID_ARGUMENT', `job backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(input.backend)}`);
    const params = validateParams(kind, input.params, this.schemas);
    if ((input.input === undefined) === (input.inputDigest === undefined)) throw new TandemError('INVALID_ARGUMENT', `a ${kind} job needs exactly one of input or inputDigest`);
    const digest = input.inputDigest ?? digestOf(input.input);
    if (!DIGEST_PATTERN.test(digest)) throw new TandemError('INVALID_ARGUMENT', `inputDigest must be 64 lowercase hex digits (sha256), got ${JSON.stringify(digest)}`);
    const priority = input.priority ?? 0;
    if (!Number.isSafeInteger(priority)) throw new TandemError('INVALID_ARGUMENT', `job priority must be an integer, got ${String(priority)}`);
    const label = jobLabel(kind, params, input.input);
    return this.tx(() => this.insertJob(kind, input.backend, params, digest, priority, input.retryOf ?? null, label));
  }

  /** queued -> running. */
  start(id: string, opts: { device?: string } = {}): Job {
    return this.transition(id, 'start', ['queued'], (job, at, now) => {
      const queueMs = Math.max(0, now - Date.parse(job.timings.queuedAt));
      this.table.markRunning(id, at, queueMs, opts.device ?? null);
      this.event(id, at, 'started', { owner: { ...this.owner }, ...(opts.device ? { device: opts.device } : {}) });
    });
  }

  /**
   * Progress of a running job. Cheap per batch: the row is written at most every
   * `progressIntervalMs`, when the total changes, or when done reaches total; a 'progress' event
   * is appended only per 10% step. Throws CONFLICT when the job is no longer running (for
   * example cancelled from another process) — runners should stop then.
   */
  progress(id: string, done: number, total: number): void {
    if (!Number.isSafeInteger(done) || !Number.isSafeInteger(total) || done < 0 || total < 0 || done > total) {
      throw new TandemError('INVALID_ARGUMENT', `job ${id}: progress must be integers 0 <= done <= total, got ${done}/${total}`);
    }
    const now = this.now();
    let s = this.live.get(id);
    if (s === undefined) {
      s = { done: 0, total: -1, writtenAt: -Infinity, writtenDone: -1, eventDecile: -1 };
      this.live.set(id, s);
    }
    const totalChanged = s.total !== total;
    const completes = done === total && s.writtenDone !== done;
    s.done = done;
    s.total = total;
    if (!totalChanged && !completes && now - s.writtenAt < this.progressIntervalMs) return;
    const decile = total > 0 ? Math.floor((done * 10) / total) : 10;
    const live = s;
    this.tx(() => {
      if (!this.table.setProgress(id, done, total)) {
        this.live.delete(id);
        throw this.illegal(this.require(id), 'report progress on', ['running']);
      }
      if (totalChanged || decile > live.eventDecile) {
        this.event(id, new Date(now).toISOString(), 'progress', { done, total });
        live.eventDecile = decile;
      }
    });
    s.writtenAt = now;
    s.writtenDone = done;
  }

  /** running -> succeeded, with what the run measured. */
  succeed(id: string, out: SucceedInput = {}): Job {
    const result = out.result === undefined ? null : JSON.stringify(assertJson(out.result, `result of job ${id}`));
    const m = this.metrics(id, out);
    const job = this.transition(id, 'succeed', ['running'], (job, at, now) => {
      this.finishRow(id, 'succeeded', at, m, { result });
      this.event(id, at, 'succeeded', job.timings.startedAt ? { durationMs: now - Date.parse(job.timings.startedAt) } : {});
    });
    this.live.delete(id);
    return job;
  }

  /**
   * queued | running | interrupted -> failed, recording the error's code and message. An error
   * with code CANCELLED cancels the job instead: a cancellation is never a failure.
   */
  fail(id: string, error: unknown, metrics: RunMetrics = {}): Job {
    const w = toWire(error);
    if (w.code === 'CANCELLED') return this.cancel(id, w.message);
    const m = this.metrics(id, metrics);
    const message = w.message.length > MAX_ERROR_MESSAGE ? `${w.message.slice(0, MAX_ERROR_MESSAGE)}…` : w.message;
    const job = this.transition(id, 'fail', ['queued', 'running', 'interrupted'], (_job, at) => {
      this.finishRow(id, 'failed', at, m, { errorCode: w.code, errorMessage: message });
      this.event(id, at, 'failed', { code: w.code, message });
    });
    this.live.delete(id);
    return job;
  }

  /** queued | running | interrupted -> cancelled. */
  cancel(id: string, reason?: string, metrics: RunMetrics = {}): Job {
    const m = this.metrics(id, metrics);
    const job = this.transition(id, 'cancel', ['queued', 'running', 'interrupted'], (job, at) => {
      this.finishRow(id, 'cancelled', at, m, {});
      this.event(id, at, 'cancelled', { from: job.status, ...(reason ? { reason } : {}) });
    });
    this.live.delete(id);
    return job;
  }

  /**
   * At start-up: every running job whose process is gone becomes interrupted (with an event).
   * Returns those jobs; a host may `resume` them (checkpoints tell what was done) or retry them.
   */
  markInterrupted(opts: MarkInterruptedOptions = {}): Job[] {
    const alive = opts.isOwnerAlive ?? ((o: JobOwner) => o.host === this.owner.host && o.pid !== this.owner.pid && pidAlive(o.pid));
    return this.tx(() => {
      const at = new Date(this.now()).toISOString();
      const out: Job[] = [];
      const running = this.table.runningRows();
      for (const row of running) {
        const owner = this.ownerOf(row.id);
        if (owner && alive(owner)) continue;
        this.table.setInterrupted(row.id);
        this.event(row.id, at, 'interrupted', { reason: 'the process running it ended before it finished', ...(owner ? { owner: { ...owner } } : {}) });
        this.live.delete(row.id);
        out.push(this.require(row.id));
      }
      return out;
    });
  }

  /** interrupted -> running (event 'resumed'). started_at keeps the first start. */
  resume(id: string): Job {
    return this.transition(id, 'resume', ['interrupted'], (_job, at) => {
      this.table.setRunning(id);
      this.event(id, at, 'resumed', { owner: { ...this.owner } });
    });
  }

  /**
   * A new queued job with the same kind, backend, params, input digest and priority, linked by
   * retryOf; the old job gets a 'retried' event. An interrupted job is cancelled in the same
   * transaction (superseded), so it cannot be resumed as well.
   */
  createRetry(id: string): Job {
    return this.tx(() => {
      const old = this.require(id);
      if (!(RETRYABLE_STATUSES as readonly string[]).includes(old.status)) throw this.illegal(old, 'retry', RETRYABLE_STATUSES);
      const fresh = this.insertJob(old.kind, old.backend, old.params, old.inputDigest, old.priority, old.id, old.label);
      const at = fresh.timings.queuedAt;
      this.event(old.id, at, 'retried', { newJobId: fresh.id });
      if (old.status === 'interrupted') {
        this.finishRow(old.id, 'cancelled', at, this.metrics(old.id, {}), {});
        this.event(old.id, at, 'cancelled', { from: 'interrupted', reason: `superseded by retry ${fresh.id}` });
      }
      return fresh;
    });
  }

  /** Record what ran a job or its backend id while it is queued or running (event 'note'). */
  annotate(id: string, info: { device?: string; remoteId?: string; note?: string; data?: JsonObject }): Job {
    return this.transition(id, 'annotate', ['queued', 'running'], (_job, at) => {
      this.table.setInfo(id, info.device ?? null, info.remoteId ?? null);
      const data: JsonObject = { ...(info.data ?? {}) };
      if (info.device !== undefined) data.device = info.device;
      if (info.remoteId !== undefined) data.remoteId = info.remoteId;
      if (info.note !== undefined) data.note = info.note;
      this.event(id, at, 'note', data);
    });
  }

  /** The job, or NOT_FOUND naming the id. */
  get(id: string): Job {
    return this.require(id);
  }

  find(id: string): Job | null {
    const r = this.table.getRow(id);
    return r ? rowToJob(r) : null;
  }

  /** Newest first. */
  list(filter: ListFilter = {}): Job[] {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TandemError('INVALID_ARGUMENT', `list limit must be a positive integer, got ${String(limit)}`);
    return [...this.iterate(filter, limit)];
  }

  /** Every job matching the filter, newest first, read lazily (for exports). */
  *iterate(filter: Omit<ListFilter, 'limit'> = {}, limit?: number): Generator<Job> {
    let statuses: string[] | undefined;
    if (filter.status !== undefined) {
      statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
      for (const s of statuses) if (!(JOB_STATUSES as readonly string[]).includes(s)) throw new TandemError('INVALID_ARGUMENT', `unknown job status ${JSON.stringify(s)}; one of ${JOB_STATUSES.join(', ')}`);
    }
    for (const r of this.table.iterateRows({ statuses, kind: filter.kind, backend: filter.backend, before: filter.before, limit })) yield rowToJob(r);
  }

  /** The job's events, oldest first. */
  events(id: string): JobEvent[] {
    this.require(id);
    return this.table.events(id).map((r) => ({ id: r.id, jobId: r.job_id, at: r.at, type: r.type as JobEventType, data: JSON.parse(r.data) as JsonObject }));
  }

  /**
   * Mark one document done for a running job (idempotent). Call it inside the same transaction
   * that writes the document, so a crash never leaves one without the other.
   */
  checkpoint(jobId: string, docKey: string): void {
    if (typeof docKey !== 'string' || docKey.length === 0) throw new TandemError('INVALID_ARGUMENT', `job ${jobId}: a checkpoint needs a non-empty document key`);
    const status = this.table.statusOf(jobId);
    if (status === undefined) throw this.notFound(jobId);
    if (status !== 'running') throw this.illegal(this.require(jobId), 'checkpoint', ['running']);
    try {
      this.table.addCheckpoint(jobId, docKey);
    } catch (e) {
      throw asStoreError(e);
    }
  }

  /** Document keys a job has finished (a resumed job skips them; a retry may read its retryOf's). */
  checkpoints(jobId: string): Set<string> {
    this.require(jobId);
    return new Set(this.table.checkpoints(jobId));
  }

  // --- internals ---

  private insertJob(kind: string, backend: Backend, params: JsonObject, digest: string, priority: number, retryOf: string | null, label: string): Job {
    if (retryOf !== null && !this.table.getRow(retryOf)) throw new TandemError('NOT_FOUND', `cannot retry job ${retryOf}: no such job`, { data: { jobId: retryOf } });
    const now = this.now();
    const id = this.ids.next(now, this.table.maxId());
    const at = new Date(now).toISOString();
    this.table.insertRow({ id, kind, backend, params: JSON.stringify(params), inputDigest: digest, priority, queuedAt: at, retryOf, label });
    this.event(id, at, 'queued', { kind, backend, priority, ...(retryOf ? { retryOf } : {}) });
    return this.require(id);
  }

  private finishRow(id: string, status: 'succeeded' | 'failed' | 'cancelled', at: string, m: Metrics, extra: { result?: string | null; errorCode?: string; errorMessage?: string }): void {
    const live = this.live.get(id);
    this.table.finishRow(id, {
      status,
      finishedAt: at,
      progressDone: live?.done ?? null,
      progressTotal: live && live.total >= 0 ? live.total : null,
      loadMs: m.loadMs,
      inferenceMs: m.inferenceMs,
      transferMs: m.transferMs,
      costUsd: m.costUsd,
      device: m.device,
      result: extra.result ?? null,
      errorCode: extra.errorCode ?? null,
      errorMessage: extra.errorMessage ?? null,
    });
  }

  private metrics(id: string, m: RunMetrics): Metrics {
    if (m.device !== undefined && (typeof m.device !== 'string' || m.device.length === 0)) throw new TandemError('INVALID_ARGUMENT', `job ${id}: device must be a non-empty string`);
    return {
      loadMs: nonNegative(m.loadMs, 'loadMs', id),
      inferenceMs: nonNegative(m.inferenceMs, 'inferenceMs', id),
      transferMs: nonNegative(m.transferMs, 'transferMs', id),
      costUsd: nonNegative(m.costUsd, 'costUsd', id),
      device: m.device ?? null,
    };
  }

  private transition(id: string, action: string, allowed: readonly JobStatus[], apply: (job: Job, at: string, now: number) => void): Job {
    return this.tx(() => {
      const job = this.require(id);
      if (!allowed.includes(job.status)) throw this.illegal(job, action, allowed);
      const now = this.now();
      apply(job, new Date(now).toISOString(), now);
      return this.require(id);
    });
  }

  private illegal(job: Job, action: string, allowed: readonly JobStatus[]): TandemError {
    const why = isFinished(job.status) ? 'finished job records never change' : `only ${allowed.join(' or ')} jobs can be ${TERMS[action] ?? action}`;
    return new TandemError('CONFLICT', `cannot ${action} job ${job.id}: it is ${job.status} (${why})`, { data: { jobId: job.id, status: job.status } });
  }

  private notFound(id: string): TandemError {
    return new TandemError('NOT_FOUND', `no job with id ${id}`, { data: { jobId: id } });
  }

  private require(id: string): Job {
    const r = this.table.getRow(id);
    if (!r) throw this.notFound(id);
    return rowToJob(r);
  }

  private ownerOf(id: string): JobOwner | null {
    const data = this.table.ownerData(id);
    if (data === null) return null;
    const o = (JSON.parse(data) as { owner?: { pid?: unknown; host?: unknown } }).owner;
    return o && typeof o.pid === 'number' && typeof o.host === 'string' ? { pid: o.pid, host: o.host } : null;
  }

  private event(jobId: string, at: string, type: JobEventType, data: JsonObject): void {
    this.table.appendEvent(jobId, at, type, JSON.stringify(data));
  }

  private tx<T>(fn: () => T): T {
    try {
      return this.table.transaction(fn);
    } catch (e) {
      throw asStoreError(e);
    }
  }
}
