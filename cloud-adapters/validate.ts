import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { TandemError, type JsonValue } from '../native/engine/common/errors.js';
import type { Boltz2BatchRequest, Boltz2Request, CloudRequest, EmbedRemoteRequest, GenerateRequest, LigandInput, ProteinInput, QwenModel } from './contract.js';

/**
 * Client-side validation of cloud requests (../shared/cloud-protocol.md: the rules the servers
 * repeat), so a bad request fails before any network call with a message naming the field.
 * Every rule violation is an INVALID_INPUT TandemError.
 */

export const AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY';
export const MAX_RESIDUES = 4096;
export const MAX_POLYMERS = 12;
export const MAX_BINDER_HEAVY_ATOMS = 128;
export const MAX_SAMPLING_STEPS = 100;
export const QWEN_MODELS: readonly QwenModel[] = ['qwen-32b', 'qwen-80b', 'qwen-480b'];

const RESIDUE = new RegExp(`^[${AMINO_ACIDS}X]$`);
const CCD_CODE = /^[A-Za-z0-9]{1,5}$/;
/** Characters a SMILES string may hold (atoms, bonds, branches, rings, charges, chirality, isotopes). */
const SMILES_CHAR = /[A-Za-z0-9@+\-[\]()=#$:/\\.%*]/;

function invalid(message: string): TandemError {
  return new TandemError('INVALID_INPUT', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'` : JSON.stringify(v) ?? String(v);
}

function nonEmptyString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw invalid(`${field}: must be a non-empty string${v === undefined ? ' (missing)' : `, got ${quote(v)}`}`);
  return v;
}

/** Check one protein sequence (case-insensitive) and return it in upper case. */
export function checkSequence(sequence: unknown, field: string): string {
  if (typeof sequence !== 'string') throw invalid(`${field}: must be a string of amino-acid letters${sequence === undefined ? ' (missing)' : `, got ${quote(sequence)}`}`);
  const seq = sequence.toUpperCase();
  if (seq.length === 0) throw invalid(`${field}: empty sequence (1-${MAX_RESIDUES} residues)`);
  if (seq.length > MAX_RESIDUES) throw invalid(`${field}: ${seq.length} residues (at most ${MAX_RESIDUES})`);
  for (let i = 0; i < seq.length; i++) {
    const c = seq[i]!;
    if (!RESIDUE.test(c)) {
      const shown = c.trim() === '' ? JSON.stringify(sequence[i]) : `'${sequence[i]}'`;
      throw invalid(`${field}: invalid residue ${shown} at position ${i + 1} (allowed: ${AMINO_ACIDS} and X)`);
    }
  }
  return seq;
}

function checkUniqueIds(items: unknown[], field: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const id = nonEmptyString(isRecord(item) ? item.id : undefined, `${field}[${i}].id`);
    const first = seen.get(id);
    if (first !== undefined) throw invalid(`${field}[${i}].id: duplicate id '${id}' (also ${field}[${first}].id)`);
    seen.set(id, i);
  });
}

/** 1-12 proteins with unique non-empty ids and valid sequences. */
export function validateProteins(proteins: unknown, field = 'proteins'): void {
  if (!Array.isArray(proteins)) throw invalid(`${field}: must be a list of {id, sequence}`);
  if (proteins.length === 0) throw invalid(`${field}: at least one protein is required (1-${MAX_POLYMERS} polymers)`);
  if (proteins.length > MAX_POLYMERS) throw invalid(`${field}: ${proteins.length} polymers (at most ${MAX_POLYMERS})`);
  proteins.forEach((p, i) => {
    if (!isRecord(p)) throw invalid(`${field}[${i}]: must be an object {id, sequence}`);
  });
  checkUniqueIds(proteins, field);
  proteins.forEach((p, i) => checkSequence((p as Record<string, unknown>).sequence, `${field}[${i}].sequence`));
}

