import { isTandemError, TandemError, type JsonValue } from '../common/errors.js';
import { isJobKind, parseJobParams, parseJobResult, type JobKind, type JobParams, type JobParamsInput, type JobResultInput } from '../common/job-kinds.js';
import { assertJson } from './canonical-json.js';
import type { CreateJobInput, JobStore, RunMetrics } from './job-store.js';
import { BACKENDS, isFinished, type Backend, type Job, type JsonObject } from './job-types.js';

/** A job record of a known kind, its params read through the kind's schema (common/job-kinds.ts). */
export type KindJob<K extends JobKind = JobKind> = Omit<Job, 'kind' | 'params'> & { readonly kind: K; readonly params: JobParams<K> };

/** What a running job's code gets. */
export interface JobRunContext<K extends JobKind = JobKind> {
  /** The record as it was when the job started (params, retryOf...), its params read through its kind's schema. */
  readonly job: KindJob<K>;
  /** Aborted (reason: a CANCELLED TandemError) when the job is cancelled, here or from another process. */
  readonly signal: AbortSignal;
  /** Cheap to call per batch (the store throttles writes). */
  progress(done: number, total: number): void;
  /** What actually runs it (cpu, cuda, an A100...): written to the record at once. */
  setDevice(device: string): void;
  /** Measured timings, recorded when the job finishes; later calls overwrite the fields they name. */
  setTimings(timings: { loadMs?: number; inferenceMs?: number; transferMs?: number }): void;
  /** The job's total cost so far, recorded when it finishes (even when it fails). */
  setCostUsd(usd: number): void;
  /** The backend's own job id, written to the record at once (to resume polling later). */
  setRemoteId(remoteId: string): void;
  /** Append a 'note' event (e.g. per-item progress of a batch, a routing decision, a budget warning). */
  note(message: string, data?: JsonObject): void;
}

/** What a runner of kind K returns: its kind's result (a kind whose result may be null may also return nothing). */
export type RunOutput<K extends JobKind> = JobResultInput<K> | (null extends JobResultInput<K> ? void : never);

/**
 * The work of one job of kind K. Its return value becomes the job's result, checked against the
 * kind's result schema (common/job-kinds.ts) and to be JSON. Throwing fails the job with the
 * error's TandemError code (other errors: INTERNAL); throwing CANCELLED cancels it.
 */
export type JobRunFn<K extends JobKind = JobKind> = (ctx: JobRunContext<K>) => Promise<RunOutput<K>> | RunOutput<K>;

/** The runners of several kinds, by kind (a kind's runner takes that kind's context). */
export type JobRunnerTable = { readonly [K in JobKind]?: JobRunFn<K> };

/** Something done to each runner of a table (e.g. LiveJobs.observed), keeping its kind. */
export type RunnerWrap = <K extends JobKind>(run: JobRunFn<K>, kind: K) => JobRunFn<K>;

/** A job to record, typed by its kind: its params are checked against the kind's schema before anything is recorded. */
export type JobSpec<K extends JobKind = JobKind> = Omit<CreateJobInput, 'kind' | 'params'> & { readonly kind: K; readonly params: JobParamsInput<K> };

/** A runner with its kind erased: what the queue holds (it calls it only with a context of its kind). */
type ErasedRunFn = (ctx: JobRunContext) => Promise<unknown>;
/** A runner of some kind (`never`: every runner takes it). */
type SomeRunFn = (ctx: never) => unknown;

function erase(run: SomeRunFn): ErasedRunFn {
  // The queue calls it only for a job of the kind it was registered or submitted for, with the
  // params read through that kind's schema (execute()).
  return async (ctx) => run(ctx as never);
}

/**
 * The runner of one job kind, typed by it: `kindRunner('index', async (run) => ...)` gets
 * `run.job.params` as `JobParams<'index'>` and must return `JobResult<'index'>`.
 */
export function kindRunner<K extends JobKind>(_kind: K, run: JobRunFn<K>): JobRunFn<K> {
  return run;
}

export interface JobHandle {
  readonly id: string;
  /**
   * The final record once the job's code has returned (or at once for a job cancelled before it
   * ran). Resolves whatever the outcome; rejects only if the store itself fails.
   */
  readonly done: Promise<Job>;
}

export const DEFAULT_CONCURRENCY: Readonly<Record<Backend, number>> = { local: 1, modal: 10, 'cloud-run': 5 };

/**
 * Which code runs each job kind, so a host can re-run (retry, resume, adopt) jobs by kind. Only the
 * kinds of JOB_KINDS have runners: a stored job of a kind this version does not know lists and
 * shows, but never runs.
 */
