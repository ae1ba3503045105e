import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { collapseToDocuments, formatTrecRun, trecLines } from './trec.js';

describe('TREC run', () => {
  it('collapses chunks to documents by max score and ranks 1..k', () => {
    const hits = [
      { docId: 'd2', score: 0.5 },
      { docId: 'd1', score: 0.9 },
      { docId: 'd2', score: 0.95 },
      { docId: 'd3', score: 0.1 },
      { docId: 'd1', score: 0.2 },
    ];
    assert.deepEqual(collapseToDocuments(hits), [
      { docId: 'd2', score: 0.95 },
      { docId: 'd1', score: 0.9 },
      { docId: 'd3', score: 0.1 },
    ]);
    assert.deepEqual(trecLines('q7', hits, { k: 2 }), ['q7 Q0 d2 1 0.95 tandem', 'q7 Q0 d1 2 0.9 tandem']);
  });

  it('formats a run file; ties ordered by doc id; scores keep 9 significant digits', () => {
    const run = formatTrecRun(
      [
        { qid: '1', hits: [{ docId: 'b', score: 1 / 3 }, { docId: 'a', score: 1 / 3 }] },
        { qid: '2', hits: [] },
        { qid: '3', hits: [{ docId: 'x', score: -12.5 }] },
      ],
      { tag: 'myrun' },
    );
    assert.equal(run, '1 Q0 a 1 0.333333333 myrun\n1 Q0 b 2 0.333333333 myrun\n3 Q0 x 1 -12.5 myrun\n');
  });

  it('rejects fields with whitespace and non-finite scores', () => {
    assert.throws(() => trecLines('q 1', [{ docId: 'a', score: 1 }]), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => trecLines('q1', [{ docId: 'a b', score: 1 }]), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => trecLines('q1', [{ docId: 'a', score: NaN }]), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });
});