/**
 * Check a SMILES string's characters and bracket/branch balance (a rough syntax check, not a parser).
 * Throws INVALID_INPUT naming the field and position.
 */
export function checkSmiles(smiles: string, field: string): void {
  let bracket = -1;
  let depth = 0;
  for (let i = 0; i < smiles.length; i++) {
    const c = smiles[i]!;
    if (!SMILES_CHAR.test(c)) throw invalid(`${field}: unexpected character ${JSON.stringify(c)} at position ${i + 1} of the SMILES`);
    if (c === '[') {
      if (bracket >= 0) throw invalid(`${field}: nested '[' at position ${i + 1} of the SMILES`);
      bracket = i;
    } else if (c === ']') {
      if (bracket < 0) throw invalid(`${field}: unmatched ']' at position ${i + 1} of the SMILES`);
      bracket = -1;
    } else if (bracket < 0 && c === '(') depth++;
    else if (bracket < 0 && c === ')') {
      depth--;
      if (depth < 0) throw invalid(`${field}: unmatched ')' at position ${i + 1} of the SMILES`);
    }
  }
  if (bracket >= 0) throw invalid(`${field}: unclosed '[' at position ${bracket + 1} of the SMILES`);
  if (depth !== 0) throw invalid(`${field}: unclosed '(' in the SMILES`);
}

/**
 * Heavy (non-hydrogen) atoms in a SMILES string, counted roughly: every bracket atom except
 * hydrogen ([H], [2H], [H+]), plus organic-subset atoms outside brackets (B C N O P S F Cl Br I and
 * aromatic b c n o p s). Implicit hydrogens are never counted.
 */
export function countHeavyAtoms(smiles: string): number {
  let n = 0;
  let i = 0;
  while (i < smiles.length) {
    const c = smiles[i]!;
    if (c === '[') {
      const end = smiles.indexOf(']', i + 1);
      const inner = smiles.slice(i + 1, end < 0 ? smiles.length : end);
      const element = /^\d*([A-Z][a-z]?|[a-z]{1,2})/.exec(inner)?.[1] ?? '';
      if (element !== 'H') n++;
      i = end < 0 ? smiles.length : end + 1;
      continue;
    }
    if ((c === 'C' && smiles[i + 1] === 'l') || (c === 'B' && smiles[i + 1] === 'r')) {
      n++;
      i += 2;
      continue;
    }
    if ('BCNOPSFIbcnops'.includes(c)) n++;
    i++;
  }
  return n;
}

/** Ligands: each has exactly one of smiles/ccd, ids unique; with `affinity`, each SMILES binder has at most 128 heavy atoms. */
export function validateLigands(ligands: unknown, opts: { affinity?: boolean; atLeastOne?: string } = {}, field = 'ligands'): void {
  if (!Array.isArray(ligands)) throw invalid(`${field}: must be a list of {id, smiles | ccd}`);
  if (ligands.length === 0 && opts.atLeastOne) throw invalid(`${field}: ${opts.atLeastOne}`);
  ligands.forEach((l, i) => {
    if (!isRecord(l)) throw invalid(`${field}[${i}]: must be an object {id, smiles | ccd}`);
  });
  checkUniqueIds(ligands, field);
  ligands.forEach((raw, i) => {
    const l = raw as Record<string, unknown>;
    const f = `${field}[${i}]`;
    const hasSmiles = l.smiles !== undefined && l.smiles !== null;
    const hasCcd = l.ccd !== undefined && l.ccd !== null;
    if (hasSmiles === hasCcd) throw invalid(`${f}: exactly one of smiles or ccd is required (got ${hasSmiles ? 'both' : 'neither'})`);
    if (hasSmiles) {
      const smiles = nonEmptyString(l.smiles, `${f}.smiles`);
      checkSmiles(smiles, `${f}.smiles`);
      if (opts.affinity) {
        const heavy = countHeavyAtoms(smiles);
        if (heavy > MAX_BINDER_HEAVY_ATOMS) throw invalid(`${f}.smiles: ${heavy} heavy atoms; an affinity binder has at most ${MAX_BINDER_HEAVY_ATOMS}`);
      }
    } else {
      const ccd = nonEmptyString(l.ccd, `${f}.ccd`);
      if (!CCD_CODE.test(ccd)) throw invalid(`${f}.ccd: ${quote(ccd)} is not a CCD code (1-5 letters or digits)`);
    }
  });
}

