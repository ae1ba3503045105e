import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EmbedClient } from '../inference/embed-client.js';
import { RerankEngine, type RerankResult } from '../inference/rerank-engine.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { runTandem } from '../../testing/cli-run.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { indexPath } from './indexer.js';
import { Searcher, type SearchMode } from './searcher.js';

const { shared, skip } = sharedOrSkip();
const RERANKER = 'fixtures/reranker-tiny-random';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-rerank-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
const corpus = path.join(tmp, 'corpus');
const client = new EmbedClient(env);
const engine = new RerankEngine(env);
let lib: LibraryStore;
let searcher: Searcher;

const DOCS: Record<string, string> = {
  'enzymes.md': 'Enzyme kinetics follow the Michaelis-Menten equation. Substrate concentration changes the reaction rate.',
  'folding.txt': 'Protein folding is driven by the hydrophobic effect and hydrogen bonds.',
  'cooking.txt': 'A man is eating a piece of bread with butter in the kitchen.',
  'movies.md': 'The new movie is awesome and the actors are great.',
  'ribosome.txt': 'Ribosomes translate messenger RNA into protein chains.',
  'weather.md': 'Rain is expected tomorrow with strong winds from the west.',
  'music.txt': 'The orchestra played a symphony by Brahms last night.',
  'cells.md': 'Cells divide by mitosis; the protein tubulin forms the spindle.',
};

before(async () => {
  if (skip) return;
  fs.mkdirSync(corpus, { recursive: true });
  for (const [name, text] of Object.entries(DOCS)) fs.writeFileSync(path.join(corpus, name), text);
  lib = new LibraryStore(openDatabase(path.join(env.TANDEM_HOME!, 'tandem.db')));
  await indexPath(lib, client, { root: corpus, collection: 'lab', model: 'minishlab/potion-base-2M' }, {}, env);
  searcher = new Searcher(lib, client, env);
});
after(async () => {
  searcher?.close();
  await client.close();
  await engine.dispose();
  lib?.db.close();
});

for (const mode of ['vector', 'lexical', 'hybrid'] as SearchMode[]) {
  test(`${mode}: the top documents are rescored by the cross-encoder and ordered by its scores`, { skip }, async () => {
    const query = 'protein';
    const first = await searcher.search('lab', query, { k: 8, mode });
    assert.ok(first.length >= 3, `${mode} finds several documents (${first.length})`);
    let run: RerankResult | undefined;
    const hits = await searcher.search('lab', query, { k: 8, mode, rerank: { model: RERANKER, top: 8, onResult: (r) => (run = r) } });
    assert.equal(hits.length, first.length, 'same documents');
    assert.deepEqual(new Set(hits.map((h) => h.docKey)), new Set(first.map((h) => h.docKey)), 'the reranker reorders, it does not change the candidates');
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.rerankScore! >= hits[i]!.rerankScore!, `ordered by rerank score at ${i}`);
    // Each score is the cross-encoder's score of (query, the document's best chunk text).
    const texts = lib.chunkInfo(hits.map((h) => h.chunkId));
    const direct = await engine.rerank({ model: RERANKER, pairs: hits.map((h) => [query, texts.get(h.chunkId)!.text]) });
    hits.forEach((h, i) => assert.ok(Math.abs(h.rerankScore! - direct.scores[i]!) < 1e-5, `${h.docKey}: ${h.rerankScore} vs ${direct.scores[i]}`));
    // The first-stage score is kept beside it.
    const firstScore = new Map(first.map((h) => [h.docKey, h.score]));
    for (const h of hits) assert.ok(Math.abs(h.score - firstScore.get(h.docKey)!) < 1e-9, `${h.docKey} keeps its first-stage score`);
    assert.equal(run?.count, hits.length, 'one pair per document');
    assert.ok(run && ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'].includes(run.device.used), 'device reported');
  });
}

test('rerank top bounds the work: only N documents are scored, the rest follow in first-stage order', { skip }, async () => {
  const first = await searcher.search('lab', 'protein cells', { k: 6, mode: 'hybrid' });
  let run: RerankResult | undefined;
  const hits = await searcher.search('lab', 'protein cells', { k: 6, mode: 'hybrid', rerank: { model: RERANKER, top: 3, onResult: (r) => (run = r) } });
  assert.equal(run?.count, 3, 'three pairs scored');
  assert.equal(hits.filter((h) => h.rerankScore !== undefined).length, 3, 'three hits carry a rerank score');
  assert.deepEqual(new Set(hits.slice(0, 3).map((h) => h.docKey)), new Set(first.slice(0, 3).map((h) => h.docKey)), 'the top three are the first stage top three');
  assert.deepEqual(hits.slice(3).map((h) => h.docKey), first.slice(3).map((h) => h.docKey), 'the rest keep their first-stage order');

  // More candidates than k: the reranker sees top N, the answer has k.
  let wide: RerankResult | undefined;
  const two = await searcher.searchMany('lab', [{ id: 'a', text: 'protein' }, { id: 'b', text: 'music symphony' }], { k: 2, mode: 'lexical', rerank: { model: RERANKER, top: 5, onResult: (r) => (wide = r) } });
  assert.equal(two.get('a')!.length, 2, 'k results for query a');
  assert.equal(two.get('b')!.length <= 2, true, 'at most k results for query b');
  const lexA = await searcher.search('lab', 'protein', { k: 5, mode: 'lexical' });
  const lexB = await searcher.search('lab', 'music symphony', { k: 5, mode: 'lexical' });
  assert.equal(wide?.count, lexA.length + lexB.length, 'one batched run over both queries, top 5 each');
});

test('CLI: --rerank shows both scores and the device; a bad reranker id fails before searching', { skip }, async () => {
  const cliEnv = { ...process.env, ...env, TANDEM_HOME: path.join(tmp, 'cli-home') };
  const idx = await runTandem(['index', corpus, '--collection', 'lab', '--quiet'], cliEnv);
  assert.equal(idx.status, 0, idx.stderr);
  const r = await runTandem(['search', 'protein', '--collection', 'lab', '--k', '4', '--rerank', RERANKER, '--rerank-top', '3'], cliEnv);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^\s*\d+\. /.test(l));
  assert.ok(lines.length >= 3, r.stdout);
  for (const l of lines.slice(0, 3)) assert.match(l, /^\s*\d+\. rerank -?\d+\.\d{2} {2}\(first stage (fused|bm25|cosine) -?\d+\.\d+\) {2}\S/, 'both scores on reranked lines, each saying what it is');
  assert.match(r.stderr, /rerank fixtures\/reranker-tiny-random \(fp32, raw scores\) over the top 3: 3 pairs, device (cpu|cuda|dml|coreml)/, r.stderr);
  const json = await runTandem(['search', 'protein', '--collection', 'lab', '--k', '2', '--json', '--rerank', RERANKER, '--rerank-scores', 'sigmoid'], cliEnv);
  assert.equal(json.status, 0, json.stderr);
  const hits = JSON.parse(json.stdout) as Array<{ score: number; rerankScore: number }>;
  assert.ok(hits.length === 2 && hits.every((h) => h.rerankScore > 0 && h.rerankScore < 1), `sigmoid scores in (0, 1): ${json.stdout}`);
  const bad = await runTandem(['search', 'protein', '--collection', 'lab', '--rerank', 'nobody/missing-reranker'], cliEnv);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /^tandem: MODEL_NOT_FOUND: model nobody\/missing-reranker not found in /m, 'clear message naming the model');
  assert.equal(bad.stdout, '', 'nothing printed');
});
