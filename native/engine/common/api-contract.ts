/**
 * The typed API between a UI and the engine, declared once. Every host (the web host over HTTP +
 * server-sent events, Electron over IPC) carries exactly these methods and events; the engine-side
 * service (native/engine/api) implements them, the renderer calls them. Pure TypeScript + zod: no Node,
 * no DOM. Errors cross as `WireError` (errors.ts), closed codes only.
 *
 * Adding a method: add an entry (input and output schemas) to its area's file in `contract/`
 * (app, library, search, jobs, models, inference, generate, cloud, map); the `TandemApi` type,
 * the service's handler table, the HTTP routes and the renderer client follow from it.
 */
import { z } from 'zod';
import { CLOUD_API_METHODS } from './contract/cloud.js';
import { MAP_API_EVENTS, MAP_API_METHODS } from './contract/map.js';
import { APP_API_METHODS } from './contract/app.js';
import { GENERATE_API_METHODS } from './contract/generate.js';
import { INFERENCE_API_EVENTS, INFERENCE_API_METHODS } from './contract/inference.js';
import { JOBS_API_METHODS } from './contract/jobs.js';
import { LIBRARY_API_METHODS } from './contract/library.js';
import { MODELS_API_METHODS } from './contract/models.js';
import { SEARCH_API_METHODS } from './contract/search.js';
import { jobEventSchema, jobSchema } from './contract/shapes.js';

// The contract by area lives in ./contract/ (shapes.ts: the shared shapes); this file merges them.
export * from './contract/shapes.js';

// ------------------------------------------------------------------------------------------------
// Methods

export const API_METHODS = {
  /** cloud.* and results.read: see contract/cloud.ts. */
  ...CLOUD_API_METHODS,
  /** map.compute: see contract/map.ts. */
  ...MAP_API_METHODS,
  ...APP_API_METHODS,
  ...LIBRARY_API_METHODS,
  ...SEARCH_API_METHODS,
  ...JOBS_API_METHODS,
  ...MODELS_API_METHODS,
  /** inference.embed/load/cancel/runOnnx: see contract/inference.ts. */
  ...INFERENCE_API_METHODS,
  /** generate.run: see contract/generate.ts. */
  ...GENERATE_API_METHODS,
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

// ------------------------------------------------------------------------------------------------
// Events (engine -> UI)

export const API_EVENTS = {
  /** map.progress: see contract/map.ts. */
  ...MAP_API_EVENTS,
  /** inference.progress: see contract/inference.ts. */
  ...INFERENCE_API_EVENTS,
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

/**
 * Methods that read or write files at any path the caller names (`inference.runOnnx` writes its
 * output file, `models.inspect` reads any file): the CLI calls them in-process for its own user;
 * the UI hosts (the web host, a desktop page's channel) never serve them, so a page (or a script
 * that got hold of a session) cannot reach the disk beyond the library through them.
 */
export const CLI_ONLY_METHODS: readonly ApiMethod[] = ['inference.runOnnx', 'models.inspect'];
/** What the UI hosts serve: every method but the CLI-only ones. */
export const UI_METHOD_NAMES: ApiMethod[] = API_METHOD_NAMES.filter((m) => !CLI_ONLY_METHODS.includes(m));
export const API_EVENT_NAMES = Object.keys(API_EVENTS) as ApiEventName[];

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API_METHODS, x);
}

export function isApiEventName(x: unknown): x is ApiEventName {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(API_EVENTS, x);
}

