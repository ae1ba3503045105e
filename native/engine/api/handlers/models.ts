/**
 * models.*: the catalog and the models on disk (`models.list`), downloads as `model-pull` jobs in a
 * queue of their own (`models.pull`, with per-file `models.progress` events), imports of local
 * folders and checksum verification.
 */
import path from 'node:path';
import { TandemError } from '../../common/errors.js';
import type { JobRunFn } from '../../jobs/job-queue.js';
import { resolveOnnxFile } from '../../inference/onnx-file.js';
import { inspectOnnx } from '../../inference/onnx-inspect.js';
import { findCatalogEntry } from '../../models/catalog.js';
import { chooseDefaultEmbeddingModel } from '../../models/default-model.js';
import { requirePinned, type ModelManager } from '../../models/model-manager.js';
import { modelSearchDirs } from '../../node/paths.js';
import type { ApiEventEmitter } from '../api-events.js';
import { deviceInfo, MODEL_PULL_KIND } from '../api-service.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';
import type { LiveJobs } from '../live-jobs.js';
import { inferModelTask } from '../model-task.js';

/** The runner of `model-pull` jobs: downloads with byte progress as `models.progress` events (throttled). */
export function modelPullRunner(manager: ModelManager, events: ApiEventEmitter, jobs: LiveJobs, progressIntervalMs: number): JobRunFn<'model-pull'> {
  return jobs.observed<'model-pull'>((ctx, l) => async (run) => {
    const p = run.job.params; // id and variant checked by the kind's schema (common/job-kinds.ts)
    const { id, variant } = p;
    const files = new Map<string, { bytes: number; total: number | null }>();
    let lastProgressEmit = 0;
    l.phase = 'downloading';
    const t0 = performance.now();
    const r = await manager.pull(id, {
      ...(variant ? { variant } : {}),
      ...(p.allowUnpinned === true ? { allowUnpinned: true } : {}),
      signal: ctx.signal,
      onProgress: (d) => {
        files.set(d.file, { bytes: d.bytes, total: d.total });
        let done = 0;
        let total = 0;
        for (const f of files.values()) {
          done += f.bytes;
          total += f.total ?? f.bytes;
        }
        run.progress(done, Math.max(total, done));
        const now = Date.now();
        if (now - lastProgressEmit >= progressIntervalMs || (d.total !== null && d.bytes >= d.total)) {
          lastProgressEmit = now;
          events.emit('models.progress', { jobId: run.job.id, id, file: d.file, bytes: d.bytes, total: d.total });
        }
      },
    });
    run.setTimings({ transferMs: Math.round(performance.now() - t0) });
    return { id: r.id, dir: r.dir, variant: r.variant, downloaded: r.downloaded.map((f) => f.path), reused: r.reused, unpinned: r.unpinned };
  });
}

export function modelsHandlers(ctx: EngineContext): HandlersOf<MethodsOf<'models.'>> {
  const { manager, catalog, env, pulls, jobs } = ctx;
  return {
    'models.list': async () => {
      const list = await manager.list();
      const models = list.map((m) => {
        const entry = findCatalogEntry(catalog, m.id);
        return {
          id: m.id,
          // Folders outside the catalog: the task their config.json declares (a reranker, a decoder).
          task: m.task ?? (m.dir ? inferModelTask(m.dir) : null),
          dims: m.dims ?? null,
          license: m.license ?? null,
          inCatalog: m.inCatalog,
          installed: m.installed,
          builtin: m.builtin,
          dir: m.dir ?? null,
          variants: m.variants,
          catalogVariants: entry ? Object.keys(entry.variants) : [],
          defaultVariant: m.defaultVariant ?? null,
          sizeOnDisk: m.sizeOnDisk,
          problem: m.problem ?? null,
        };
      });
      return { models, device: await deviceInfo(), modelDirs: modelSearchDirs(env), defaultEmbeddingModel: chooseDefaultEmbeddingModel(catalog, env) };
    },
    'models.pull': ({ id, variant, allowUnpinned }) => {
      const entry = findCatalogEntry(catalog, id);
      if (!entry) throw new TandemError('MODEL_NOT_FOUND', `${id} is not in the model catalog; import a local folder instead`);
      // The same check as the CLI's, before a job is recorded (the job's pull checks again).
      requirePinned(entry, variant, allowUnpinned);
      const handle = pulls.submit({ kind: MODEL_PULL_KIND, backend: 'local', params: { id, ...(variant ? { variant } : {}), ...(allowUnpinned ? { allowUnpinned: true } : {}) }, input: { id, variant: variant ?? null } });
      jobs.track(handle);
      jobs.publish(handle.id);
      return { jobId: handle.id };
    },
    'models.import': async ({ folder, id, force }) => {
      if (!path.isAbsolute(folder)) throw new TandemError('INVALID_ARGUMENT', `models.import: "${folder}" is not an absolute path`);
      return manager.import(folder, { id, ...(force ? { force } : {}) });
    },
    'models.verify': ({ id }) => manager.verify(id),
    // A path (callers pass it absolute: the engine may not share their working directory), else a model id in the model dirs.
    'models.inspect': ({ model }) => inspectOnnx(resolveOnnxFile(model, env, catalog)),
  };
}
