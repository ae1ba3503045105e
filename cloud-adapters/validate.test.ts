import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TandemError } from '../native/engine/common/errors.js';
import type { Boltz2BatchRequest, Boltz2Request, CloudRequest, GenerateRequest } from './contract.js';
import { countHeavyAtoms, parseBatchJson, parseComplexJson, validateJsonAgainstSchema, validateRequest } from './validate.js';

const SEQ = 'MKTAYIAKQRQISFVKSHFSRQ';

function complex(over: Partial<Boltz2Request> = {}): Boltz2Request {
  return { kind: 'boltz2', name: 'c1', proteins: [{ id: 'A', sequence: SEQ }], ligands: [{ id: 'L', smiles: 'CCO' }], ...over };
}
function batch(over: Partial<Boltz2BatchRequest> = {}): Boltz2BatchRequest {
  return { kind: 'boltz2-batch', name: 'b1', proteins: [{ id: 'A', sequence: SEQ }], ligands: [{ id: 'L1', smiles: 'CCO' }, { id: 'L2', ccd: 'ATP' }], ...over };
}
function gen(over: Partial<GenerateRequest> = {}): GenerateRequest {
  return { kind: 'generate', model: 'qwen-32b', prompt: 'Say hi', schema: { type: 'object', properties: { a: { type: 'string' } } }, ...over };
}

