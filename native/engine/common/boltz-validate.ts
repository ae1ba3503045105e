import { TandemError } from './errors.js';

/**
 * The pure request checks of ../shared/cloud-protocol.md (the rules the servers repeat): protein
 * sequences, SMILES/CCD ligands, Boltz-2 complexes and batches, the non-schema parts of a generate
 * request, remote embeddings. No Node, no ajv: the renderer runs them as the user types
 * (`boltzFieldErrors`, `generateFieldErrors`), and cloud-adapters/validate.ts re-exports them for
 * the adapters (so a bad request fails before any network call). Throwing checks raise
 * INVALID_INPUT with a message that starts with the field (`proteins[1].sequence: ...`).
 */

export const AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY';
export const MAX_RESIDUES = 4096;
export const MAX_POLYMERS = 12;
export const MAX_BINDER_HEAVY_ATOMS = 128;
/** Boltz-2's recommendation for affinity binders: larger ones are accepted with a warning. */
export const WARN_BINDER_HEAVY_ATOMS = 56;
export const MAX_SAMPLING_STEPS = 100;
export const QWEN_MODEL_IDS = ['qwen-32b', 'qwen-80b', 'qwen-480b'] as const;

/** Structural shapes (cloud-adapters/contract.ts's request types fit them). */
export interface ProteinLike {
  id: string;
  sequence: string;
}
export interface LigandLike {
  id: string;
  smiles?: string;
  ccd?: string;
}
export interface Boltz2Like {
  name: string;
  proteins: ProteinLike[];
  ligands?: LigandLike[];
  affinity?: boolean;
  diffusionSamples?: number;
  recyclingSteps?: number;
}
export interface Boltz2BatchLike {
  name: string;
  proteins: ProteinLike[];
  ligands: LigandLike[];
  affinity?: boolean;
  options?: unknown;
}
export interface GenerateLike {
  model: string;
  prompt: string;
  schema: unknown;
  maxTokens?: number;
  temperature?: number;
}
export interface EmbedRemoteLike {
  texts: string[];
  instruction?: string;
}

/** One problem with one field, for forms: `field` is a path like `proteins[0].sequence`. */
export interface FieldError {
  field: string;
  message: string;
}

