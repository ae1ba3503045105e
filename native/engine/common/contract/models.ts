/** The models part of the typed API (merged into API_METHODS in ../api-contract.ts): models.*: the catalog, models on disk, pulls, imports and checks. Pure zod. */
import { z } from 'zod';
import { VARIANT_VALUES, deviceInfoSchema, empty, fileStatusSchema, modelSchema, nonEmpty } from './shapes.js';

export const MODELS_API_METHODS = {
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
