import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../../cloud-emulator/index.js';
import { activeChemToolkit, MAX_BINDER_HEAVY_ATOMS, WARN_BINDER_HEAVY_ATOMS } from '../common/boltz-validate.js';
import { isTandemError } from '../common/errors.js';
import { describeRdkitError, loadChemToolkit, rdkitWasmPath, unclosedRingPosition } from '../node/chem-toolkit.js';
import { runTandem } from '../../testing/cli-run.js';
import { cloudRig, FAST_TUNING, PROTEIN, TEST_TOKEN } from '../../testing/cloud-rig.js';
import { createApiService, type ApiService } from './api-service.js';

/**
 * Ligand SMILES are read by RDKit (the @rdkit/rdkit WASM build, loaded from node_modules) in the
 * engine: invalid ones are refused with the ligand's id and the position RDKit reports, and the
 * request never reaches the backend (the emulator's stats count no call).
 */

const VALID: Array<[string, number]> = [
  ['c1ccccc1', 6], // benzene
  ['CCO', 3],
  ['CC(=O)Oc1ccccc1C(=O)O', 13], // aspirin
  ['CN1C=NC2=C1C(=O)N(C(=O)N2C)C', 14], // caffeine
  ['[Na+].[Cl-]', 2],
  ['C[C@H](N)C(=O)O', 6], // L-alanine
  ['[2H]C([2H])([2H])O', 2], // deuterium is hydrogen: not a heavy atom
  ['C%10CC%10', 3],
];

/** [name, SMILES, what the message says, position RDKit reports (1-based) or null]. */
const INVALID: Array<[string, string, RegExp, number | null]> = [
  ['unclosed ring', 'C1CC', /unclosed ring/, 2],
  ['bad valence', 'C(C)(C)(C)(C)C', /atom 1 \(C\) has 5 bonds, more than its valence permits/, null],
  ['unknown element X', 'C1=CC=CC=C1X', /syntax error/, 12],
  ['unbalanced brackets', 'C(C', /extra open parentheses/, 2],
  ['unbalanced close', 'CC)C', /extra close parentheses/, 3],
  ['unclosed atom bracket', 'C[NH4+', /syntax error/, null],
  ['aromatic ring that cannot be kekulized', 'c1cccc1', /cannot be kekulized/, null],
];

const complex = (smiles: string, extra: Record<string, unknown> = {}) => ({ kind: 'boltz2' as const, name: 'smiles-check', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'LIG7', smiles }], ...extra });

describe('RDKit in the engine: the toolkit itself', () => {
  it('loads from node_modules (no network) and parses the table', async () => {
    assert.ok(fs.existsSync(rdkitWasmPath()), `the wasm file ships in node_modules: ${rdkitWasmPath()}`);
    const t0 = performance.now();
    const tk = await loadChemToolkit();
    const ms = performance.now() - t0;
    assert.match(tk.name, /^RDKit 20\d\d\.\d\d\.\d+$/, 'named with its version');
    assert.equal(activeChemToolkit(), tk, 'registered for the synchronous checks');
    assert.ok(ms < 20_000, `loaded in ${ms.toFixed(0)} ms`);
    for (const [smiles, heavy] of VALID) assert.deepEqual(tk.parseSmiles(smiles), { ok: true, heavyAtoms: heavy }, smiles);
    for (const [what, smiles, message, position] of INVALID) {
      const r = tk.parseSmiles(smiles);
      assert.equal(r.ok, false, `${what}: ${smiles} is refused`);
      if (!r.ok) {
        assert.match(r.message, message, `${what}: ${r.message}`);
        if (position !== null) assert.equal(r.position, position, `${what}: position`);
      }
    }
  });

  it('turns RDKit log lines into a reason and a position', () => {
    const log = "[05:17:34] SMILES Parse Error: syntax error while parsing: C1=CC=CC=C1X\n[05:17:34] SMILES Parse Error: check for mistakes around position 12:\n[05:17:34] C1=CC=CC=C1X\n[05:17:34] ~~~~~~~~~~~^\n[05:17:34] SMILES Parse Error: Failed parsing SMILES 'C1=CC=CC=C1X' for input: 'C1=CC=CC=C1X'\n";
    assert.deepEqual(describeRdkitError(log, 'C1=CC=CC=C1X'), { message: 'syntax error', position: 12 });
    assert.deepEqual(describeRdkitError('', 'x'), { message: 'not a valid SMILES string', position: null });
    assert.equal(unclosedRingPosition('CC1CC2CC2'), 3, 'label 1 opened at 3, never closed');
    assert.equal(unclosedRingPosition('C%12CC%12'), null, 'two-digit labels close');
    assert.equal(unclosedRingPosition('[13CH3]C'), null, 'isotopes in brackets are not ring labels');
  });
});

