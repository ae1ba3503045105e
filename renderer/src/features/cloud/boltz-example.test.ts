/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boltzFieldErrors } from '../../../../native/engine/common/boltz-validate';
import { BOLTZ_EXAMPLE, mutate, T4_LYSOZYME_P00720 } from './boltz-example';

test('the Boltz-2 example is T4 lysozyme (P00720, 164 aa) with L99A, and benzene', () => {
  assert.equal(T4_LYSOZYME_P00720.length, 164, 'UniProt P00720 is 164 residues');
  assert.ok(T4_LYSOZYME_P00720.startsWith('MNIFEMLRIDE'), 'starts MNIFEMLRIDE');
  assert.equal(T4_LYSOZYME_P00720[98], 'L', 'residue 99 of the wild type is Leu');
  assert.equal([T4_LYSOZYME_P00720[53], T4_LYSOZYME_P00720[96]].join(''), 'CC', 'Cys54 and Cys97 of the canonical sequence');
  assert.equal(BOLTZ_EXAMPLE.sequence.length, 164);
  assert.equal(BOLTZ_EXAMPLE.sequence[98], 'A', 'residue 99 is Ala in the example');
  const diffs = [...BOLTZ_EXAMPLE.sequence].flatMap((c, i) => (c === T4_LYSOZYME_P00720[i] ? [] : [`${T4_LYSOZYME_P00720[i]}${i + 1}${c}`]));
  assert.deepEqual(diffs, ['L99A'], 'exactly one mutation');
  assert.deepEqual(BOLTZ_EXAMPLE.ligand, { id: 'BNZ', smiles: 'c1ccccc1' });
  assert.match(BOLTZ_EXAMPLE.title, /P00720/);
  assert.match(BOLTZ_EXAMPLE.title, /181L/);
  assert.deepEqual(boltzFieldErrors({ name: BOLTZ_EXAMPLE.name, proteins: [{ id: 'A', sequence: BOLTZ_EXAMPLE.sequence }], ligands: [BOLTZ_EXAMPLE.ligand], affinity: true }), [], 'a valid request');
});

test('mutate checks the wild-type residue before replacing it', () => {
  assert.equal(mutate('MLK', 'L2A'), 'MAK');
  assert.throws(() => mutate('MLK', 'I2A'), /residue 2 is L, not I/);
  assert.throws(() => mutate('MLK', 'L9A'), /residue 9 is missing/);
  assert.throws(() => mutate('MLK', 'L2'), /not a point mutation/);
});
