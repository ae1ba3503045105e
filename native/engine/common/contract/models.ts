/** The models part of the typed API (merged into API_METHODS in ../api-contract.ts): models.*: the catalog, models on disk, pulls, imports, checks and what an ONNX file declares. Pure zod. */
import { z } from 'zod';
import { VARIANT_VALUES, deviceInfoSchema, empty, fileStatusSchema, modelSchema, nonEmpty } from './shapes.js';

/** A dimension: a fixed size, a symbolic name ("batch"), or null when the model says nothing. */
const onnxDimSchema = z.union([z.number(), z.string(), z.null()]);
const onnxValueSchema = z.object({ name: z.string(), type: z.string(), isTensor: z.boolean(), shape: z.array(onnxDimSchema).nullable(), docString: z.string().optional() });

/** What an ONNX file declares (native/engine/inference/onnx-inspect.ts), read without loading its weights. */
export const onnxModelInfoSchema = z.object({
  file: z.string(),
  fileSize: z.number(),
  externalData: z.array(z.object({ file: z.string(), size: z.number().nullable() })),
  totalSize: z.number(),
  irVersion: z.number(),
  producerName: z.string(),
  producerVersion: z.string(),
  domain: z.string(),
  modelVersion: z.number(),
  docString: z.string(),
  opsets: z.array(z.object({ domain: z.string(), version: z.number() })),
  graphName: z.string(),
  inputs: z.array(onnxValueSchema),
  outputs: z.array(onnxValueSchema),
  overridableInitializers: z.array(z.string()),
  initializers: z.object({ count: z.number(), parameters: z.number(), bytes: z.number() }),
  nodes: z.number(),
  opTypes: z.array(z.object({ op: z.string(), count: z.number() })),
  metadata: z.record(z.string(), z.string()),
});

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
  /** What an ONNX file declares: `model` is an absolute path (a .onnx file or a folder with model.onnx) or a model id. */
  'models.inspect': {
    input: z.object({ model: nonEmpty }).strict(),
    output: onnxModelInfoSchema,
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
