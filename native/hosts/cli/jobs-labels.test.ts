import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { JobStore } from '../../engine/jobs/job-store.js';
import type { Job } from '../../engine/jobs/job-types.js';
import { openDatabase } from '../../engine/store/database.js';
import { LATEST_VERSION, MIGRATIONS } from '../../engine/store/migrations.js';
import { runTandem } from '../../testing/cli-run.js';
import { cloudRig, PROTEIN, type CloudRig } from '../../testing/cloud-rig.js';

/**
 * Every job says what it worked on (issue 18 point 1): the label of each job kind in
 * `tandem jobs list` (--json and text) and the CSV export, a fallback for rows written before labels
 * were stored, and `tandem jobs show` printing the whole result, never cut with an ellipsis.
 *
 * index and eval jobs come from the real CLI (built-in model, offline); the cloud kinds from the
 * CloudService against the emulator; the other kinds through the JobStore with the params their
 * commands record.
 */

const T = { timeout: 180_000 };
let rig: CloudRig;
let docs: string;
const ids: Record<string, string> = {};

const PROMPT = 'Extract every compound named in this abstract and give its role in the binding assay, as JSON';

before(async () => {
  rig = await cloudRig();
  docs = path.join(rig.home, 'docs');
  fs.mkdirSync(docs);
  // Enough files that the index result is long (the old `jobs show` cut it at 200 characters with '…').
  for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(docs, `note-${String(i).padStart(2, '0')}-about-glaciers-and-volcanoes.md`), `Note ${i}: glaciers retreat while volcanoes erupt.\n`);
  fs.writeFileSync(path.join(docs, 'blob.bin'), Buffer.from([0, 1, 2, 3]));
  fs.writeFileSync(path.join(rig.home, 'queries.jsonl'), '{"_id":"q1","text":"glaciers"}\n{"_id":"q2","text":"volcanoes"}\n');
  fs.writeFileSync(path.join(rig.home, 'qrels.tsv'), 'q1\tnote-00-about-glaciers-and-volcanoes.md\t1\n');

  const idx = await runTandem(['index', docs, '--collection', 'papers', '--json', '--quiet'], rig.env);
  assert.ok(idx.status === 0 || idx.status === 3, `index: ${idx.status} ${idx.stderr}`);
  const ev = await runTandem(['eval', '--collection', 'papers', '--queries', path.join(rig.home, 'queries.jsonl'), '--qrels', path.join(rig.home, 'qrels.tsv'), '--mode', 'lexical', '--quiet'], rig.env);
  assert.equal(ev.status, 0, ev.stderr);

  const done = await Promise.all([
    rig.svc.submit(rig.queue, { kind: 'boltz2', name: 't4-l99a', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'BNZ', smiles: 'c1ccccc1' }], affinity: true }).handle.done,
    rig.svc.submit(rig.queue, { kind: 'boltz2-batch', name: 'screen-1', proteins: [{ id: 'A', sequence: PROTEIN }], ligands: [{ id: 'L1', smiles: 'CCO' }, { id: 'L2', smiles: 'c1ccccc1O' }, { id: 'L3', ccd: 'ATP' }] }).handle.done,
    rig.svc.submit(rig.queue, { kind: 'generate', model: 'qwen-32b', prompt: PROMPT, schema: { type: 'object' } }).handle.done,
    rig.svc.submit(rig.queue, { kind: 'embed-remote', texts: ['a', 'b', 'c'] }).handle.done,
  ]);
  for (const j of done) assert.equal(j.status, 'succeeded', `${j.kind}: ${JSON.stringify(j.error)}`);

  const s = rig.store;
  // The params each command records (embed: a host that records embed jobs; generate-local: tandem generate; ...).
  s.createJob({ kind: 'embed', backend: 'local', params: { model: 'Xenova/bge-small-en-v1.5', inputFile: '/data/abstracts.jsonl' }, input: ['one', 'two', 'three', 'four'] });
  s.createJob({ kind: 'generate-local', backend: 'local', params: { model: 'onnx-community/Qwen2.5-0.5B-Instruct', prompt: 'Summarise   the\nabstract in two sentences please, for a lay reader who knows no chemistry', maxTokens: 64 }, input: { prompt: 'x' } });
  s.createJob({ kind: 'upgrade', backend: 'local', params: { collection: 'papers', model: 'Xenova/bge-small-en-v1.5', from: 'minishlab/potion-base-2M' }, input: 1 });
  s.createJob({ kind: 'upgrade', backend: 'local', params: { collection: 'notes', model: 'Xenova/bge-small-en-v1.5', from: null }, input: 2 });
  s.createJob({ kind: 'run-onnx', backend: 'local', params: { model: '/models/mine/mlp.onnx', inputs: '/work/inputs.json', device: 'cpu', allowFallback: true, format: 'nested', output: null, fetch: null }, inputDigest: 'a'.repeat(64) });
  s.createJob({ kind: 'model-pull', backend: 'local', params: { id: 'Xenova/bge-small-en-v1.5', variant: 'int8' }, input: 3 });
  // A row written before labels were stored: its label column is NULL.
  const old = s.createJob({ kind: 'index', backend: 'local', params: { root: '/old/folder', collection: 'legacy', model: 'minishlab/potion-base-2M' }, input: 4 });
  rig.db.prepare('UPDATE jobs SET label = NULL WHERE id = ?').run(old.id);
  ids.old = old.id;
});

