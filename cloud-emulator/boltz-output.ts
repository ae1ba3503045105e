import type { JsonValue } from '../native/engine/common/errors.js';
import { rngFor, score } from './seeded-random.js';

/** Boltz-2 on Cloud Run: request validation (as the protocol fixes it) and deterministic predictions. */

export interface Protein {
  id: string;
  sequence: string;
}
export interface Ligand {
  id: string;
  smiles?: string;
  ccd?: string;
}
export interface Complex {
  name: string;
  proteins: Protein[];
  ligands: Ligand[];
  affinity: boolean;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; status: 400 | 422; error: string };

const AMINO = 'ACDEFGHIKLMNPQRSTVWYX';
const THREE: Record<string, string> = {
  A: 'ALA', C: 'CYS', D: 'ASP', E: 'GLU', F: 'PHE', G: 'GLY', H: 'HIS', I: 'ILE', K: 'LYS', L: 'LEU',
  M: 'MET', N: 'ASN', P: 'PRO', Q: 'GLN', R: 'ARG', S: 'SER', T: 'THR', V: 'VAL', W: 'TRP', Y: 'TYR', X: 'UNK',
};
export const MAX_RESIDUES = 4096;
export const MAX_POLYMERS = 12;
export const MAX_BINDER_HEAVY_ATOMS = 128;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (error: string): Checked<never> => ({ ok: false, status: 400, error });

/** Heavy atoms of a SMILES string (bracket atoms count once unless hydrogen; organic subset otherwise). */
export function heavyAtoms(smiles: string): number {
  let n = 0;
  for (let i = 0; i < smiles.length; i++) {
    const c = smiles[i]!;
    if (c === '[') {
      const end = smiles.indexOf(']', i);
      const inner = smiles.slice(i + 1, end < 0 ? undefined : end).replace(/^\d+/, '');
      if (!/^H(?![a-z])/.test(inner)) n++;
      i = end < 0 ? smiles.length : end;
    } else if (c === 'C' && smiles[i + 1] === 'l') {
      n++;
      i++;
    } else if (c === 'B' && smiles[i + 1] === 'r') {
      n++;
      i++;
    } else if ('BCNOPSFIbcnops'.includes(c)) n++;
  }
  return n;
}

function checkLigands(raw: unknown, affinity: boolean, requireSome: boolean): Checked<Ligand[]> {
  if (raw === undefined && !requireSome) return { ok: true, value: [] };
  if (!Array.isArray(raw)) return bad('ligands must be a list');
  if (requireSome && raw.length === 0) return bad('a batch needs at least one ligand');
  const ids = new Set<string>();
  const out: Ligand[] = [];
  for (const [i, l] of raw.entries()) {
    if (!isObj(l)) return bad(`ligands[${i}] must be an object`);
    if (typeof l.id !== 'string' || l.id === '') return bad(`ligands[${i}].id must be a non-empty string`);
    if (ids.has(l.id)) return bad(`duplicate ligand id "${l.id}"`);
    ids.add(l.id);
    const hasSmiles = l.smiles !== undefined && l.smiles !== null;
    const hasCcd = l.ccd !== undefined && l.ccd !== null;
    if (hasSmiles === hasCcd) return bad(`ligand "${l.id}" must have exactly one of smiles or ccd`);
    if (hasSmiles && (typeof l.smiles !== 'string' || l.smiles.trim() === '')) return bad(`ligand "${l.id}": smiles must be a non-empty string`);
    if (hasCcd && (typeof l.ccd !== 'string' || !/^[A-Za-z0-9]{1,5}$/.test(l.ccd))) return bad(`ligand "${l.id}": ccd must be a 1-5 character CCD code`);
    if (affinity && typeof l.smiles === 'string' && heavyAtoms(l.smiles) > MAX_BINDER_HEAVY_ATOMS) {
      return bad(`ligand "${l.id}" has ${heavyAtoms(l.smiles)} heavy atoms; an affinity binder has at most ${MAX_BINDER_HEAVY_ATOMS}`);
    }
    out.push(typeof l.smiles === 'string' ? { id: l.id, smiles: l.smiles } : { id: l.id, ccd: String(l.ccd).toUpperCase() });
  }
  return { ok: true, value: out };
}

function checkProteins(raw: unknown[]): Checked<Protein[]> {
  if (raw.length < 1 || raw.length > MAX_POLYMERS) return bad(`a complex has 1-${MAX_POLYMERS} polymers, got ${raw.length}`);
  const ids = new Set<string>();
  const out: Protein[] = [];
  for (const [i, p] of raw.entries()) {
    if (!isObj(p)) return bad(`proteins[${i}] must be an object`);
    if (typeof p.id !== 'string' || p.id === '') return bad(`proteins[${i}].id must be a non-empty string`);
    if (ids.has(p.id)) return bad(`duplicate protein id "${p.id}"`);
    ids.add(p.id);
    if (typeof p.sequence !== 'string') return bad(`protein "${p.id}": sequence must be a string`);
    const seq = p.sequence;
    if (seq.length < 1 || seq.length > MAX_RESIDUES) return bad(`protein "${p.id}" has ${seq.length} residues; allowed 1-${MAX_RESIDUES}`);
    for (let j = 0; j < seq.length; j++) {
      if (!AMINO.includes(seq[j]!)) return bad(`protein "${p.id}": invalid residue "${seq[j]}" at position ${j + 1} (allowed: the 20 standard amino acids and X)`);
    }
    out.push({ id: p.id, sequence: seq });
  }
  return { ok: true, value: out };
}

