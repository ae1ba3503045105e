import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { TandemError } from '../common/errors.js';
import { EmbedClient } from '../inference/embed-client.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { indexPath } from './indexer.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-indexer-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
const client = new EmbedClient(env);
after(() => client.close());

function setup(name: string) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const lib = new LibraryStore(openDatabase(path.join(tmp, `${name}.db`)));
  const run = () => indexPath(lib, client, { root: dir, collection: 'c', model: 'minishlab/potion-base-2M' }, {}, env);
  const keys = () => (lib.db.prepare('SELECT doc_key AS k FROM documents ORDER BY doc_key').all() as Array<{ k: string }>).map((r) => r.k);
  const chunkIds = () => (lib.db.prepare('SELECT id FROM chunks ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  return { dir, lib, run, keys, chunkIds };
}

test('re-indexing unchanged files does nothing; changed files are replaced; deleted files leave; renamed files move', { skip }, async () => {
  const { dir, lib, run, keys, chunkIds } = setup('incr');
  fs.writeFileSync(path.join(dir, 'a.md'), '# A\n\nAlpha paragraph about protein folding.');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'Beta text about ligand binding.');
  fs.writeFileSync(path.join(dir, 'c.txt'), 'Gamma text about cell assays.');
  const first = await run();
  assert.equal(first.documentsWritten, 3, 'three documents written');
  assert.deepEqual(keys(), ['a.md', 'b.txt', 'c.txt']);
  const before = chunkIds();

  const again = await run();
  assert.equal(again.documentsWritten, 0, 'nothing rewritten');
  assert.equal(again.filesUnchanged, 3, 'all unchanged');
  assert.deepEqual(chunkIds(), before, 'chunk rows untouched');

  fs.writeFileSync(path.join(dir, 'b.txt'), 'Beta text, now about enzyme kinetics and much more.');
  fs.rmSync(path.join(dir, 'c.txt'));
  fs.renameSync(path.join(dir, 'a.md'), path.join(dir, 'renamed.md'));
  const third = await run();
  assert.equal(third.documentsWritten, 2, 'changed b and renamed a written');
  assert.equal(third.documentsDeleted, 2, 'c and the old a removed');
  assert.deepEqual(keys(), ['b.txt', 'renamed.md']);
  const text = (lib.db.prepare("SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.doc_key = 'b.txt'").get() as { text: string }).text;
  assert.match(text, /enzyme kinetics/);
  const orphans = (lib.db.prepare('SELECT COUNT(*) AS n FROM chunks c LEFT JOIN documents d ON d.id = c.document_id WHERE d.id IS NULL').get() as { n: number }).n;
  const fts = (lib.db.prepare('SELECT COUNT(*) AS n FROM chunks_fts').get() as { n: number }).n;
  assert.equal(orphans, 0, 'no orphan chunks');
  assert.equal(fts, chunkIds().length, 'FTS follows chunks');
  lib.db.close();
});

test('a touched file with the same content is not re-embedded', { skip }, async () => {
  const { dir, lib, run, chunkIds } = setup('touch');
  const f = path.join(dir, 'x.txt');
  fs.writeFileSync(f, 'Stable content.');
  await run();
  const ids = chunkIds();
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(f, later, later);
  const r = await run();
  assert.equal(r.documentsWritten, 0, 'same bytes: no rewrite');
  assert.deepEqual(chunkIds(), ids, 'chunks untouched');
  const again = await run();
  assert.equal(again.filesUnchanged, 1, 'new mtime recorded, so the next run skips it early');
  lib.db.close();
});

test('a corrupt or unsupported file becomes a per-file error, never a failed run', { skip }, async () => {
  const { dir, lib, run, keys } = setup('errors');
  fs.writeFileSync(path.join(dir, 'good.txt'), 'Readable text.');
  fs.writeFileSync(path.join(dir, 'broken.pdf'), '%PDF-1.7 this is not really a pdf');
  fs.writeFileSync(path.join(dir, 'bad.jsonl'), '{"_id":"ok1","text":"fine line"}\n{"_id":"oops", "text": \n');
  const r = await run();
  assert.deepEqual(keys(), ['good.txt', 'ok1']);
  assert.ok(r.errors.some((e) => e.path.endsWith('broken.pdf')), `errors: ${JSON.stringify(r.errors)}`);
  assert.ok(r.errors.some((e) => e.path.endsWith('bad.jsonl') && /line 2/.test(e.message)), `errors: ${JSON.stringify(r.errors)}`);
  lib.db.close();
});

