/**
 * The library: collections (list, show, upgrade, remove), indexing folders (`library.index`, one
 * job per path, resuming an interrupted job for the same collection, root and model; the whole
 * summary of one with `library.indexReport`) and opening a
 * library document (`files.open`). Also the runners of index and upgrade jobs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../../common/errors.js';
import { parseJobResult } from '../../common/job-kinds.js';
import type { JobRunFn } from '../../jobs/job-queue.js';
import { indexJobRunner, sameIndexJob } from '../../library/index-job.js';
import type { IndexOptions, IndexSummary } from '../../library/indexer.js';
import { sameUpgradeJob, UPGRADE_JOB_KIND, upgradeJobRunner, type UpgradeOptions } from '../../library/upgrade.js';
import type { Variant } from '../../models/catalog.js';
import { chooseDefaultEmbeddingModel } from '../../models/default-model.js';
import { resolveModel } from '../../models/model-resolver.js';
import type { EmbedClient } from '../../inference/embed-client.js';
import type { LibraryStore } from '../../store/library-store.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';
import type { LiveJobs } from '../live-jobs.js';

/** Index summaries kept whole for `library.indexReport` (the record keeps a capped copy): the last few, each until read. */
export interface IndexReports {
  put(jobId: string, s: IndexSummary): void;
  take(jobId: string): IndexSummary | undefined;
}

export function createIndexReports(keep = 16): IndexReports {
  const byJob = new Map<string, IndexSummary>();
  return {
    put: (id, s) => {
      byJob.set(id, s);
      for (const old of byJob.keys()) if (byJob.size > keep) byJob.delete(old);
    },
    take: (id) => {
      const s = byJob.get(id);
      byJob.delete(id);
      return s;
    },
  };
}

/** The runners of the library's jobs: index and upgrade (their progress becomes live events). */
export function libraryRunners(lib: LibraryStore, client: EmbedClient, env: NodeJS.ProcessEnv, jobs: LiveJobs, reports?: IndexReports): { index: JobRunFn<'index'>; upgrade: JobRunFn<'upgrade'> } {
  const indexRunner = jobs.observed<'index'>((ctx, l) =>
    indexJobRunner(
      lib,
      client,
      env,
      (p) => {
        // The job's progress counts chunks (so its ETA is the measured chunk rate); files read go beside it.
        l.files = { done: p.filesDone, total: p.filesTotal };
        if (l.phase !== p.phase) {
          l.phase = p.phase;
          if (p.phase === 'scanning') jobs.publish(ctx.job.id);
        }
      },
      (s) => reports?.put(ctx.job.id, s),
    ),
  );
  const upgradeRunner = jobs.observed<'upgrade'>((_ctx, l) => {
    l.phase = 'embedding';
    return upgradeJobRunner(lib, client, env);
  });
  return { index: indexRunner, [UPGRADE_JOB_KIND]: upgradeRunner };
}