describe('RDKit in the engine: through the API, against the emulator', () => {
  let emu: RunningEmulator;
  let home: string;
  let svc: ApiService;

  before(async () => {
    emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-smiles-'));
    const env: NodeJS.ProcessEnv = {
      TANDEM_HOME: home,
      TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9',
      TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate,
      TANDEM_CLOUDRUN_URL: emu.cloudRunUrl,
      TANDEM_MODAL_TOKEN: TEST_TOKEN,
      TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN,
    };
    svc = createApiService({ env, host: 'test', progressIntervalMs: 0, cloud: { tuning: FAST_TUNING, pollIntervalMs: 10 } });
  });

  after(async () => {
    await svc.close();
    await emu.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('cloud.validate: every valid SMILES passes; each invalid one is an error naming the ligand, the toolkit and the position', async () => {
    for (const [smiles] of VALID) {
      const r = await svc.api['cloud.validate']({ request: complex(smiles) });
      assert.deepEqual(r.errors, [], `${smiles} is valid`);
    }
    for (const [what, smiles, message, position] of INVALID) {
      const r = await svc.api['cloud.validate']({ request: complex(smiles) });
      assert.equal(r.ok, false, `${what}: refused`);
      const e = r.errors.find((x) => x.field === 'ligands[0].smiles');
      assert.ok(e, `${what}: an error on ligands[0].smiles (${JSON.stringify(r.errors)})`);
      assert.match(e.message, /^ligand LIG7: RDKit \S+ cannot read the SMILES /, `${what}: names the ligand and the toolkit: ${e.message}`);
      assert.match(e.message, message, what);
      if (position !== null) assert.match(e.message, new RegExp(`at position ${position} \\(`), `${what}: the position: ${e.message}`);
    }
  });

  it('cloud.plan and cloud.submit refuse invalid SMILES with INVALID_INPUT; the emulator sees no call and no job is recorded', async () => {
    emu.reset();
    const before = (await svc.api['jobs.list']({ limit: 100 })).jobs.length;
    for (const [what, smiles] of INVALID) {
      for (const method of ['cloud.plan', 'cloud.submit'] as const) {
        await assert.rejects(
          () => svc.api[method]({ request: complex(smiles) }),
          (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /ligands\[0\]\.smiles: ligand LIG7: RDKit/.test((e as Error).message),
          `${method} refuses ${what}`,
        );
      }
      // a batch, too: the bad ligand among good ones
      await assert.rejects(
        () => svc.api['cloud.submit']({ request: { kind: 'boltz2-batch', name: 'b', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'ok', smiles: 'CCO' }, { id: 'bad-one', smiles }] } }),
        (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /ligands\[1\]\.smiles: ligand bad-one:/.test((e as Error).message),
        `batch with ${what}`,
      );
    }
    const s = emu.stats();
    assert.equal(s.requests, 0, `no request reached the emulator: ${JSON.stringify(s.byRoute)}`);
    assert.equal((await svc.api['jobs.list']({ limit: 100 })).jobs.length, before, 'no job recorded');
  });

  it('a valid complex does reach the emulator (the check above would see a call)', async () => {
    emu.reset();
    const { jobId } = await svc.api['cloud.submit']({ request: complex('c1ccccc1') });
    for (let i = 0; i < 200; i++) {
      const j = (await svc.api['jobs.show']({ id: jobId })).job;
      if (j.status === 'succeeded' || j.status === 'failed') {
        assert.equal(j.status, 'succeeded', JSON.stringify(j.error));
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(emu.stats().completed.predict, 1, 'one prediction');
  });

  it('affinity binders: heavy atoms counted by RDKit; over 128 refused, over 56 a warning', async () => {
    const big = 'C'.repeat(MAX_BINDER_HEAVY_ATOMS + 1);
    const r = await svc.api['cloud.validate']({ request: complex(big, { affinity: true }) });
    assert.match(r.errors.map((e) => e.message).join('\n'), new RegExp(`ligand LIG7 has ${MAX_BINDER_HEAVY_ATOMS + 1} heavy atoms; an affinity binder has at most ${MAX_BINDER_HEAVY_ATOMS}`));
    // Explicit hydrogens are not heavy atoms: 60 carbons written with [H] branches stay 60.
    const sixty = 'C([H])'.repeat(60);
    const w = await svc.api['cloud.validate']({ request: complex(sixty, { affinity: true }) });
    assert.deepEqual(w.errors, [], 'accepted');
    assert.equal(w.warnings.length, 1, 'one warning');
    assert.match(w.warnings[0]!.message, new RegExp(`ligand LIG7 has 60 heavy atoms: Boltz-2 recommends affinity binders of at most ${WARN_BINDER_HEAVY_ATOMS}`));
    const small = await svc.api['cloud.validate']({ request: complex('c1ccccc1', { affinity: true }) });
    assert.deepEqual([small.errors, small.warnings], [[], []], 'benzene: no error, no warning');
    const noAffinity = await svc.api['cloud.validate']({ request: complex(big) });
    assert.deepEqual([noAffinity.errors, noAffinity.warnings], [[], []], 'without affinity, size is not checked');
  });

  it('CCD codes: 1-3 upper-case letters or digits, or 5 for new-style codes', async () => {
    const ccd = async (code: string) => (await svc.api['cloud.validate']({ request: { kind: 'boltz2', name: 'c', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'C1', ccd: code }] } })).errors;
    for (const ok of ['BNZ', 'ATP', 'HEM', '0G6', 'K', 'A1AAA']) assert.deepEqual(await ccd(ok), [], ok);
    for (const bad of ['atp', 'ABCD', 'ABCDEF', 'A-B', '']) assert.equal((await ccd(bad)).length, 1, `${bad} refused`);
    assert.match((await ccd('ABCD'))[0]!.message, /ligand C1: 'ABCD' is not a CCD code/);
  });
});

describe('RDKit in the engine: a recorded job with a bad SMILES is never sent', () => {
  it('a job written to the store before the check (an old record) fails INVALID_INPUT when run, with no call to the backend', async () => {
    const rig = await cloudRig();
    try {
      const bad = complex('C1=CC=CC=C1X');
      const job = rig.store.createJob({ kind: 'boltz2', backend: 'cloud-run', params: { request: bad, route: { policy: 'auto', reason: 'test', function: 'predict', estimateUsd: null } }, input: bad });
      rig.emu.reset();
      const done = await rig.queue.schedule(job.id).done;
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'INVALID_INPUT');
      assert.match(done.error?.message ?? '', /ligand LIG7: RDKit .* at position 12/);
      assert.equal(rig.emu.stats().requests, 0, 'nothing sent');
    } finally {
      await rig.close();
    }
  });
});

describe('RDKit in the engine: tandem submit boltz2', () => {
  it('refuses C1=CC=CC=C1X naming ligand L2 and position 12, exit 1, no call to the emulator', async () => {
    const emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-smiles-cli-'));
    try {
      const env = { ...process.env, TANDEM_HOME: home, TANDEM_CLOUDRUN_URL: emu.cloudRunUrl, TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN, TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_MODAL_TOKEN: TEST_TOKEN };
      const r = await runTandem(['submit', 'boltz2', '--protein', PROTEIN, '--ligand', 'CCO', 'C1=CC=CC=C1X', '--wait', '--quiet'], env);
      assert.equal(r.status, 1, `exit 1 (an INVALID_INPUT error): ${r.stderr}`);
      assert.match(r.stderr, /ligands\[1\]\.smiles: ligand L2: RDKit \S+ cannot read the SMILES 'C1=CC=CC=C1X': syntax error at position 12 \("X"\)/);
      assert.equal(emu.stats().requests, 0, 'nothing sent');
      const ok = await runTandem(['submit', 'boltz2', '--protein', PROTEIN, '--ligand', 'C'.repeat(60), '--affinity', '--wait', '--quiet'], env);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stderr, /warning: ligands\[0\]\.smiles: ligand L1 has 60 heavy atoms/);
    } finally {
      await emu.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
