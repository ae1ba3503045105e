/** The search part of the typed API (merged into API_METHODS in ../api-contract.ts): search.query, search.batch and search.eval. Pure zod. */
import { z } from 'zod';
import { EVAL_MODE_VALUES, FUSION_VALUES, SEARCH_MODE_VALUES, isoDate, nonEmpty, searchHitSchema, evalReportSchema } from './shapes.js';

/** Where a search may run a reranker (native/engine/inference/device.ts's requests). */
export const DEVICE_REQUEST_VALUES = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;

const searchFiltersSchema = z
  .object({
    pathGlob: nonEmpty.optional(),
    fileTypes: z.array(nonEmpty).optional(),
    modifiedAfter: isoDate.optional(),
    modifiedBefore: isoDate.optional(),
  })
  .strict();

/** A batch hit: a search hit with the id of its best chunk (the searcher's DocumentHit, as is). */
export const batchHitSchema = searchHitSchema.extend({ chunkId: z.number() });


export const SEARCH_API_METHODS = {
  'search.query': {
    input: z
      .object({
        query: nonEmpty,
        collection: nonEmpty,
        mode: z.enum(SEARCH_MODE_VALUES).default('default'),
        /** Hybrid: score fusion (default) or reciprocal rank fusion. */
        fusion: z.enum(FUSION_VALUES).default('score'),
        k: z.number().int().min(1).max(200).default(10),
        filters: searchFiltersSchema.optional(),
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
   * Many queries in one call (`tandem search`, one query or a BEIR query file): one embedding pass
   * and one scan for all of them. Hits are the searcher's as they are (with the best chunk's id);
   * `snippets: false` skips snippets (TREC runs). What `search.query` leaves out is here: any k,
   * the int8 vector scan, the reranker's activation and device, and how hybrid scores were fused.
   */
  'search.batch': {
    input: z
      .object({
        collection: nonEmpty,
        /** Query texts are kept as given (not trimmed). */
        queries: z.array(z.object({ id: z.string(), text: z.string().min(1) }).strict()).min(1),
        mode: z.enum(SEARCH_MODE_VALUES).default('default'),
        fusion: z.enum(FUSION_VALUES).default('score'),
        k: z.number().int().min(1).max(1_000_000).default(10),
        filters: searchFiltersSchema.optional(),
        /** Vector scan: float32, or int8 candidates rescored in float32 (default: the index's choice). */
        precision: z.enum(['float32', 'int8']).optional(),
        snippets: z.boolean().default(true),
        rerank: z
          .object({
            model: nonEmpty,
            top: z.number().int().min(1).max(1_000_000).default(50),
            /** Scores as the model's logits (raw) or through a sigmoid. */
            scores: z.enum(['raw', 'sigmoid']).default('raw'),
            device: z.enum(DEVICE_REQUEST_VALUES).optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    output: z.object({
      /** Query id -> its hits, best first (in the order the queries came). */
      results: z.record(z.string(), z.array(batchHitSchema)),
      tookMs: z.number(),
      mode: z.enum(SEARCH_MODE_VALUES),
      modeUsed: z.enum(SEARCH_MODE_VALUES),
      modeReason: z.string().nullable(),
      /** Hybrid: how the lists were fused (rrf, or score fusion with the vector side's weight and where it comes from); null otherwise. */
      fusion: z
        .object({
          method: z.enum(FUSION_VALUES),
          /** The collection's model (null: no live vectors), the vector side's weight and its source (score fusion only). */
          model: z.string().nullable(),
          vectorWeight: z.number().nullable(),
          weightSource: z.enum(['published', 'unknown']).nullable(),
        })
        .nullable(),
      /** What the rerank stage did (absent without rerank; null when there was nothing to rerank). */
      rerank: z
        .object({
          model: z.string(),
          variant: z.string(),
          scores: z.enum(['raw', 'sigmoid']),
          top: z.number(),
          pairs: z.number(),
          device: z.string(),
          deviceAdapter: z.string().nullable(),
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
   * text, or as files on the engine's machine (absolute paths: `tandem eval`; the job records
   * them, so `jobs.retry` can run it again), searched in each mode (k documents per query);
   * nDCG@10, Recall@100 and MRR@10 per mode and per query. Resolves when the job ends;
   * `job.updated` events carry its progress meanwhile.
   */
  'search.eval': {
    input: z
      .object({
        collection: nonEmpty,
        queries: nonEmpty.optional(),
        qrels: nonEmpty.optional(),
        queriesFile: nonEmpty.optional(),
        qrelsFile: nonEmpty.optional(),
        modes: z.array(z.enum(EVAL_MODE_VALUES)).min(1).default(['lexical', 'vector', 'hybrid', 'default']),
        k: z.number().int().min(1).max(1000).default(100),
        /** Hybrid and default modes: score fusion (default) or reciprocal rank fusion. */
        fusion: z.enum(FUSION_VALUES).optional(),
        rerank: z.object({ model: nonEmpty, top: z.number().int().min(1).max(200).default(50) }).strict().optional(),
      })
      .strict()
      .refine((i) => (i.queries === undefined) !== (i.queriesFile === undefined), { message: 'give queries (text) or queriesFile (an absolute path), one of them' })
      .refine((i) => (i.qrels === undefined) !== (i.qrelsFile === undefined), { message: 'give qrels (text) or qrelsFile (an absolute path), one of them' }),
    /** The eval job's report (evalReportSchema, also the `eval` job kind's result) and its job id. */
    output: z.object({ jobId: z.string() }).extend(evalReportSchema.shape),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
