import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EmbedClient } from '../inference/embed-client.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { runTandem } from '../../testing/cli-run.js';
import { indexPath } from './indexer.js';
import type { ModeUsed } from './search-mode.js';
import { Searcher } from './searcher.js';

// No ../shared needed: a lexical-only collection runs no model (a tokenizer, if one loads, only measures chunks).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-lexical-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: path.join(tmp, 'no-models') };
const client = new EmbedClient(env);
after(() => client.close());

const corpus = path.join(tmp, 'corpus');
fs.mkdirSync(corpus, { recursive: true });
const topics = ['protein folding', 'ligand binding', 'gene expression', 'cell membranes', 'enzyme kinetics'];
for (let i = 0; i < 25; i++) {
  const t = topics[i % topics.length]!;
  const body = Array.from({ length: 40 }, (_, j) => `Sentence ${j} of note ${i} is about ${t} and sample ${i * 100 + j}.`).join(' ');
  fs.writeFileSync(path.join(corpus, `note-${i}.md`), `# Note ${i}\n\n${body}\n\n${body}\n`);
}
fs.writeFileSync(path.join(corpus, 'special.txt'), 'The zebrafish xylophone assay is described only here.');

function count(lib: LibraryStore, sql: string): number {
  return (lib.db.prepare(sql).get() as { n: number }).n;
}

test('--lexical-only builds chunks + FTS5 and no vectors; lexical search works; vector and hybrid answer lexically and say why', async () => {
  const lib = new LibraryStore(openDatabase(path.join(tmp, 'lex.db')));
  const s = await indexPath(lib, client, { root: corpus, collection: 'lex', model: 'minishlab/potion-base-2M', lexicalOnly: true }, {}, env);
  assert.equal(s.lexicalOnly, true);
  assert.equal(s.model, null);
  assert.equal(s.documentsWritten, 26);
  const c = lib.requireCollection('lex');
  assert.equal(c.model, null, 'no live model');
  const chunks = count(lib, 'SELECT COUNT(*) AS n FROM chunks');
  assert.ok(chunks > 26, `long notes are cut into several chunks: ${chunks}`);
  assert.equal(count(lib, 'SELECT COUNT(*) AS n FROM embeddings'), 0, 'no vectors');
  assert.equal(count(lib, 'SELECT COUNT(*) AS n FROM chunks_fts'), chunks, 'one FTS row per chunk');
  const st = lib.stats(c);
  assert.equal(st.lexicalOnly, true);
  assert.equal(st.liveVectors, null);

  const searcher = new Searcher(lib, client, env);
  try {
    const lexical = await searcher.search('lex', 'zebrafish xylophone', { k: 3, mode: 'lexical' });
    assert.equal(lexical[0]?.docKey, 'special.txt');
    for (const mode of ['vector', 'hybrid'] as const) {
      let used: ModeUsed | undefined;
      const hits = await searcher.search('lex', 'zebrafish xylophone', { k: 3, mode, onModeUsed: (m) => (used = m) });
      assert.deepEqual(hits.map((h) => h.docKey), lexical.map((h) => h.docKey), `${mode} answers as lexical does`);
      assert.equal(used?.used, 'lexical');
      assert.equal(used?.requested, mode);
      assert.match(used?.reason ?? '', /lexical-only \(no vectors\), so (vector|hybrid) search answered lexically; `tandem collections upgrade "lex" --model ID` adds vectors/);
    }
    let plain: ModeUsed | undefined;
    await searcher.search('lex', 'ligand', { k: 3, mode: 'lexical', onModeUsed: (m) => (plain = m) });
    assert.deepEqual(plain, { requested: 'lexical', used: 'lexical', reason: null });
  } finally {
    searcher.close();
  }

  // Re-indexing stays lexical and incremental; a model named for it is a CONFLICT saying how to add vectors.
  const again = await indexPath(lib, client, { root: corpus, collection: 'lex', model: 'minishlab/potion-base-2M', lexicalFallback: true }, {}, env);
  assert.equal(again.lexicalOnly, true);
  assert.equal(again.documentsWritten, 0, 'unchanged files are skipped');
  assert.match(again.notice ?? '', /is lexical-only/);
  await assert.rejects(indexPath(lib, client, { root: corpus, collection: 'lex', model: 'minishlab/potion-base-2M' }, {}, env), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFLICT');
    assert.match(e.message, /is indexed with no model \(lexical-only\).*tandem collections upgrade "lex" --model minishlab\/potion-base-2M/);
    return true;
  });
  lib.db.close();
});