export class JobRunners {
  private readonly byKind = new Map<JobKind, SomeRunFn>();

  register<K extends JobKind>(kind: K, run: JobRunFn<K>): void {
    if (!isJobKind(kind)) throw new TandemError('INVALID_ARGUMENT', `unknown job kind ${JSON.stringify(kind)}: only the kinds of common/job-kinds.ts have runners`);
    if (typeof run !== 'function') throw new TandemError('INVALID_ARGUMENT', `the runner for ${kind} jobs must be a function`);
    this.byKind.set(kind, run);
  }

  /** Register every runner of a table, each through `wrap` when given. */
  addAll(table: JobRunnerTable, wrap?: RunnerWrap): void {
    const add = <K extends JobKind>(kind: K): void => {
      const run = table[kind];
      if (run) this.register(kind, wrap ? wrap(run, kind) : run);
    };
    for (const kind of Object.keys(table)) if (isJobKind(kind)) add(kind);
  }

  /** Whether a runner is registered for `kind` (any string: a stored job may be of a kind this version does not know). */
  has(kind: string): boolean {
    return isJobKind(kind) && this.byKind.has(kind);
  }

  get<K extends JobKind>(kind: K): JobRunFn<K> | undefined {
    return this.byKind.get(kind) as JobRunFn<K> | undefined; // register() keys each runner by its own kind
  }

  /** The runner of a stored job's kind, its kind erased (undefined: none, or a kind this version does not know). */
  erased(kind: string): ErasedRunFn | undefined {
    const run = isJobKind(kind) ? this.byKind.get(kind) : undefined;
    return run ? erase(run) : undefined;
  }

  kinds(): JobKind[] {
    return [...this.byKind.keys()].sort();
  }
}

