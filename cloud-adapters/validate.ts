import type { ErrorObject, ValidateFunction } from 'ajv';
import { ajvForSchema } from '../native/engine/node/ajv-for-schema.js';
import { z } from 'zod';
import { TandemError, type JsonValue } from '../native/engine/common/errors.js';
import type { Boltz2BatchRequest, Boltz2Request, CloudRequest, GenerateRequest, LigandInput, ProteinInput } from './contract.js';
import {
  checkGenerateModel,
  checkGenerateOptions,
  nonEmptyString,
  quote,
  validateBoltz2,
  validateBoltz2Batch,
  validateEmbedRemote,
} from '../native/engine/common/boltz-validate.js';

/**
 * Client-side validation of cloud requests (../shared/cloud-protocol.md: the rules the servers
 * repeat), so a bad request fails before any network call with a message naming the field.
 * Every rule violation is an INVALID_INPUT TandemError.
 */

// The pure checks live in native/engine/common/boltz-validate.ts (the renderer validates as you
// type with them); they are re-exported here for the adapters and the CLI.
export {
  AMINO_ACIDS,
  MAX_BINDER_HEAVY_ATOMS,
  MAX_POLYMERS,
  MAX_RESIDUES,
  MAX_SAMPLING_STEPS,
  checkSequence,
  checkSmiles,
  countHeavyAtoms,
  validateBoltz2,
  validateBoltz2Batch,
  validateEmbedRemote,
  validateLigands,
  validateProteins,
} from '../native/engine/common/boltz-validate.js';

function invalid(message: string): TandemError {
  return new TandemError('INVALID_INPUT', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validateGenerate(req: GenerateRequest): void {
  checkGenerateModel(req.model);
  nonEmptyString(req.prompt, 'prompt');
  const compiled = compileSchema(req.schema);
  if (!compiled.ok) throw invalid(`schema: ${compiled.errors}`);
  const type = (req.schema as Record<string, unknown>).type;
  if (type !== undefined && type !== 'object') throw invalid(`schema.type: must be 'object', got ${quote(type)}: the cloud generate protocol returns a JSON object (local generation, tandem generate --schema, takes any root type)`);
  checkGenerateOptions(req);
}

/** Validate any cloud request by kind (INVALID_INPUT naming the field; INVALID_ARGUMENT for an unknown kind). */
export function validateRequest(req: CloudRequest): void {
  if (!isRecord(req)) throw new TandemError('INVALID_ARGUMENT', 'a cloud request must be an object with a kind');
  switch (req.kind) {
    case 'boltz2':
      return validateBoltz2(req);
    case 'boltz2-batch':
      return validateBoltz2Batch(req);
    case 'generate':
      return validateGenerate(req);
    case 'embed-remote':
      return validateEmbedRemote(req);
    default:
      throw new TandemError('INVALID_ARGUMENT', `unknown cloud job kind ${quote((req as { kind?: unknown }).kind)} (boltz2, boltz2-batch, generate, embed-remote)`);
  }
}

/** Proteins with upper-case sequences (what goes on the wire). */
export function normalizeProteins(proteins: ProteinInput[]): ProteinInput[] {
  return proteins.map((p) => ({ id: p.id, sequence: p.sequence.toUpperCase() }));
}

// --- JSON Schema (ajv 8) ---

function formatAjvErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid';
  return errors
    .slice(0, 10)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty?: unknown }).additionalProperty)}'` : ''}`)
    .join('; ');
}

/** Compile a JSON Schema object with ajv (strict: false). */
export function compileSchema(schema: unknown): { ok: true; validate: ValidateFunction } | { ok: false; errors: string } {
  if (!isRecord(schema)) return { ok: false, errors: `must be a JSON Schema object, got ${Array.isArray(schema) ? 'an array' : quote(schema)}` };
  try {
    return { ok: true, validate: ajvForSchema(schema, { strict: false, allErrors: true, logger: false }).compile(schema) };
  } catch (e) {
    return { ok: false, errors: `not a valid JSON Schema: ${(e as Error).message}` };
  }
}

