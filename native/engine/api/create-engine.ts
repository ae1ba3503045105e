/**
 * The one assembly of the engine: `createEngine(deps)` opens the store, builds the job queues with
 * every job runner (index, upgrade, model pulls, evals, run-onnx, generate-local, the cloud's
 * runners and the host's own),
 * the embedding client, the local generator, the searcher, the cloud service and the map service,
 * and returns the typed API of native/engine/common/api-contract.ts plus `close()`. Every host is a
 * client of it: the web host (`tandem serve`), Electron's utility process (native/hosts/electron-utility/utility-entry.ts)
 * and the CLI commands that moved onto the API (see native/engine/api/README.md). Outside tests and the
 * store/jobs packages, nothing else constructs the store or a job queue for these hosts
 * (native/engine/api/one-assembly.test.ts checks it).
 */
import { openForReadingMarkingDeadJobs } from '../jobs/open-for-reading.js';
import { API_METHODS, isApiMethod, type ApiMethod, type ApiOutput, type ApiParsedInput, type TandemApi } from '../common/api-contract.js';
import { TandemError } from '../common/errors.js';
import { tandemHome } from '../node/paths.js';
import { EmbedClient } from '../inference/embed-client.js';
import type { LocalGenerator } from '../cloud/cloud-service.js';
import { lazyLocalGenerator } from '../cloud/local-engines.js';
import type { WaitStatus } from '../cloud/wait-status.js';
import { JobQueue, JobRunners, type RunnerWrap } from '../jobs/job-queue.js';
import { JobStore } from '../jobs/job-store.js';
import { EVAL_KIND } from '../library/eval-job.js';
import { Searcher } from '../library/searcher.js';
import { lazyCatalog } from '../models/catalog.js';
import { createModelManager, type ModelManager } from '../models/model-manager.js';
import { openDatabase, storePath, type Db } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { createMapService } from '../map/map-service.js';
import { createCloudHandlers, openApiCloud } from './api-cloud.js';
import { ApiEventEmitter } from './api-events.js';
import { MODEL_PULL_KIND, parseApiInput, type ApiService, type ApiServiceDeps } from './api-service.js';
import type { EngineContext } from './engine-context.js';
import { appHandlers } from './handlers/app.js';
import { generateHandlers, generateRunners } from './handlers/generate.js';
import { inferenceHandlers, inferenceRunners } from './handlers/inference.js';
import { jobsHandlers } from './handlers/jobs.js';
import { createIndexReports, libraryHandlers, libraryRunners } from './handlers/library.js';
import { mapHandlers } from './handlers/map.js';
import { modelPullRunner, modelsHandlers } from './handlers/models.js';
import { evalRunners, searchHandlers } from './handlers/search.js';
import { createLiveJobs } from './live-jobs.js';

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
  // Read on first use: keyword search, jobs and collections never look a model up.
  const catalog = deps.catalog ?? lazyCatalog();
  const manager: ModelManager = createModelManager({ env, catalog, ...(deps.modelManager ?? {}) });
  const client = new EmbedClient(env);
  const events = new ApiEventEmitter(onError);
  let closed = false;
  const jobs = createLiveJobs({ store, events, onError, progressIntervalMs, isClosed: () => closed });
  // Local generation (the fallback for generate jobs) in its own worker, started on first use. A CLI
  // command is a process that generates once: no grammar warm-up (GenerateEngine), unless asked.
  const generator = lazyLocalGenerator(deps.host === 'cli' && env.TANDEM_GRAMMAR_WARMUP === undefined ? { ...env, TANDEM_GRAMMAR_WARMUP: '0' } : env);
  const localGenerate: LocalGenerator = async (req, o) => {
    if (closed) throw new TandemError('CANCELLED', 'the engine is shutting down');
    return generator.generate(req, o);
  };
  const onStream = (jobId: string, text: string): void => {
    if (!closed) events.emit('generate.token', { jobId, text });
  };
  // A remote call's wait ("waiting for Modal generate: cold start 0:42 (typical 5-7 min for qwen-32b)") is the job's phase in job.updated, once a second.
  const onWait = (w: WaitStatus): void => {
    const l = jobs.live.get(w.jobId);
    if (!l || closed) return;
    l.phase = w.line;
    jobs.publish(w.jobId);
  };
  const cloud = openApiCloud({ env, db, store, client, localGenerate, onStream, options: { onWait, statusIntervalMs: 1000, ...(deps.cloud ?? {}) } });
  const searcher = new Searcher(lib, client, env);
  // Maps are computed in worker threads (native/engine/map) that read the store read-only.
  const maps = createMapService({ dbFile: storePath(home), home, onProgress: (p) => events.emit('map.progress', p) });

  // --- runners and queues --------------------------------------------------------------------

  const runners = new JobRunners();
  const indexReports = createIndexReports();
  runners.addAll(libraryRunners(lib, client, env, jobs, indexReports));
  // The CLI's local jobs (run-onnx, generate-local) run here too, so jobs.retry/resume re-run them.
  const observe: RunnerWrap = (run) => jobs.observed(() => run);
  runners.addAll({ ...inferenceRunners(client), ...generateRunners(generator.client, events) }, observe);
  runners.addAll(cloud.runners(), observe);
  if (deps.runners) runners.addAll(deps.runners, observe);
  const queue = new JobQueue(store, { runners, onError: (_id, e) => onError(e) });
  // Downloads get their own queue so a pull never waits behind an index job (and vice versa).
  const pullRunners = new JobRunners();
  pullRunners.register(MODEL_PULL_KIND, modelPullRunner(manager, events, jobs, progressIntervalMs));
  const pulls = new JobQueue(store, { runners: pullRunners, onError: (_id, e) => onError(e) });
  // Evaluations too: an eval never waits behind an index job. Its runner re-reads the files an eval started from files names (retry, resume); texts given inline are not kept.
  const evals = new JobQueue(store, { runners: evalRunners(searcher, jobs), onError: (_id, e) => onError(e) });
  const queueFor = (kind: string): JobQueue | undefined => (kind === MODEL_PULL_KIND ? pulls : kind === EVAL_KIND ? evals : runners.has(kind) ? queue : undefined);

  // --- handlers, by area (handlers/<area>.ts) ------------------------------------------------

  const ctx: EngineContext = { deps, env, home, db, lib, store, catalog, manager, client, generateClient: generator.client, events, searcher, maps, cloud, queue, pulls, evals, queueFor, jobs };
  const handlers: Handlers = {
    ...mapHandlers(ctx),
    ...createCloudHandlers({ cloud, db, store, queue, started: (h) => (jobs.track(h), jobs.publish(h.id)) }),
    ...appHandlers(ctx),
    ...libraryHandlers(ctx, indexReports),
    ...searchHandlers(ctx),
    ...jobsHandlers(ctx),
    ...modelsHandlers(ctx),
    ...inferenceHandlers(ctx),
    ...generateHandlers(ctx),
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
