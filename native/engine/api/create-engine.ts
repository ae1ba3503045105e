/**
 * The one assembly of the engine: `createEngine(deps)` opens the store, builds the job queues with
 * every job runner (index, upgrade, model pulls, evals, the cloud's runners and the host's own),
 * the embedding client, the local generator, the searcher, the cloud service and the map service,
 * and returns the typed API of native/engine/common/api-contract.ts plus `close()`. Every host is a
 * client of it: the web host (`tandem serve`), Electron's utility process (native/hosts/electron-utility/utility-entry.ts)
 * and the CLI commands that moved onto the API (see native/engine/api/README.md). Outside tests and the
 * store/jobs packages, nothing else constructs the store or a job queue for these hosts
 * (native/engine/api/one-assembly.test.ts checks it).
 */
import { openForReadingMarkingDeadJobs } from '../jobs/open-for-reading.js';
import fs from 'node:fs';
import path from 'node:path';
import { API_METHODS, isApiMethod, type ApiEvents, type ApiMethod, type ApiOutput, type ApiParsedInput, type TandemApi } from '../common/api-contract.js';
import { TandemError, type JsonValue } from '../common/errors.js';
import { modelSearchDirs, tandemHome } from '../node/paths.js';
import { EmbedClient } from '../inference/embed-client.js';
import { resolveReranker, type RerankResult } from '../inference/rerank-engine.js';
import type { LocalGenerator } from '../cloud/cloud-service.js';
import { lazyLocalGenerator } from '../cloud/local-engines.js';
import type { WaitStatus } from '../cloud/wait-status.js';
import { JobQueue, JobRunners, type JobHandle, type JobRunContext, type JobRunFn } from '../jobs/job-queue.js';
import { jobStats } from '../jobs/job-stats.js';
import { JobStore } from '../jobs/job-store.js';
import type { Job, JsonObject } from '../jobs/job-types.js';
import { indexJobRunner, sameIndexJob } from '../library/index-job.js';
import { chooseDefaultEmbeddingModel } from '../models/default-model.js';
import type { IndexOptions } from '../library/indexer.js';
import { checkEvalModes, EVAL_KIND, evalJobRunner, type EvalParams, type EvalReport } from '../library/eval-job.js';
import { Searcher, type SearchFilters } from '../library/searcher.js';
import type { ModeUsed } from '../library/search-mode.js';
import { sameUpgradeJob, UPGRADE_JOB_KIND, upgradeJobRunner, type UpgradeOptions } from '../library/upgrade.js';
import { findCatalogEntry, loadCatalog, VARIANTS, type Variant } from '../models/catalog.js';
import { createModelManager, requirePinned, type ModelManager } from '../models/model-manager.js';
import { resolveModel } from '../models/model-resolver.js';
import { openDatabase, storePath, type Db } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { parseQrels, parseQueries } from '../search/retrieval-metrics.js';
import { createMapService } from '../map/map-service.js';
import { createCloudHandlers, openApiCloud } from './api-cloud.js';
import { inferModelTask } from './model-task.js';
import { ApiEventEmitter } from './api-events.js';
import { APP_VERSION, MODEL_PULL_KIND, deviceInfo, parseApiInput, timingBreakdown, type ApiService, type ApiServiceDeps } from './api-service.js';

export interface EngineDeps extends ApiServiceDeps {
  /**
   * Open the store read-only (CLI commands that only read: search, collections list/show, jobs
   * list/show), so they work on a read-only TANDEM_HOME. Jobs of dead processes are still marked
   * interrupted when some job is `running` and the disk is writable (the CLI's `jobs list` did so);
   * a write method then fails with READ_ONLY, and `close()` records nothing.
   */
  readOnly?: boolean;
}

/** The engine: the typed API (`api`), the same entry by name (`call`), its events and `close()`. */
export type Engine = ApiService;

/** The store as this engine opens it: read-write (marking jobs of dead processes interrupted), or read-only. */
function openEngineStore(home: string, readOnly: boolean): Db {
  if (!readOnly) {
    const db = openDatabase(storePath(home));
    // Jobs left running by a process that died become `interrupted` (resumable with jobs.resume).
    new JobStore(db).markInterrupted();
    return db;
  }
  return openForReadingMarkingDeadJobs(home);
}