after(async () => rig?.close());

async function listJson(): Promise<Job[]> {
  const r = await runTandem(['jobs', 'list', '--json', '--limit', '100'], rig.env);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Job[];
}

function labelOf(jobs: Job[], kind: string, pred: (j: Job) => boolean = () => true): string {
  const j = jobs.find((x) => x.kind === kind && pred(x));
  assert.ok(j, `a ${kind} job is listed`);
  return j.label;
}

test('jobs list --json: every job kind says what it worked on', T, async () => {
  const jobs = await listJson();
  const lysozyme = PROTEIN.length;
  assert.equal(labelOf(jobs, 'index', (j) => j.id !== ids.old), `papers ← ${docs}, minishlab/potion-base-2M`);
  assert.equal(labelOf(jobs, 'eval'), 'papers, queries queries.jsonl (2 queries)');
  assert.equal(labelOf(jobs, 'embed'), 'Xenova/bge-small-en-v1.5, abstracts.jsonl, 4 texts');
  assert.equal(labelOf(jobs, 'generate-local'), 'onnx-community/Qwen2.5-0.5B-Instruct: "Summarise the abstract in two sentences please, …"');
  assert.equal(labelOf(jobs, 'generate'), 'qwen-32b: "Extract every compound named in this abstract …"');
  assert.equal(labelOf(jobs, 'embed-remote'), '3 texts');
  assert.equal(labelOf(jobs, 'boltz2'), `t4-l99a: chain A (${lysozyme} aa); ligand BNZ (c1ccccc1) (affinity)`);
  assert.equal(labelOf(jobs, 'boltz2-batch'), `screen-1: 3 ligands vs chain A (${lysozyme} aa)`);
  assert.equal(labelOf(jobs, 'upgrade', (j) => j.params.collection === 'papers'), 'papers: minishlab/potion-base-2M → Xenova/bge-small-en-v1.5');
  assert.equal(labelOf(jobs, 'upgrade', (j) => j.params.collection === 'notes'), 'notes: lexical only → Xenova/bge-small-en-v1.5');
  assert.equal(labelOf(jobs, 'run-onnx'), 'mlp.onnx, inputs.json');
  assert.equal(labelOf(jobs, 'model-pull'), 'Xenova/bge-small-en-v1.5 (int8)');
  assert.equal(labelOf(jobs, 'index', (j) => j.id === ids.old), 'legacy ← /old/folder, minishlab/potion-base-2M', 'a row without a stored label gets one at read time');
  const stored = rig.db.prepare("SELECT label FROM jobs WHERE kind = 'boltz2'").get() as { label: string | null };
  assert.equal(stored.label, labelOf(jobs, 'boltz2'), 'the label is stored with the job');
});

