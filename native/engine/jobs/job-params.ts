import { z } from 'zod';
import { TandemError } from '../common/errors.js';
import { VARIANTS } from '../models/catalog.js';
import { assertJsonObject } from './canonical-json.js';
import type { JsonObject } from './job-types.js';

/**
 * Parameter schemas for the job kinds we know. They are loose: the fields named here are checked,
 * extra fields are kept as they are (a host may record more than the store knows about). Kinds
 * without a schema only need a JSON object.
 */
export type ParamSchemas = ReadonlyMap<string, z.ZodType>;

const positiveInt = z.number().int().positive();

export const EMBED_PARAMS = z.looseObject({
  model: z.string().min(1),
  variant: z.enum(VARIANTS).optional(),
  device: z.enum(['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml']).optional(),
  allowFallback: z.boolean().optional(),
  inputType: z.enum(['query', 'passage', 'none']).optional(),
  batchTokens: positiveInt.optional(),
  threads: positiveInt.optional(),
});

export const INDEX_PARAMS = z.looseObject({
  collection: z.string().min(1),
  model: z.string().min(1).optional(),
  variant: z.enum(VARIANTS).optional(),
  root: z.string().min(1).optional(),
});

export const DEFAULT_PARAM_SCHEMAS: ParamSchemas = new Map<string, z.ZodType>([
  ['embed', EMBED_PARAMS],
  ['index', INDEX_PARAMS],
]);

/** Validate `params` for `kind`: a JSON object, and the kind's schema where there is one. */
export function validateParams(kind: string, params: unknown, schemas: ParamSchemas = DEFAULT_PARAM_SCHEMAS): JsonObject {
  const obj = assertJsonObject(params, `${kind} job params`);
  const schema = schemas.get(kind);
  if (schema) {
    const r = schema.safeParse(obj);
    if (!r.success) {
      const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(params)'}: ${i.message}`);
      throw new TandemError('INVALID_ARGUMENT', `${kind} job params are invalid: ${issues.join('; ')}`);
    }
  }
  return obj; // the caller's object, unchanged (zod output could drop or coerce)
}
