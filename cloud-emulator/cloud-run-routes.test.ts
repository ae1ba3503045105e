import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { heavyAtoms } from './boltz-output.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from './index.js';
import { call, sleep, waitFor, type Json } from './test-support.js';

const running: RunningEmulator[] = [];
after(() => Promise.all(running.map((e) => e.close())));

async function emulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const e = await startEmulator({ retryAfterS: 0, coldStartMs: { boltz2: 20 }, inferenceMs: { boltz2: 5 }, ...opts });
  running.push(e);
  return e;
}

const SEQ = 'MKTAYIAKQRQISFVKSHFSRQ';
const complex = (extra: Json = {}) => ({ name: 'kinase-1', proteins: [{ id: 'A', sequence: SEQ }], ligands: [{ id: 'lig1', smiles: 'CC(=O)Oc1ccccc1C(=O)O' }], ...extra });
const TIMING_FIELDS = ['model_load_ms', 'inference_ms', 'cold_start'];
const withoutTimings = (j: Json) => Object.fromEntries(Object.entries(j).filter(([k]) => !TIMING_FIELDS.includes(k)));

function atomRows(cif: string): string[][] {
  return cif.split('\n').filter((l) => /^(ATOM|HETATM) /.test(l)).map((l) => l.split(/\s+/));
}

test('health', async () => {
  const e = await emulator();
  const r = await call(e.cloudRunUrl, 'GET', '/health');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'healthy', gpu: 'L4', model: 'boltz-2' }, 'health body');
  assert.equal(e.cloudRunUrl, `${e.url}/cloud-run`, 'cloudRunUrl');
});

test('predict: mmCIF structure, confidence scores in [0, 1], GPU and timings; affinity only when asked', async () => {
  const e = await emulator();
  const r = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex() });
  assert.equal(r.status, 200, r.text);
  const structure = r.json.structure as Json;
  assert.equal(structure.format, 'mmcif', 'format');
  assert.match(String(structure.data), /^data_kinase-1\n/, 'a data_ block named after the complex');
  const conf = r.json.confidence as Record<string, number>;
  for (const k of ['confidence_score', 'ptm', 'iptm', 'complex_plddt', 'complex_iplddt', 'complex_pde']) {
    assert.ok(typeof conf[k] === 'number' && conf[k] >= 0 && conf[k] <= 1, `${k} = ${conf[k]}`);
  }
  assert.equal(r.json.affinity, undefined, 'no affinity unless asked');
  assert.equal(r.json.gpu, 'NVIDIA L4', 'gpu');
  assert.deepEqual([r.json.cold_start, r.json.model_load_ms, r.json.inference_ms], [true, 20, 5], 'first call pays the cold start');
  const withAffinity = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex({ affinity: true }) });
  const aff = withAffinity.json.affinity as Record<string, number>;
  for (const k of ['affinity_pred_value', 'affinity_probability_binary']) assert.ok(typeof aff[k] === 'number' && aff[k] >= 0 && aff[k] <= 1, `${k} = ${aff[k]}`);
  assert.deepEqual([withAffinity.json.cold_start, withAffinity.json.model_load_ms], [false, 0], 'then warm');
  assert.equal(e.stats().completed.predict, 2, 'two predictions');
});

test('predict is deterministic for the same complex', async () => {
  const e = await emulator();
  const a = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex() });
  const b = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex() });
  assert.deepEqual(withoutTimings(a.json), withoutTimings(b.json), 'same structure and scores');
  const other = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex({ proteins: [{ id: 'A', sequence: 'GSGSGS' }] }) });
  assert.notDeepEqual(other.json.confidence, a.json.confidence, 'another complex, other scores');
});

