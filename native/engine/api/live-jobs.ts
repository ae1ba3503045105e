/**
 * Live job events: a job running in this engine reports progress (done/total, phase, files read);
 * `publish` turns its record and state into `job.updated` (with an ETA) and its newly appended
 * history into `job.event`. `observed(make)` wraps a runner so its progress becomes events;
 * `track(handle)` publishes the end and forgets the job.
 */
import type { ApiEvents } from '../common/api-contract.js';
import type { JobKind } from '../common/job-kinds.js';
import type { JobHandle, JobRunContext, JobRunFn } from '../jobs/job-queue.js';
import type { JobStore } from '../jobs/job-store.js';
import type { Job } from '../jobs/job-types.js';
import type { ApiEventEmitter } from './api-events.js';

/** Live state of a job running in this engine (for events). */
export interface Live {
  done: number;
  total: number | null;
  phase: string | null;
  /** Index jobs: files read of the files to read. */
  files?: { done: number; total: number };
  /** When this run started and how much was done then (a resumed job starts part-way). */
  startedAt: number;
  doneAtStart: number | null;
  lastEmit: number;
}

export interface LiveJobs {
  /** Live state of the jobs running here, by id. */
  readonly live: Map<string, Live>;
  /** Emit job.updated (and new job.event entries) for a job; `force: false` throttles to the progress interval. */
  publish(id: string, force?: boolean): void;
  /** Before acting on an existing job: only events from now on are news. */
  markSeen(id: string): void;
  /** A runner whose progress becomes events: `make` builds the job's code for its (wrapped) context and live state. */
  observed<K extends JobKind>(make: (ctx: JobRunContext<K>, l: Live) => JobRunFn<K>): JobRunFn<K>;
  /** Publish a job's end and forget its live state. */
  track(handle: JobHandle): void;
  /** A job as the API shows it: a running job's progress is its live progress. */
  shown(job: Job): Job;
}

export function createLiveJobs(o: { store: JobStore; events: ApiEventEmitter; onError: (e: unknown) => void; progressIntervalMs: number; isClosed: () => boolean }): LiveJobs {
  const { store, events, onError, progressIntervalMs } = o;
  const live = new Map<string, Live>();
  /** Per job: the last event id already sent as job.event (new jobs start at 0: all their events are news). */
  const eventCursor = new Map<string, number>();
  const lastEventId = (id: string): number => {
    const evs = store.events(id);
    return evs.length ? evs[evs.length - 1]!.id : 0;
  };

  const publish = (id: string, force = true): void => {
    if (o.isClosed()) return;
    const l = live.get(id);
    const now = Date.now();
    if (!force && l && now - l.lastEmit < progressIntervalMs) return;
    let job: Job;
    try {
      job = store.get(id);
    } catch (e) {
      return onError(e);
    }
    let etaMs: number | null = null;
    if (l) {
      l.lastEmit = now;
      if (job.status === 'running') {
        job = { ...job, progress: { done: l.done, total: l.total } };
        const base = l.doneAtStart ?? 0;
        const doneHere = l.done - base;
        if (l.total !== null && doneHere > 0 && l.total >= l.done) etaMs = Math.round(((now - l.startedAt) / doneHere) * (l.total - l.done));
      }
    }
    events.emit('job.updated', { job, etaMs, phase: l?.phase ?? null, files: l?.files ?? null });
    try {
      const after = eventCursor.get(id) ?? 0;
      const evs = store.events(id).filter((e) => e.id > after);
      for (const e of evs) events.emit('job.event', e as ApiEvents['job.event']);
      if (evs.length) eventCursor.set(id, evs[evs.length - 1]!.id);
    } catch (e) {
      onError(e);
    }
  };

  const markSeen = (id: string): void => {
    if (!eventCursor.has(id)) eventCursor.set(id, lastEventId(id));
  };

  const observed = <K extends JobKind>(make: (ctx: JobRunContext<K>, l: Live) => JobRunFn<K>): JobRunFn<K> => {
    return (ctx) => {
      const l: Live = { done: ctx.job.progress.done, total: ctx.job.progress.total, phase: null, startedAt: Date.now(), doneAtStart: null, lastEmit: 0 };
      live.set(ctx.job.id, l);
      publish(ctx.job.id);
      const wrapped: JobRunContext<K> = {
        ...ctx,
        job: ctx.job,
        signal: ctx.signal,
        progress: (done, total) => {
          ctx.progress(done, total);
          if (l.doneAtStart === null) {
            l.doneAtStart = done;
            l.startedAt = Date.now();
          }
          l.done = done;
          l.total = total;
          publish(ctx.job.id, false);
        },
      };
      return make(wrapped, l)(wrapped);
    };
  };

  const track = (handle: JobHandle): void => {
    handle.done.then(
      (job) => {
        publish(job.id);
        live.delete(job.id);
        eventCursor.delete(job.id);
      },
      (e) => {
        live.delete(handle.id);
        eventCursor.delete(handle.id);
        if (!o.isClosed()) onError(e);
      },
    );
  };

  const shown = (job: Job): Job => {
    const l = live.get(job.id);
    return l && job.status === 'running' ? { ...job, progress: { done: l.done, total: l.total } } : job;
  };

  return { live, publish, markSeen, observed, track, shown };
}
