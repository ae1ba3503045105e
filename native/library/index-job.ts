import { TandemError, type JsonValue } from '../engine/common/errors.js';
import type { EmbedClient } from '../inference/embed-client.js';
import type { JobRunFn } from '../jobs/job-queue.js';
import type { Job } from '../jobs/job-types.js';
import { BUILTIN_EMBEDDING_MODEL } from '../models/default-model.js';
import type { LibraryStore } from '../store/library-store.js';
import { indexPath, type IndexOptions, type IndexProgress } from './indexer.js';

/**
 * The fallback embedding model of new collections: the built-in one (static, fast, offline). Hosts
 * pick with `chooseDefaultEmbeddingModel` (the best installed embedding model, else this one).
 */
export const DEFAULT_INDEX_MODEL = BUILTIN_EMBEDDING_MODEL;
/** Per-file errors kept in the job record (the count is always exact). */
export const MAX_ERRORS_IN_RECORD = 200;

/**
 * The job runner for `index` jobs, shared by every host (`tandem index`, `tandem jobs retry`, the
 * API service). The job's params are the IndexOptions; its result the summary with `errorCount`.
 */
export function indexJobRunner(lib: LibraryStore, client: EmbedClient, env: NodeJS.ProcessEnv, onProgress?: (p: IndexProgress) => void): JobRunFn {
  return async (run) => {
    const p = run.job.params as unknown as IndexOptions;
    if (typeof p.root !== 'string' || typeof p.collection !== 'string' || typeof p.model !== 'string') {
      throw new TandemError('INVALID_ARGUMENT', `index job ${run.job.id} lacks root, collection or model in its params; run \`tandem index PATH --collection NAME\` instead`);
    }
    const s = await indexPath(lib, client, p, {
      signal: run.signal,
      onProgress: (pr) => {
        if (pr.phase === 'indexing') run.progress(pr.filesDone, pr.filesTotal);
        onProgress?.(pr);
      },
    }, env);
    run.setDevice(s.device.split(' ')[0] || 'cpu');
    run.setTimings({ inferenceMs: s.embedMs });
    return { ...s, errorCount: s.errors.length, errors: s.errors.slice(0, MAX_ERRORS_IN_RECORD) } as unknown as JsonValue;
  };
}

/** Whether `job` indexes the same thing as `p` (same collection, root, model, variant and lexical-only or not): resume it rather than start anew. */
export function sameIndexJob(job: Job, p: IndexOptions): boolean {
  const q = job.params as unknown as IndexOptions;
  return job.kind === 'index' && q.collection === p.collection && q.root === p.root && q.model === p.model && (q.variant ?? null) === (p.variant ?? null) && !!q.lexicalOnly === !!p.lexicalOnly;
}