/** One complex for /predict, or the shared part of a /batch request (`batch`: ligands required, per-ligand runs). */
export function checkComplex(body: unknown, opts: { batch: boolean }): Checked<Complex & { options: Record<string, unknown> }> {
  if (!isObj(body)) return { ok: false, status: 422, error: 'request body must be a JSON object' };
  if (typeof body.name !== 'string' || body.name === '') return { ok: false, status: 422, error: 'Missing required field: name' };
  if (!Array.isArray(body.proteins)) return { ok: false, status: 422, error: 'Missing required field: proteins' };
  if (opts.batch && body.ligands === undefined) return { ok: false, status: 422, error: 'Missing required field: ligands' };
  const options = isObj(body.options) ? body.options : {};
  if (body.options !== undefined && !isObj(body.options)) return bad('options must be an object');
  const affinityRaw = body.affinity ?? options.affinity;
  if (affinityRaw !== undefined && typeof affinityRaw !== 'boolean') return bad('affinity must be a boolean');
  for (const k of ['diffusion_samples', 'recycling_steps'] as const) {
    const v = body[k] ?? options[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 100)) return bad(`${k} must be an integer between 1 and 100`);
  }
  const proteins = checkProteins(body.proteins);
  if (!proteins.ok) return proteins;
  const affinity = affinityRaw === true;
  const ligands = checkLigands(body.ligands, affinity, opts.batch);
  if (!ligands.ok) return ligands;
  if (affinity && ligands.value.length === 0) return bad('affinity needs a ligand (the binder)');
  return { ok: true, value: { name: body.name, proteins: proteins.value, ligands: ligands.value, affinity, options } };
}

function chainId(i: number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return i < 26 ? letters[i]! : letters[Math.floor(i / 26) - 1]! + letters[i % 26]!;
}

function cifToken(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return clean === '' ? 'complex' : clean;
}

/**
 * A small valid mmCIF: one CA atom per residue on a helix per protein chain (A, B, ...), then a
 * few HETATM atoms per ligand (comp id LIG, or the CCD code). 3Dmol.js and gemmi read it.
 */
export function complexMmcif(c: Complex, key: string): string {
  const rng = rngFor('mmcif', key);
  const rows: string[] = [];
  let serial = 0;
  const f = (x: number) => x.toFixed(3);
  c.proteins.forEach((p, ci) => {
    const chain = chainId(ci);
    const plddt = 50 + rng() * 45;
    for (let i = 0; i < p.sequence.length; i++) {
      const t = (i * 100 * Math.PI) / 180; // alpha helix: 100 degrees and 1.5 A rise per residue
      const x = ci * 25 + 2.3 * Math.cos(t);
      const y = 2.3 * Math.sin(t);
      const z = 1.5 * i;
      const b = Math.min(99, plddt + 5 * Math.sin(i / 3));
      rows.push(`ATOM ${++serial} C CA ${THREE[p.sequence[i]!]} ${chain} ${i + 1} ${f(x)} ${f(y)} ${f(z)} 1.00 ${b.toFixed(2)} ${i + 1} 1`);
    }
  });
  c.ligands.forEach((l, li) => {
    const chain = chainId(c.proteins.length + li);
    const comp = l.ccd ?? 'LIG';
    const atoms = Math.max(3, Math.min(8, l.smiles ? heavyAtoms(l.smiles) : 6));
    const y = 8 + 6 * li;
    for (let a = 0; a < atoms; a++) {
      // a zig-zag chain with 1.5 A bonds, each ligand 6 A from the previous one
      rows.push(`HETATM ${++serial} C C${a + 1} ${comp} ${chain} . ${f(10 + 1.3 * a)} ${f(y + 0.75 * (a % 2))} ${f(5)} 1.00 ${(60 + rng() * 30).toFixed(2)} 1 1`);
    }
  });
  const columns = ['group_PDB', 'id', 'type_symbol', 'label_atom_id', 'label_comp_id', 'label_asym_id', 'label_seq_id', 'Cartn_x', 'Cartn_y', 'Cartn_z', 'occupancy', 'B_iso_or_equiv', 'auth_seq_id', 'pdbx_PDB_model_num'];
  const name = cifToken(c.name);
  return [`data_${name}`, '#', `_entry.id ${name}`, '#', 'loop_', ...columns.map((col) => `_atom_site.${col}`), ...rows, '#', ''].join('\n');
}

export interface PredictionFields {
  structure: { format: 'mmcif'; data: string };
  confidence: { [k: string]: JsonValue };
  affinity?: { [k: string]: JsonValue };
}

/** Structure, confidence and (when asked) affinity, all a function of the complex. */
export function predictComplex(c: Complex): PredictionFields {
  const key = JSON.stringify([c.proteins, c.ligands, c.affinity]);
  const rng = rngFor('boltz2', key);
  const ptm = score(rng, 0.4, 0.95);
  const iptm = score(rng, 0.3, 0.95);
  const plddt = score(rng, 0.5, 0.95);
  const confidence = {
    // Boltz's aggregate: 0.8 x complex pLDDT + 0.2 x ipTM
    confidence_score: Math.round((0.8 * plddt + 0.2 * iptm) * 1e4) / 1e4,
    ptm,
    iptm,
    complex_plddt: plddt,
    complex_iplddt: score(rng, 0.4, 0.95),
    complex_pde: score(rng, 0.05, 0.6),
  };
  const out: PredictionFields = { structure: { format: 'mmcif', data: complexMmcif(c, key) }, confidence };
  if (c.affinity) out.affinity = { affinity_pred_value: score(rng), affinity_probability_binary: score(rng) };
  return out;
}
