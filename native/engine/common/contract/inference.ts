/**
 * The inference part of the typed API (merged into API_METHODS in ../api-contract.ts): embeddings
 * of texts with a local model (`inference.embed`, a page of texts per call, vectors as base64
 * float32 so a large run streams page by page), loading a model ahead (`inference.load`),
 * cancelling a call in flight (`inference.cancel`), and running an ONNX model on named tensors as a
 * `run-onnx` job (`inference.runOnnx`). Pure zod.
 */
import { z } from 'zod';
import { jobSchema, nonEmpty, VARIANT_VALUES } from './shapes.js';

export const DEVICE_REQUEST_VALUES = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export const INPUT_TYPE_VALUES = ['query', 'passage', 'none'] as const;
export const TENSOR_FORMAT_VALUES = ['nested', 'base64'] as const;
/** Most texts per `inference.embed` call: a caller pages larger inputs (bounded memory either side). */
export const EMBED_PAGE_MAX = 4096;

const deviceRequestSchema = z.enum(DEVICE_REQUEST_VALUES);
/** The device a call ran on: the provider used, why not the one asked for, the WebGPU adapter. */
export const deviceReportSchema = z.object({
  requested: z.string(),
  used: z.string(),
  fallbackReason: z.string().optional(),
  adapter: z.string().optional(),
  threads: z.number(),
});

const embedModelSchema = z.object({
  model: nonEmpty,
  variant: z.enum(VARIANT_VALUES).optional(),
  device: deviceRequestSchema.default('auto'),
  /** Fall back to CPU when the accelerator cannot load (the reason is reported). */
  allowFallback: z.boolean().default(true),
  /** Which of the model's prefixes to prepend (e5 `query: ` / `passage: `). */
  inputType: z.enum(INPUT_TYPE_VALUES).default('passage'),
  batchTokens: z.number().int().positive().optional(),
  threads: z.number().int().positive().optional(),
});

export const INFERENCE_API_METHODS = {
  /**
   * Embed a page of texts (at most EMBED_PAGE_MAX). `vectors`: count x dims float32, little-endian,
   * base64 (row i = texts[i], L2-normalised). With a `requestId`, progress comes as
   * `inference.progress` events and `inference.cancel` stops it.
   */
  'inference.embed': {
    input: embedModelSchema.extend({ texts: z.array(z.string()).max(EMBED_PAGE_MAX), requestId: nonEmpty.optional() }).strict(),
    output: z.object({
      model: z.string(),
      variant: z.string(),
      dims: z.number(),
      count: z.number(),
      vectors: z.string(),
      /** Indices of texts cut to the model's max length (`maxLength` tokens). */
      truncated: z.array(z.number()),
      maxLength: z.number(),
      tokens: z.number(),
      device: deviceReportSchema,
      modelCached: z.boolean(),
      timings: z.object({ loadMs: z.number(), tokenizeMs: z.number(), inferenceMs: z.number(), totalMs: z.number() }),
    }),
  },
  /** Load an embedding model ahead of the first `inference.embed` (the same options). */
  'inference.load': {
    input: embedModelSchema.strict(),
    output: z.object({ dims: z.number(), loadMs: z.number(), device: deviceReportSchema }),
  },
  /** Cancel the `inference.embed` call of this requestId (`cancelled: false` when none is in flight). */
  'inference.cancel': {
    input: z.object({ requestId: nonEmpty }).strict(),
    output: z.object({ cancelled: z.boolean() }),
  },
  /**
   * Run an ONNX model on named tensors, recorded as a `run-onnx` job; answers when the job ends.
   * `model` and `inputs` (a JSON file of tensors) are absolute paths (or `model` a model id); the
   * inputs are checked against the model before anything is recorded. With `output` the tensors
   * are written there, else they come back in `outputs` (as the inputs file's forms).
   */
  'inference.runOnnx': {
    input: z
      .object({
        model: nonEmpty,
        inputs: nonEmpty,
        device: deviceRequestSchema.default('auto'),
        allowFallback: z.boolean().default(true),
        format: z.enum(TENSOR_FORMAT_VALUES).default('nested'),
        output: nonEmpty.nullable().default(null),
        /** Only these outputs (default all). */
        fetch: z.array(nonEmpty).min(1).nullable().default(null),
      })
      .strict(),
    /** `inputs`: the names of the tensors fed. */
    output: z.object({ job: jobSchema, inputs: z.array(z.string()), outputs: z.record(z.string(), z.json()).nullable() }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const INFERENCE_API_EVENTS = {
  /** Texts embedded so far by the `inference.embed` call of `requestId`. */
  'inference.progress': z.object({ requestId: z.string(), done: z.number(), total: z.number() }),
} as const satisfies Record<string, z.ZodType>;