function rejects(req: CloudRequest, pattern: RegExp, code = 'INVALID_INPUT'): void {
  try {
    validateRequest(req);
  } catch (e) {
    assert.ok(e instanceof TandemError, `a TandemError, got ${String(e)}`);
    assert.equal(e.code, code, `code for ${pattern}: ${e.message}`);
    assert.match(e.message, pattern, 'message names the field');
    return;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

describe('validateRequest: boltz2', () => {
  test('a valid complex passes; lower-case sequences are accepted', () => {
    assert.doesNotThrow(() => validateRequest(complex()), 'valid');
    assert.doesNotThrow(() => validateRequest(complex({ proteins: [{ id: 'A', sequence: SEQ.toLowerCase() }] })), 'lower case');
    assert.doesNotThrow(() => validateRequest(complex({ ligands: [] })), 'protein only');
    assert.doesNotThrow(() => validateRequest(complex({ proteins: [{ id: 'A', sequence: 'MXXA' }] })), 'X allowed');
  });

  test('invalid residue names the field, letter and position', () => {
    const seq = `${'A'.repeat(16)}B`;
    rejects(
      complex({ proteins: [{ id: 'A', sequence: SEQ }, { id: 'B', sequence: seq }] }),
      /^proteins\[1\]\.sequence: invalid residue 'B' at position 17 \(allowed: ACDEFGHIKLMNPQRSTVWY and X\)$/,
    );
    rejects(complex({ proteins: [{ id: 'A', sequence: 'MK TA' }] }), /proteins\[0\]\.sequence: invalid residue " " at position 3/);
  });

  test('sequence length 1-4096', () => {
    rejects(complex({ proteins: [{ id: 'A', sequence: '' }] }), /proteins\[0\]\.sequence: empty/);
    rejects(complex({ proteins: [{ id: 'A', sequence: 'A'.repeat(4097) }] }), /proteins\[0\]\.sequence: 4097 residues \(at most 4096\)/);
    assert.doesNotThrow(() => validateRequest(complex({ proteins: [{ id: 'A', sequence: 'A'.repeat(4096) }] })), '4096 ok');
  });

  test('1-12 polymers, unique non-empty ids', () => {
    rejects(complex({ proteins: [] }), /^proteins: at least one protein/);
    const many = Array.from({ length: 13 }, (_, i) => ({ id: `P${i}`, sequence: SEQ }));
    rejects(complex({ proteins: many }), /^proteins: 13 polymers \(at most 12\)/);
    assert.doesNotThrow(() => validateRequest(complex({ proteins: many.slice(0, 12) })), '12 ok');
    rejects(complex({ proteins: [{ id: 'A', sequence: SEQ }, { id: 'A', sequence: SEQ }] }), /proteins\[1\]\.id: duplicate id 'A' \(also proteins\[0\]\.id\)/);
    rejects(complex({ proteins: [{ id: '', sequence: SEQ }] }), /proteins\[0\]\.id: must be a non-empty string/);
  });

  test('ligands: exactly one of smiles/ccd, non-empty, unique ids, ccd codes', () => {
    rejects(complex({ ligands: [{ id: 'L', smiles: 'CCO', ccd: 'ATP' }] }), /ligands\[0\]: exactly one of smiles or ccd is required \(got both\)/);
    rejects(complex({ ligands: [{ id: 'L' }] }), /ligands\[0\]: exactly one of smiles or ccd is required \(got neither\)/);
    rejects(complex({ ligands: [{ id: 'L', smiles: '' }] }), /ligands\[0\]\.smiles: must be a non-empty string/);
    rejects(complex({ ligands: [{ id: 'L', ccd: '' }] }), /ligands\[0\]\.ccd: must be a non-empty string/);
    rejects(complex({ ligands: [{ id: 'L', ccd: 'TOOLONG' }] }), /ligands\[0\]\.ccd: ligand L: 'TOOLONG' is not a CCD code/);
    rejects(complex({ ligands: [{ id: 'L', smiles: 'CCO' }, { id: 'L', ccd: 'HEM' }] }), /ligands\[1\]\.id: duplicate id 'L'/);
    rejects(complex({ ligands: [{ id: 'L', smiles: 'CC O' }] }), /ligands\[0\]\.smiles: ligand L: unexpected character " " at position 3/);
    rejects(complex({ ligands: [{ id: 'L', smiles: 'CC(O' }] }), /ligands\[0\]\.smiles: ligand L: unclosed '\('/);
  });

  test('an affinity binder has at most 128 heavy atoms', () => {
    const big = 'C'.repeat(129);
    rejects(complex({ affinity: true, ligands: [{ id: 'L', smiles: big }] }), /ligands\[0\]\.smiles: ligand L has 129 heavy atoms; an affinity binder has at most 128/);
    assert.doesNotThrow(() => validateRequest(complex({ affinity: true, ligands: [{ id: 'L', smiles: 'C'.repeat(128) }] })), '128 ok');
    assert.doesNotThrow(() => validateRequest(complex({ ligands: [{ id: 'L', smiles: big }] })), 'no limit without affinity');
    rejects(complex({ affinity: true, ligands: [] }), /ligands: affinity needs a ligand/);
  });

  test('countHeavyAtoms counts brackets and the organic subset, not hydrogens', () => {
    assert.equal(countHeavyAtoms('CCO'), 3, 'ethanol');
    assert.equal(countHeavyAtoms('c1ccccc1'), 6, 'benzene');
    assert.equal(countHeavyAtoms('ClCBr'), 3, 'two-letter halogens');
    assert.equal(countHeavyAtoms('[Na+].[Cl-]'), 2, 'bracket atoms');
    assert.equal(countHeavyAtoms('[2H]C([H])([H])[nH]'), 2, 'bracket hydrogens excluded');
    assert.equal(countHeavyAtoms('CC(=O)Oc1ccccc1C(=O)O'), 13, 'aspirin');
    assert.equal(countHeavyAtoms('C[C@@H](N)C(=O)O'), 6, 'alanine with chirality');
  });

  test('sampling options are positive integers', () => {
    rejects(complex({ diffusionSamples: 0 }), /diffusionSamples: must be an integer from 1/);
    rejects(complex({ recyclingSteps: 2.5 }), /recyclingSteps: must be an integer/);
    rejects(complex({ name: '' }), /^name: must be a non-empty string/);
  });
});

describe('validateRequest: batch, generate, embed-remote', () => {
  test('a batch needs at least one ligand', () => {
    assert.doesNotThrow(() => validateRequest(batch()), 'valid batch');
    rejects(batch({ ligands: [] }), /^ligands: a batch needs at least one ligand/);
    rejects(batch({ affinity: true, ligands: [{ id: 'L', smiles: 'c'.repeat(200) }] }), /ligands\[0\]\.smiles: ligand L has 200 heavy atoms/);
  });

  test('generate: prompt, schema, maxTokens, temperature, model', () => {
    assert.doesNotThrow(() => validateRequest(gen({ maxTokens: 100, temperature: 0 })), 'valid');
    rejects(gen({ prompt: '  ' }), /^prompt: must be a non-empty string/);
    rejects(gen({ schema: [] as unknown as GenerateRequest['schema'] }), /^schema: must be a JSON Schema object/);
    rejects(gen({ schema: { type: 'objectz' } }), /^schema: not a valid JSON Schema/);
    rejects(gen({ schema: { type: 'array' } }), /^schema\.type: must be 'object', got 'array': the cloud generate protocol returns a JSON object \(local generation, tandem generate --schema, takes any root type\)/);
    rejects(gen({ maxTokens: 0 }), /^maxTokens: must be a positive integer, got 0/);
    rejects(gen({ maxTokens: 1.5 }), /^maxTokens: must be a positive integer/);
    rejects(gen({ temperature: 2.5 }), /^temperature: must be a number from 0 to 2, got 2\.5/);
    rejects(gen({ temperature: -0.1 }), /^temperature: must be a number from 0 to 2/);
    rejects(gen({ model: 'qwen-7b' as GenerateRequest['model'] }), /^model: must be one of qwen-32b, qwen-80b, qwen-480b/);
  });

  test('embed-remote: at least one non-empty text', () => {
    assert.doesNotThrow(() => validateRequest({ kind: 'embed-remote', texts: ['a', 'b'], instruction: 'Represent:' }), 'valid');
    rejects({ kind: 'embed-remote', texts: [] }, /^texts: at least one text is required/);
    rejects({ kind: 'embed-remote', texts: ['a', '', 'c'] }, /^texts\[1\]: must be a non-empty string/);
  });

  test('an unknown kind is INVALID_ARGUMENT', () => {
    rejects({ kind: 'nope' } as unknown as CloudRequest, /unknown cloud job kind 'nope'/, 'INVALID_ARGUMENT');
  });
});

describe('validateJsonAgainstSchema', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } }, required: ['name'], additionalProperties: false };
  test('valid output', () => {
    assert.deepEqual(validateJsonAgainstSchema(schema, { name: 'x', n: 2 }), { ok: true }, 'ok');
  });
  test('invalid output lists the errors', () => {
    const r = validateJsonAgainstSchema(schema, { n: 'two', extra: 1 });
    assert.equal(r.ok, false, 'not ok');
    assert.ok(!r.ok && /required property 'name'/.test(r.errors), `missing name reported: ${JSON.stringify(r)}`);
    assert.ok(!r.ok && /\/n must be integer/.test(r.errors), 'type error reported');
    assert.ok(!r.ok && /'extra'/.test(r.errors), 'additional property reported');
  });
  test('a schema that does not compile is an error, draft 2020-12 schemas compile', () => {
    const r = validateJsonAgainstSchema({ type: 12 }, {});
    assert.ok(!r.ok && /^schema: not a valid JSON Schema/.test(r.errors), 'bad schema');
    const s2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }] };
    assert.deepEqual(validateJsonAgainstSchema(s2020, ['a']), { ok: true }, '2020-12');
    assert.equal(validateJsonAgainstSchema(s2020, [1]).ok, false, '2020-12 prefixItems enforced');
  });
});