test('mmCIF: one CA row per residue per chain, HETATM rows per ligand, standard atom_site columns', async () => {
  const e = await emulator();
  const body = complex({ proteins: [{ id: 'A', sequence: SEQ }, { id: 'B', sequence: 'GSX' }], ligands: [{ id: 'l1', smiles: 'CCO' }, { id: 'l2', ccd: 'ATP' }] });
  const r = await call(e.cloudRunUrl, 'POST', '/predict', { body });
  const cif = String((r.json.structure as Json).data);
  for (const col of ['group_PDB', 'id', 'type_symbol', 'label_atom_id', 'label_comp_id', 'label_asym_id', 'label_seq_id', 'Cartn_x', 'Cartn_y', 'Cartn_z', 'occupancy', 'B_iso_or_equiv', 'auth_seq_id', 'pdbx_PDB_model_num']) {
    assert.match(cif, new RegExp(`^_atom_site\\.${col}$`, 'm'), `column ${col}`);
  }
  assert.match(cif, /^_entry\.id kinase-1$/m, '_entry.id');
  const rows = atomRows(cif);
  assert.ok(rows.every((r) => r.length === 14), 'every row has the 14 columns');
  const protein = rows.filter((r) => r[0] === 'ATOM');
  assert.equal(protein.filter((r) => r[5] === 'A').length, SEQ.length, 'chain A: one atom per residue');
  assert.equal(protein.filter((r) => r[5] === 'B').length, 3, 'chain B: one atom per residue');
  assert.ok(protein.every((r) => r[3] === 'CA'), 'CA atoms');
  assert.deepEqual(protein.filter((r) => r[5] === 'B').map((r) => r[4]), ['GLY', 'SER', 'UNK'], '3-letter residue names, X as UNK');
  assert.deepEqual(protein.filter((r) => r[5] === 'A').map((r) => Number(r[6])), Array.from({ length: SEQ.length }, (_, i) => i + 1), 'label_seq_id 1..n');
  const het = rows.filter((r) => r[0] === 'HETATM');
  assert.deepEqual([...new Set(het.map((r) => `${r[5]}:${r[4]}`))], ['C:LIG', 'D:ATP'], 'ligands on chains C and D, comp id LIG or the CCD code');
  assert.deepEqual(rows.map((r) => Number(r[1])), rows.map((_, i) => i + 1), 'atom ids are 1..n');
  assert.ok(rows.every((r) => [7, 8, 9].every((i) => Number.isFinite(Number(r[i])))), 'numeric coordinates');
});

