/**
 * Weighted reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009):
 *
 *   fused(d) = sum over lists i containing d of  weight_i / (k0 + rank_i(d))      (rank from 1)
 *
 * Only ranks matter, so BM25 scores and cosine similarities need no calibration. k0 = 60 is the
 * paper's constant. Ties are broken by the best single rank, then by id, so output is stable.
 */
import { TandemError } from '../engine/common/errors.js';

export type HitId = number | string;

export interface RankedList<Id extends HitId = HitId> {
  /** Best first. Duplicate ids inside one list count at their first (best) rank. */
  hits: ReadonlyArray<{ id: Id; score: number }>;
  weight: number;
}

export interface FusedHit<Id extends HitId = HitId> {
  id: Id;
  score: number;
  /** 1-based rank in each input list (null where absent), in the order of `lists`. */
  ranks: Array<number | null>;
}

export function fuse<Id extends HitId>(lists: ReadonlyArray<RankedList<Id>>, opts: { k0?: number; limit?: number } = {}): FusedHit<Id>[] {
  const k0 = opts.k0 ?? 60;
  if (!Number.isFinite(k0) || k0 < 0) throw new TandemError('INVALID_ARGUMENT', `k0 must be a finite number >= 0, got ${k0}`);
  const limit = opts.limit ?? Infinity;
  if (!(limit >= 0)) throw new TandemError('INVALID_ARGUMENT', `limit must be >= 0, got ${limit}`);
  const acc = new Map<Id, FusedHit<Id> & { best: number }>();
  lists.forEach((list, li) => {
    if (!Number.isFinite(list.weight) || list.weight < 0) throw new TandemError('INVALID_ARGUMENT', `list ${li}: weight must be a finite number >= 0`);
    list.hits.forEach((h, i) => {
      const rank = i + 1;
      let e = acc.get(h.id);
      if (!e) {
        e = { id: h.id, score: 0, ranks: new Array<number | null>(lists.length).fill(null), best: Infinity };
        acc.set(h.id, e);
      }
      if (e.ranks[li] !== null) return; // already counted at a better rank
      e.ranks[li] = rank;
      e.score += list.weight / (k0 + rank);
      e.best = Math.min(e.best, rank);
    });
  });
  const out = [...acc.values()].sort(
    (a, b) => b.score - a.score || a.best - b.best || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return out.slice(0, Math.min(out.length, limit)).map(({ id, score, ranks }) => ({ id, score, ranks }));
}

/**
 * BM25's average nDCG@10 on BEIR (Thakur et al., 2021), the yardstick the lexical list is
 * weighted by. 0.43 is the round figure used across the project (the average moves by about 0.01
 * with the subset of BEIR datasets averaged, which moves the weights below by < 0.01).
 */
export const BM25_BEIR_NDCG10 = 0.43;

/**
 * Per-mode weights from published retrieval quality (never tuned on our test data):
 *   vector  = ndcgModel / (ndcgModel + ndcgBm25)
 *   lexical = ndcgBm25  / (ndcgModel + ndcgBm25)
 * e.g. potion-base-2M (0.2413): vector 0.36, lexical 0.64; all-MiniLM-L6-v2 (0.4195): 0.49 / 0.51;
 * bge-small-en-v1.5 (0.5168): 0.55 / 0.45. A model with no published figure gets 0.5 / 0.5.
 * `model` is a catalog entry (models/catalog.json) or anything with `retrievalNdcg10`.
 */
export function fusionWeights(
  model: { retrievalNdcg10?: number | undefined } | number | undefined,
  bm25Ndcg10: number = BM25_BEIR_NDCG10,
): { vector: number; lexical: number } {
  const m = typeof model === 'number' ? model : model?.retrievalNdcg10;
  if (m === undefined) return { vector: 0.5, lexical: 0.5 };
  if (!(m > 0 && m <= 1) || !(bm25Ndcg10 > 0 && bm25Ndcg10 <= 1)) {
    throw new TandemError('INVALID_ARGUMENT', `nDCG values must be in (0, 1], got model ${m} and BM25 ${bm25Ndcg10}`);
  }
  return { vector: m / (m + bm25Ndcg10), lexical: bm25Ndcg10 / (m + bm25Ndcg10) };
}

/** Convenience: fuse one vector list and one lexical list with weights from the model's quality. */
export function hybridFuse<Id extends HitId>(
  vector: ReadonlyArray<{ id: Id; score: number }>,
  lexical: ReadonlyArray<{ id: Id; score: number }>,
  model: { retrievalNdcg10?: number | undefined } | number | undefined,
  opts: { k0?: number; limit?: number } = {},
): FusedHit<Id>[] {
  const w = fusionWeights(model);
  return fuse<Id>(
    [
      { hits: vector, weight: w.vector },
      { hits: lexical, weight: w.lexical },
    ],
    opts,
  );
}
