/**
 * Shapes shared by the API contract's areas (jobs, collections, hits, models, devices). Pure zod:
 * no Node, no DOM (the renderer shares it).
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';

export const JOB_STATUS_VALUES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export const BACKEND_VALUES = ['local', 'modal', 'cloud-run'] as const;
/** `default` is the recommended mode (today hybrid with score fusion; see native/engine/search/fusion.ts). */
export const SEARCH_MODE_VALUES = ['default', 'hybrid', 'lexical', 'vector'] as const;
export const FUSION_VALUES = ['score', 'rrf'] as const;
/** What a hit's score is: BM25 (unbounded), cosine (-1..1), fused (0..1), reciprocal rank fusion, or a cross-encoder's. */
export const SCORE_KIND_VALUES = ['bm25', 'cosine', 'fused', 'rrf', 'rerank'] as const;
export const VARIANT_VALUES = ['fp32', 'int8', 'fp16', 'static'] as const;

export const nonEmpty = z.string().trim().min(1);
export const empty = z.object({}).strict();
export const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'expected an ISO date like 2026-01-31' });

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

/** What an evaluation reports (search.eval's answer, and the result of an `eval` job). */
export const evalReportSchema = z.object({
  collection: z.string(),
  k: z.number(),
  rerank: z.string().nullable(),
  /** Mean metrics per mode, in the order asked for. */
  modes: z.record(z.string(), retrievalMetricsSchema),
  /** The searcher mode each ran as. */
  ranAs: z.record(z.string(), z.enum(SEARCH_MODE_VALUES)),
  /** Queries evaluated: every qrels query with a relevant document (one without a query line scores 0). */
  queries: z.number(),
  /** qid -> mode -> metrics. */
  perQuery: z.record(z.string(), z.record(z.string(), retrievalMetricsSchema)),
  /** Qrels queries with no relevant document (left out), evaluated queries without a query line, queries without qrels (ignored). */
  noRelevant: z.number(),
  missingText: z.number(),
  unjudged: z.number(),
  ms: z.record(z.string(), z.number()),
});

export const fileStatusSchema = z.object({ path: z.string(), sha256: z.string(), size: z.number(), pinned: z.boolean() });