export function libraryHandlers(ctx: EngineContext, reports: IndexReports = createIndexReports()): HandlersOf<MethodsOf<'collections.'> | MethodsOf<'library.'> | 'files.open'> {
  const { lib, store, queue, jobs, env, catalog, deps } = ctx;
  return {
    'collections.list': () => ({ collections: lib.listCollections().map((c) => lib.stats(c)) }),
    'collections.show': ({ name }) => lib.stats(lib.requireCollection(name)),
    'collections.upgrade': ({ name, model, variant }) => {
      const current = lib.requireCollection(name);
      resolveModel(model, { env, catalog }); // MODEL_NOT_FOUND at once, not as a failed job
      const params: UpgradeOptions = { collection: name, model, ...(variant ? { variant } : {}), from: current.model };
      const prior = store.list({ status: ['interrupted', 'queued', 'running'], kind: UPGRADE_JOB_KIND, limit: 50 }).find((j) => sameUpgradeJob(j, params));
      if (prior && prior.status === 'running') return { jobId: prior.id, resumed: false };
      if (prior) jobs.markSeen(prior.id);
      const handle = prior ? queue.schedule(prior.id) : queue.submit({ kind: UPGRADE_JOB_KIND, backend: 'local', params, input: params });
      jobs.track(handle);
      jobs.publish(handle.id);
      return { jobId: handle.id, resumed: prior !== undefined };
    },
    'collections.remove': ({ name }) => {
      lib.removeCollection(name);
      return { removed: name };
    },

    'library.index': ({ paths, collection, model, variant, lexicalOnly, device, columns, maxTokens, overlapTokens }) => {
      const existing = lib.getCollection(collection);
      // Lexical-only when asked, or when adding to a lexical-only collection without naming a model.
      const lexical = lexicalOnly === true || (existing !== undefined && existing.model === null && !model);
      if (lexicalOnly && existing && existing.model !== null) throw new TandemError('CONFLICT', `collection "${collection}" has vectors of ${existing.model} (${existing.variant}); index it without lexicalOnly, or use another collection name`);
      const chosen = model || existing?.model ? undefined : chooseDefaultEmbeddingModel(catalog, env);
      const modelId = model ?? existing?.model ?? chosen!.id;
      const v = (variant ?? (existing && !model && existing.variant !== null ? (existing.variant as Variant) : undefined)) as Variant | undefined;
      // MODEL_NOT_FOUND at once, not as a failed job (a default model that cannot load makes a lexical-only collection instead)
      const resolved = lexical || (!model && !existing) ? undefined : resolveModel(modelId, { env, catalog });
      const roots = paths.map((p) => {
        if (!path.isAbsolute(p)) throw new TandemError('INVALID_ARGUMENT', `library.index: "${p}" is not an absolute path`);
        const abs = path.resolve(p);
        if (!fs.existsSync(abs)) throw new TandemError('NOT_FOUND', `library.index: ${abs} does not exist`);
        return abs;
      });
      if (existing && resolved && (existing.model !== modelId || existing.variant !== (v ?? resolved.defaultVariant))) {
        throw new TandemError('CONFLICT', `collection "${collection}" is indexed with ${existing.model} (${existing.variant}); index with that model, or use another collection name`);
      }
      const resumed: string[] = [];
      const jobIds = roots.map((root) => {
        const params: IndexOptions = {
          root,
          collection,
          model: modelId,
          ...(v ? { variant: v } : {}),
          ...(device && device !== 'auto' ? { device } : {}),
          ...(columns ? { columns } : {}),
          ...(maxTokens ? { maxTokens } : {}),
          ...(overlapTokens !== undefined ? { overlapTokens } : {}),
          ...(lexical ? { lexicalOnly: true } : {}),
          ...(!model ? { lexicalFallback: true } : {}),
        };
        const prior = store.list({ status: ['interrupted', 'queued', 'running'], kind: 'index', limit: 50 }).find((j) => sameIndexJob(j, params));
        if (prior && prior.status === 'running') return prior.id;
        if (prior) {
          jobs.markSeen(prior.id);
          if (prior.status === 'interrupted') resumed.push(prior.id);
        }
        const handle = prior ? queue.schedule(prior.id) : queue.submit({ kind: 'index', backend: 'local', params, input: params });
        jobs.track(handle);
        jobs.publish(handle.id);
        return handle.id;
      });
      return { jobIds, model: modelId, modelReason: chosen && !lexical ? chosen.reason : null, resumed };
    },

    'library.indexReport': ({ jobId }) => {
      const full = reports.take(jobId);
      if (full) return { summary: { ...full, errorCount: full.errors.length, errors: full.errors.map((e) => ({ ...e })), skipped: full.skipped.map((k) => ({ ...k })) }, complete: true };
      const job = store.get(jobId);
      if (job.kind !== 'index') throw new TandemError('INVALID_ARGUMENT', `job ${jobId} is a ${job.kind} job, not an index job`);
      if (job.status !== 'succeeded' || job.result === null) throw new TandemError('CONFLICT', `job ${jobId} is ${job.status}: only a finished index job has a summary`);
      return { summary: parseJobResult('index', job.result, jobId), complete: false };
    },

    'files.open': async ({ path: p, page }) => {
      if (!path.isAbsolute(p)) throw new TandemError('INVALID_ARGUMENT', `files.open: "${p}" is not an absolute path`);
      const abs = path.resolve(p);
      if (!lib.hasDocumentPath(abs)) throw new TandemError('NOT_FOUND', `files.open: ${abs} is not a document in your library`);
      if (!fs.existsSync(abs)) throw new TandemError('NOT_FOUND', `files.open: ${abs} no longer exists on disk`);
      if (!deps.openFile) return { path: abs, opened: false };
      await deps.openFile(abs, page);
      return { path: abs, opened: true };
    },
  };
}