test('a collection keeps its model: indexing with another model is a clear CONFLICT', { skip }, async () => {
  const { dir, lib } = setup('conflict');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'text');
  await indexPath(lib, client, { root: dir, collection: 'c', model: 'minishlab/potion-base-2M' }, {}, env);
  await assert.rejects(indexPath(lib, client, { root: dir, collection: 'c', model: 'minishlab/potion-base-2M', variant: 'fp32' }, {}, env), { code: 'CONFLICT', message: /indexed with minishlab\/potion-base-2M \(static\)/ });
  lib.db.close();
});

test('stored vectors equal embedding the chunk texts directly', { skip }, async () => {
  for (const variant of ['fp32', 'static'] as const) {
    const { dir, lib } = setup(`reuse-${variant}`);
    fs.writeFileSync(path.join(dir, 'long.md'), Array.from({ length: 40 }, (_, i) => `Paragraph ${i} talks about enzymes, folding and assays in some detail. It has two sentences.`).join('\n\n'));
    fs.writeFileSync(path.join(dir, 'short.txt'), 'A short note.');
    // Gaps the word cache does not split at, CJK stops and an over-long word: chunks whose ids are not just their pieces'.
    fs.writeFileSync(path.join(dir, 'odd.txt'), Array.from({ length: 30 }, (_, i) => `Zero\u200bwidth ${i}。数据结构\ufeffjoined e\u0301tude. ${'x'.repeat(i * 9)} naïve café!`).join('\n'));
    await indexPath(lib, client, { root: dir, collection: 'c', model: 'minishlab/potion-base-2M', variant }, {}, env);
    const rows = lib.db.prepare('SELECT c.text AS text, e.vector AS v FROM chunks c JOIN embeddings e ON e.chunk_id = c.id ORDER BY c.id').all() as Array<{ text: string; v: Buffer }>;
    assert.ok(rows.length > 2, `chunks: ${rows.length}`);
    const direct = await client.embed({ model: 'minishlab/potion-base-2M', variant, texts: rows.map((r) => r.text), inputType: 'passage' });
    let worst = 0;
    rows.forEach((r, i) => {
      const stored = new Float32Array(r.v.buffer, r.v.byteOffset, direct.dims);
      for (let d = 0; d < direct.dims; d++) worst = Math.max(worst, Math.abs(stored[d]! - direct.vectors[i * direct.dims + d]!));
    });
    // The chunker's ids go to the engine as they are (embedTokens): the static sums are the very same.
    if (variant === 'static') assert.equal(worst, 0, 'static: identical vectors');
    else assert.ok(worst <= 1e-5, `${variant}: max abs diff ${worst}`);
    lib.db.close();
  }
});

test('a failed embedding ends the run at once with its own error; the groups written before it stay, and the next run completes', { skip }, async () => {
  const { dir, lib, keys } = setup('fail-fast');
  // 40 files of ~100k characters: about 16 groups.
  const para = 'Protein folding and ligand binding in cell assays. '.repeat(40);
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(dir, `f${String(i).padStart(2, '0')}.txt`), Array.from({ length: 50 }, () => para).join('\n\n'));
  // The real client, with the third embedding call failing as a crashed worker would.
  let calls = 0;
  const failing = {
    embedDocuments: (req: Parameters<EmbedClient['embedDocuments']>[0], opts: Parameters<EmbedClient['embedDocuments']>[1]) => {
      calls++;
      if (calls === 3) return Promise.reject(new TandemError('INTERNAL', 'embedding worker exited with code 1'));
      return client.embedDocuments(req, opts);
    },
  } as unknown as EmbedClient;
  await assert.rejects(indexPath(lib, failing, { root: dir, collection: 'c', model: 'minishlab/potion-base-2M' }, {}, env), /embedding worker exited with code 1/);
  assert.ok(calls <= 3 + 2, `the run went on after the failure: ${calls} embedding calls`);
  const written = keys().length;
  assert.ok(written > 0 && written < 40, `${written} documents kept from the groups before the failure`);
  const second = await indexPath(lib, client, { root: dir, collection: 'c', model: 'minishlab/potion-base-2M' }, {}, env);
  assert.equal(second.errors.length, 0);
  assert.equal(keys().length, 40);
  assert.equal(second.filesUnchanged, written, 'what was committed is not redone');
  lib.db.close();
});
