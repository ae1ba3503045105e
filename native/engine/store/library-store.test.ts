import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { openDatabase } from './database.js';
import { LibraryStore, type NewChunk } from './library-store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-libstore-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DIMS = 4;

function doc(key: string, n: number): { doc: { key: string; path: string; fileType: string; size: number; mtimeMs: number; sha256: string }; chunks: NewChunk[]; vectors: Float32Array; dims: number } {
  const chunks = Array.from({ length: n }, (_, ord) => ({ ord, text: `${key} chunk ${ord} word${key}x${ord}`, start: ord * 10, end: ord * 10 + 9, tokens: 5, ...(ord % 3 === 0 ? { page: ord + 1 } : {}) }));
  const vectors = new Float32Array(n * DIMS);
  for (let i = 0; i < n; i++) vectors.set([key.charCodeAt(0), i, -i, 0.5], i * DIMS);
  return { doc: { key, path: `/c/${key}.txt`, fileType: 'txt', size: n, mtimeMs: 1, sha256: key }, chunks, vectors, dims: DIMS };
}

test('a group written in multi-row inserts keeps every chunk with its own vector and FTS row, and a rewrite replaces it', () => {
  const store = new LibraryStore(openDatabase(path.join(tmp, 'a.db')));
  const c = store.ensureCollection({ name: 'c', model: 'm', variant: 'fp32', root: '/c' });
  // 3 documents, 601 chunks: more than two full multi-row statements plus a remainder.
  store.writeDocuments(c.id, 'm@fp32', [doc('a', 300), doc('b', 1), doc('c', 300)]);
  const rows = store.db
    .prepare("SELECT d.doc_key AS key, c.ord, c.text, c.page, e.vector FROM chunks c JOIN documents d ON d.id = c.document_id JOIN embeddings e ON e.chunk_id = c.id AND e.model = 'm@fp32' ORDER BY d.doc_key, c.ord")
    .all() as Array<{ key: string; ord: number; text: string; page: number | null; vector: Buffer }>;
  assert.equal(rows.length, 601);
  for (const r of rows) {
    assert.equal(r.text, `${r.key} chunk ${r.ord} word${r.key}x${r.ord}`);
    assert.equal(r.page, r.ord % 3 === 0 ? r.ord + 1 : null);
    assert.deepEqual([...new Float32Array(r.vector.buffer, r.vector.byteOffset, DIMS)], [r.key.charCodeAt(0), r.ord, -r.ord, 0.5], `vector of ${r.key}#${r.ord}`);
  }
  const fts = (term: string) => (store.db.prepare('SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?').all(term) as unknown[]).length;
  assert.equal(fts('wordcx299'), 1);
  assert.equal(fts('chunk'), 601);

  store.writeDocuments(c.id, 'm@fp32', [doc('a', 2)]);
  assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }).n, 303);
  assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM embeddings').get() as { n: number }).n, 303);
  assert.equal(fts('wordax299'), 0, 'the replaced chunks left the FTS index');
  assert.equal(fts('chunk'), 303);
  store.db.close();
});
