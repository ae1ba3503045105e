import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { mulberry32, type Rng } from '../common/mulberry32.js';
import { BM25_BEIR_NDCG10, UNKNOWN_MODEL_ALPHA, fuse, fusionWeights, rrfWeights, scoreFuse } from './fusion.js';
import { evaluateRun, type Qrels, type RunHit } from './retrieval-metrics.js';

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

describe('fusionWeights (score fusion)', () => {
  it('a much weaker model is a tie-breaker, parity is an equal say, a better model leads', () => {
    const potion = fusionWeights({ retrievalNdcg10: 0.2413 });
    const r = 0.2413 / BM25_BEIR_NDCG10;
    assert.ok(Math.abs(potion.vector - r ** 4 / (1 + r ** 4)) < 1e-12, `vector weight ${potion.vector}`);
    assert.ok(potion.vector < 0.1, `potion is a tie-breaker: ${potion.vector}`);
    assert.ok(Math.abs(potion.vector + potion.lexical - 1) < 1e-12, 'weights sum to 1');
    assert.equal(potion.source, 'published');
    assert.ok(Math.abs(fusionWeights(BM25_BEIR_NDCG10).vector - 0.5) < 1e-12, 'parity: 0.5');
    const bge = fusionWeights(0.5168);
    assert.ok(bge.vector > 0.6, `a model better than BM25 leads: ${JSON.stringify(bge)}`);
    assert.deepEqual(fusionWeights(undefined), { vector: UNKNOWN_MODEL_ALPHA, lexical: 1 - UNKNOWN_MODEL_ALPHA, source: 'unknown' });
    assert.throws(() => fusionWeights(1.5), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });

  it('rrfWeights keeps the proportional weights of --fusion rrf', () => {
    const w = rrfWeights(0.2413);
    assert.ok(Math.abs(w.vector - 0.2413 / (0.2413 + BM25_BEIR_NDCG10)) < 1e-12);
    assert.deepEqual(rrfWeights(undefined), { vector: 0.5, lexical: 0.5 });
  });
});

describe('scoreFuse', () => {
  it('normalises BM25 by the best score and cosine by min-max, then mixes them', () => {
    const out = scoreFuse(
      [{ id: 'a', score: 0.9 }, { id: 'c', score: 0.5 }, { id: 'b', score: 0.7 }],
      [{ id: 'b', score: 20 }, { id: 'a', score: 10 }, { id: 'd', score: 5 }],
      0.25,
      { agreement: false },
    );
    const by = new Map(out.map((h) => [h.id, h]));
    assert.ok(Math.abs(by.get('a')!.score - (0.75 * 0.5 + 0.25 * 1)) < 1e-12);
    assert.ok(Math.abs(by.get('b')!.score - (0.75 * 1 + 0.25 * 0.5)) < 1e-12);
    assert.ok(Math.abs(by.get('c')!.score - 0) < 1e-12, 'the lowest cosine and no BM25 gives 0');
    assert.ok(Math.abs(by.get('d')!.score - 0.75 * 0.25) < 1e-12);
    assert.deepEqual(out.map((h) => h.id), ['b', 'a', 'd', 'c']);
    assert.equal(by.get('d')!.cosine, undefined, 'absent from the vector list: no cosine');
    assert.equal(by.get('b')!.bm25, 20);
    for (const h of out) assert.ok(h.score >= 0 && h.score <= 1, 'fused scores are on a 0-1 scale');
  });

  it('alpha 0 is exactly the lexical order, alpha 1 the vector order; bad alpha is refused', () => {
    const vec = [{ id: 1, score: 0.9 }, { id: 2, score: 0.8 }, { id: 3, score: 0.1 }];
    const lex = [{ id: 3, score: 9 }, { id: 2, score: 5 }, { id: 1, score: 4 }];
    assert.deepEqual(scoreFuse(vec, lex, 0).map((h) => h.id), [3, 2, 1]);
    assert.deepEqual(scoreFuse(vec, lex, 1).map((h) => h.id), [1, 2, 3]);
    const other = [{ id: 4, score: 0.9 }, { id: 5, score: 0.8 }];
    const weakLex = [{ id: 3, score: 9 }, { id: 2, score: 2 }];
    assert.deepEqual(scoreFuse(other, weakLex, 0.3, { agreement: false }).map((h) => h.id), [3, 4, 2, 5]);
    assert.deepEqual(scoreFuse(other, weakLex, 0.3).map((h) => h.id), [3, 2, 4, 5], 'a weak side that shares no top-10 document with BM25 cannot move it');
    assert.deepEqual(scoreFuse(other, weakLex, 0.6).map((h) => h.id), [4, 3, 2, 5], 'a strong side keeps its weight when the lists disagree');
    assert.equal(scoreFuse(vec, lex, 0.5, { limit: 2 }).length, 2);
    assert.deepEqual(scoreFuse([], [], 0.5), []);
    assert.throws(() => scoreFuse(vec, lex, 1.5), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  });
});

/**
 * A synthetic retrieval task: per query 300 candidates, 8 of them relevant (grades 1-2). BM25 is
 * informative but noisy (relevant documents score higher on average, with heavy overlap); the
 * vector side is `perfect` (relevant above everything, by grade) or `random`.
 */
function synthetic(vectorSide: 'perfect' | 'random', seed: number): { qrels: Qrels; lex: Map<string, RunHit[]>; vec: Map<string, RunHit[]> } {
  const rnd: Rng = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const qrels: Qrels = new Map();
  const lex = new Map<string, RunHit[]>();
  const vec = new Map<string, RunHit[]>();
  for (let q = 0; q < 400; q++) {
    const qid = `q${q}`;
    const judged = new Map<string, number>();
    const l: RunHit[] = [];
    const v: RunHit[] = [];
    for (let d = 0; d < 300; d++) {
      const docId = `d${q}-${d}`;
      const grade = d < 8 ? 1 + (d % 2) : 0;
      if (grade > 0) judged.set(docId, grade);
      l.push({ docId, score: Math.max(0.1, 12 + 2.5 * grade + 3 * gauss()) });
      v.push({ docId, score: vectorSide === 'perfect' ? (grade > 0 ? 0.6 + 0.1 * grade : 0.3 + 0.2 * rnd()) : 0.2 + 0.4 * rnd() });
    }
    qrels.set(qid, judged);
    lex.set(qid, l.sort((a, b) => b.score - a.score).slice(0, 100));
    vec.set(qid, v.sort((a, b) => b.score - a.score).slice(0, 100));
  }
  return { qrels, lex, vec };
}

function fusedNdcg(t: ReturnType<typeof synthetic>, alpha: number): number {
  const run = new Map<string, RunHit[]>();
  for (const [qid, l] of t.lex) {
    const fused = scoreFuse(t.vec.get(qid)!.map((h) => ({ id: h.docId, score: h.score })), l.map((h) => ({ id: h.docId, score: h.score })), alpha);
    run.set(qid, fused.map((f) => ({ docId: f.id, score: f.score })));
  }
  return evaluateRun(t.qrels, run).mean['ndcg@10'];
}

describe('score fusion never loses to its better side (synthetic corpora)', () => {
  const potionAlpha = fusionWeights({ retrievalNdcg10: 0.2413 }).vector;
  it('a perfect vector side and noisy BM25: fusion beats lexical, even at a weak model\'s weight', () => {
    const t = synthetic('perfect', 7);
    const lexical = evaluateRun(t.qrels, t.lex).mean['ndcg@10'];
    const fused = fusedNdcg(t, potionAlpha);
    assert.ok(fused > lexical + 0.01, `fused ${fused.toFixed(4)} vs lexical ${lexical.toFixed(4)}`);
    assert.ok(fusedNdcg(t, 0.5) > fused, 'and more so with an equal say');
  });

  it('a random vector side: fusion stays within 0.01 of lexical at the weak model\'s weight', () => {
    for (const seed of [1, 2, 3]) {
      const t = synthetic('random', seed);
      const lexical = evaluateRun(t.qrels, t.lex).mean['ndcg@10'];
      const fused = fusedNdcg(t, potionAlpha);
      assert.ok(fused >= lexical - 0.01, `seed ${seed}: fused ${fused.toFixed(4)} vs lexical ${lexical.toFixed(4)}`);
      // RRF, for contrast, lets the random side pull nDCG down much further at its weights.
      const rrf = new Map<string, RunHit[]>();
      const w = rrfWeights(0.2413);
      for (const [qid, l] of t.lex) {
        const f = fuse([{ hits: t.vec.get(qid)!.map((h) => ({ id: h.docId, score: h.score })), weight: w.vector }, { hits: l.map((h) => ({ id: h.docId, score: h.score })), weight: w.lexical }]);
        rrf.set(qid, f.map((x) => ({ docId: x.id, score: x.score })));
      }
      assert.ok(evaluateRun(t.qrels, rrf).mean['ndcg@10'] < fused, 'RRF loses more than score fusion');
    }
  });
});