const RESIDUE = new RegExp(`^[${AMINO_ACIDS}X]$`);
/** wwPDB Chemical Component Dictionary ids: 1-3 upper-case letters or digits (ATP, HEM, 0G6), 5 for the new-style codes. */
const CCD_CODE = /^(?:[A-Z0-9]{1,3}|[A-Z0-9]{5})$/;
/** Characters a SMILES string may hold (atoms, bonds, branches, rings, charges, chirality, isotopes). */
const SMILES_CHAR = /[A-Za-z0-9@+\-[\]()=#$:/\\.%*]/;

function invalid(message: string): TandemError {
  return new TandemError('INVALID_INPUT', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'` : (JSON.stringify(v) ?? String(v));
}

export function nonEmptyString(v: unknown, field: string): string {
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

function checkProteinCount(proteins: unknown, field: string): unknown[] {
  if (!Array.isArray(proteins)) throw invalid(`${field}: must be a list of {id, sequence}`);
  if (proteins.length === 0) throw invalid(`${field}: at least one protein is required (1-${MAX_POLYMERS} polymers)`);
  if (proteins.length > MAX_POLYMERS) throw invalid(`${field}: ${proteins.length} polymers (at most ${MAX_POLYMERS})`);
  return proteins;
}

/** 1-12 proteins with unique non-empty ids and valid sequences. */
export function validateProteins(proteins: unknown, field = 'proteins'): void {
  const list = checkProteinCount(proteins, field);
  list.forEach((p, i) => {
    if (!isRecord(p)) throw invalid(`${field}[${i}]: must be an object {id, sequence}`);
  });
  checkUniqueIds(list, field);
  list.forEach((p, i) => checkSequence((p as Record<string, unknown>).sequence, `${field}[${i}].sequence`));
}

/**
 * What a cheminformatics toolkit says about one SMILES string: parsed and sanitised (valences,
 * aromaticity) with its heavy-atom count, or why not (with the 1-based position in the string
 * where the toolkit reports one).
 */
export type SmilesParse = { ok: true; heavyAtoms: number } | { ok: false; message: string; position: number | null };

/** A cheminformatics toolkit (the engine registers RDKit's, native/engine/node/chem-toolkit.ts). */
export interface ChemToolkit {
  /** e.g. `RDKit 2026.09.1` (named in errors). */
  readonly name: string;
  parseSmiles(smiles: string): SmilesParse;
}

let chemToolkit: ChemToolkit | null = null;

/**
 * Register the toolkit every SMILES check below uses from now on (null: back to the rough syntax
 * check, which is all the renderer has). The engine registers RDKit before it plans or sends a
 * Boltz-2 request.
 */
export function setChemToolkit(t: ChemToolkit | null): void {
  chemToolkit = t;
}

export function activeChemToolkit(): ChemToolkit | null {
  return chemToolkit;
}

/** The rough syntax problem of a SMILES string (characters, bracket and branch balance), or null. */
export function smilesSyntaxProblem(smiles: string): string | null {
  let bracket = -1;
  let depth = 0;
  for (let i = 0; i < smiles.length; i++) {
    const c = smiles[i]!;
    if (!SMILES_CHAR.test(c)) return `unexpected character ${JSON.stringify(c)} at position ${i + 1} of the SMILES`;
    if (c === '[') {
      if (bracket >= 0) return `nested '[' at position ${i + 1} of the SMILES`;
      bracket = i;
    } else if (c === ']') {
      if (bracket < 0) return `unmatched ']' at position ${i + 1} of the SMILES`;
      bracket = -1;
    } else if (bracket < 0 && c === '(') depth++;
    else if (bracket < 0 && c === ')') {
      depth--;
      if (depth < 0) return `unmatched ')' at position ${i + 1} of the SMILES`;
    }
  }
  if (bracket >= 0) return `unclosed '[' at position ${bracket + 1} of the SMILES`;
  if (depth !== 0) return `unclosed '(' in the SMILES`;
  return null;
}

/**
 * Check a SMILES string's characters and bracket/branch balance (a rough syntax check, not a parser).
 * Throws INVALID_INPUT naming the field and position.
 */
export function checkSmiles(smiles: string, field: string): void {
  const problem = smilesSyntaxProblem(smiles);
  if (problem) throw invalid(`${field}: ${problem}`);
}

function ligandName(raw: Record<string, unknown>): string {
  return typeof raw.id === 'string' && raw.id.trim() !== '' ? raw.id : '(no id)';
}

/**
 * Parse one ligand's SMILES with the registered toolkit (else the rough check) and return its
 * heavy-atom count. Errors name the field, the ligand id, the SMILES and the position.
 */
function parseLigandSmiles(smiles: string, field: string, ligand: string): number {
  const tk = chemToolkit;
  if (!tk) {
    const problem = smilesSyntaxProblem(smiles);
    if (problem) throw invalid(`${field}: ligand ${ligand}: ${problem}`);
    return countHeavyAtoms(smiles);
  }
  // RDKit would read text after a space as the molecule's name; a SMILES has none.
  const space = /\s/.exec(smiles);
  if (space) throw invalid(`${field}: ligand ${ligand}: the SMILES ${quote(smiles)} contains whitespace at position ${space.index + 1}`);
  const r = tk.parseSmiles(smiles);
  if (!r.ok) {
    const at = r.position !== null ? ` at position ${r.position}${smiles[r.position - 1] !== undefined ? ` (${JSON.stringify(smiles[r.position - 1])})` : ''}` : '';
    throw invalid(`${field}: ligand ${ligand}: ${tk.name} cannot read the SMILES ${quote(smiles)}: ${r.message}${at}`);
  }
  return r.heavyAtoms;
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

/** One ligand's own rules (not its id's uniqueness): exactly one of smiles/ccd, SMILES syntax, heavy atoms for an affinity binder, CCD code. */
export function checkLigand(raw: unknown, field: string, opts: { affinity?: boolean } = {}): void {
  if (!isRecord(raw)) throw invalid(`${field}: must be an object {id, smiles | ccd}`);
  const hasSmiles = raw.smiles !== undefined && raw.smiles !== null;
  const hasCcd = raw.ccd !== undefined && raw.ccd !== null;
  if (hasSmiles === hasCcd) throw invalid(`${field}: exactly one of smiles or ccd is required (got ${hasSmiles ? 'both' : 'neither'})`);
  const name = ligandName(raw);
  if (hasSmiles) {
    const smiles = nonEmptyString(raw.smiles, `${field}.smiles`);
    const heavy = parseLigandSmiles(smiles, `${field}.smiles`, name);
    if (opts.affinity && heavy > MAX_BINDER_HEAVY_ATOMS) throw invalid(`${field}.smiles: ligand ${name} has ${heavy} heavy atoms; an affinity binder has at most ${MAX_BINDER_HEAVY_ATOMS}`);
  } else {
    const ccd = nonEmptyString(raw.ccd, `${field}.ccd`);
    if (!CCD_CODE.test(ccd)) throw invalid(`${field}.ccd: ligand ${name}: ${quote(ccd)} is not a CCD code (1-3 upper-case letters or digits such as ATP or HEM, or 5 for the new-style codes)`);
  }
}

/**
 * Warnings (not errors) about valid ligands: with `affinity`, SMILES binders over Boltz-2's
 * recommended 56 heavy atoms (counted by the registered toolkit; ligands with errors are skipped).
 */
export function ligandWarnings(ligands: unknown, opts: { affinity?: boolean } = {}, field = 'ligands'): FieldError[] {
  if (!opts.affinity || !Array.isArray(ligands)) return [];
  const out: FieldError[] = [];
  ligands.forEach((raw, i) => {
    if (!isRecord(raw) || typeof raw.smiles !== 'string' || raw.smiles.trim() === '') return;
    let heavy: number;
    try {
      heavy = parseLigandSmiles(raw.smiles, `${field}[${i}].smiles`, ligandName(raw));
    } catch {
      return;
    }
    if (heavy > WARN_BINDER_HEAVY_ATOMS && heavy <= MAX_BINDER_HEAVY_ATOMS) {
      out.push({ field: `${field}[${i}].smiles`, message: `ligand ${ligandName(raw)} has ${heavy} heavy atoms: Boltz-2 recommends affinity binders of at most ${WARN_BINDER_HEAVY_ATOMS}; the affinity prediction may be less reliable` });
    }
  });
  return out;
}

/** Ligands: each has exactly one of smiles/ccd, ids unique; with `affinity`, each SMILES binder has at most 128 heavy atoms. */
export function validateLigands(ligands: unknown, opts: { affinity?: boolean; atLeastOne?: string } = {}, field = 'ligands'): void {
  if (!Array.isArray(ligands)) throw invalid(`${field}: must be a list of {id, smiles | ccd}`);
  if (ligands.length === 0 && opts.atLeastOne) throw invalid(`${field}: ${opts.atLeastOne}`);
  ligands.forEach((l, i) => {
    if (!isRecord(l)) throw invalid(`${field}[${i}]: must be an object {id, smiles | ccd}`);
  });
  checkUniqueIds(ligands, field);
  ligands.forEach((raw, i) => checkLigand(raw, `${field}[${i}]`, opts));
}

export function optionalInt(v: unknown, field: string, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${field}: must be an integer from ${min} to ${max}, got ${quote(v)}`);
}

export function optionalBool(v: unknown, field: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw invalid(`${field}: must be true or false, got ${quote(v)}`);
}

export function validateBoltz2(req: Boltz2Like): void {
  nonEmptyString(req.name, 'name');
  validateProteins(req.proteins);
  optionalBool(req.affinity, 'affinity');
  validateLigands(req.ligands ?? [], { affinity: req.affinity === true, atLeastOne: req.affinity ? 'affinity needs a ligand (the binder)' : undefined });
  optionalInt(req.diffusionSamples, 'diffusionSamples', 1, MAX_SAMPLING_STEPS);
  optionalInt(req.recyclingSteps, 'recyclingSteps', 1, MAX_SAMPLING_STEPS);
}

export function validateBoltz2Batch(req: Boltz2BatchLike): void {
  nonEmptyString(req.name, 'name');
  validateProteins(req.proteins);
  optionalBool(req.affinity, 'affinity');
  validateLigands(req.ligands, { affinity: req.affinity === true, atLeastOne: 'a batch needs at least one ligand' });
  if (req.options !== undefined && !isRecord(req.options)) throw invalid(`options: must be an object, got ${quote(req.options)}`);
}

/**
 * The parts of a generate request that need no JSON Schema compiler: model, prompt, the schema is
 * an object whose type (if given) is `object`, maxTokens, temperature. (cloud-adapters/validate.ts
 * adds the ajv compile.)
 */
export function checkGenerateModel(model: unknown): void {
  if (!(QWEN_MODEL_IDS as readonly unknown[]).includes(model)) throw invalid(`model: must be one of ${QWEN_MODEL_IDS.join(', ')}, got ${quote(model)}`);
}

export function checkGenerateSchemaShape(schema: unknown): void {
  if (!isRecord(schema)) throw invalid(`schema: must be a JSON Schema object, got ${Array.isArray(schema) ? 'an array' : quote(schema)}`);
  const type = schema.type;
  if (type !== undefined && type !== 'object') throw invalid(`schema.type: must be 'object', got ${quote(type)}: the cloud generate protocol returns a JSON object (local generation, tandem generate --schema, takes any root type)`);
}

export function checkGenerateOptions(req: Pick<GenerateLike, 'maxTokens' | 'temperature'>): void {
  if (req.maxTokens !== undefined && (typeof req.maxTokens !== 'number' || !Number.isInteger(req.maxTokens) || req.maxTokens <= 0)) {
    throw invalid(`maxTokens: must be a positive integer, got ${quote(req.maxTokens)}`);
  }
  if (req.temperature !== undefined && (typeof req.temperature !== 'number' || !Number.isFinite(req.temperature) || req.temperature < 0 || req.temperature > 2)) {
    throw invalid(`temperature: must be a number from 0 to 2, got ${quote(req.temperature)}`);
  }
}

export function validateEmbedRemote(req: EmbedRemoteLike): void {
  if (!Array.isArray(req.texts)) throw invalid('texts: must be a list of strings');
  if (req.texts.length === 0) throw invalid('texts: at least one text is required');
  req.texts.forEach((t, i) => nonEmptyString(t, `texts[${i}]`));
  if (req.instruction !== undefined && typeof req.instruction !== 'string') throw invalid(`instruction: must be a string, got ${quote(req.instruction)}`);
}

/** Proteins with upper-case sequences (what goes on the wire). */
export function normalizeProteins<P extends ProteinLike>(proteins: P[]): ProteinLike[] {
  return proteins.map((p) => ({ id: p.id, sequence: p.sequence.toUpperCase() }));
}

// --- every problem at once, for forms -----------------------------------------------------------

/** `proteins[0].sequence: invalid residue...` -> {field: 'proteins[0].sequence', message: 'invalid residue...'}. */
export function toFieldError(e: unknown, fallbackField: string): FieldError {
  const message = e instanceof Error ? e.message : String(e);
  const m = /^([\w.[\]]+): (.*)$/s.exec(message);
  return m ? { field: m[1]!, message: m[2]! } : { field: fallbackField, message };
}

function collect(out: FieldError[], field: string, check: () => void): boolean {
  try {
    check();
    return true;
  } catch (e) {
    out.push(toFieldError(e, field));
    return false;
  }
}

function duplicateIds(items: readonly unknown[], field: string, out: FieldError[]): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const id = isRecord(item) ? item.id : undefined;
    if (typeof id !== 'string' || id.trim() === '') {
      out.push({ field: `${field}[${i}].id`, message: `must be a non-empty string${id === undefined ? ' (missing)' : `, got ${quote(id)}`}` });
      return;
    }
    const first = seen.get(id);
    if (first !== undefined) out.push({ field: `${field}[${i}].id`, message: `duplicate id '${id}' (also ${field}[${first}].id)` });
    else seen.set(id, i);
  });
}

/**
 * Every problem of a Boltz-2 form at once (each chain and each ligand checked on its own), for
 * validation as you type. `batch`: a ligand list for a batch (at least one ligand). Empty: the
 * request passes validateBoltz2 / validateBoltz2Batch.
 */
export function boltzFieldErrors(req: { name?: unknown; proteins?: unknown; ligands?: unknown; affinity?: unknown }, opts: { batch?: boolean } = {}): FieldError[] {
  const out: FieldError[] = [];
  collect(out, 'name', () => nonEmptyString(req.name, 'name'));
  const affinity = req.affinity === true;
  collect(out, 'affinity', () => optionalBool(req.affinity, 'affinity'));
  if (collect(out, 'proteins', () => checkProteinCount(req.proteins, 'proteins'))) {
    const proteins = req.proteins as unknown[];
    duplicateIds(proteins, 'proteins', out);
    proteins.forEach((p, i) => {
      const f = `proteins[${i}]`;
      if (!isRecord(p)) out.push({ field: f, message: 'must be an object {id, sequence}' });
      else collect(out, `${f}.sequence`, () => checkSequence(p.sequence, `${f}.sequence`));
    });
  }
  const ligands = req.ligands ?? [];
  if (!Array.isArray(ligands)) {
    out.push({ field: 'ligands', message: 'must be a list of {id, smiles | ccd}' });
    return out;
  }
  if (ligands.length === 0 && opts.batch) out.push({ field: 'ligands', message: 'a batch needs at least one ligand' });
  else if (ligands.length === 0 && affinity) out.push({ field: 'ligands', message: 'affinity needs a ligand (the binder)' });
  duplicateIds(ligands, 'ligands', out);
  ligands.forEach((l, i) => collect(out, `ligands[${i}]`, () => checkLigand(l, `ligands[${i}]`, { affinity })));
  return out;
}

/** Every problem of a generate form that needs no schema compiler (model, prompt, schema shape, options). */
export function generateFieldErrors(req: { model?: unknown; prompt?: unknown; schema?: unknown; maxTokens?: unknown; temperature?: unknown }): FieldError[] {
  const out: FieldError[] = [];
  collect(out, 'model', () => checkGenerateModel(req.model));
  collect(out, 'prompt', () => nonEmptyString(req.prompt, 'prompt'));
  collect(out, 'schema', () => checkGenerateSchemaShape(req.schema));
  collect(out, 'maxTokens', () => checkGenerateOptions({ maxTokens: req.maxTokens as number | undefined }));
  collect(out, 'temperature', () => checkGenerateOptions({ temperature: req.temperature as number | undefined }));
  return out;
}

/**
 * Lines of a pasted ligand list -> ligands: `SMILES`, `id SMILES`, `id,SMILES`, `id<TAB>SMILES`, or a
 * CCD code written `ccd:ATP` (or `id ccd:ATP`). Blank lines and `#` comments are skipped; ids
 * default to L1, L2... by line.
 */
export function parseLigandLines(text: string): LigandLike[] {
  const out: LigandLike[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/[\s,;]+/).filter((p) => p !== '');
    const [id, value] = parts.length >= 2 ? [parts[0]!, parts.slice(1).join(' ')] : [`L${out.length + 1}`, parts[0]!];
    const ccd = /^ccd:(.*)$/i.exec(value);
    out.push(ccd ? { id, ccd: ccd[1]!.toUpperCase() } : { id, smiles: value });
  }
  return out;
}