function jobText(j: Job): string {
  return `${j.id} ${j.kind} ${j.label} ${j.backend} ${j.status} ${JSON.stringify(j.params)} ${j.error ? `${j.error.code} ${j.error.message}` : ''}`.toLowerCase();
}

/** Live state of a job running in this service (for events). */
interface Live {
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

type Handlers = { [M in ApiMethod]: (input: ApiParsedInput<M>) => Promise<ApiOutput<M>> | ApiOutput<M> };

export function createEngine(deps: EngineDeps): Engine {
  const env = deps.env;
  const onError = deps.onError ?? (() => {});
  const progressIntervalMs = deps.progressIntervalMs ?? 200;
  const home = tandemHome(env);
  const readOnly = deps.readOnly === true;
  const db: Db = openEngineStore(home, readOnly);
  const lib = new LibraryStore(db);
  const store = new JobStore(db);
  const catalog = deps.catalog ?? loadCatalog();
  const manager: ModelManager = createModelManager({ env, catalog, ...(deps.modelManager ?? {}) });
  const client = new EmbedClient(env);
  const events = new ApiEventEmitter(onError);
  // Local generation (the fallback for generate jobs) in its own worker, started on first use.
  const generator = lazyLocalGenerator(env);
  const localGenerate: LocalGenerator = async (req, o) => {
    if (closed) throw new TandemError('CANCELLED', 'the engine is shutting down');
    return generator.generate(req, o);
  };
  const onStream = (jobId: string, text: string): void => {
    if (!closed) events.emit('generate.token', { jobId, text });
  };
  // A remote call's wait ("waiting for Modal generate: cold start 0:42 (typical 5-7 min for qwen-32b)") is the job's phase in job.updated, once a second.
  const onWait = (w: WaitStatus): void => {
    const l = live.get(w.jobId);
    if (!l || closed) return;
    l.phase = w.line;
    publish(w.jobId);
  };
  const cloud = openApiCloud({ env, db, store, client, localGenerate, onStream, options: { onWait, statusIntervalMs: 1000, ...(deps.cloud ?? {}) } });
  const searcher = new Searcher(lib, client, env);
  // Maps are computed in worker threads (native/engine/map) that read the store read-only.
  const maps = createMapService({ dbFile: storePath(home), home, onProgress: (p) => events.emit('map.progress', p) });
  const live = new Map<string, Live>();
  let closed = false;

  // --- live job events ---------------------------------------------------------------------

  /** Per job: the last event id already sent as job.event (new jobs start at 0: all their events are news). */
  const eventCursor = new Map<string, number>();
  const lastEventId = (id: string): number => {
    const evs = store.events(id);
    return evs.length ? evs[evs.length - 1]!.id : 0;
  };

  const publish = (id: string, force = true): void => {
    if (closed) return;
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

  /** Before acting on an existing job: only events from now on are news. */
  const markSeen = (id: string): void => {
    if (!eventCursor.has(id)) eventCursor.set(id, lastEventId(id));
  };

  /** A runner whose progress becomes events: `make` builds the job's code for its (wrapped) context and live state. */
  const observed = (make: (ctx: JobRunContext, l: Live) => JobRunFn): JobRunFn => {
    return async (ctx) => {
      const l: Live = { done: ctx.job.progress.done, total: ctx.job.progress.total, phase: null, startedAt: Date.now(), doneAtStart: null, lastEmit: 0 };
      live.set(ctx.job.id, l);
      publish(ctx.job.id);
      const wrapped: JobRunContext = {
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
        if (!closed) onError(e);
      },
    );
  };

  // --- runners -----------------------------------------------------------------------------

  const indexRunner: JobRunFn = observed((ctx, l) =>
    indexJobRunner(lib, client, env, (p) => {
      // The job's progress counts chunks (so its ETA is the measured chunk rate); files read go beside it.
      l.files = { done: p.filesDone, total: p.filesTotal };
      if (l.phase !== p.phase) {
        l.phase = p.phase;
        if (p.phase === 'scanning') publish(ctx.job.id);
      }
    }),
  );

  const pullRunner: JobRunFn = observed((ctx, l) => async (run) => {
    const p = run.job.params as { id?: unknown; variant?: unknown; allowUnpinned?: unknown };
    if (typeof p.id !== 'string') throw new TandemError('INVALID_ARGUMENT', `model pull job ${run.job.id} lacks the model id in its params`);
    const variant = typeof p.variant === 'string' && (VARIANTS as readonly string[]).includes(p.variant) ? (p.variant as Variant) : undefined;
    const files = new Map<string, { bytes: number; total: number | null }>();
    let lastProgressEmit = 0;
    l.phase = 'downloading';
    const t0 = performance.now();
    const r = await manager.pull(p.id, {
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
          events.emit('models.progress', { jobId: run.job.id, id: p.id as string, file: d.file, bytes: d.bytes, total: d.total });
        }
      },
    });
    run.setTimings({ transferMs: Math.round(performance.now() - t0) });
    return { id: r.id, dir: r.dir, variant: r.variant, downloaded: r.downloaded.map((f) => f.path), reused: r.reused, unpinned: r.unpinned } as unknown as JsonValue;
  });

