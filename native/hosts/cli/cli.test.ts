import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-'));

function tandem(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'native/hosts/cli/bin.ts'), ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help lists the commands', () => {
  const r = tandem(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['doctor', 'models', 'embed']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test('embed: a malformed JSONL line is named, the other lines are embedded in order, exit 3', { skip }, () => {
  const input = path.join(tmp, 'in.jsonl');
  fs.writeFileSync(input, ['{"id":"a","text":"A man is eating food."}', '{"id":"b","text":', '{"id":"c","text":"The new movie is awesome."}'].join('\n') + '\n');
  const out = path.join(tmp, 'out.jsonl');
  const r = tandem(['embed', '--model', 'minishlab/potion-base-2M', '--input', input, '--output', out]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /line 2: malformed JSON/);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; embedding: number[] });
  assert.deepEqual(rows.map((x) => x.id), ['a', 'c']);
  assert.equal(rows[0]!.embedding.length, 64);
  assert.match(r.stderr, /2 embedded, 64-d minishlab\/potion-base-2M \(static\), device native/);
});

test('embed --text writes JSONL to stdout; a 100,000-character text is flagged as truncated', { skip }, () => {
  const r = tandem(['embed', '--model', 'fixtures/minilm-l6-arch-random', '--variant', 'int8', '--text', 'hello', 'x '.repeat(50_000)]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; embedding: number[]; truncated?: boolean });
  assert.deepEqual(rows.map((x) => [x.id, x.truncated ?? false]), [[1, false], [2, true]]);
  assert.match(r.stderr, /id 2 \(line 2\) was truncated to 512 tokens/);
  assert.match(r.stderr, /1 truncated/);
});

test('embed --device cuda on a machine without CUDA: CPU with the reason, or a clear error with --no-fallback', { skip }, () => {
  const ok = tandem(['embed', '--model', 'fixtures/minilm-l6-arch-random', '--variant', 'int8', '--device', 'cuda', '--text', 'hello']);
  assert.equal(ok.code, 0, ok.stderr);
  if (/device cuda[,)]/.test(ok.stderr)) return; // CUDA really works here
  assert.match(ok.stderr, /device cpu (— no (NVIDIA )?GPU|\(cuda: .+\))/, 'a short reason (no NVIDIA GPU, no GPU) or the whole one');
  const strict = tandem(['embed', '--model', 'fixtures/minilm-l6-arch-random', '--variant', 'int8', '--device', 'cuda', '--no-fallback', '--text', 'hello']);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /^tandem: DEVICE_UNAVAILABLE: .*CPU fallback is disabled/m);
  assert.equal(strict.stdout, '');
});

test('bad arguments exit 2 with a specific message', () => {
  const r = tandem(['embed', '--model', 'x/y', '--variant', 'fp64', '--text', 'a']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /expected one of fp32, int8, fp16, static, got "fp64"/);
  const both = tandem(['embed', '--model', 'x/y']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either --text T\.\.\. or --input FILE/);
});

test('an unknown model fails with MODEL_NOT_FOUND naming where it looked', () => {
  const r = tandem(['embed', '--model', 'nobody/nothing', '--text', 'a']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /MODEL_NOT_FOUND: model nobody\/nothing not found in/);
});

test('index a BEIR corpus, then batch search prints TREC lines: QID Q0 DOCID RANK SCORE tandem', { skip }, () => {
  const dir = path.join(tmp, 'beir');
  fs.mkdirSync(dir, { recursive: true });
  const docs = ['A man is playing a guitar.', 'A woman is slicing an onion.', 'The cat sleeps on the sofa.', 'Stock markets fell sharply today.'];
  fs.writeFileSync(path.join(dir, 'corpus.jsonl'), docs.map((t, i) => JSON.stringify({ _id: `d${i}`, title: '', text: t })).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'queries.jsonl'), [JSON.stringify({ _id: 'q1', text: 'someone plays guitar' }), JSON.stringify({ _id: 'q2', text: 'cutting onions' })].join('\n') + '\n');
  const home = { TANDEM_HOME: path.join(tmp, 'beir-home') };
  const ix = tandem(['index', path.join(dir, 'corpus.jsonl'), '--collection', 'beir', '--model', 'minishlab/potion-base-2M', '--quiet'], home);
  assert.equal(ix.code, 0, ix.stderr);
  assert.match(ix.stderr, /4 documents written/);
  for (const mode of ['vector', 'lexical', 'hybrid']) {
    const r = tandem(['search', '--collection', 'beir', '--queries', path.join(dir, 'queries.jsonl'), '--format', 'trec', '--k', '3', '--mode', mode], home);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const l of lines) assert.match(l, /^q[12] Q0 d\d [1-3] -?[\d.e+-]+ tandem$/, `${mode}: ${l}`);
    assert.match(lines.find((l) => l.startsWith('q1 '))!, /^q1 Q0 d0 1 /, `${mode}: q1 should rank d0 first`);
    assert.match(lines.find((l) => l.startsWith('q2 '))!, /^q2 Q0 d1 1 /, `${mode}: q2 should rank d1 first`);
  }
  const list = tandem(['collections', 'show', 'beir', '--json'], home);
  assert.equal(list.code, 0, list.stderr);
  const s = JSON.parse(list.stdout) as { documents: number; chunks: number; models: string[] };
  assert.deepEqual([s.documents, s.chunks, s.models], [4, 4, ['minishlab/potion-base-2M@static']]);
});
