import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { EmbedClient } from '../inference/embed-client.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { indexPath } from './indexer.js';
import { Searcher } from './searcher.js';
import { bracketed } from '../search/lexical.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-search-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
const corpus = path.join(tmp, 'corpus');
let lib: LibraryStore;
const client = new EmbedClient(env);
let searcher: Searcher;

before(async () => {
  if (skip) return;
  fs.mkdirSync(path.join(corpus, 'papers'), { recursive: true });
  fs.mkdirSync(path.join(corpus, 'notes'), { recursive: true });
  fs.writeFileSync(path.join(corpus, 'papers', 'enzymes.md'), 'Enzyme kinetics follow the Michaelis-Menten equation.\n\nSubstrate concentration changes the reaction rate.');
  fs.writeFileSync(path.join(corpus, 'papers', 'folding.txt'), 'Protein folding is driven by the hydrophobic effect.');
  fs.writeFileSync(path.join(corpus, 'notes', 'cooking.txt'), 'A man is eating a piece of bread with butter.');
  fs.writeFileSync(path.join(corpus, 'notes', 'movies.md'), 'The new movie is awesome and the actors are great.');
  const old = new Date('2020-01-01T00:00:00Z');
  fs.utimesSync(path.join(corpus, 'notes', 'movies.md'), old, old);
  lib = new LibraryStore(openDatabase(path.join(env.TANDEM_HOME!, 'tandem.db')));
  await indexPath(lib, client, { root: corpus, collection: 'lab', model: 'minishlab/potion-base-2M' }, {}, env);
  searcher = new Searcher(lib, client, env);
});
after(async () => {
  searcher?.close();
  await client.close();
  lib?.db.close();
});

test('vector search ranks the semantically closest document first, with its path, offsets and a marked snippet', { skip }, async () => {
  const hits = await searcher.search('lab', 'someone eats food', { k: 4, mode: 'vector' });
  assert.equal(hits[0]!.docKey, 'notes/cooking.txt', JSON.stringify(hits.map((h) => h.docKey)));
  assert.equal(hits.length, 4, 'k documents');
  assert.ok(hits[0]!.path.endsWith(path.join('notes', 'cooking.txt')), hits[0]!.path);
  assert.ok(hits[0]!.end > hits[0]!.start, 'offsets');
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score, 'sorted by score');
});

test('vector scores equal a brute-force cosine over the stored vectors', { skip }, async () => {
  const q = await client.embed({ model: 'minishlab/potion-base-2M', inputType: 'query', texts: ['protein structure'] });
  const { chunkIds, vectors, dims } = lib.loadVectors(lib.requireCollection('lab').id, 'minishlab/potion-base-2M@static');
  const brute = Array.from(chunkIds, (id, r) => ({ id, s: vectors.subarray(r * dims, (r + 1) * dims).reduce((a, x, d) => a + x * q.vectors[d]!, 0) })).sort((a, b) => b.s - a.s);
  const hits = await searcher.search('lab', 'protein structure', { k: 4, mode: 'vector' });
  assert.equal(hits[0]!.chunkId, brute[0]!.id, 'same best chunk');
  assert.ok(Math.abs(hits[0]!.score - brute[0]!.s) < 1e-5, `score ${hits[0]!.score} vs ${brute[0]!.s}`);
});

test('lexical search marks matched terms; an empty query gives no results, not an error', { skip }, async () => {
  const hits = await searcher.search('lab', 'Michaelis equation', { k: 5, mode: 'lexical' });
  assert.equal(hits[0]!.docKey, 'papers/enzymes.md');
  assert.match(bracketed({ text: hits[0]!.snippet, highlights: hits[0]!.highlights }), /\[Michaelis\]/);
  assert.deepEqual(await searcher.search('lab', '  ', { k: 5, mode: 'lexical' }), []);
});

test('hybrid fuses both lists: a lexical-only match and a vector-only match both appear', { skip }, async () => {
  const lexical = await searcher.search('lab', 'hydrophobic butter', { k: 4, mode: 'lexical' });
  const vector = await searcher.search('lab', 'hydrophobic butter', { k: 1, mode: 'vector' });
  const hybrid = await searcher.search('lab', 'hydrophobic butter', { k: 4, mode: 'hybrid' });
  const keys = hybrid.map((h) => h.docKey);
  for (const k of [...lexical.map((h) => h.docKey), vector[0]!.docKey]) assert.ok(keys.includes(k), `${k} missing from hybrid ${keys}`);
});

test('filters: path glob, file type and modified date', { skip }, async () => {
  const onlyNotes = await searcher.search('lab', 'protein', { k: 10, mode: 'vector', filters: { pathGlob: 'notes/**' } });
  assert.deepEqual(onlyNotes.map((h) => h.docKey).sort(), ['notes/cooking.txt', 'notes/movies.md']);
  const md = await searcher.search('lab', 'protein', { k: 10, mode: 'hybrid', filters: { fileTypes: ['md'] } });
  assert.ok(md.length > 0 && md.every((h) => h.fileType === 'md'), JSON.stringify(md.map((h) => h.docKey)));
  const recent = await searcher.search('lab', 'movie actors', { k: 10, mode: 'lexical', filters: { modifiedAfter: new Date('2021-01-01') } });
  assert.ok(!recent.some((h) => h.docKey === 'notes/movies.md'), 'old file filtered out');
});

test('an unknown collection is NOT_FOUND naming the ones that exist', { skip }, async () => {
  await assert.rejects(searcher.search('nope', 'x', { k: 1, mode: 'vector' }), { code: 'NOT_FOUND', message: /collections: lab/ });
});

test('search keeps working while an index job writes to the same store', { skip, timeout: 120_000 }, async () => {
  const big = path.join(tmp, 'big');
  fs.mkdirSync(big);
  fs.writeFileSync(path.join(big, 'c.jsonl'), Array.from({ length: 20000 }, (_, i) => JSON.stringify({ _id: `b${i}`, text: `record ${i} about assays and enzymes number ${i % 97}` })).join('\n'));
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'native/hosts/cli/bin.ts'), 'index', big, '--collection', 'big', '--quiet'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((res) => child.on('exit', res));
  let searches = 0;
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    const hits = await searcher.search('lab', 'enzyme kinetics', { k: 2, mode: 'hybrid' });
    assert.equal(hits[0]!.docKey, 'papers/enzymes.md', 'results stay right during indexing');
    searches++;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await exited, 0, 'index finished');
  assert.ok(searches >= 3, `only ${searches} searches ran during the index job`);
});
