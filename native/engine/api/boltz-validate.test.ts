import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boltzFieldErrors, generateFieldErrors, parseLigandLines, validateBoltz2, validateBoltz2Batch, type Boltz2Like } from '../common/boltz-validate.js';

const SEQ = 'MKTAYIAKQRQISFVKSHFSRQ';

describe('boltzFieldErrors (validation as you type)', () => {
  test('every chain and ligand problem at once, each naming its field, residue and position', () => {
    const errors = boltzFieldErrors({
      name: 'c',
      proteins: [
        { id: 'A', sequence: SEQ },
        { id: 'B', sequence: 'MKZ' },
        { id: 'A', sequence: '' },
      ],
      ligands: [{ id: 'L1', smiles: 'CCO', ccd: 'ATP' }, { id: 'L2', smiles: 'CC(O' }, { id: 'L3' }, { id: 'L4', ccd: 'TOOLONG' }, { id: 'L5', smiles: 'c1ccccc1O' }],
    });
    const by = new Map(errors.map((e) => [e.field, e.message]));
    assert.match(by.get('proteins[1].sequence') ?? '', /^invalid residue 'Z' at position 3/, 'invalid residue and position');
    assert.match(by.get('proteins[2].sequence') ?? '', /^empty sequence/, 'length');
    assert.match(by.get('proteins[2].id') ?? '', /duplicate id 'A'/, 'duplicate chain id');
    assert.match(by.get('ligands[0]') ?? '', /exactly one of smiles or ccd is required \(got both\)/, 'smiles xor ccd: both');
    assert.match(by.get('ligands[1].smiles') ?? '', /unclosed '\('/, 'SMILES syntax');
    assert.match(by.get('ligands[2]') ?? '', /got neither/, 'smiles xor ccd: neither');
    assert.match(by.get('ligands[3].ccd') ?? '', /not a CCD code/, 'CCD code');
    assert.equal(by.has('ligands[4]') || by.has('ligands[4].smiles'), false, 'a valid ligand has no error');
    assert.equal(errors.length, 7, `seven problems: ${JSON.stringify(errors)}`);
  });

  test('agrees with the throwing validators: no field errors exactly when they pass', () => {
    const cases: Boltz2Like[] = [
      { name: 'ok', proteins: [{ id: 'A', sequence: SEQ.toLowerCase() }], ligands: [{ id: 'L', smiles: 'CCO' }] },
      { name: 'ok', proteins: [{ id: 'A', sequence: 'A'.repeat(4097) }] },
      { name: '', proteins: [{ id: 'A', sequence: SEQ }] },
      { name: 'aff', proteins: [{ id: 'A', sequence: SEQ }], ligands: [], affinity: true },
      { name: 'big', proteins: [{ id: 'A', sequence: SEQ }], ligands: [{ id: 'L', smiles: 'C'.repeat(129) }], affinity: true },
      { name: 'big-no-aff', proteins: [{ id: 'A', sequence: SEQ }], ligands: [{ id: 'L', smiles: 'C'.repeat(129) }] },
      { name: 'many', proteins: Array.from({ length: 13 }, (_, i) => ({ id: `P${i}`, sequence: SEQ })) },
    ];
    for (const c of cases) {
      let threw = false;
      try {
        validateBoltz2(c);
      } catch {
        threw = true;
      }
      assert.equal(boltzFieldErrors(c).length > 0, threw, `${c.name}: field errors iff validateBoltz2 throws (${JSON.stringify(boltzFieldErrors(c))})`);
    }
    const empty = { name: 'b', proteins: [{ id: 'A', sequence: SEQ }], ligands: [] };
    assert.throws(() => validateBoltz2Batch(empty), /a batch needs at least one ligand/, 'a batch needs ligands');
    assert.deepEqual(boltzFieldErrors(empty, { batch: true }), [{ field: 'ligands', message: 'a batch needs at least one ligand' }], 'and the form says so');
  });
});

describe('parseLigandLines (paste many lines for a batch)', () => {
  test('SMILES, id + SMILES, CCD codes, comments and blank lines', () => {
    const ligs = parseLigandLines('CCO\n\n# a comment\naspirin CC(=O)Oc1ccccc1C(=O)O\nheme,ccd:hem\nccd:ATP\nbad C C\n');
    assert.deepEqual(
      ligs,
      [
        { id: 'L1', smiles: 'CCO' },
        { id: 'aspirin', smiles: 'CC(=O)Oc1ccccc1C(=O)O' },
        { id: 'heme', ccd: 'HEM' },
        { id: 'L4', ccd: 'ATP' },
        { id: 'bad', smiles: 'C C' },
      ],
      'one ligand per non-blank line',
    );
    const errors = boltzFieldErrors({ name: 'x', proteins: [{ id: 'A', sequence: SEQ }], ligands: ligs }, { batch: true });
    assert.deepEqual(errors.map((e) => e.field), ['ligands[4].smiles'], 'only the SMILES with a space is flagged');
  });
});

describe('generateFieldErrors', () => {
  test('model, prompt, schema shape and options, without a schema compiler', () => {
    assert.deepEqual(generateFieldErrors({ model: 'qwen-32b', prompt: 'hi', schema: { type: 'object' } }), [], 'valid');
    const fields = generateFieldErrors({ model: 'gpt', prompt: ' ', schema: { type: 'array' }, maxTokens: 0, temperature: 3 }).map((e) => e.field);
    assert.deepEqual(fields, ['model', 'prompt', 'schema.type', 'maxTokens', 'temperature'], 'each bad field once');
    assert.deepEqual(generateFieldErrors({ model: 'qwen-80b', prompt: 'x', schema: [] }).map((e) => e.message), ["must be a JSON Schema object, got an array"], 'schema must be an object');
  });
});