/** Validate a value (e.g. Qwen's output) against a JSON Schema. A schema that does not compile is reported as errors too. */
export function validateJsonAgainstSchema(schema: unknown, value: unknown): { ok: true } | { ok: false; errors: string } {
  const compiled = compileSchema(schema);
  if (!compiled.ok) return { ok: false, errors: `schema: ${compiled.errors}` };
  if (compiled.validate(value)) return { ok: true };
  return { ok: false, errors: formatAjvErrors(compiled.validate.errors) };
}

// --- the CLI's complex.json / batch.json ---

const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));
const proteinFile = z.object({ id: z.string(), sequence: z.string() }).strict();
const ligandFile = z.object({ id: z.string(), smiles: z.string().optional(), ccd: z.string().optional() }).strict();
const complexFile = z
  .object({
    name: z.string(),
    proteins: z.array(proteinFile),
    ligands: z.array(ligandFile).optional(),
    affinity: z.boolean().optional(),
    diffusion_samples: z.number().int().optional(),
    recycling_steps: z.number().int().optional(),
    diffusionSamples: z.number().int().optional(),
    recyclingSteps: z.number().int().optional(),
  })
  .strict();
const batchFile = z
  .object({
    name: z.string(),
    proteins: z.array(proteinFile),
    ligands: z.array(ligandFile),
    affinity: z.boolean().optional(),
    options: z.record(z.string(), jsonValue).optional(),
  })
  .strict();

function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/** `input` is the file's text (parsed here) or its already-parsed JSON value. */
function parseFile<T>(input: unknown, source: string, schema: z.ZodType<T>): T {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (e) {
      throw invalid(`${source}: not valid JSON: ${(e as Error).message}`);
    }
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = [...r.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
    const shown = issues.slice(0, 3).map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length ? `${issuePath(issue.path)}: ` : '';
        return `${where}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      }
      const missing = /^Invalid input: expected (\w+), received undefined$/.exec(issue.message);
      return `${issuePath(issue.path)}: ${missing ? `missing (expected ${missing[1]})` : issue.message}`;
    });
    throw invalid(`${source}: ${shown.join('; ')}`);
  }
  return r.data;
}

function withSource(source: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof TandemError) throw new TandemError(e.code, `${source}: ${e.message}`);
    throw e;
  }
}

function ligandsFrom(ls: z.infer<typeof ligandFile>[]): LigandInput[] {
  return ls.map((l) => ({ id: l.id, ...(l.smiles !== undefined ? { smiles: l.smiles } : {}), ...(l.ccd !== undefined ? { ccd: l.ccd } : {}) }));
}

/**
 * Read the CLI's complex.json (`{"name","proteins":[{"id","sequence"}],"ligands":[{"id","smiles"|"ccd"}],"affinity"?}`,
 * optionally diffusion_samples / recycling_steps) into a validated Boltz2Request. `input`: the
 * file's text or its parsed JSON value.
 */
export function parseComplexJson(input: unknown, source = 'complex.json'): Boltz2Request {
  const f = parseFile(input, source, complexFile);
  const req: Boltz2Request = { kind: 'boltz2', name: f.name, proteins: normalizeProteins(f.proteins), ligands: ligandsFrom(f.ligands ?? []) };
  if (f.affinity !== undefined) req.affinity = f.affinity;
  const samples = f.diffusionSamples ?? f.diffusion_samples;
  const recycling = f.recyclingSteps ?? f.recycling_steps;
  if (samples !== undefined) req.diffusionSamples = samples;
  if (recycling !== undefined) req.recyclingSteps = recycling;
  withSource(source, () => validateBoltz2(req));
  return req;
}

/** Read the CLI's batch.json (name, proteins, ligands, affinity?, options?) into a validated Boltz2BatchRequest. `input`: text or parsed JSON. */
export function parseBatchJson(input: unknown, source = 'batch.json'): Boltz2BatchRequest {
  const f = parseFile(input, source, batchFile);
  const req: Boltz2BatchRequest = { kind: 'boltz2-batch', name: f.name, proteins: normalizeProteins(f.proteins), ligands: ligandsFrom(f.ligands) };
  if (f.affinity !== undefined) req.affinity = f.affinity;
  if (f.options !== undefined) req.options = f.options;
  withSource(source, () => validateBoltz2Batch(req));
  return req;
}