  const runners = new JobRunners();
  runners.register('index', indexRunner);
  runners.register(UPGRADE_JOB_KIND, observed((ctx, l) => {
    l.phase = 'embedding';
    return upgradeJobRunner(lib, client, env);
  }));
  const cloudRunners = new JobRunners();
  cloud.registerRunners(cloudRunners);
  for (const kind of cloudRunners.kinds()) runners.register(kind, observed(() => cloudRunners.get(kind)!));
  for (const [kind, run] of deps.runners ?? []) runners.register(kind, observed(() => run));
  const queue = new JobQueue(store, { runners, onError: (_id, e) => onError(e) });
  // Downloads get their own queue so a pull never waits behind an index job (and vice versa).
  const pullRunners = new JobRunners();
  pullRunners.register(MODEL_PULL_KIND, pullRunner);
  const pulls = new JobQueue(store, { runners: pullRunners, onError: (_id, e) => onError(e) });
  // Evaluations too: an eval never waits behind an index job. Their texts are not kept, so they are not retried.
  const evals = new JobQueue(store, { onError: (_id, e) => onError(e) });
  const queueFor = (kind: string): JobQueue | undefined => (kind === MODEL_PULL_KIND ? pulls : kind === EVAL_KIND ? evals : runners.get(kind) ? queue : undefined);

  // --- handlers ----------------------------------------------------------------------------

