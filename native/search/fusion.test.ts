import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTandemError } from '../engine/common/errors.js';
import { BM25_BEIR_NDCG10, fuse, fusionWeights, hybridFuse } from './fusion.js';

const h = (...ids: number[]): Array<{ id: number; score: number }> => ids.map((id, i) => ({ id, score: 1 - i / 10 }));

describe('fuse (weighted RRF)', () => {
  it('computes sum of weight / (k0 + rank)', () => {
    const out = fuse(
      [
        { hits: h(1, 2, 3), weight: 1 },
        { hits: h(3, 4), weight: 0.5 },
      ],
      { k0: 60 },
    );
    const score = new Map(out.map((x) => [x.id, x.score]));
    assert.equal(score.get(1), 1 / 61);
    assert.equal(score.get(2), 1 / 62);
    assert.equal(score.get(3), 1 / 63 + 0.5 / 61);
    assert.equal(score.get(4), 0.5 / 62);
    assert.deepEqual(out.find((x) => x.id === 3)!.ranks, [3, 1]);
    assert.deepEqual(out.find((x) => x.id === 4)!.ranks, [null, 2]);
  });

  it('a document in both lists outranks one at the same rank in a single list', () => {
    const out = fuse([
      { hits: h(10, 20), weight: 1 },
      { hits: h(30, 20), weight: 1 },
    ]);
    assert.equal(out[0]!.id, 20, 'in both lists at rank 2 beats rank 1 in one list');
    assert.deepEqual(
      out.map((x) => x.id),
      [20, 10, 30],
      'equal single-list entries keep a stable order (best rank, then id)',
    );
  });

  it('weights shift the ranking', () => {
    const lists = (wa: number, wb: number) => [
      { hits: h(1, 2, 3), weight: wa },
      { hits: h(3, 2, 1), weight: wb },
    ];
    assert.equal(fuse(lists(1, 0.2))[0]!.id, 1, 'list A dominates');
    assert.equal(fuse(lists(0.2, 1))[0]!.id, 3, 'list B dominates');
    assert.equal(fuse(lists(1, 0))[2]!.id, 3, 'weight 0 ignores a list');
  });

  it('limit, duplicates inside a list, empty lists, string ids, bad arguments', () => {
    assert.equal(fuse([{ hits: h(1, 2, 3, 4), weight: 1 }], { limit: 2 }).length, 2);
    const dup = fuse([{ hits: [{ id: 'a', score: 1 }, { id: 'a', score: 0.5 }, { id: 'b', score: 0.1 }], weight: 1 }]);
    assert.deepEqual(dup.map((x) => [x.id, x.score]), [['a', 1 / 61], ['b', 1 / 63]]);
    assert.deepEqual(fuse([]), []);
    assert.throws(() => fuse([{ hits: h(1), weight: -1 }]), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => fuse([{ hits: h(1), weight: 1 }], { k0: -5 }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });
});

describe('fusionWeights', () => {
  it('derives weights from published nDCG@10 against BM25', () => {
    const potion = fusionWeights({ retrievalNdcg10: 0.2413 });
    assert.ok(Math.abs(potion.vector - 0.2413 / (0.2413 + BM25_BEIR_NDCG10)) < 1e-12, `vector weight ${potion.vector}`);
    assert.ok(Math.abs(potion.vector + potion.lexical - 1) < 1e-12, 'weights sum to 1');
    assert.ok(potion.vector < 0.4 && potion.lexical > 0.6, `potion leans lexical: ${JSON.stringify(potion)}`);
    const bge = fusionWeights(0.5168);
    assert.ok(bge.vector > 0.5, `a model better than BM25 leans vector: ${JSON.stringify(bge)}`);
    assert.deepEqual(fusionWeights({}), { vector: 0.5, lexical: 0.5 });
    assert.deepEqual(fusionWeights(undefined), { vector: 0.5, lexical: 0.5 });
    assert.throws(() => fusionWeights(1.5), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });

  it('hybridFuse: a weak model lets BM25 lead, a strong one the vectors', () => {
    const vector = h(1, 2);
    const lexical = h(2, 1);
    assert.equal(hybridFuse(vector, lexical, 0.2413)[0]!.id, 2);
    assert.equal(hybridFuse(vector, lexical, 0.5168)[0]!.id, 1);
  });
});
