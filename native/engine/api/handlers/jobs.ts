/** jobs.*: the durable history (list with filters and text search, show with timings and events, stats, export as CSV or JSON) and control (cancel, retry, resume one or all). */
import { TandemError } from '../../common/errors.js';
import type { ApiOutput } from '../../common/api-contract.js';
import { jobsCsvLines, jobStats, jobsToJson } from '../../jobs/job-stats.js';
import type { Job } from '../../jobs/job-types.js';
import { timingBreakdown } from '../api-service.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';

function jobText(j: Job): string {
  return `${j.id} ${j.kind} ${j.label} ${j.backend} ${j.status} ${JSON.stringify(j.params)} ${j.error ? `${j.error.code} ${j.error.message}` : ''}`.toLowerCase();
}

export function jobsHandlers(ctx: EngineContext): HandlersOf<MethodsOf<'jobs.'>> {
  const { store, queue, jobs, deps } = ctx;
  return {
    'jobs.list': ({ status, kind, backend, text, limit, cursor }) => {
      const needle = text?.toLowerCase();
      const out: Job[] = [];
      let more = false;
      for (const j of store.iterate({ ...(status ? { status } : {}), ...(kind ? { kind } : {}), ...(backend ? { backend } : {}), ...(cursor ? { before: cursor } : {}) })) {
        if (needle && !jobText(j).includes(needle)) continue;
        if (out.length === limit) {
          more = true;
          break;
        }
        out.push(jobs.shown(j));
      }
      return { jobs: out, nextCursor: more ? out[out.length - 1]!.id : null };
    },
    'jobs.show': ({ id }) => {
      const job = store.get(id);
      return { job: jobs.shown(job), timings: timingBreakdown(job), events: store.events(id) };
    },
    'jobs.export': ({ format, status, kind, backend }) => {
      const all = store.iterate({ ...(status ? { status } : {}), ...(kind ? { kind } : {}), ...(backend ? { backend } : {}) });
      return { format, text: format === 'csv' ? [...jobsCsvLines(all)].join('') : jobsToJson(all) };
    },
    'jobs.stats': () => jobStats(ctx.db) as unknown as ApiOutput<'jobs.stats'>,
    'jobs.cancel': ({ id, reason }) => {
      const job = store.get(id);
      const q = ctx.queueFor(job.kind) ?? queue;
      jobs.markSeen(id);
      // The reason recorded in the job's cancelled event names where the cancel came from.
      const after = q.cancel(id, reason ?? (deps.host === 'cli' ? 'cancelled from the command line' : 'cancelled from the UI'));
      jobs.publish(id);
      return { job: after };
    },
    'jobs.retry': ({ id }) => {
      const prior = store.get(id);
      const q = ctx.queueFor(prior.kind) ?? queue;
      const { job, handle } = q.retry(id);
      if (handle) jobs.track(handle);
      jobs.publish(job.id);
      return { job, scheduled: handle !== null };
    },
    'jobs.resume': ({ id }) => {
      const job = store.get(id);
      const q = ctx.queueFor(job.kind);
      if (!q) throw new TandemError('CONFLICT', `this host cannot run ${job.kind} jobs, so it cannot resume job ${id}`);
      if (job.status !== 'interrupted' && job.status !== 'queued') throw new TandemError('CONFLICT', `job ${id} is ${job.status}: only interrupted or queued jobs can be resumed`);
      jobs.markSeen(id);
      const handle = q.schedule(id);
      jobs.track(handle);
      jobs.publish(id);
      return { job: store.get(id) };
    },
    'jobs.resumeAll': () => {
      const handles = [queue, ctx.pulls, ctx.evals].flatMap((q) => q.adoptStored());
      for (const h of handles) {
        jobs.markSeen(h.id);
        jobs.track(h);
        jobs.publish(h.id);
      }
      return { jobs: handles.map((h) => store.get(h.id)).sort((a, b) => a.timings.queuedAt.localeCompare(b.timings.queuedAt) || a.id.localeCompare(b.id)) };
    },
  };
}
