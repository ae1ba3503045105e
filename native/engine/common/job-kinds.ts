/**
 * The closed set of job kinds: for each, the schema of its params (what the job record stores, and
 * what its runner gets back when the job runs, retries or resumes) and of its result. Pure zod, no
 * Node: the renderer may share it.
 *
 * Params and results are loose objects: the fields named here are checked, extra fields are kept
 * as they are (a host may record more than a runner reads; rows written by older versions keep
 * theirs). A job's `kind` on the wire stays a string: a database may hold kinds this version does
 * not know, which still list and show, but have no runner.
 */
import { z } from 'zod';
import { QWEN_MODEL_IDS } from './boltz-validate.js';
import { POLICY_VALUES } from './contract/cloud.js';
import { EVAL_MODE_VALUES, FUSION_VALUES, evalReportSchema, SEARCH_MODE_VALUES, VARIANT_VALUES } from './contract/shapes.js';
import { TandemError } from './errors.js';

const str = z.string().min(1);
const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();
const jsonRecord = z.record(z.string(), z.json());
const DEVICE_REQUESTS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
const deviceRequest = z.enum(DEVICE_REQUESTS);
const variant = z.enum(VARIANT_VALUES);
/** What ran a local job: the device used and, when it was not the one asked for, why. */
const deviceUsed = z.looseObject({ used: z.string(), fallbackReason: z.string().optional() });

// --- library ---------------------------------------------------------------------------------

const indexParams = z.looseObject({
  root: str,
  collection: str,
  model: str,
  variant: variant.optional(),
  device: deviceRequest.optional(),
  lexicalOnly: z.boolean().optional(),
  lexicalFallback: z.boolean().optional(),
  columns: z.array(z.string()).optional(),
  maxTokens: positiveInt.optional(),
  overlapTokens: z.number().int().nonnegative().optional(),
});

const indexResult = z.looseObject({
  collection: z.string(),
  model: z.string().nullable(),
  variant: variant.nullable(),
  lexicalOnly: z.boolean(),
  notice: z.string().optional(),
  filesSeen: z.number(),
  filesUnchanged: z.number(),
  filesIndexed: z.number(),
  filesSkipped: z.number(),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  byReason: z.record(z.string(), z.number()),
  filesNotIndexed: z.number(),
  documentsWritten: z.number(),
  documentsDeleted: z.number(),
  chunksWritten: z.number(),
  /** Capped in the record (MAX_ERRORS_IN_RECORD); errorCount is exact. */
  errors: z.array(z.object({ path: z.string(), code: z.string(), message: z.string(), reason: z.string() })),
  errorCount: z.number(),
  device: z.string(),
  embedMs: z.number(),
  totalMs: z.number(),
});

const upgradeParams = z.looseObject({
  collection: str,
  model: str,
  variant: variant.optional(),
  /** The live model when the job was created (null: lexical-only), for its label only. */
  from: z.string().nullable().optional(),
});

const upgradeResult = z.looseObject({
  collection: z.string(),
  from: z.object({ model: z.string(), variant: z.string() }).nullable(),
  to: z.object({ model: z.string(), variant }),
  chunks: z.number(),
  embedded: z.number(),
  truncated: z.number(),
  dims: z.number(),
  alreadyLive: z.boolean(),
  device: z.string(),
  embedMs: z.number(),
  totalMs: z.number(),
});

const evalParams = z.looseObject({
  collection: str,
  modes: z.array(z.enum([...SEARCH_MODE_VALUES, ...EVAL_MODE_VALUES])).min(1),
  k: positiveInt,
  fusion: z.enum(FUSION_VALUES).optional(),
  rerank: z.object({ model: str, top: positiveInt.optional() }).optional(),
  queriesFile: z.string().optional(),
  qrelsFile: z.string().optional(),
});

const evalResult = evalReportSchema;

// --- models ----------------------------------------------------------------------------------

