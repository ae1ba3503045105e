/**
 * The Map part of the typed API (merged into API_METHODS and API_EVENTS in api-contract.ts): a 2D
 * projection of a collection's chunks, computed off the engine's thread and cached. Pure zod, no
 * Node: the renderer shares it.
 */
import { z } from 'zod';

export const MAP_METHOD_VALUES = ['pca', 'umap'] as const;
export type MapMethodName = (typeof MAP_METHOD_VALUES)[number];
/** At most this many points per map (more chunks are sampled evenly). */
export const MAP_MAX_POINTS = 50_000;

const nonEmpty = z.string().trim().min(1);

export const mapPointSchema = z.object({
  /** Normalised to [-1, 1] (both axes scaled alike, so shapes are kept). */
  x: z.number(),
  y: z.number(),
  chunkId: z.number(),
  documentPath: z.string(),
  /** 1-based page, for paged formats (pdf). */
  page: z.number().optional(),
  /** The document's folder relative to the common folder of the mapped documents ('.' = that folder). */
  folder: z.string(),
  fileType: z.string(),
  /** The chunk's first ~200 characters. */
  preview: z.string(),
});
export type ApiMapPoint = z.infer<typeof mapPointSchema>;

export const MAP_API_METHODS = {
  'map.compute': {
    input: z
      .object({
        collection: nonEmpty,
        /** Model id or embeddings key (`id@variant`); default the collection's model. */
        model: nonEmpty.optional(),
        method: z.enum(MAP_METHOD_VALUES),
        /** Default 50000 for PCA, 5000 for UMAP; larger collections are sampled evenly. */
        maxPoints: z.number().int().min(1).max(MAP_MAX_POINTS).optional(),
      })
      .strict(),
    output: z.object({
      collection: z.string(),
      /** The embeddings key mapped (`model@variant`). */
      model: z.string(),
      method: z.enum(MAP_METHOD_VALUES),
      /** The collection's vector fingerprint the map was computed from (the cache key). */
      fingerprint: z.string(),
      /** Chunks with vectors in the collection. */
      total: z.number(),
      /** Whether only a sample of `total` is shown. */
      sampled: z.boolean(),
      /** Read from $TANDEM_HOME/maps/ instead of computed. */
      cached: z.boolean(),
      computeMs: z.number(),
      createdAt: z.string(),
      points: z.array(mapPointSchema),
    }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const MAP_API_EVENTS = {
  /** Progress of a map computation: loading vectors, projecting (epochs or iterations), saving. */
  'map.progress': z.object({
    collection: z.string(),
    method: z.enum(MAP_METHOD_VALUES),
    phase: z.enum(['loading', 'projecting', 'saving']),
    done: z.number(),
    total: z.number().nullable(),
  }),
} as const satisfies Record<string, z.ZodType>;
