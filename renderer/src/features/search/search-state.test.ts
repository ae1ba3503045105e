// The Search page's pure helpers (typecheck: npx tsc -p renderer/test/tsconfig.json).
/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activeFilterCount, chartRows, EMPTY_FILTERS, pickCollection, toQueryOptions } from './search-state';

const cols = [
  { name: 'old', documents: 10, createdAt: '2026-01-01T00:00:00Z' },
  { name: 'empty', documents: 0, createdAt: '2026-03-01T00:00:00Z' },
  { name: 'recent', documents: 4, createdAt: '2026-02-01T00:00:00Z' },
  { name: 'newer-empty', documents: 0, createdAt: '2026-04-01T00:00:00Z' },
];

test('pickCollection: the URL, then the remembered one, then the most recently indexed non-empty one; never an empty one', () => {
  assert.equal(pickCollection(cols, { fromUrl: 'empty', remembered: 'old' }), 'empty', 'the URL wins, even empty');
  assert.equal(pickCollection(cols, { remembered: 'old', recentlyIndexed: ['recent'] }), 'old');
  assert.equal(pickCollection(cols, { remembered: 'empty', recentlyIndexed: ['newer-empty', 'old', 'recent'] }), 'old', 'an empty remembered one and an empty recent one are passed over');
  assert.equal(pickCollection(cols, { remembered: 'gone' }), 'recent', 'without index jobs: the newest non-empty collection');
  assert.equal(pickCollection(cols.filter((c) => c.documents === 0)), '', 'all empty: none');
  assert.equal(pickCollection([]), '');
});

test('toQueryOptions: filters and k for search.query, or the problem', () => {
  assert.deepEqual(toQueryOptions(EMPTY_FILTERS), { filters: undefined, k: 10 });
  assert.deepEqual(toQueryOptions({ pathGlob: ' notes/** ', fileTypes: ['md', 'pdf'], modifiedAfter: '2026-01-01', modifiedBefore: '2026-02-01', k: '25' }), {
    filters: { pathGlob: 'notes/**', fileTypes: ['md', 'pdf'], modifiedAfter: '2026-01-01', modifiedBefore: '2026-02-01' },
    k: 25,
  });
  assert.deepEqual(toQueryOptions({ ...EMPTY_FILTERS, k: '0' }), { error: 'results must be a whole number from 1 to 200' });
  assert.deepEqual(toQueryOptions({ ...EMPTY_FILTERS, modifiedAfter: '2026-02-01', modifiedBefore: '2026-01-01' }), { error: 'modified after must be earlier than modified before' });
  assert.equal(activeFilterCount({ ...EMPTY_FILTERS, fileTypes: ['md'], modifiedBefore: '2026-01-01' }), 2);
});

test('chartRows: per-query values per mode, ordered by the first mode best first, then query id', () => {
  const m = (n: number) => ({ 'ndcg@10': n, 'recall@100': 1, 'mrr@10': 0 });
  const r = chartRows({ modes: { lexical: m(0.5), vector: m(0.2) }, perQuery: { b: { lexical: m(1), vector: m(0) }, a: { lexical: m(1), vector: m(0.5) }, c: { lexical: m(0), vector: m(1) } } }, 'ndcg@10');
  assert.deepEqual(r, { modes: ['lexical', 'vector'], rows: [{ qid: 'a', values: [1, 0.5] }, { qid: 'b', values: [1, 0] }, { qid: 'c', values: [0, 1] }] });
});