test('jobs list: the text table has a LABEL column beside the kind', T, async () => {
  const r = await runTandem(['jobs', 'list', '--limit', '100'], rig.env);
  assert.equal(r.status, 0, r.stderr);
  const [head, ...rows] = r.stdout.trimEnd().split('\n');
  assert.match(head!, /^ID\s+KIND\s+LABEL\s+BACKEND\s+STATUS/);
  const col = head!.indexOf('LABEL');
  const indexRow = rows.find((l) => l.includes(`papers ← ${docs}`));
  assert.ok(indexRow, `the index job's label is in the table:\n${r.stdout}`);
  assert.equal(indexRow.indexOf('papers ←'), col, 'under the LABEL header');
  assert.ok(rows.some((l) => l.includes('screen-1: 3 ligands vs chain A')), 'the batch label is in the table');
});

test('jobs show prints the whole result: files indexed and skipped by reason, result file paths; no ellipsis', T, async () => {
  const jobs = await listJson();
  const index = jobs.find((j) => j.kind === 'index' && j.id !== ids.old)!;
  assert.ok(JSON.stringify(index.result).length > 400, 'the result is longer than the old 200-character cut');
  const r = await runTandem(['jobs', 'show', index.id], rig.env);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('…'), `no ellipsis in:\n${r.stdout}`);
  assert.match(r.stdout, new RegExp(`^label\\s+papers ← ${docs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, minishlab/potion-base-2M$`, 'm'));
  assert.match(r.stdout, /^result$/m);
  assert.match(r.stdout, /^ {2}filesIndexed: 12$/m);
  assert.match(r.stdout, /^ {4}unsupported type \.bin: 1$/m, 'skipped files counted by reason');
  assert.ok(r.stdout.includes(`path: ${path.join(docs, 'blob.bin')}`), 'the skipped file is named in full');
  assert.match(r.stdout, /^ {2}totalMs: [\d.]+$/m, 'the last field of the result is there');

  const boltz = jobs.find((j) => j.kind === 'boltz2')!;
  const b = await runTandem(['jobs', 'show', boltz.id], rig.env);
  assert.equal(b.status, 0, b.stderr);
  assert.ok(!b.stdout.includes('…'), `no ellipsis in:\n${b.stdout}`);
  const files = (boltz.result as { files: Record<string, string> }).files;
  assert.ok(Object.keys(files).length >= 2, 'structure and confidence files at least');
  for (const [k, f] of Object.entries(files)) assert.ok(b.stdout.includes(`${k}: ${f}`), `the ${k} file path in full: ${f}`);
  assert.match(b.stdout, /^ {2}confidence:$/m, 'scores are printed');
});

test('jobs export: the CSV has a label column (after kind) and the JSON export carries it', T, async () => {
  const r = await runTandem(['jobs', 'export', '--format', 'csv'], rig.env);
  assert.equal(r.status, 0, r.stderr);
  const header = r.stdout.split('\r\n')[0]!.split(',');
  assert.deepEqual(header.slice(0, 3), ['id', 'kind', 'label']);
  const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
  const jobs = await listJson();
  assert.equal(rows.length, jobs.length);
  for (const j of jobs) assert.equal(rows.find((x) => x.id === j.id)!.label, j.label, `${j.kind} ${j.id}`);
  assert.ok(rows.some((x) => x.label === 'qwen-32b: "Extract every compound named in this abstract …"'));
  const json = await runTandem(['jobs', 'export', '--format', 'json'], rig.env);
  const exported = JSON.parse(json.stdout) as Job[];
  assert.equal(exported.find((j) => j.id === ids.old)!.label, 'legacy ← /old/folder, minishlab/potion-base-2M');
});

test('a store at schema v3 gains the label column; its jobs get labels at read time', T, () => {
  const file = path.join(rig.home, 'v3.sqlite');
  const v3 = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version <= 3) });
  v3.prepare(
    `INSERT INTO jobs (id, kind, backend, params, input_digest, status, priority, queued_at) VALUES ('01J000000000000000000000AA', 'run-onnx', 'local', '{"model":"/m/net.onnx","inputs":"/m/in.json"}', '${'b'.repeat(64)}', 'succeeded', 0, '2026-01-01T00:00:00.000Z')`,
  ).run();
  v3.close();
  const db = openDatabase(file);
  try {
    assert.equal(db.pragma('user_version', { simple: true }), LATEST_VERSION);
    assert.equal(new JobStore(db).get('01J000000000000000000000AA').label, 'net.onnx, in.json');
  } finally {
    db.close();
  }
});
