/**
 * What the API's handlers share: the parts `createEngine` builds (store, queues, clients, cloud,
 * maps, live job events). Each area's handlers (handlers/<area>.ts) take this context and return
 * the methods of their area; `createEngine` merges them and the compiler checks every contract
 * method has one.
 */
import type { ApiMethod, ApiOutput, ApiParsedInput } from '../common/api-contract.js';
import type { CloudService } from '../cloud/cloud-service.js';
import type { GenerateClient } from '../generate/index.js';
import type { EmbedClient } from '../inference/embed-client.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { JobStore } from '../jobs/job-store.js';
import type { Searcher } from '../library/searcher.js';
import type { MapService } from '../map/map-service.js';
import type { Catalog } from '../models/catalog.js';
import type { ModelManager } from '../models/model-manager.js';
import type { Db } from '../store/database.js';
import type { LibraryStore } from '../store/library-store.js';
import type { ApiEventEmitter } from './api-events.js';
import type { ApiServiceDeps } from './api-service.js';
import type { LiveJobs } from './live-jobs.js';

export interface EngineContext {
  deps: ApiServiceDeps;
  env: NodeJS.ProcessEnv;
  /** TANDEM_HOME. */
  home: string;
  db: Db;
  lib: LibraryStore;
  store: JobStore;
  catalog: Catalog;
  manager: ModelManager;
  client: EmbedClient;
  /** The local generation worker, started on first use (shared with the cloud's local fallback). */
  generateClient(): GenerateClient;
  events: ApiEventEmitter;
  searcher: Searcher;
  maps: MapService;
  cloud: CloudService;
  /** The main queue (index, upgrade, cloud and host runners), model pulls, evals. */
  queue: JobQueue;
  pulls: JobQueue;
  evals: JobQueue;
  /** The queue that runs jobs of a kind here (undefined: this engine cannot run it). */
  queueFor(kind: string): JobQueue | undefined;
  jobs: LiveJobs;
}

/** The handlers of some methods: validated input in, the contract's output out. */
export type HandlersOf<M extends ApiMethod> = { [K in M]: (input: ApiParsedInput<K>) => Promise<ApiOutput<K>> | ApiOutput<K> };

/** Methods whose name starts with one of the prefixes (`'jobs.'`). */
export type MethodsOf<P extends string> = Extract<ApiMethod, `${P}${string}`>;
