import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { openDatabase, type Db } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { bracketed, buildFtsQuery, highlight, lexicalSearch, parseMarked, queryTerms } from './lexical.js';

describe('buildFtsQuery', () => {
  it('quotes tokens, OR-joins them and drops stopwords', () => {
    assert.equal(buildFtsQuery('The protein folding of enzymes'), '"protein" OR "folding" OR "enzymes"');
    assert.equal(buildFtsQuery('to be or not to be'), '"to" OR "be" OR "or" OR "not"', 'stopword-only text still searches');
    assert.equal(buildFtsQuery(''), null);
    assert.equal(buildFtsQuery('  ?!* -- ()'), null);
    assert.equal(buildFtsQuery('Café CAFÉ café'), '"café"');
  });

  it('neutralises FTS5 syntax: quotes, operators, prefixes, column filters, NEAR(', () => {
    const q = buildFtsQuery('"foo" AND bar* NEAR( text:baz ^qux OR -x {a b}')!;
    assert.equal(q, '"foo" OR "bar" OR "near" OR "text" OR "baz" OR "qux" OR "x" OR "b"');
    assert.doesNotMatch(q.replace(/"[^"]*"/g, ''), /[^ OR]/, 'nothing outside quotes but OR');
  });

  it('queryTerms keeps letters and digits of any script', () => {
    assert.deepEqual(queryTerms('COVID-19 Übersicht 北京 x2'), ['covid', '19', 'übersicht', '北京', 'x2']);
  });
});

describe('lexicalSearch on a real store', () => {
  let db: Db;
  before(() => {
    db = openDatabase(':memory:');
    const now = new Date().toISOString();
    db.prepare("INSERT INTO collections (id, name, model, variant, created_at) VALUES (1, 'papers', 'm', 'fp32', ?), (2, 'notes', 'm', 'fp32', ?)").run(now, now);
    const doc = db.prepare(
      "INSERT INTO documents (id, collection_id, doc_key, path, file_type, size, mtime_ms, sha256, indexed_at) VALUES (?, ?, ?, ?, ?, 1, 0, 'x', ?)",
    );
    doc.run(1, 1, 'a.txt', '/a.txt', 'txt', now);
    doc.run(2, 1, 'b.pdf', '/b.pdf', 'pdf', now);
    doc.run(3, 2, 'c.md', '/c.md', 'md', now);
    const chunk = db.prepare('INSERT INTO chunks (id, document_id, ord, text, start, end, tokens) VALUES (?, ?, ?, ?, 0, 0, 1)');
    chunk.run(10, 1, 0, 'Protein folding is driven by hydrophobic collapse of the chain.');
    chunk.run(11, 1, 1, 'Enzymes accelerate reactions; folding errors cause disease.');
    chunk.run(12, 2, 0, 'Protein structure prediction: folding, folding and more folding of proteins.');
    chunk.run(13, 3, 0, 'Protein folding notes from the lab meeting.');
    chunk.run(14, 2, 1, 'Weather was "nice" today AND tomorrow*.');
  });
  after(() => db.close());

  it('ranks by BM25 within a collection and marks snippets', () => {
    const hits = lexicalSearch(new LibraryStore(db), 'protein folding', { k: 10, collectionId: 1 });
    assert.deepEqual(
      hits.map((h) => h.chunkId).sort(),
      [10, 11, 12],
      'collection 2 excluded, every chunk with a term found',
    );
    assert.ok(hits[0]!.chunkId === 12 || hits[0]!.chunkId === 10, `a chunk with both terms first, got ${hits[0]!.chunkId}`);
    assert.equal(hits.at(-1)!.chunkId, 11, 'one term only ranks last');
    assert.ok(hits.every((h, i) => i === 0 || hits[i - 1]!.score >= h.score), 'scores descend');
    assert.ok(hits.every((h) => h.score > 0), 'score is -bm25, positive');
    assert.match(bracketed(hits.find((h) => h.chunkId === 10)!.snippet), /\[Protein\] \[folding\]/);
    assert.equal(hits.find((h) => h.chunkId === 12)!.documentId, 2);
  });

  it('stems through the porter tokenizer, limits k, filters by file type', () => {
    assert.deepEqual(lexicalSearch(new LibraryStore(db), 'folded proteins', { k: 10 }).length, 4, 'porter: folded ~ folding, proteins ~ protein');
    assert.equal(lexicalSearch(new LibraryStore(db), 'protein', { k: 1 }).length, 1);
    const pdf = lexicalSearch(new LibraryStore(db), 'protein', { k: 10, fileTypes: ['pdf'] });
    assert.deepEqual(pdf.map((h) => h.chunkId), [12]);
  });

  it('hostile and empty queries neither throw nor match everything', () => {
    assert.deepEqual(lexicalSearch(new LibraryStore(db), '', { k: 5 }), []);
    assert.deepEqual(lexicalSearch(new LibraryStore(db), '*** ()', { k: 5 }), []);
    assert.deepEqual(lexicalSearch(new LibraryStore(db), '"nice" AND tomorrow* NEAR(', { k: 5 }).map((h) => h.chunkId), [14]);
    assert.deepEqual(lexicalSearch(new LibraryStore(db), "'; DROP TABLE chunks; --", { k: 5 }), []);
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM chunks').get(), { n: 5 }, 'nothing was executed from the query');
    assert.throws(() => lexicalSearch(new LibraryStore(db), 'x', { k: 0 }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });
});

describe('highlight', () => {
  it('marks query terms (light stemming) in the best ~30-word window', () => {
    const filler = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const text = `Intro about proteins. ${filler} Here protein folding and Folded chains meet. ${filler}`;
    const h = highlight(text, 'protein folding');
    assert.match(bracketed(h), /\[protein\] \[folding\] and \[Folded\]/);
    assert.ok(h.text.startsWith('…') && h.text.endsWith('…'), `window cut on both sides: ${h.text}`);
    assert.ok(h.text.split(' ').length <= 32, `about 30 words: ${h.text.split(' ').length}`);
    assert.equal(text.slice(h.start, h.end).includes('protein folding'), true);
    assert.ok(h.matches >= 3, `matches ${h.matches}`);
  });

  it('short texts, no matches, term lists', () => {
    assert.deepEqual(bracketed(highlight('Café au lait', ['cafe'])), '[Café] au lait');
    const none = highlight('nothing to see here', 'protein');
    assert.equal(none.text, 'nothing to see here');
    assert.equal(none.matches, 0);
    assert.equal(highlight('', 'x').text, '');
  });
});

describe('snippets carry their matches as ranges, not marks in the text', () => {
  it('a document with literal [brackets] is highlighted on its matched words only', () => {
    const db = openDatabase(':memory:');
    db.prepare("INSERT INTO collections (id, name, model, variant, created_at) VALUES (1, 'c', 'm', 'fp32', 'now')").run();
    db.prepare("INSERT INTO documents (id, collection_id, doc_key, path, file_type, size, mtime_ms, sha256, indexed_at) VALUES (1, 1, 'd', '/d', 'txt', 1, 0, 'x', 'now')").run();
    const text = 'Array [x] and [y] index the heron colony; see [1] for the heron counts.';
    db.prepare('INSERT INTO chunks (id, document_id, ord, text, start, end, tokens) VALUES (1, 1, 0, ?, 0, ?, 10)').run(text, text.length);
    const [hit] = lexicalSearch(new LibraryStore(db), 'heron', { k: 1 });
    const s = hit!.snippet;
    assert.ok(s.text.includes('[x] and [y]') || s.text.includes('[1]'), `brackets stay text: ${s.text}`);
    assert.ok(s.highlights.length >= 1, 'a match');
    for (const r of s.highlights) assert.equal(s.text.slice(r.start, r.end), 'heron', `only the matched word: ${JSON.stringify(s)}`);
    const h = highlight(text, 'heron');
    assert.deepEqual(h.highlights.map((r) => h.text.slice(r.start, r.end)), ['heron', 'heron']);
    assert.ok(h.text.includes('[x] and [y]'));
    db.close();
  });

  it('parseMarked drops unpaired marks', () => {
    assert.deepEqual(parseMarked('plain [text]'), { text: 'plain [text]', highlights: [] });
    assert.deepEqual(parseMarked('a \u0002\uE000b\uE001\u0003 c'), { text: 'a b c', highlights: [{ start: 2, end: 3 }] });
    assert.deepEqual(parseMarked('a \u0002\uE000b c'), { text: 'a b c', highlights: [] });
  });
});
