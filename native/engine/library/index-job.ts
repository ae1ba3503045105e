import type { JobParams } from '../common/job-kinds.js';
import type { EmbedClient } from '../inference/embed-client.js';
import { kindRunner, type JobRunFn } from '../jobs/job-queue.js';
import type { Job } from '../jobs/job-types.js';
import { BUILTIN_EMBEDDING_MODEL } from '../models/default-model.js';
import type { LibraryStore } from '../store/library-store.js';
import { indexPath, type IndexOptions, type IndexProgress, type IndexSummary } from './indexer.js';
import { isExpectedReason } from './index-report.js';

/**
 * The fallback embedding model of new collections: the built-in one (static, fast, offline). Hosts
 * pick with `chooseDefaultEmbeddingModel` (the best installed embedding model, else this one).
 */
export const DEFAULT_INDEX_MODEL = BUILTIN_EMBEDDING_MODEL;
/** Per-file errors kept in the job record (the count is always exact). */
export const MAX_ERRORS_IN_RECORD = 200;
/** Skipped paths kept in the job record, refused ones first (`filesSkipped` and `byReason` are always exact). */
export const MAX_SKIPPED_IN_RECORD = 1000;

/**
 * The job runner for `index` jobs, shared by every host (`tandem index`, `tandem jobs retry`, the
 * API service). The job's params are the IndexOptions; its result the summary with `errorCount`
 * (errors and skipped paths capped; `onSummary` gets the whole summary). The job's progress is in
 * chunks embedded and written, of a total estimated from bytes (below done until the end).
 */
export function indexJobRunner(lib: LibraryStore, client: EmbedClient, env: NodeJS.ProcessEnv, onProgress?: (p: IndexProgress) => void, onSummary?: (s: IndexSummary) => void): JobRunFn<'index'> {
  return kindRunner('index', async (run) => {
    const p = run.job.params; // root, collection and model checked by the kind's schema (common/job-kinds.ts)
    const s = await indexPath(lib, client, p, {
      signal: run.signal,
      onProgress: (pr) => {
        if (pr.phase !== 'scanning') run.progress(pr.chunksEmbedded, pr.chunksTotal);
        onProgress?.(pr);
      },
    }, env);
    run.setDevice(s.device.split(' ')[0] || 'cpu');
    run.setTimings({ inferenceMs: s.embedMs });
    onSummary?.(s);
    const skipped = [...s.skipped.filter((k) => !isExpectedReason(k.reason)), ...s.skipped.filter((k) => isExpectedReason(k.reason))].slice(0, MAX_SKIPPED_IN_RECORD);
    return { ...s, errorCount: s.errors.length, errors: s.errors.slice(0, MAX_ERRORS_IN_RECORD), skipped };
  });
}

/** Whether `job` indexes the same thing as `p` (same collection, root, model, variant and lexical-only or not): resume it rather than start anew. */
export function sameIndexJob(job: Job, p: IndexOptions): boolean {
  if (job.kind !== 'index') return false;
  const q: Partial<JobParams<'index'>> = job.params;
  return q.collection === p.collection && q.root === p.root && q.model === p.model && (q.variant ?? null) === (p.variant ?? null) && !!q.lexicalOnly === !!p.lexicalOnly;
}
