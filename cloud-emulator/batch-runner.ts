import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../native/engine/common/errors.js';
import type { AppPool } from './app-pool.js';
import { predictComplex, type Complex } from './boltz-output.js';
import { sleep } from './sleep.js';
import type { EmulatorStats } from './types.js';

export type BatchStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

interface BatchJob {
  id: string;
  status: BatchStatus;
  total: number;
  results: { [k: string]: JsonValue }[];
  error: string | null;
  controller: AbortController;
}

export const CLOUD_RUN_GPU = 'NVIDIA L4';

/** Cloud Run /batch jobs: one ligand at a time against the shared proteins, after a cold start if cold. */
export class BatchRunner {
  private jobs = new Map<string, BatchJob>();

  constructor(
    private readonly pool: AppPool,
    private readonly inferenceMs: () => number,
    private readonly stats: () => EmulatorStats,
  ) {}

  start(c: Complex): string {
    const job: BatchJob = { id: `batch-${randomUUID()}`, status: 'queued', total: c.ligands.length, results: [], error: null, controller: new AbortController() };
    this.jobs.set(job.id, job);
    this.publish(job);
    void this.process(job, c, this.stats());
    return job.id;
  }

  private publish(job: BatchJob, stats = this.stats()): void {
    stats.batches[job.id] = { status: job.status, done: job.results.length, total: job.total };
  }

  private async process(job: BatchJob, c: Complex, stats: EmulatorStats): Promise<void> {
    const signal = job.controller.signal;
    const end = this.pool.begin('boltz2');
    try {
      const warm = await this.pool.ensureWarm('boltz2', signal);
      job.status = 'running';
      this.publish(job, stats);
      for (const [i, ligand] of c.ligands.entries()) {
        await sleep(this.inferenceMs(), signal);
        const fields = predictComplex({ ...c, ligands: [ligand] });
        const first = i === 0;
        job.results.push({
          ligand_id: ligand.id,
          ...(fields as unknown as { [k: string]: JsonValue }),
          model_load_ms: first ? warm.modelLoadMs : 0,
          inference_ms: this.inferenceMs(),
          gpu: CLOUD_RUN_GPU,
          cold_start: first && warm.coldStart,
        });
        stats.completed.batchLigands++;
        this.pool.touch('boltz2');
        this.publish(job, stats);
      }
      job.status = 'succeeded';
      stats.completed.batches++;
    } catch (e) {
      if (!signal.aborted) {
        job.status = 'failed';
        job.error = e instanceof Error ? e.message : String(e);
      }
    } finally {
      end();
      if (this.jobs.get(job.id) === job) this.publish(job, stats);
    }
  }

  /** The GET /batch/{id} body, or null for an unknown id. */
  view(id: string): { [k: string]: JsonValue } | null {
    const job = this.jobs.get(id);
    if (!job) return null;
    const out: { [k: string]: JsonValue } = { job_id: job.id, status: job.status, done: job.results.length, total: job.total, results: job.results };
    if (job.error !== null) out.error = job.error;
    return out;
  }

  /** Stops a queued or running job; a finished one keeps its status. Null for an unknown id. */
  cancel(id: string): { job_id: string; status: BatchStatus } | null {
    const job = this.jobs.get(id);
    if (!job) return null;
    if (job.status === 'queued' || job.status === 'running') {
      job.status = 'cancelled';
      job.controller.abort(new Error('cancelled'));
      this.publish(job);
    }
    return { job_id: job.id, status: job.status };
  }

  reset(): void {
    for (const job of this.jobs.values()) job.controller.abort(new Error('reset'));
    this.jobs.clear();
  }
}
