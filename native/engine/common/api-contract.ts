/**
 * The typed API between a UI and the engine, declared once. Every host (the web host over HTTP +
 * server-sent events, Electron over IPC) carries exactly these methods and events; the engine-side
 * service (native/engine/api) implements them, the renderer calls them. Pure TypeScript + zod: no Node,
 * no DOM. Errors cross as `WireError` (errors.ts), closed codes only.
 *
 * Adding a method: add an entry to `API_METHODS` (input and output schemas); the `TandemApi` type,
 * the service's handler table, the HTTP routes and the renderer client follow from it.
 */
import { z } from 'zod';
import { CLOUD_API_METHODS } from './api-cloud-contract.js';
import { MAP_API_EVENTS, MAP_API_METHODS } from './api-map-contract.js';
import { ERROR_CODES } from './errors.js';

// ------------------------------------------------------------------------------------------------
// Shared shapes

export const JOB_STATUS_VALUES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export const BACKEND_VALUES = ['local', 'modal', 'cloud-run'] as const;
/** `default` is the recommended mode (today hybrid with score fusion; see native/engine/search/fusion.ts). */
export const SEARCH_MODE_VALUES = ['default', 'hybrid', 'lexical', 'vector'] as const;
export const FUSION_VALUES = ['score', 'rrf'] as const;
/** What a hit's score is: BM25 (unbounded), cosine (-1..1), fused (0..1), reciprocal rank fusion, or a cross-encoder's. */
export const SCORE_KIND_VALUES = ['bm25', 'cosine', 'fused', 'rrf', 'rerank'] as const;
export const VARIANT_VALUES = ['fp32', 'int8', 'fp16', 'static'] as const;

const nonEmpty = z.string().trim().min(1);
const empty = z.object({}).strict();
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'expected an ISO date like 2026-01-31' });

export const jobStatusSchema = z.enum(JOB_STATUS_VALUES);
export const backendSchema = z.enum(BACKEND_VALUES);
export const errorCodeSchema = z.enum(ERROR_CODES);

export const jobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  /** What the job worked on, in a few words (native/engine/jobs/job-label.ts). */
  label: z.string(),
  backend: backendSchema,
  device: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  inputDigest: z.string(),
  status: jobStatusSchema,
  priority: z.number(),
  progress: z.object({ done: z.number(), total: z.number().nullable() }),
  timings: z.object({
    queuedAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    loadMs: z.number().nullable(),
    inferenceMs: z.number().nullable(),
    queueMs: z.number().nullable(),
    transferMs: z.number().nullable(),
  }),
  error: z.object({ code: errorCodeSchema, message: z.string() }).nullable(),
  costUsd: z.number(),
  result: z.unknown(),
  retryOf: z.string().nullable(),
  remoteId: z.string().nullable(),
});
export type ApiJob = z.infer<typeof jobSchema>;

