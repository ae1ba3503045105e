/** The jobs part of the typed API (merged into API_METHODS in ../api-contract.ts): jobs.*: the durable job history, its live state and control. Pure zod. */
import { z } from 'zod';
import { backendSchema, empty, jobEventSchema, jobSchema, jobStatusSchema, nonEmpty, timingBreakdownSchema } from './shapes.js';

export const JOBS_API_METHODS = {
  'jobs.list': {
    input: z
      .object({
        status: jobStatusSchema.optional(),
        kind: nonEmpty.optional(),
        backend: backendSchema.optional(),
        /** Case-insensitive substring of the id, kind, label, params or error. */
        text: nonEmpty.optional(),
        limit: z.number().int().min(1).max(5000).default(200),
        /** Cursor: the `nextCursor` of the previous page (jobs are newest first). */
        cursor: z.string().min(1).optional(),
      })
      .strict(),
    output: z.object({ jobs: z.array(jobSchema), nextCursor: z.string().nullable() }),
  },
  'jobs.show': {
    input: z.object({ id: nonEmpty }).strict(),
    output: z.object({ job: jobSchema, timings: timingBreakdownSchema, events: z.array(jobEventSchema) }),
  },
  /** The whole history (newest first, filtered like jobs.list) as one text: CSV (RFC 4180, CRLF, header row) or a JSON array of job records. */
  'jobs.export': {
    input: z
      .object({
        format: z.enum(['csv', 'json']),
        status: jobStatusSchema.optional(),
        kind: nonEmpty.optional(),
        backend: backendSchema.optional(),
      })
      .strict(),
    output: z.object({ format: z.enum(['csv', 'json']), text: z.string() }),
  },
  'jobs.stats': {
    input: empty,
    output: z.object({
      counts: z.record(z.string(), z.number()),
      errorRate: z.object({ overall: z.object({ finished: z.number(), failed: z.number(), rate: z.number().nullable() }) }).loose(),
      cost: z.object({ totalUsd: z.number() }).loose(),
      durations: z.array(z.object({ kind: z.string(), backend: z.string(), count: z.number(), p50Ms: z.number().nullable(), p95Ms: z.number().nullable() }).loose()),
      throughput: z.object({ windowHours: z.number(), total: z.number(), perHourAvg: z.number() }).loose(),
    }),
  },
  'jobs.cancel': {
    /** `reason`: recorded in the job's cancelled event (default: where the cancel came from, e.g. "cancelled from the UI"). */
    input: z.object({ id: nonEmpty, reason: nonEmpty.max(200).optional() }).strict(),
    output: z.object({ job: jobSchema }),
  },
  'jobs.retry': {
    input: z.object({ id: nonEmpty }).strict(),
    /** `scheduled`: this host runs the new job now; otherwise it waits for a host that runs its kind. */
    output: z.object({ job: jobSchema, scheduled: z.boolean() }),
  },
  'jobs.resume': {
    input: z.object({ id: nonEmpty }).strict(),
    /** Resume an interrupted (or queued) job in this host: finished work is kept, the rest runs. */
    output: z.object({ job: jobSchema }),
  },
  /** Resume every queued or interrupted job this host can run, oldest first (`tandem jobs resume --all`); the jobs scheduled. */
  'jobs.resumeAll': {
    input: empty,
    output: z.object({ jobs: z.array(jobSchema) }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