const modelPullParams = z.looseObject({ id: str, variant: variant.optional(), allowUnpinned: z.boolean().optional() });
/** reused: files already on disk; unpinned: files whose bytes no catalog checksum pins. */
const modelPullResult = z.looseObject({ id: z.string(), dir: z.string(), variant: z.string(), downloaded: z.array(z.string()), reused: z.array(z.string()), unpinned: z.array(z.string()) });

// --- local inference (CLI) -------------------------------------------------------------------

const embedParams = z.looseObject({
  model: str,
  variant: variant.optional(),
  device: deviceRequest.optional(),
  allowFallback: z.boolean().optional(),
  inputType: z.enum(['query', 'passage', 'none']).optional(),
  batchTokens: positiveInt.optional(),
  threads: positiveInt.optional(),
});

const TENSOR_FORMATS = ['nested', 'base64'] as const;
const runOnnxParams = z.looseObject({
  model: str,
  inputs: str,
  device: deviceRequest,
  allowFallback: z.boolean(),
  format: z.enum(TENSOR_FORMATS),
  /** Where the outputs were written; null = stdout. */
  output: z.string().nullable(),
  fetch: z.array(z.string()).nullable(),
});

const runOnnxResult = z.looseObject({
  outputs: z.record(z.string(), z.object({ dtype: z.string(), dims: z.array(z.number()) })),
  output: z.string().nullable(),
  device: deviceUsed,
  modelCached: z.boolean().optional(),
  timings: z.looseObject({ loadMs: z.number(), inferenceMs: z.number() }),
});

const generateLocalParams = z.looseObject({
  model: str,
  prompt: z.string(),
  schemaFile: z.string().optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
  lenient: z.boolean().optional(),
  variant: variant.optional(),
  device: deviceRequest.optional(),
  allowFallback: z.boolean().optional(),
  threads: positiveInt.optional(),
  chat: z.boolean().optional(),
  system: z.string().optional(),
  maxTokens: positiveInt.optional(),
  temperature: nonNegative.optional(),
  topK: z.number().int().nonnegative().optional(),
  topP: z.number().optional(),
  seed: z.number().int().optional(),
  stop: z.array(z.string()).optional(),
  ignoreEos: z.boolean().optional(),
  lookup: z.boolean().optional(),
});