export const jobEventSchema = z.object({
  id: z.number(),
  jobId: z.string(),
  at: z.string(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type ApiJobEvent = z.infer<typeof jobEventSchema>;

/** Where a job's time went (milliseconds; null when not measured). */
export const timingBreakdownSchema = z.object({
  queueMs: z.number().nullable(),
  loadMs: z.number().nullable(),
  inferenceMs: z.number().nullable(),
  transferMs: z.number().nullable(),
  otherMs: z.number().nullable(),
  runMs: z.number().nullable(),
  totalMs: z.number().nullable(),
});
export type TimingBreakdown = z.infer<typeof timingBreakdownSchema>;

export const collectionSchema = z.object({
  id: z.number(),
  name: z.string(),
  /** The model of the live vectors (what search uses); null: lexical-only (keyword search, no vectors). */
  model: z.string().nullable(),
  variant: z.string().nullable(),
  lexicalOnly: z.boolean(),
  /** An upgrade to another model in progress (or paused): chunks with its vector so far, of all chunks. */
  upgradeProgress: z.object({ model: z.string(), variant: z.string(), done: z.number(), total: z.number() }).nullable(),
  dims: z.number().nullable(),
  root: z.string().nullable(),
  createdAt: z.string(),
  documents: z.number(),
  chunks: z.number(),
  models: z.array(z.string()),
  sourceBytes: z.number(),
  storedBytes: z.number(),
});
export type ApiCollection = z.infer<typeof collectionSchema>;

export const searchHitSchema = z.object({
  docKey: z.string(),
  path: z.string(),
  fileType: z.string(),
  title: z.string().nullable(),
  score: z.number(),
  scoreKind: z.enum(SCORE_KIND_VALUES),
  /** Fused hits: the raw BM25 and cosine that went into the fusion, where the document was in that list. */
  bm25: z.number().optional(),
  cosine: z.number().optional(),
  /** The page of the matched passage (paged formats). */
  page: z.number().nullable(),
  /** The lines of the matched passage (text, Markdown, code). */
  lines: z.object({ start: z.number(), end: z.number() }).optional(),
  start: z.number(),
  end: z.number(),
  /** The snippet as plain text, and the [start, end) ranges of matched words in it. */
  snippet: z.string(),
  highlights: z.array(z.object({ start: z.number(), end: z.number() })),
  /** The cross-encoder's score when the hit was reranked (`score` stays the first stage's). */
  rerankScore: z.number().optional(),
});
export type ApiSearchHit = z.infer<typeof searchHitSchema>;

export const deviceInfoSchema = z.object({
  /** What embeddings run on by default (`--device auto`): 'cuda', 'webgpu' (a hardware adapter only), 'dml', 'coreml' or 'cpu'. */
  used: z.string(),
  /** Why (e.g. why the accelerator cannot be used). */
  reason: z.string(),
  accelerator: z.string().nullable(),
  acceleratorUsable: z.boolean(),
});
export type ApiDeviceInfo = z.infer<typeof deviceInfoSchema>;

export const modelSchema = z.object({
  id: z.string(),
  task: z.string().nullable(),
  dims: z.number().nullable(),
  license: z.string().nullable(),
  inCatalog: z.boolean(),
  installed: z.boolean(),
  /** Ships inside Tandem (models/builtin): always available, offline. */
  builtin: z.boolean(),
  dir: z.string().nullable(),
  variants: z.array(z.string()),
  /** Variants the catalog offers (what `models.pull` can fetch). */
  catalogVariants: z.array(z.string()),
  defaultVariant: z.string().nullable(),
  sizeOnDisk: z.number(),
  problem: z.string().nullable(),
});
export type ApiModel = z.infer<typeof modelSchema>;

/** Modes `search.eval` measures (`default`: the searcher's recommended mode). */
export const EVAL_MODE_VALUES = ['lexical', 'vector', 'hybrid', 'default'] as const;

/** One query's (or a mean's) retrieval metrics, as trec_eval/BEIR compute them (native/engine/search/retrieval-metrics.ts). */
export const retrievalMetricsSchema = z.object({ 'ndcg@10': z.number(), 'recall@100': z.number(), 'mrr@10': z.number() });
export type ApiRetrievalMetrics = z.infer<typeof retrievalMetricsSchema>;

const fileStatusSchema = z.object({ path: z.string(), sha256: z.string(), size: z.number(), pinned: z.boolean() });

// ------------------------------------------------------------------------------------------------
// Methods

export const API_METHODS = {
  /** cloud.* and results.read: see api-cloud-contract.ts. */
  ...CLOUD_API_METHODS,
  /** map.compute: see api-map-contract.ts. */
  ...MAP_API_METHODS,
  'app.info': {
    input: empty,
    output: z.object({
      version: z.string(),
      host: z.enum(['web', 'electron', 'cli', 'test']),
      dataDir: z.string(),
      modelDirs: z.array(z.string()),
      platform: z.string(),
      device: deviceInfoSchema,
      /** Whether `files.open` opens files on this machine (a desktop host) or only returns the path. */
      opensFiles: z.boolean(),
    }),
  },
  'collections.list': {
    input: empty,
    output: z.object({ collections: z.array(collectionSchema) }),
  },
  'collections.show': {
    input: z.object({ name: nonEmpty }).strict(),
    output: collectionSchema,
  },
  /**
   * Re-embed a collection with another model as an `upgrade` job (resumable, cancellable): search
   * keeps using the live vectors until every chunk has a new one, then the switch is one transaction.
   */
  'collections.upgrade': {
    input: z.object({ name: nonEmpty, model: nonEmpty, variant: z.enum(VARIANT_VALUES).optional() }).strict(),
    output: z.object({ jobId: z.string() }),
  },
  'collections.remove': {
    input: z.object({ name: nonEmpty }).strict(),
    output: z.object({ removed: z.string() }),
  },
  'library.index': {
    input: z
      .object({
        /** Absolute paths on the engine's machine: folders (recursive) or single files. One job each. */
        paths: z.array(nonEmpty).min(1).max(100),
        collection: nonEmpty,
        /** Default: the collection's model, else the best installed embedding model, else the built-in minishlab/potion-base-2M. */
        model: nonEmpty.optional(),
        variant: z.enum(VARIANT_VALUES).optional(),
        /** Keyword (BM25) search only: chunks, no vectors; `collections.upgrade` adds vectors later. */
        lexicalOnly: z.boolean().optional(),
      })
      .strict(),
    /** model: the model the jobs index with (the one chosen when none was named). */
    output: z.object({ jobIds: z.array(z.string()), model: z.string() }),
  },
  'search.query': {
    input: z
      .object({
        query: nonEmpty,
        collection: nonEmpty,
        mode: z.enum(SEARCH_MODE_VALUES).default('default'),
        /** Hybrid: score fusion (default) or reciprocal rank fusion. */
        fusion: z.enum(FUSION_VALUES).default('score'),
        k: z.number().int().min(1).max(200).default(10),
        filters: z
          .object({
            pathGlob: nonEmpty.optional(),
            fileTypes: z.array(nonEmpty).optional(),
            modifiedAfter: isoDate.optional(),
            modifiedBefore: isoDate.optional(),
          })
          .strict()
          .optional(),
        /** Rescore the first stage's top documents with a cross-encoder (a model with task rerank, or a folder id). */
        rerank: z.object({ model: nonEmpty, top: z.number().int().min(1).max(200).default(50) }).strict().optional(),
      })
      .strict(),
    output: z.object({
      hits: z.array(searchHitSchema),
      tookMs: z.number(),
      /** The mode that answered: a collection without live vectors answers vector/hybrid lexically (modeReason says so). */
      modeUsed: z.enum(SEARCH_MODE_VALUES),
      modeReason: z.string().nullable(),
      mode: z.enum(SEARCH_MODE_VALUES),
      /** What the rerank stage did (absent without rerank; null when there was nothing to rerank). */
      rerank: z
        .object({
          model: z.string(),
          variant: z.string(),
          /** The top N asked for, and the (query, document) pairs actually scored. */
          top: z.number(),
          pairs: z.number(),
          device: z.string(),
          /** Why the device is not the one asked for (accelerator fallback), when it is not. */
          deviceReason: z.string().nullable(),
          ms: z.number(),
        })
        .nullable()
        .optional(),
    }),
  },
  /**
   * Retrieval evaluation on labelled queries, recorded as an `eval` job: BEIR queries (JSONL lines
   * {"_id","text"}) and qrels (TSV `query-id corpus-id score`, header optional, CRLF fine) as
   * text, searched in each mode (k documents per query); nDCG@10, Recall@100 and MRR@10 per mode
   * and per query. Resolves when the job ends; `job.updated` events carry its progress meanwhile.
   */
  'search.eval': {
    input: z
      .object({
        collection: nonEmpty,
        queries: nonEmpty,
        qrels: nonEmpty,
        modes: z.array(z.enum(EVAL_MODE_VALUES)).min(1).default(['lexical', 'vector', 'hybrid', 'default']),
        k: z.number().int().min(1).max(1000).default(100),
        rerank: z.object({ model: nonEmpty, top: z.number().int().min(1).max(200).default(50) }).strict().optional(),
      })
      .strict(),
    output: z.object({
      jobId: z.string(),
      collection: z.string(),
      k: z.number(),
      rerank: z.string().nullable(),
      /** Mean metrics per mode, in the order asked for. */
      modes: z.record(z.string(), retrievalMetricsSchema),
      /** The searcher mode each ran as. */
      ranAs: z.record(z.string(), z.string()),
      /** Queries evaluated: every qrels query with a relevant document (one without a query line scores 0). */
      queries: z.number(),
      /** qid -> mode -> metrics. */
      perQuery: z.record(z.string(), z.record(z.string(), retrievalMetricsSchema)),
      /** Qrels queries with no relevant document (left out), evaluated queries without a query line, queries without qrels (ignored). */
      noRelevant: z.number(),
      missingText: z.number(),
      unjudged: z.number(),
      ms: z.record(z.string(), z.number()),
    }),
  },
  'files.open': {
    /** `page`: a PDF hit's page; the desktop opens the PDF there where the platform's opener takes a page. */
    input: z.object({ path: nonEmpty, page: z.number().int().min(1).optional() }).strict(),
    /** `opened`: the host opened it with the OS opener; otherwise the UI shows `path`. */
    output: z.object({ path: z.string(), opened: z.boolean() }),
  },
  'jobs.list': {
    input: z
      .object({
        status: jobStatusSchema.optional(),
        kind: nonEmpty.optional(),
        backend: backendSchema.optional(),
        /** Case-insensitive substring of the id, kind, label, params or error. */
        text: nonEmpty.optional(),
        limit: z.number().int().min(1).max(5000).default(200),
        /** Cursor: the `nextCursor` of the previous page (jobs are newest first). */
        cursor: z.string().min(1).optional(),
      })
      .strict(),
    output: z.object({ jobs: z.array(jobSchema), nextCursor: z.string().nullable() }),
  },
  'jobs.show': {
    input: z.object({ id: nonEmpty }).strict(),
    output: z.object({ job: jobSchema, timings: timingBreakdownSchema, events: z.array(jobEventSchema) }),
  },
  'jobs.stats': {
    input: empty,
    output: z.object({
      counts: z.record(z.string(), z.number()),
      errorRate: z.object({ overall: z.object({ finished: z.number(), failed: z.number(), rate: z.number().nullable() }) }).loose(),
      cost: z.object({ totalUsd: z.number() }).loose(),
      durations: z.array(z.object({ kind: z.string(), backend: z.string(), count: z.number(), p50Ms: z.number().nullable(), p95Ms: z.number().nullable() }).loose()),
      throughput: z.object({ windowHours: z.number(), total: z.number(), perHourAvg: z.number() }).loose(),
    }),
  },
  'jobs.cancel': {
    input: z.object({ id: nonEmpty }).strict(),
    output: z.object({ job: jobSchema }),
  },
  'jobs.retry': {
    input: z.object({ id: nonEmpty }).strict(),
    /** `scheduled`: this host runs the new job now; otherwise it waits for a host that runs its kind. */
    output: z.object({ job: jobSchema, scheduled: z.boolean() }),
  },
  'jobs.resume': {
    input: z.object({ id: nonEmpty }).strict(),
    /** Resume an interrupted (or queued) job in this host: finished work is kept, the rest runs. */
    output: z.object({ job: jobSchema }),
  },
  'models.list': {
    input: empty,
    output: z.object({
      models: z.array(modelSchema),
      device: deviceInfoSchema,
      modelDirs: z.array(z.string()),
      /** What a new collection gets when no model is named: the best installed embedding model, else the built-in one. */
      defaultEmbeddingModel: z.object({ id: z.string(), reason: z.string(), builtin: z.boolean() }),
    }),
  },
  'models.pull': {
    /** allowUnpinned: pull files the catalog pins no sha256 for, or a branch revision (trust on first use); refused without it. */
    input: z.object({ id: nonEmpty, variant: z.enum(VARIANT_VALUES).optional(), allowUnpinned: z.boolean().optional() }).strict(),
    output: z.object({ jobId: z.string() }),
  },
  'models.import': {
    input: z.object({ folder: nonEmpty, id: nonEmpty, force: z.boolean().optional() }).strict(),
    output: z.object({ id: z.string(), dir: z.string(), files: z.array(fileStatusSchema), unpinned: z.array(z.string()) }),
  },
  'models.verify': {
    input: z.object({ id: nonEmpty }).strict(),
    output: z.object({
      id: z.string(),
      dir: z.string(),
      ok: z.boolean(),
      files: z.array(
        z.object({ path: z.string(), status: z.enum(['ok', 'mismatch', 'missing', 'unpinned']), expected: z.string().nullable(), actual: z.string().nullable(), source: z.enum(['catalog', 'manifest', 'none']) }),
      ),
    }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

// ------------------------------------------------------------------------------------------------
// Events (engine -> UI)

export const API_EVENTS = {
  /** map.progress: see api-map-contract.ts. */
  ...MAP_API_EVENTS,
  /** A job's record changed (status, progress...). `etaMs`: estimated time left, when known. */
  'job.updated': z.object({
    job: jobSchema,
    etaMs: z.number().nullable(),
    /** What the job is doing now (e.g. 'scanning', 'indexing'), when its runner says. */
    phase: z.string().nullable(),
    /** Index jobs: files read of the files to read, shown beside the progress (which counts chunks). */
    files: z.object({ done: z.number(), total: z.number() }).nullable().optional(),
  }),
  /** An event appended to a job's history. */
  'job.event': jobEventSchema,
  /** Download progress of a model pull. */
  'models.progress': z.object({ jobId: z.string(), id: z.string(), file: z.string(), bytes: z.number(), total: z.number().nullable() }),
  /** Text of a local generation as it streams (one event per decoded piece), for a generate job. */
  'generate.token': z.object({ jobId: z.string(), text: z.string() }),
} as const satisfies Record<string, z.ZodType>;

// ------------------------------------------------------------------------------------------------
// Derived types

export type ApiMethod = keyof typeof API_METHODS;
/** What a caller passes (defaults may be omitted). */
export type ApiInput<M extends ApiMethod> = z.input<(typeof API_METHODS)[M]['input']>;
/** What the implementation receives after validation (defaults filled in). */
export type ApiParsedInput<M extends ApiMethod> = z.output<(typeof API_METHODS)[M]['input']>;
export type ApiOutput<M extends ApiMethod> = z.output<(typeof API_METHODS)[M]['output']>;

/** The whole API as an object of async functions. */
export type TandemApi = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> };

export type ApiEventName = keyof typeof API_EVENTS;
export type ApiEvents = { [E in ApiEventName]: z.output<(typeof API_EVENTS)[E]> };

export const API_METHOD_NAMES = Object.keys(API_METHODS) as ApiMethod[];
export const API_EVENT_NAMES = Object.keys(API_EVENTS) as ApiEventName[];

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API_METHODS, x);
}

export function isApiEventName(x: unknown): x is ApiEventName {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API_EVENTS, x);
}