function optionalInt(v: unknown, field: string, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${field}: must be an integer from ${min} to ${max}, got ${quote(v)}`);
}

function optionalBool(v: unknown, field: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw invalid(`${field}: must be true or false, got ${quote(v)}`);
}

export function validateBoltz2(req: Boltz2Request): void {
  nonEmptyString(req.name, 'name');
  validateProteins(req.proteins);
  optionalBool(req.affinity, 'affinity');
  validateLigands(req.ligands ?? [], { affinity: req.affinity === true, atLeastOne: req.affinity ? 'affinity needs a ligand (the binder)' : undefined });
  optionalInt(req.diffusionSamples, 'diffusionSamples', 1, MAX_SAMPLING_STEPS);
  optionalInt(req.recyclingSteps, 'recyclingSteps', 1, MAX_SAMPLING_STEPS);
}

export function validateBoltz2Batch(req: Boltz2BatchRequest): void {
  nonEmptyString(req.name, 'name');
  validateProteins(req.proteins);
  optionalBool(req.affinity, 'affinity');
  validateLigands(req.ligands, { affinity: req.affinity === true, atLeastOne: 'a batch needs at least one ligand' });
  if (req.options !== undefined && !isRecord(req.options)) throw invalid(`options: must be an object, got ${quote(req.options)}`);
}

export function validateGenerate(req: GenerateRequest): void {
  if (!QWEN_MODELS.includes(req.model)) throw invalid(`model: must be one of ${QWEN_MODELS.join(', ')}, got ${quote(req.model)}`);
  nonEmptyString(req.prompt, 'prompt');
  const compiled = compileSchema(req.schema);
  if (!compiled.ok) throw invalid(`schema: ${compiled.errors}`);
  const type = (req.schema as Record<string, unknown>).type;
  if (type !== undefined && type !== 'object') throw invalid(`schema.type: must be 'object' (the output is a JSON object), got ${quote(type)}`);
  if (req.maxTokens !== undefined && (typeof req.maxTokens !== 'number' || !Number.isInteger(req.maxTokens) || req.maxTokens <= 0)) {
    throw invalid(`maxTokens: must be a positive integer, got ${quote(req.maxTokens)}`);
  }
  if (req.temperature !== undefined && (typeof req.temperature !== 'number' || !Number.isFinite(req.temperature) || req.temperature < 0 || req.temperature > 2)) {
    throw invalid(`temperature: must be a number from 0 to 2, got ${quote(req.temperature)}`);
  }
}

export function validateEmbedRemote(req: EmbedRemoteRequest): void {
  if (!Array.isArray(req.texts)) throw invalid('texts: must be a list of strings');
  if (req.texts.length === 0) throw invalid('texts: at least one text is required');
  req.texts.forEach((t, i) => nonEmptyString(t, `texts[${i}]`));
  if (req.instruction !== undefined && typeof req.instruction !== 'string') throw invalid(`instruction: must be a string, got ${quote(req.instruction)}`);
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

function ajvFor(schema: Record<string, unknown>): Ajv {
  const opts = { strict: false, allErrors: true, logger: false as const };
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (dialect.includes('2020-12')) return new Ajv2020(opts);
  if (dialect.includes('2019-09')) return new Ajv2019(opts);
  return new Ajv(opts);
}

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
    return { ok: true, validate: ajvFor(schema).compile(schema) };
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