test('predict validation: 422 for a missing name or proteins, 400 with a specific message for bad input', async () => {
  const e = await emulator();
  const p = (sequence: string, id = 'A') => ({ id, sequence });
  const cases: [unknown, number, RegExp][] = [
    [{ proteins: [p(SEQ)] }, 422, /Missing required field: name/],
    [{ name: 'x' }, 422, /Missing required field: proteins/],
    [complex({ proteins: [p('MKTZY')] }), 400, /invalid residue "Z" at position 4/],
    [complex({ proteins: [p('mktay')] }), 400, /invalid residue "m" at position 1/],
    [complex({ proteins: [p('')] }), 400, /has 0 residues; allowed 1-4096/],
    [complex({ proteins: [p('A'.repeat(4097))] }), 400, /has 4097 residues; allowed 1-4096/],
    [complex({ proteins: [] }), 400, /1-12 polymers, got 0/],
    [complex({ proteins: Array.from({ length: 13 }, (_, i) => p('MK', `P${i}`)) }), 400, /1-12 polymers, got 13/],
    [complex({ ligands: [{ id: 'l', smiles: 'CCO', ccd: 'ATP' }] }), 400, /ligand "l" must have exactly one of smiles or ccd/],
    [complex({ ligands: [{ id: 'l' }] }), 400, /ligand "l" must have exactly one of smiles or ccd/],
    [complex({ affinity: true, ligands: [{ id: 'big', smiles: 'C'.repeat(129) }] }), 400, /129 heavy atoms; an affinity binder has at most 128/],
    [complex({ affinity: true, ligands: [] }), 400, /affinity needs a ligand/],
    [complex({ diffusion_samples: 0 }), 400, /diffusion_samples must be an integer/],
    ['{"name": "x", ', 400, /not valid JSON/],
  ];
  for (const [body, status, error] of cases) {
    const r = await call(e.cloudRunUrl, 'POST', '/predict', { body });
    const label = typeof body === 'string' ? body : JSON.stringify(body).slice(0, 80);
    assert.equal(r.status, status, `${label}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.status, status, `${label}: body status`);
    assert.match(String(r.json.error), error, `${label}: message`);
  }
  const ok = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex({ ligands: [{ id: 'big', smiles: 'C'.repeat(129) }] }) });
  assert.equal(ok.status, 200, 'a large ligand is fine without affinity');
  assert.equal(e.stats().completed.predict, 1, 'only the valid request ran');
});

test('heavy atoms of a SMILES: bracket atoms once, hydrogens and bonds not at all', () => {
  assert.equal(heavyAtoms('CC(=O)Oc1ccccc1C(=O)O'), 13, 'aspirin');
  assert.equal(heavyAtoms('[NH4+].[Cl-]'), 2, 'bracket atoms');
  assert.equal(heavyAtoms('[2H]C([H])Br'), 2, 'hydrogen isotopes are not heavy; Br is one atom');
  assert.equal(heavyAtoms('ClCCl'), 3, 'Cl is one atom');
});

test('predict past cloudRunTimeoutMs answers 504 and completes nothing', async () => {
  const e = await emulator({ cloudRunTimeoutMs: 20, inferenceMs: { boltz2: 400 } });
  const r = await call(e.cloudRunUrl, 'POST', '/predict', { body: complex() });
  assert.equal(r.status, 504, r.text);
  assert.equal(r.json.status, 504, 'error body');
  await sleep(450);
  assert.equal(e.stats().completed.predict, 0, 'the dropped prediction never completes');
});

test('batch: 202 with a job id at once, then progress one ligand at a time, then all results', async () => {
  const e = await emulator({ inferenceMs: { boltz2: 30 } });
  const ligands = ['a', 'b', 'c', 'd'].map((id, i) => ({ id, smiles: 'C'.repeat(i + 2) }));
  const submit = await call(e.cloudRunUrl, 'POST', '/batch', { body: { name: 'screen', proteins: [{ id: 'A', sequence: SEQ }], ligands, options: { affinity: true } } });
  assert.equal(submit.status, 202, submit.text);
  const id = String(submit.json.job_id);
  assert.ok(id.length > 0, 'a job id');
  const seen: number[] = [];
  const statuses = new Set<string>();
  let last: Json = {};
  await waitFor('the batch to finish', async () => {
    last = (await call(e.cloudRunUrl, 'GET', `/batch/${id}`)).json;
    seen.push(last.done as number);
    statuses.add(String(last.status));
    assert.equal((last.results as unknown[]).length, last.done, 'results hold the finished ligands');
    return last.status === 'succeeded';
  });
  assert.ok(seen.every((d, i) => i === 0 || d >= seen[i - 1]!), `done never goes back: ${seen.join(',')}`);
  assert.ok(seen.some((d) => d > 0 && d < 4), `progress was visible in between: ${seen.join(',')}`);
  assert.ok(statuses.has('running'), `running was seen: ${[...statuses].join(',')}`);
  assert.deepEqual([last.job_id, last.done, last.total], [id, 4, 4], 'final counts');
  const results = last.results as Json[];
  assert.deepEqual(results.map((r) => r.ligand_id), ['a', 'b', 'c', 'd'], 'results in ligand order');
  for (const r of results) {
    assert.equal((r.structure as Json).format, 'mmcif', 'each result has a structure');
    assert.equal(typeof (r.confidence as Json).ptm, 'number', 'and confidence');
    assert.equal(typeof (r.affinity as Json).affinity_probability_binary, 'number', 'affinity from options');
    assert.equal(r.gpu, 'NVIDIA L4', 'gpu');
  }
  assert.deepEqual(results.map((r) => r.cold_start), [true, false, false, false], 'the first ligand paid the cold start');
  const hetChains = atomRows(String((results[0]!.structure as Json).data)).filter((r) => r[0] === 'HETATM');
  assert.ok(hetChains.length > 0 && hetChains.every((r) => r[5] === 'B'), 'each result holds its one ligand');
  const s = e.stats();
  assert.deepEqual([s.completed.batchLigands, s.completed.batches], [4, 1], 'completed counts');
  assert.deepEqual(s.batches[id], { status: 'succeeded', done: 4, total: 4 }, 'stats.batches');
});

test('batch cancel stops it; a finished batch keeps its status; unknown ids are 404', async () => {
  const e = await emulator({ inferenceMs: { boltz2: 15 } });
  const ligands = Array.from({ length: 50 }, (_, i) => ({ id: `l${i}`, ccd: 'ATP' }));
  const submit = await call(e.cloudRunUrl, 'POST', '/batch', { body: { name: 'big', proteins: [{ id: 'A', sequence: SEQ }], ligands } });
  const id = String(submit.json.job_id);
  await waitFor('a first result', async () => ((await call(e.cloudRunUrl, 'GET', `/batch/${id}`)).json.done as number) >= 1);
  const del = await call(e.cloudRunUrl, 'DELETE', `/batch/${id}`);
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json, { job_id: id, status: 'cancelled' }, 'cancel body');
  const doneAtCancel = (await call(e.cloudRunUrl, 'GET', `/batch/${id}`)).json.done as number;
  await sleep(60);
  const after = (await call(e.cloudRunUrl, 'GET', `/batch/${id}`)).json;
  assert.equal(after.status, 'cancelled', 'stays cancelled');
  assert.equal(after.done, doneAtCancel, 'no ligand finishes after the cancel');
  assert.ok((after.done as number) < 50, 'stopped before the end');
  assert.equal(e.stats().batches[id]!.status, 'cancelled', 'stats.batches');

  const small = await call(e.cloudRunUrl, 'POST', '/batch', { body: { name: 'small', proteins: [{ id: 'A', sequence: SEQ }], ligands: [{ id: 'x', ccd: 'HEM' }] } });
  const sid = String(small.json.job_id);
  await waitFor('the small batch', async () => (await call(e.cloudRunUrl, 'GET', `/batch/${sid}`)).json.status === 'succeeded');
  assert.deepEqual((await call(e.cloudRunUrl, 'DELETE', `/batch/${sid}`)).json, { job_id: sid, status: 'succeeded' }, 'deleting a finished batch answers its status');
  assert.equal((await call(e.cloudRunUrl, 'GET', `/batch/${sid}`)).json.status, 'succeeded', 'and leaves it');

  assert.equal((await call(e.cloudRunUrl, 'GET', '/batch/nope')).status, 404, 'GET unknown');
  assert.equal((await call(e.cloudRunUrl, 'DELETE', '/batch/nope')).status, 404, 'DELETE unknown');
});

test('batch validation: ligands required and checked like predict', async () => {
  const e = await emulator();
  const base = { name: 'b', proteins: [{ id: 'A', sequence: SEQ }] };
  const missing = await call(e.cloudRunUrl, 'POST', '/batch', { body: base });
  assert.equal(missing.status, 422, 'missing ligands');
  const empty = await call(e.cloudRunUrl, 'POST', '/batch', { body: { ...base, ligands: [] } });
  assert.equal(empty.status, 400, 'empty ligands');
  const both = await call(e.cloudRunUrl, 'POST', '/batch', { body: { ...base, ligands: [{ id: 'x', smiles: 'C', ccd: 'ATP' }] } });
  assert.equal(both.status, 400, 'bad ligand');
  assert.match(String(both.json.error), /exactly one of smiles or ccd/, 'message');
  assert.deepEqual(e.stats().batches, {}, 'no batch created');
});