test('a default model that cannot load gives a lexical-only collection with a notice; a model the user named fails instead', async () => {
  const lib = new LibraryStore(openDatabase(path.join(tmp, 'fallback.db')));
  const s = await indexPath(lib, client, { root: corpus, collection: 'auto', model: 'nobody/no-such-model', lexicalFallback: true }, {}, env);
  assert.equal(s.lexicalOnly, true);
  assert.match(s.notice ?? '', /^no embedding model could load \(MODEL_NOT_FOUND: model nobody\/no-such-model not found in .*\), so "auto" is indexed for keyword \(lexical\) search only; `tandem collections upgrade "auto" --model ID` adds vectors later$/);
  assert.ok(count(lib, 'SELECT COUNT(*) AS n FROM chunks') > 26);
  // Chunked by words (no tokenizer loaded): at most 0.75 x 256 words a chunk.
  const longest = lib.db.prepare('SELECT text FROM chunks ORDER BY LENGTH(text) DESC LIMIT 1').pluck().get() as string;
  assert.ok(longest.split(/\s+/).length <= 192, `longest chunk ${longest.split(/\s+/).length} words`);
  await assert.rejects(indexPath(lib, client, { root: corpus, collection: 'named', model: 'nobody/no-such-model' }, {}, env), /MODEL_NOT_FOUND|not found/);
  assert.equal(lib.getCollection('named'), undefined, 'nothing created for a failed run');
  lib.db.close();
});

test('CLI: index --lexical-only, search --mode vector answers lexically (stderr notice, modeUsed in --json), collections show says lexical-only', { timeout: 120_000 }, async () => {
  const cliEnv = { ...process.env, TANDEM_HOME: path.join(tmp, 'cli-home'), TANDEM_MODELS_DIR: path.join(tmp, 'no-models') };
  const idx = await runTandem(['index', corpus, '--collection', 'kw', '--lexical-only', '--quiet'], cliEnv);
  assert.equal(idx.status, 0, idx.stderr);
  assert.match(idx.stderr, /26 documents written, 0 removed, \d+ chunks, lexical-only \(no vectors\)/);
  const r = await runTandem(['search', 'zebrafish xylophone', '--collection', 'kw', '--mode', 'vector', '--json', '--k', '2'], cliEnv);
  assert.equal(r.status, 0, r.stderr);
  const hits = JSON.parse(r.stdout) as Array<{ docKey: string; modeUsed: string; modeReason: string }>;
  assert.equal(hits[0]?.docKey, 'special.txt');
  assert.ok(hits.every((h) => h.modeUsed === 'lexical' && /lexical-only/.test(h.modeReason)), r.stdout);
  assert.match(r.stderr, /mode lexical \(collection "kw" is lexical-only \(no vectors\), so vector search answered lexically/);
  const show = await runTandem(['collections', 'show', 'kw', '--json'], cliEnv);
  const j = JSON.parse(show.stdout) as { model: string | null; lexicalOnly: boolean; liveVectors: string | null; upgradeProgress: unknown };
  assert.deepEqual({ model: j.model, lexicalOnly: j.lexicalOnly, liveVectors: j.liveVectors, upgradeProgress: j.upgradeProgress }, { model: null, lexicalOnly: true, liveVectors: null, upgradeProgress: null });
});