export interface JobQueueOptions {
  /** Jobs running at once per backend (default local 1, modal 10, cloud-run 5). */
  concurrency?: Partial<Record<Backend, number>>;
  runners?: JobRunners;
  /** Told when recording a job's outcome itself failed (the store is broken or locked). */
  onError?: (jobId: string, error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Entry {
  readonly id: string;
  readonly backend: Backend;
  readonly priority: number;
  readonly seq: number;
  readonly run: ErasedRunFn;
  /** An interrupted job: resumed, not started. */
  readonly resume: boolean;
  readonly handle: JobHandle;
  resolve(job: Job): void;
  reject(e: unknown): void;
  state: 'pending' | 'running';
  controller: AbortController;
  timings: { loadMs?: number; inferenceMs?: number; transferMs?: number };
  costUsd?: number;
  device?: string;
}

function checkLimit(backend: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new TandemError('INVALID_ARGUMENT', `concurrency for ${backend} must be a positive integer, got ${String(n)}`);
  return n;
}

/**
 * An in-process scheduler over a JobStore: per-backend concurrency limits, priorities (higher
 * first, FIFO within a priority), cancellation through AbortSignal, retries as new linked jobs.
 * Every job is recorded in the store before its code runs; outcomes are recorded when it returns.
 */
export class JobQueue {
  readonly runners: JobRunners;
  private readonly limits: Record<Backend, number>;
  private readonly onError: (jobId: string, error: unknown) => void;
  private readonly pending: Entry[] = [];
  private readonly entries = new Map<string, Entry>();
  private readonly running: Record<Backend, number> = { local: 0, modal: 0, 'cloud-run': 0 };
  private seq = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly store: JobStore,
    opts: JobQueueOptions = {},
  ) {
    this.runners = opts.runners ?? new JobRunners();
    this.onError = opts.onError ?? (() => {});
    this.limits = { ...DEFAULT_CONCURRENCY };
    for (const [b, n] of Object.entries(opts.concurrency ?? {})) this.setConcurrency(b as Backend, n);
  }

  /** Change a backend's limit; more jobs start at once if it grew. */
  setConcurrency(backend: Backend, n: number): void {
    if (!(BACKENDS as readonly string[]).includes(backend)) throw new TandemError('INVALID_ARGUMENT', `unknown backend ${JSON.stringify(backend)}; one of ${BACKENDS.join(', ')}`);
    this.limits[backend] = checkLimit(backend, n);
    this.pump();
  }

  /** The hook hosts use so jobs of `kind` can be re-run (retry, resume, adoptStored). */
  registerJobRunner<K extends JobKind>(kind: K, run: JobRunFn<K>): void {
    this.runners.register(kind, run);
  }

  /**
   * Record a new job (queued) and schedule it. `run` defaults to the runner registered for its
   * kind. The params are checked against the kind's schema first (INVALID_ARGUMENT naming the
   * kind and field; nothing is recorded).
   */
  submit<K extends JobKind>(spec: JobSpec<K>, run?: JobRunFn<K>): JobHandle {
    const fn = run ? erase(run) : this.runners.erased(spec.kind);
    if (!fn) throw new TandemError('INVALID_ARGUMENT', `no runner for ${spec.kind} jobs: pass one to submit() or registerJobRunner()`);
    parseJobParams(spec.kind, spec.params);
    return this.enqueue(this.store.createJob(spec), fn);
  }

  /** Schedule a job already in the store: a queued one starts, an interrupted one resumes. */
  schedule<K extends JobKind>(id: string, run?: JobRunFn<K>): JobHandle {
    const existing = this.entries.get(id);
    if (existing) return existing.handle;
    const job = this.store.get(id);
    if (job.status !== 'queued' && job.status !== 'interrupted') throw new TandemError('CONFLICT', `cannot schedule job ${id}: it is ${job.status} (only queued or interrupted jobs can be)`, { data: { jobId: id, status: job.status } });
    const fn = run ? erase(run) : this.runners.erased(job.kind);
    if (!fn) throw new TandemError('INVALID_ARGUMENT', `no runner for ${job.kind} jobs (job ${id}): register one with registerJobRunner()`);
    return this.enqueue(job, fn);
  }

  /** Schedule every queued or interrupted job in the store that has a runner here, oldest first. */
  adoptStored(): JobHandle[] {
    const jobs = this.store.list({ status: ['queued', 'interrupted'], limit: Number.MAX_SAFE_INTEGER }).reverse();
    return jobs.filter((j) => this.runners.has(j.kind)).map((j) => this.schedule(j.id));
  }

  /**
   * Cancel a job: a queued one never runs; a running one is recorded as cancelled at once and its
   * signal aborted (its slot frees when its code returns). A job this queue does not hold is
   * cancelled in the store (a process running it notices at its next progress report).
   */
  cancel(id: string, reason = 'cancelled by the user'): Job {
    const e = this.entries.get(id);
    if (!e) return this.store.cancel(id, reason);
    if (e.state === 'pending') {
      this.pending.splice(this.pending.indexOf(e), 1);
      this.entries.delete(id);
      try {
        const job = this.store.cancel(id, reason);
        e.resolve(job);
        return job;
      } catch (err) {
        this.settleFromStore(e, err);
        throw err;
      } finally {
        this.checkIdle();
      }
    }
    const job = this.store.cancel(id, reason, this.metricsOf(e));
    e.controller.abort(new TandemError('CANCELLED', `job ${id} was cancelled`));
    return job;
  }

  /**
   * Retry a failed, cancelled or interrupted job as a NEW job (retryOf = id, same params and
   * input). It is scheduled when `run` is given or a runner is registered for its kind; otherwise
   * it stays queued in the store for a host that knows the kind (`schedule`/`adoptStored`).
   */
  retry<K extends JobKind>(id: string, run?: JobRunFn<K>): { job: Job; handle: JobHandle | null } {
    const job = this.store.createRetry(id);
    const fn = run ? erase(run) : this.runners.erased(job.kind);
    return { job, handle: fn ? this.enqueue(job, fn) : null };
  }

  /** Jobs waiting and running in this queue. */
  counts(): { pending: number; running: Record<Backend, number> } {
    return { pending: this.pending.length, running: { ...this.running } };
  }

  /** Resolves when nothing is pending or running. */
  onIdle(): Promise<void> {
    if (this.entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // --- internals ---

  private enqueue(job: Job, run: ErasedRunFn): JobHandle {
    let resolve!: (j: Job) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<Job>((res, rej) => ((resolve = res), (reject = rej)));
    const e: Entry = {
      id: job.id,
      backend: job.backend,
      priority: job.priority,
      seq: this.seq++,
      run,
      resume: job.status === 'interrupted',
      handle: { id: job.id, done },
      resolve,
      reject,
      state: 'pending',
      controller: new AbortController(),
      timings: {},
    };
    const at = this.pending.findIndex((p) => p.priority < e.priority);
    this.pending.splice(at === -1 ? this.pending.length : at, 0, e);
    this.entries.set(e.id, e);
    this.pump();
    return e.handle;
  }

  private pump(): void {
    for (const e of [...this.pending]) {
      if (this.running[e.backend] < this.limits[e.backend]) this.launch(e);
    }
    this.checkIdle();
  }

  private launch(e: Entry): void {
    this.pending.splice(this.pending.indexOf(e), 1);
    let job: Job;
    try {
      job = e.resume ? this.store.resume(e.id) : this.store.start(e.id);
    } catch (err) {
      this.entries.delete(e.id);
      this.settleFromStore(e, err);
      return;
    }
    e.state = 'running';
    this.running[e.backend]++;
    void this.execute(e, job);
  }

  private async execute(e: Entry, job: Job): Promise<void> {
    await Promise.resolve(); // the job's code never runs inside submit()
    let outcome: Outcome;
    try {
      // Read back from SQLite: a row whose params no longer fit its kind (corrupt, or an older
      // version's) fails here with INVALID_ARGUMENT naming the kind and field, not inside the runner.
      const params = parseJobParams(job.kind, job.params, job.id);
      const kind = job.kind as JobKind; // parseJobParams refuses a kind this version does not know
      const value = await e.run(this.contextFor(e, { ...job, kind, params }));
      // The result must be JSON (INVALID_ARGUMENT, as the store says) and fit its kind's result
      // schema (INTERNAL naming the field); the record keeps it as returned.
      if (!e.controller.signal.aborted) parseJobResult(kind, assertJson(value ?? null, `result of job ${job.id}`), job.id);
      outcome = { ok: true, value };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.record(e, outcome);
    this.running[e.backend]--;
    this.entries.delete(e.id);
    try {
      e.resolve(this.store.get(e.id));
    } catch (err) {
      e.reject(err);
    }
    this.pump();
  }

  private contextFor(e: Entry, job: KindJob): JobRunContext {
    const live = () => !e.controller.signal.aborted;
    /** The record is no longer running (cancelled from another process): stop the job's code. */
    const guard = (f: () => void): void => {
      try {
        f();
      } catch (err) {
        if (!isTandemError(err, 'CONFLICT')) throw err;
        e.controller.abort(new TandemError('CANCELLED', `job ${e.id} was cancelled elsewhere`));
      }
    };
    return {
      job,
      signal: e.controller.signal,
      progress: (done, total) => {
        if (live()) guard(() => this.store.progress(e.id, done, total));
      },
      setDevice: (device) => {
        e.device = device;
        if (live()) guard(() => this.store.annotate(e.id, { device }));
      },
      setTimings: (t) => {
        e.timings = { ...e.timings, ...t };
      },
      setCostUsd: (usd) => {
        e.costUsd = usd;
      },
      setRemoteId: (remoteId) => {
        if (live()) guard(() => this.store.annotate(e.id, { remoteId }));
      },
      note: (message, data) => {
        if (live()) guard(() => this.store.annotate(e.id, { note: message, ...(data ? { data } : {}) }));
      },
    };
  }

  private metricsOf(e: Entry): RunMetrics {
    return { ...e.timings, ...(e.costUsd !== undefined ? { costUsd: e.costUsd } : {}), ...(e.device !== undefined ? { device: e.device } : {}) };
  }

  /** Write the outcome, unless the record is already final (cancelled here or elsewhere). */
  private record(e: Entry, outcome: Outcome): void {
    try {
      const current = this.store.find(e.id);
      if (!current || isFinished(current.status)) return;
      const m = this.metricsOf(e);
      try {
        if (e.controller.signal.aborted) this.store.cancel(e.id, 'cancelled', m);
        else if (outcome.ok) this.store.succeed(e.id, { ...m, result: (outcome.value ?? null) as JsonValue }); // checked by its kind's schema in execute(), and to be JSON by the store
        else this.store.fail(e.id, outcome.error, m);
      } catch (err) {
        // e.g. a result that is not JSON, or metrics out of range: that is the job's failure
        if (isTandemError(err, 'STORE_ERROR') || isTandemError(err, 'DISK_FULL') || isTandemError(err, 'READ_ONLY')) throw err;
        this.store.fail(e.id, err);
      }
    } catch (err) {
      this.onError(e.id, err);
    }
  }

  /** The job could not start (e.g. cancelled from another process meanwhile): settle its handle. */
  private settleFromStore(e: Entry, err: unknown): void {
    try {
      const job = this.store.find(e.id);
      if (job && isFinished(job.status)) return e.resolve(job);
    } catch {
      // fall through: report the original error
    }
    e.reject(err);
  }

  private checkIdle(): void {
    if (this.entries.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
