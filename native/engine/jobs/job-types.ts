import type { ErrorCode, JsonValue } from '../common/errors.js';

/** The record types of the job system. Times are ISO-8601 UTC strings, durations milliseconds. */

export type JsonObject = { [k: string]: JsonValue };

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A finished record never changes again (the database enforces it too). */
export const FINISHED_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];

export function isFinished(status: JobStatus): status is FinishedStatus {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}

/** Statuses a job can be retried from (a new, linked job is created; the old one stays as it is). */
export const RETRYABLE_STATUSES = ['failed', 'cancelled', 'interrupted'] as const satisfies readonly JobStatus[];

export const BACKENDS = ['local', 'modal', 'cloud-run'] as const;
export type Backend = (typeof BACKENDS)[number];

export const JOB_EVENT_TYPES = ['queued', 'started', 'progress', 'succeeded', 'failed', 'cancelled', 'interrupted', 'resumed', 'retried', 'note'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export interface JobProgress {
  done: number;
  /** null until the job reports a total. */
  total: number | null;
}

export interface JobTimings {
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Model load, or a cloud cold start. */
  loadMs: number | null;
  inferenceMs: number | null;
  /** From queued to (first) started. */
  queueMs: number | null;
  /** Uploads and downloads of a remote job. */
  transferMs: number | null;
}

export interface JobError {
  code: ErrorCode;
  message: string;
}

export interface Job {
  /** Sortable by creation time (ULID: 48-bit ms timestamp + 80 random bits, Crockford base32). */
  id: string;
  kind: string;
  /** What it worked on, in a few words (`papers ← /home/ana/papers, minishlab/potion-base-2M`): see job-label.ts. */
  label: string;
  backend: Backend;
  /** What actually ran it (cpu, cuda, a GPU type...); null until known. */
  device: string | null;
  params: JsonObject;
  /** sha256 (hex) of the canonical JSON of the input. */
  inputDigest: string;
  status: JobStatus;
  /** Higher runs first. */
  priority: number;
  progress: JobProgress;
  timings: JobTimings;
  error: JobError | null;
  costUsd: number;
  result: JsonValue | null;
  retryOf: string | null;
  /** The backend's own job id, to resume polling a remote job. */
  remoteId: string | null;
}

export interface JobEvent {
  id: number;
  jobId: string;
  at: string;
  type: JobEventType;
  data: JsonObject;
}

/** Which process ran a job: recorded in its `started`/`resumed` event, used to tell crashed jobs from live ones. */
export interface JobOwner {
  pid: number;
  host: string;
}