  const handlers: Handlers = {
    'map.compute': (input) => maps.compute(input),
    ...createCloudHandlers({ cloud, db, store, queue, started: (h) => (track(h), publish(h.id)) }),
    'app.info': async () => ({
      version: APP_VERSION,
      host: deps.host,
      dataDir: home,
      modelDirs: modelSearchDirs(env),
      platform: `${process.platform}-${process.arch}`,
      device: await deviceInfo(),
      opensFiles: deps.openFile !== undefined,
    }),

    'collections.list': () => ({ collections: lib.listCollections().map((c) => lib.stats(c)) }),
    'collections.show': ({ name }) => lib.stats(lib.requireCollection(name)),
    'collections.upgrade': ({ name, model, variant }) => {
      const current = lib.requireCollection(name);
      resolveModel(model, { env, catalog }); // MODEL_NOT_FOUND at once, not as a failed job
      const params: UpgradeOptions = { collection: name, model, ...(variant ? { variant } : {}), from: current.model };
      const prior = store.list({ status: ['interrupted', 'queued', 'running'], kind: UPGRADE_JOB_KIND, limit: 50 }).find((j) => sameUpgradeJob(j, params));
      if (prior && prior.status === 'running') return { jobId: prior.id };
      if (prior) markSeen(prior.id);
      const handle = prior ? queue.schedule(prior.id) : queue.submit({ kind: UPGRADE_JOB_KIND, backend: 'local', params: params as unknown as JsonObject, input: params as unknown as JsonValue });
      track(handle);
      publish(handle.id);
      return { jobId: handle.id };
    },
    'collections.remove': ({ name }) => {
      lib.removeCollection(name);
      return { removed: name };
    },

    'library.index': ({ paths, collection, model, variant, lexicalOnly }) => {
      const existing = lib.getCollection(collection);
      // Lexical-only when asked, or when adding to a lexical-only collection without naming a model.
      const lexical = lexicalOnly === true || (existing !== undefined && existing.model === null && !model);
      if (lexicalOnly && existing && existing.model !== null) throw new TandemError('CONFLICT', `collection "${collection}" has vectors of ${existing.model} (${existing.variant}); index it without lexicalOnly, or use another collection name`);
      const modelId = model ?? existing?.model ?? chooseDefaultEmbeddingModel(catalog, env).id;
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
      const jobIds = roots.map((root) => {
        const params: IndexOptions = { root, collection, model: modelId, ...(v ? { variant: v } : {}), ...(lexical ? { lexicalOnly: true } : {}), ...(!model ? { lexicalFallback: true } : {}) };
        const prior = store.list({ status: ['interrupted', 'queued', 'running'], kind: 'index', limit: 50 }).find((j) => sameIndexJob(j, params));
        if (prior && prior.status === 'running') return prior.id;
        if (prior) markSeen(prior.id);
        const handle = prior ? queue.schedule(prior.id) : queue.submit({ kind: 'index', backend: 'local', params: params as unknown as JsonObject, input: params as unknown as JsonValue });
        track(handle);
        publish(handle.id);
        return handle.id;
      });
      return { jobIds, model: modelId };
    },

    'search.query': async ({ query, collection, mode, fusion, k, filters, rerank }) => {
      const f: SearchFilters = {
        ...(filters?.pathGlob ? { pathGlob: filters.pathGlob } : {}),
        ...(filters?.fileTypes ? { fileTypes: filters.fileTypes } : {}),
        ...(filters?.modifiedAfter ? { modifiedAfter: new Date(filters.modifiedAfter) } : {}),
        ...(filters?.modifiedBefore ? { modifiedBefore: new Date(filters.modifiedBefore) } : {}),
      };
      // A wrong reranker id fails here, before any search work.
      if (rerank) resolveReranker(rerank.model, env, catalog);
      let reranked: RerankResult | undefined;
      const t0 = performance.now();
      let used: ModeUsed | undefined;
      const hits = await searcher.search(collection, query, { k, mode, fusion, filters: f, onModeUsed: (m) => (used = m), ...(rerank ? { rerank: { model: rerank.model, top: rerank.top, onResult: (r) => (reranked = r) } } : {}) });
      const mu = used as ModeUsed | undefined;
      const rr = reranked as RerankResult | undefined;
      return {
        mode,
        modeUsed: mu?.used ?? mode,
        modeReason: mu?.reason ?? null,
        tookMs: Math.round((performance.now() - t0) * 10) / 10,
        hits: hits.map((h) => {
          return {
            docKey: h.docKey, path: h.path, fileType: h.fileType, title: h.title, score: h.score, scoreKind: h.scoreKind, page: h.page, start: h.start, end: h.end, snippet: h.snippet, highlights: h.highlights,
            ...(h.bm25 !== undefined ? { bm25: h.bm25 } : {}), ...(h.cosine !== undefined ? { cosine: h.cosine } : {}),
            ...(h.lines ? { lines: h.lines } : {}),
            ...(h.rerankScore !== undefined ? { rerankScore: h.rerankScore } : {}),
          };
        }),
        ...(rerank
          ? {
              rerank: rr
                ? { model: rr.model, variant: rr.variant, top: rerank.top, pairs: rr.count, device: rr.device.used, deviceReason: rr.device.fallbackReason ?? null, ms: Math.round(rr.timings.totalMs * 10) / 10 }
                : null,
            }
          : {}),
      };
    },

    'search.eval': async ({ collection, queries, qrels, modes, k, rerank }) => {
      // Bad texts, modes, a wrong reranker or collection fail here, before a job is recorded.
      const input = { queries: parseQueries(queries, 'queries'), qrels: parseQrels(qrels, 'qrels') };
      const params: EvalParams = { collection, modes: checkEvalModes(modes), k, ...(rerank ? { rerank } : {}) };
      if (rerank) resolveReranker(rerank.model, env, catalog);
      lib.requireCollection(collection);
      const handle = evals.submit({ kind: EVAL_KIND, backend: 'local', params: params as unknown as JsonObject, input: { queries, qrels } }, observed(() => evalJobRunner(searcher, () => input)));
      track(handle);
      publish(handle.id);
      const job = await handle.done;
      if (job.status !== 'succeeded') {
        const err = job.error ?? { code: 'INTERNAL' as const, message: `the eval job ended ${job.status}` };
        throw new TandemError(job.status === 'cancelled' ? 'CANCELLED' : err.code, `${err.message} (job ${job.id})`);
      }
      return { jobId: job.id, ...(job.result as unknown as EvalReport) };
    },

    'files.open': async ({ path: p, page }) => {
      if (!path.isAbsolute(p)) throw new TandemError('INVALID_ARGUMENT', `files.open: "${p}" is not an absolute path`);
      const abs = path.resolve(p);
      const known = db.prepare('SELECT 1 FROM documents WHERE path = ? LIMIT 1').get(abs);
      if (!known) throw new TandemError('NOT_FOUND', `files.open: ${abs} is not a document in your library`);
      if (!fs.existsSync(abs)) throw new TandemError('NOT_FOUND', `files.open: ${abs} no longer exists on disk`);
      if (!deps.openFile) return { path: abs, opened: false };
      await deps.openFile(abs, page);
      return { path: abs, opened: true };
    },

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
        const l = live.get(j.id);
        out.push(l && j.status === 'running' ? { ...j, progress: { done: l.done, total: l.total } } : j);
      }
      return { jobs: out, nextCursor: more ? out[out.length - 1]!.id : null };
    },
    'jobs.show': ({ id }) => {
      const job = store.get(id);
      const l = live.get(id);
      const shown = l && job.status === 'running' ? { ...job, progress: { done: l.done, total: l.total } } : job;
      return { job: shown, timings: timingBreakdown(job), events: store.events(id) };
    },
    'jobs.stats': () => jobStats(db) as unknown as ApiOutput<'jobs.stats'>,
    'jobs.cancel': ({ id }) => {
      const job = store.get(id);
      const q = queueFor(job.kind) ?? queue;
      markSeen(id);
      // The reason recorded in the job's cancelled event names where the cancel came from.
      const after = q.cancel(id, deps.host === 'cli' ? 'cancelled from the command line' : 'cancelled from the UI');
      publish(id);
      return { job: after };
    },
    'jobs.retry': ({ id }) => {
      const prior = store.get(id);
      const q = queueFor(prior.kind) ?? queue;
      const { job, handle } = q.retry(id);
      if (handle) track(handle);
      publish(job.id);
      return { job, scheduled: handle !== null };
    },
    'jobs.resume': ({ id }) => {
      const job = store.get(id);
      const q = queueFor(job.kind);
      if (!q) throw new TandemError('CONFLICT', `this host cannot run ${job.kind} jobs, so it cannot resume job ${id}`);
      if (job.status !== 'interrupted' && job.status !== 'queued') throw new TandemError('CONFLICT', `job ${id} is ${job.status}: only interrupted or queued jobs can be resumed`);
      markSeen(id);
      const handle = q.schedule(id);
      track(handle);
      publish(id);
      return { job: store.get(id) };
    },

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
      track(handle);
      publish(handle.id);
      return { jobId: handle.id };
    },
    'models.import': async ({ folder, id, force }) => {
      if (!path.isAbsolute(folder)) throw new TandemError('INVALID_ARGUMENT', `models.import: "${folder}" is not an absolute path`);
      return manager.import(folder, { id, ...(force ? { force } : {}) });
    },
    'models.verify': ({ id }) => manager.verify(id),
  };

  const call = async (method: string, input: unknown): Promise<unknown> => {
    if (!isApiMethod(method)) throw new TandemError('NOT_FOUND', `no API method ${JSON.stringify(method)}`);
    if (closed) throw new TandemError('CANCELLED', 'the engine is shutting down');
    const parsed = parseApiInput(method, input);
    return (handlers[method] as (i: unknown) => unknown)(parsed);
  };

  const api = Object.fromEntries(Object.keys(API_METHODS).map((m) => [m, (input: unknown) => call(m, input)])) as unknown as TandemApi;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // Our running jobs become `interrupted` (this process counts as dead to itself), so the next
    // host resumes them; the database closes before the jobs' code notices, so nothing records
    // them as failed or cancelled meanwhile. A read-only engine ran no jobs.
    if (!readOnly) {
      try {
        store.markInterrupted();
      } catch (e) {
        onError(e);
      }
    }
    await maps.close();
    searcher.close();
    db.close();
    await client.close();
    await generator.close();
  };

  return { api, events, call, close };
}
