/** The library part of the typed API (merged into API_METHODS in ../api-contract.ts): collections.*, library.index, library.indexReport and files.open: the researcher's library. Pure zod. */
import { z } from 'zod';
import { VARIANT_VALUES, collectionSchema, empty, nonEmpty } from './shapes.js';
import { DEVICE_REQUEST_VALUES } from './search.js';

export const LIBRARY_API_METHODS = {
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
    /** `resumed`: the job is an interrupted (or queued) upgrade of the same collection to the same model, continued (chunks with a new vector are kept). */
    output: z.object({ jobId: z.string(), resumed: z.boolean() }),
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
        /** Where the model runs (default auto: CUDA, then a hardware WebGPU adapter, then CPU). */
        device: z.enum(DEVICE_REQUEST_VALUES).optional(),
        /** CSV/TSV columns that form the text (names or 0-based indices). */
        columns: z.array(nonEmpty).min(1).optional(),
        /** Chunk size and overlap in tokens (defaults 256, capped by the model, and 32). */
        maxTokens: z.number().int().min(1).optional(),
        overlapTokens: z.number().int().min(0).optional(),
      })
      .strict(),
    /**
     * model: the model the jobs index with (the one chosen when none was named); modelReason: why,
     * when this call chose it (a new collection, no model named, not lexical-only); resumed: jobs
     * that continue an interrupted index of the same path (finished documents are kept).
     */
    output: z.object({ jobIds: z.array(z.string()), model: z.string(), modelReason: z.string().nullable().optional(), resumed: z.array(z.string()).optional() }),
  },
  /**
   * The whole summary of an index job that succeeded (every path not indexed, with its reason):
   * kept by the engine that ran it until asked once; otherwise the job record's copy (errors and
   * skipped paths capped), and `complete` is false.
   */
  'library.indexReport': {
    input: z.object({ jobId: nonEmpty }).strict(),
    output: z.object({
      summary: z
        .object({ collection: z.string(), filesSeen: z.number(), filesIndexed: z.number(), filesNotIndexed: z.number(), errorCount: z.number(), errors: z.array(z.object({ path: z.string(), reason: z.string() }).loose()), skipped: z.array(z.object({ path: z.string(), reason: z.string() }).loose()) })
        .loose(),
      complete: z.boolean(),
    }),
  },
  'files.open': {
    /** `page`: a PDF hit's page; the desktop opens the PDF there where the platform's opener takes a page. */
    input: z.object({ path: nonEmpty, page: z.number().int().min(1).optional() }).strict(),
    /** `opened`: the host opened it with the OS opener; otherwise the UI shows `path`. */
    output: z.object({ path: z.string(), opened: z.boolean() }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
