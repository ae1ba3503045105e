/**
 * The API contract's shared pieces: the engine's dependencies (`ApiServiceDeps`), what it returns
 * (`ApiService`), input validation (`parseApiInput`), device info and a job's timing breakdown.
 * The engine itself is assembled in one place, `createEngine` (create-engine.ts); hosts call that.
 */
import { z } from 'zod';
import { API_METHODS, type ApiDeviceInfo, type ApiMethod, type ApiOutput, type ApiParsedInput, type TandemApi } from '../common/api-contract.js';
import { TandemError } from '../common/errors.js';
import { acceleratorPrecheck, describeAdapter, planProviders, platformAccelerator } from '../inference/device.js';
import { probeWebGpu } from '../inference/webgpu-probe.js';
import type { JobRunnerTable } from '../jobs/job-queue.js';
import { runMs } from '../jobs/job-stats.js';
import type { Job } from '../jobs/job-types.js';
import type { Catalog } from '../models/catalog.js';
import type { ApiCloudOptions } from './api-cloud.js';
import type { ApiEventEmitter } from './api-events.js';
import { createEngine } from './create-engine.js';

export const APP_VERSION = '0.1.0';
export const MODEL_PULL_KIND = 'model-pull';

export interface ApiServiceDeps {
  env: NodeJS.ProcessEnv;
  /** Which host runs the service (reported by app.info). */
  host: 'web' | 'electron' | 'cli' | 'test';
  /** Opens a file with the OS opener (a desktop host); absent: files.open only returns the path. */
  openFile?: (file: string, page?: number) => Promise<void>;
  catalog?: Catalog;
  /** Model manager options (tests point downloads at a local server). */
  modelManager?: { baseUrl?: string; download?: { maxRetries?: number; retryDelayMs?: number } };
  /** Minimum time between two job.updated events of one running job. Default 200 ms. */
  progressIntervalMs?: number;
  /**
   * Runners of job kinds (common/job-kinds.ts), by kind, in place of the engine's own (e.g. a test's
   * cloud runner): they run in the service's queue (per-backend limits), their progress becomes
   * job.updated events, and jobs.retry/resume can re-run them. Only known kinds have runners.
   */
  runners?: JobRunnerTable;
  /** Told about errors nobody awaits (a listener that threw, a job outcome that could not be recorded). */
  onError?: (e: unknown) => void;
  /** Cloud service settings (tuning, poll interval, a token source); the service is built from `env` (api-cloud.ts). */
  cloud?: ApiCloudOptions;
}

export interface ApiService {
  /** The typed API (inputs are validated here too). */
  readonly api: TandemApi;
  readonly events: ApiEventEmitter;
  /** Untyped entry for hosts: validates the method name and its input (INVALID_ARGUMENT naming the zod path). */
  call(method: string, input: unknown): Promise<unknown>;
  /**
   * Stop: jobs running here are recorded as `interrupted` (resumable by the next host), the
   * database and the embedding worker are closed. Idempotent.
   */
  close(): Promise<void>;
}

/** Validate a method's input against the contract. */
export function parseApiInput<M extends ApiMethod>(method: M, input: unknown): ApiParsedInput<M> {
  const r = (API_METHODS[method].input as z.ZodType).safeParse(input ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
    throw new TandemError('INVALID_ARGUMENT', `${method}: invalid input: ${issues.join('; ')}`);
  }
  return r.data as ApiParsedInput<M>;
}

/** What embeddings run on by default here, and why. */
export async function deviceInfo(): Promise<ApiDeviceInfo> {
  const acc = platformAccelerator();
  // Auto's view: hardware WebGPU adapters only (no GPU device: nothing is spawned).
  const webgpu = await probeWebGpu({ software: false });
  const plan = planProviders('auto', { precheck: acceleratorPrecheck, webgpu: () => webgpu });
  const first = plan.providers[0]!;
  const skipped = plan.skipped.join('; ');
  if (first.provider !== 'cpu') {
    const name = first.adapter ? `webgpu: ${describeAdapter(first.adapter)}` : first.provider;
    return { used: first.provider, reason: `${name} is available and is tried first (CPU is the fallback)${skipped ? `; ${skipped}` : ''}`, accelerator: first.provider, acceleratorUsable: true };
  }
  return { used: 'cpu', reason: `CPU: ${skipped || 'no accelerator is offered on this platform'}`, accelerator: acc ?? null, acceleratorUsable: false };
}

/** Where a job's time went: queue wait, load, inference, transfer, the rest, run time, total. */
export function timingBreakdown(j: Job): ApiOutput<'jobs.show'>['timings'] {
  const t = j.timings;
  const run = runMs(j);
  const other = run === null ? null : Math.max(0, run - (t.loadMs ?? 0) - (t.inferenceMs ?? 0) - (t.transferMs ?? 0));
  const total = t.finishedAt ? Date.parse(t.finishedAt) - Date.parse(t.queuedAt) : null;
  return { queueMs: t.queueMs, loadMs: t.loadMs, inferenceMs: t.inferenceMs, transferMs: t.transferMs, otherMs: other, runMs: run, totalMs: total };
}

/** @deprecated the old name of `createEngine` (create-engine.ts), kept for existing tests; hosts call createEngine. */
export function createApiService(deps: ApiServiceDeps): ApiService {
  return createEngine(deps);
}