const generateLocalResult = z.looseObject({
  text: z.string(),
  output: z.json().nullable(),
  finishReason: z.string(),
  budgetForcedClose: z.boolean().optional(),
  /** Lenient decoding: the keywords left to the final validation, with their JSON pointers. */
  checkedAfter: z.array(z.object({ keyword: z.string(), pointer: z.string() })).optional(),
  /** Keywords enforced on a subset of their values (a narrowed oneOf): some valid values are never written. */
  narrowed: z.array(z.object({ keyword: z.string(), pointer: z.string() })).optional(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
  model: z.string(),
  variant: z.string(),
  device: deviceUsed,
  seed: z.number(),
  /** grammarMs: constrained decoding's preparation paid by this job (schema compile; on a model's first constrained job, its vocabulary index and grammar warm-up). */
  timings: z.object({ loadMs: z.number(), prefillMs: z.number(), inferenceMs: z.number(), grammarMs: z.number().optional() }),
});

// --- cloud -----------------------------------------------------------------------------------

const protein = z.looseObject({ id: z.string(), sequence: z.string() });
const ligand = z.looseObject({ id: z.string(), smiles: z.string().optional(), ccd: z.string().optional() });

/** The requests as stored in a cloud job's params (loose: the adapters check the protocol's rules). */
const CLOUD_REQUESTS = {
  boltz2: z.looseObject({ kind: z.literal('boltz2'), name: z.string(), proteins: z.array(protein), ligands: z.array(ligand), affinity: z.boolean().optional(), diffusionSamples: z.number().int().optional(), recyclingSteps: z.number().int().optional() }),
  'boltz2-batch': z.looseObject({ kind: z.literal('boltz2-batch'), name: z.string(), proteins: z.array(protein), ligands: z.array(ligand), affinity: z.boolean().optional(), options: jsonRecord.optional() }),
  generate: z.looseObject({ kind: z.literal('generate'), model: z.enum(QWEN_MODEL_IDS), prompt: z.string(), schema: jsonRecord, maxTokens: z.number().int().optional(), temperature: z.number().optional() }),
  'embed-remote': z.looseObject({ kind: z.literal('embed-remote'), texts: z.array(z.string()), instruction: z.string().optional() }),
};

const answeredBy = z.looseObject({ model: z.string(), where: z.string(), substitutedFor: z.string().nullable() });

/** How a cloud job was routed when it was recorded (jobs recorded before the estimate fields lack them). */
const routeSchema = z.looseObject({
  policy: z.enum(POLICY_VALUES),
  reason: z.string(),
  function: z.string().nullable(),
  estimateUsd: z.number().nullable(),
  estimateAssumed: z.enum(['warm', 'cold']).nullable().optional(),
  estimateWarmUsd: z.number().nullable().optional(),
  estimateColdUsd: z.number().nullable().optional(),
  answeredBy: answeredBy.nullable().optional(),
});

const cloudParams = <R extends z.ZodType>(request: R) => z.looseObject({ request, route: routeSchema });

/** Who answered a cloud job: the backend and function, or the local model it fell back to. */
const answered = z.looseObject({
  backend: z.string(),
  reason: z.string(),
  /** A remote answer: the function and its GPUs. */
  function: z.string().optional(),
  gpu: z.string().optional(),
  /** The model that answered, where, and the one asked for when another answered (null: the same). */
  model: z.string().optional(),
  where: z.string().optional(),
  substitutedFor: z.string().nullable().optional(),
  /** A local answer: the device it ran on. */
  device: z.string().optional(),
});
const callTimings = z.looseObject({ totalMs: z.number() });
const ligandFiles = z.looseObject({ ligandId: z.string(), structure: z.string(), confidence: z.string(), affinity: z.string().nullable() });

const boltz2Result = z.looseObject({
  answeredBy: answered,
  timings: callTimings,
  files: z.looseObject({ structure: z.string(), confidence: z.string(), affinity: z.string().nullable() }),
  confidence: jsonRecord,
  affinity: jsonRecord.nullable(),
});
const boltz2BatchResult = z.looseObject({ answeredBy: answered, remoteId: z.string().optional(), total: z.number(), ligands: z.array(ligandFiles) });
const generateResult = z.looseObject({ answeredBy: answered, timings: callTimings.optional(), files: z.looseObject({ output: z.string() }), output: z.json(), text: z.string().optional(), usage: z.json().optional() });
const embedRemoteResult = z.looseObject({ answeredBy: answered, timings: callTimings.optional(), model: z.string(), count: z.number(), dims: z.number(), files: z.looseObject({ embeddings: z.string(), meta: z.string() }) });

const warmupParams = z.looseObject({ backend: z.string(), function: z.string().nullable() });
const warmupResult = z.looseObject({ backend: z.string(), function: z.string(), modelLoadMs: z.number(), totalMs: z.number(), coldStart: z.boolean() });

// --- the kinds -------------------------------------------------------------------------------

export interface JobKindSchemas {
  readonly params: z.ZodType<Record<string, unknown>>;
  readonly result: z.ZodType;
}

export const JOB_KINDS = {
  index: { params: indexParams, result: indexResult },
  upgrade: { params: upgradeParams, result: upgradeResult },
  eval: { params: evalParams, result: evalResult },
  'model-pull': { params: modelPullParams, result: modelPullResult },
  embed: { params: embedParams, result: z.json() },
  'run-onnx': { params: runOnnxParams, result: runOnnxResult },
  'generate-local': { params: generateLocalParams, result: generateLocalResult },
  boltz2: { params: cloudParams(CLOUD_REQUESTS.boltz2), result: boltz2Result },
  'boltz2-batch': { params: cloudParams(CLOUD_REQUESTS['boltz2-batch']), result: boltz2BatchResult },
  generate: { params: cloudParams(CLOUD_REQUESTS.generate), result: generateResult },
  'embed-remote': { params: cloudParams(CLOUD_REQUESTS['embed-remote']), result: embedRemoteResult },
  warmup: { params: warmupParams, result: warmupResult },
} as const satisfies Record<string, JobKindSchemas>;

export type JobKind = keyof typeof JOB_KINDS;
export const JOB_KIND_NAMES = Object.keys(JOB_KINDS) as JobKind[];
/** A job's params as its runner reads them (after the schema). */
export type JobParams<K extends JobKind> = z.output<(typeof JOB_KINDS)[K]['params']>;
/**
 * A loose object's type without its `[key: string]: unknown` (a record of a real value type keeps
 * its own): what a writer gives. The record keeps extra fields, but a host's own interfaces (which
 * have no index signature) fit it, and a misspelt field in an object literal is a type error.
 */
export type KnownFields<T, Depth extends unknown[] = []> = Depth['length'] extends 5
  ? T // deep enough for every schema here; stops recursive types (z.json()) from unfolding forever
  : T extends readonly unknown[]
    ? { [I in keyof T]: KnownFields<T[I], [...Depth, 0]> }
    : T extends object
      ? { [P in keyof T as string extends P ? (unknown extends T[P] ? never : P) : P]: KnownFields<T[P], [...Depth, 0]> }
      : T;
/** A job's params as a host submits them (before the schema: defaults not yet applied). */
export type JobParamsInput<K extends JobKind> = KnownFields<z.input<(typeof JOB_KINDS)[K]['params']>>;
/** A finished job's result as a reader gets it (parseJobResult). */
export type JobResult<K extends JobKind> = z.output<(typeof JOB_KINDS)[K]['result']>;
/** A job's result as its runner writes it. */
export type JobResultInput<K extends JobKind> = KnownFields<z.input<(typeof JOB_KINDS)[K]['result']>>;

export function isJobKind(kind: string): kind is JobKind {
  return Object.hasOwn(JOB_KINDS, kind);
}

function issuesOf(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}

/**
 * A job's params checked against its kind's schema: INVALID_ARGUMENT naming the kind, the job (when
 * given) and each bad field. An unknown kind is refused too (it has no runner in this version).
 */
export function parseJobParams<K extends JobKind>(kind: K, params: unknown, jobId?: string): JobParams<K>;
export function parseJobParams(kind: string, params: unknown, jobId?: string): JobParams<JobKind>;
export function parseJobParams(kind: string, params: unknown, jobId?: string): JobParams<JobKind> {
  const what = `${kind} job${jobId ? ` ${jobId}` : ''}`;
  if (!isJobKind(kind)) throw new TandemError('INVALID_ARGUMENT', `${what}: unknown job kind ${JSON.stringify(kind)} (this version knows ${JOB_KIND_NAMES.join(', ')})`, { data: { kind } });
  const schema: z.ZodType = JOB_KINDS[kind].params;
  const r = schema.safeParse(params);
  if (!r.success) throw new TandemError('INVALID_ARGUMENT', `${what} has invalid params: ${issuesOf(r.error)}`, { data: { kind, ...(jobId ? { jobId } : {}) } });
  return r.data as JobParams<JobKind>; // checked by its kind's schema just above
}

/** A finished job's result checked against its kind's schema (for readers of `job.result`). */
export function parseJobResult<K extends JobKind>(kind: K, result: unknown, jobId?: string): JobResult<K> {
  const schema: z.ZodType = JOB_KINDS[kind].result;
  const r = schema.safeParse(result);
  if (!r.success) throw new TandemError('INTERNAL', `${kind} job${jobId ? ` ${jobId}` : ''} has an unexpected result: ${issuesOf(r.error)}`, { data: { kind, ...(jobId ? { jobId } : {}) } });
  // The value itself, checked (the schemas transform nothing): its fields keep their order for hosts that print it.
  return result as JobResult<K>;
}