describe('parseComplexJson / parseBatchJson', () => {
  test('reads a complex file, normalising sequences to upper case', () => {
    const req = parseComplexJson(JSON.stringify({ name: 'c', proteins: [{ id: 'A', sequence: 'mkta' }], ligands: [{ id: 'L', ccd: 'ATP' }], affinity: true, diffusion_samples: 2 }));
    assert.deepEqual(
      req,
      { kind: 'boltz2', name: 'c', proteins: [{ id: 'A', sequence: 'MKTA' }], ligands: [{ id: 'L', ccd: 'ATP' }], affinity: true, diffusionSamples: 2 },
      'request',
    );
  });

  test('wrong fields are named with the file', () => {
    const bad = (text: string, pattern: RegExp, parse: (t: unknown) => unknown = parseComplexJson): void => {
      assert.throws(
        () => parse(text),
        (e: unknown) => e instanceof TandemError && e.code === 'INVALID_INPUT' && pattern.test(e.message),
        `expected ${pattern}`,
      );
    };
    bad('{', /^complex\.json: not valid JSON/);
    bad(JSON.stringify({ name: 'c', proteins: [{ id: 'A', seq: 'MK' }] }), /^complex\.json: proteins\[0\]: unknown field 'seq'/);
    bad(JSON.stringify({ name: 'c', proteins: [{ id: 'A', sequence: 5 }] }), /^complex\.json: proteins\[0\]\.sequence: /);
    bad(JSON.stringify({ proteins: [{ id: 'A', sequence: 'MK' }] }), /^complex\.json: name: /);
    bad(JSON.stringify({ name: 'c', proteins: [{ id: 'A', sequence: 'MKZ' }] }), /^complex\.json: proteins\[0\]\.sequence: invalid residue 'Z' at position 3/);
    bad(JSON.stringify({ name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [] }), /^batch\.json: ligands: a batch needs at least one ligand/, parseBatchJson);
    bad(JSON.stringify({ name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: 'x', smiles: 'C' }], color: 'red' }), /^batch\.json: unknown field 'color'/, parseBatchJson);
  });

  test('accepts an already-parsed value', () => {
    const req = parseComplexJson({ name: 'c', proteins: [{ id: 'A', sequence: 'MK' }] });
    assert.deepEqual(req.ligands, [], 'ligands default to none');
    assert.throws(() => parseComplexJson({ name: 'c' }, 'x.json'), /^TandemError: x\.json: proteins: missing/, 'parsed value validated');
  });

  test('reads a batch file with options', () => {
    const req = parseBatchJson(JSON.stringify({ name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: 'x', smiles: 'CCO' }], options: { diffusion_samples: 1 } }), 'my.json');
    assert.equal(req.kind, 'boltz2-batch', 'kind');
    assert.deepEqual(req.options, { diffusion_samples: 1 }, 'options kept');
    assert.equal(req.ligands.length, 1, 'ligands');
  });
});
