/**
 * The Boltz-2 page's example: T4 lysozyme L99A with benzene, the classic engineered-cavity complex.
 *
 * Sources:
 * - Protein: UniProt P00720 (ENLYS_BPT4, endolysin of Enterobacteria phage T4), canonical
 *   sequence, 164 residues (the wild type in PDB 2LZM: Cys54, Cys97, Leu99).
 * - Mutation and ligand: Leu99 -> Ala opens a hydrophobic cavity that binds benzene (Eriksson et
 *   al., Science 255:178, 1992; Morton & Matthews, Biochemistry 34:8576, 1995; PDB 181L, T4
 *   lysozyme L99A with benzene). Many of those structures use the cysteine-free pseudo-wild
 *   type (C54T/C97A); this example applies L99A to the canonical sequence.
 * - Benzene: SMILES c1ccccc1, wwPDB CCD code BNZ.
 */

/** UniProt P00720, canonical sequence (164 aa). */
export const T4_LYSOZYME_P00720 =
  'MNIFEMLRIDEGLRLKIYKDTEGYYTIGIGHLLTKSPSLNAAKSELDKAIGRNCNGVITKDEAEKLFNQDVDAAVRGILRNAKLKPVYDSLDAVRRCALINMVFQMGETGVAGFTNSLRMLQQKRWDEAAVNLAKSRWYNQTPNRAKRVITTFRTGTWDAYKNL';

/** Apply a point mutation written like `L99A` (1-based), checking the wild-type residue first. */
export function mutate(sequence: string, mutation: string): string {
  const m = /^([A-Z])(\d+)([A-Z])$/.exec(mutation);
  if (!m) throw new Error(`not a point mutation: ${mutation}`);
  const [, from, pos, to] = m as unknown as [string, string, string, string];
  const i = Number(pos) - 1;
  if (sequence[i] !== from) throw new Error(`${mutation}: residue ${pos} is ${sequence[i] ?? 'missing'}, not ${from}`);
  return sequence.slice(0, i) + to + sequence.slice(i + 1);
}

export const BOLTZ_EXAMPLE = {
  name: 't4l-l99a-benzene',
  label: 'T4 lysozyme L99A + benzene',
  title: 'T4 lysozyme (UniProt P00720, 164 residues) with the L99A cavity mutation, and benzene (c1ccccc1, CCD BNZ) as in PDB 181L',
  sequence: mutate(T4_LYSOZYME_P00720, 'L99A'),
  ligand: { id: 'BNZ', smiles: 'c1ccccc1' },
} as const;
