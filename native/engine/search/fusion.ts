/**
 * Hybrid fusion of a vector list and a lexical list. The default is score fusion (`scoreFuse`,
 * below): normalised BM25 and cosine combined with a weight from the model's published quality.
 * Weighted reciprocal rank fusion (`fuse`) stays available as `--fusion rrf`
 * (Cormack, Clarke & Buettcher, SIGIR 2009):
 *
 *   fused(d) = sum over lists i containing d of  weight_i / (k0 + rank_i(d))      (rank from 1)
 *
 * Only ranks matter, so BM25 scores and cosine similarities need no calibration. k0 = 60 is the
 * paper's constant. Ties are broken by the best single rank, then by id, so output is stable.
 */
import { TandemError } from '../common/errors.js';

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
 * BM25's average nDCG@10 on BEIR (Thakur et al., 2021), the yardstick the vector side is weighed
 * against. 0.43 is the round figure used across the project.
 */
export const BM25_BEIR_NDCG10 = 0.43;

/**
 * How sharply the vector weight follows the quality ratio r = model / BM25 (see fusionAlpha).
 * 4 makes a model at about half BM25's quality (potion-base-2M, r = 0.56) a tie-breaker
 * (alpha 0.09), one at parity an equal partner (0.5) and a better one the leader (bge-small-en-v1.5,
 * r = 1.20: 0.67). Chosen on NFCorpus's dev split (alpha between 0.05 and 0.3 all beat lexical
 * there), never on a test split.
 */
export const FUSION_SHARPNESS = 4;

/** Vector weight for a model with no published retrieval score: a modest partner, not an equal one. */
export const UNKNOWN_MODEL_ALPHA = 0.2;

export interface FusionWeights {
  vector: number;
  lexical: number;
  /** Where the weights come from: the model's published nDCG@10, or the default for unknown models. */
  source: 'published' | 'unknown';
}

/**
 * The weight of the vector side in score fusion, from published retrieval quality (the catalog's
 * `retrievalNdcg10`; never tuned on a test set):
 *
 *   r = ndcgModel / ndcgBm25,   alpha = r^4 / (1 + r^4),   lexical weight = 1 - alpha
 *
 * potion-base-2M (0.2413): alpha 0.09; all-MiniLM-L6-v2 (0.4195): 0.48; e5-small-v2 (0.4904): 0.63;
 * bge-small-en-v1.5 (0.5168): 0.68. A model with no published figure gets UNKNOWN_MODEL_ALPHA.
 */
export function fusionWeights(
  model: { retrievalNdcg10?: number | undefined } | number | undefined,
  bm25Ndcg10: number = BM25_BEIR_NDCG10,
): FusionWeights {
  const m = typeof model === 'number' ? model : model?.retrievalNdcg10;
  if (m === undefined) return { vector: UNKNOWN_MODEL_ALPHA, lexical: 1 - UNKNOWN_MODEL_ALPHA, source: 'unknown' };
  if (!(m > 0 && m <= 1) || !(bm25Ndcg10 > 0 && bm25Ndcg10 <= 1)) {
    throw new TandemError('INVALID_ARGUMENT', `nDCG values must be in (0, 1], got model ${m} and BM25 ${bm25Ndcg10}`);
  }
  const p = (m / bm25Ndcg10) ** FUSION_SHARPNESS;
  const alpha = p / (1 + p);
  return { vector: alpha, lexical: 1 - alpha, source: 'published' };
}

/** Weights for RRF (`--fusion rrf`): proportional to published quality, as before score fusion. */
export function rrfWeights(model: { retrievalNdcg10?: number | undefined } | number | undefined, bm25Ndcg10: number = BM25_BEIR_NDCG10): { vector: number; lexical: number } {
  const m = typeof model === 'number' ? model : model?.retrievalNdcg10;
  if (m === undefined) return { vector: 0.5, lexical: 0.5 };
  if (!(m > 0 && m <= 1)) throw new TandemError('INVALID_ARGUMENT', `nDCG must be in (0, 1], got ${m}`);
  return { vector: m / (m + bm25Ndcg10), lexical: bm25Ndcg10 / (m + bm25Ndcg10) };
}

/**
 * Agreement check for a weak vector side (alpha < 0.5): when the two top-10 lists share fewer than
 * AGREEMENT_FULL x 10 documents, the vector weight shrinks in proportion (to 0 when they share
 * none). A weak model that disagrees with BM25 on a query has nothing to break ties with: a random
 * model then cannot move the ranking. Models at least as good as BM25 keep their full weight.
 */
export const AGREEMENT_TOP = 10;
export const AGREEMENT_FULL = 0.1;

export function agreementAlpha<Id extends HitId>(vector: ReadonlyArray<{ id: Id }>, lexical: ReadonlyArray<{ id: Id }>, alpha: number): number {
  if (alpha >= 0.5 || vector.length === 0 || lexical.length === 0) return alpha;
  const top = new Set(vector.slice(0, AGREEMENT_TOP).map((h) => h.id));
  const n = Math.min(AGREEMENT_TOP, lexical.length);
  let shared = 0;
  for (const h of lexical.slice(0, n)) if (top.has(h.id)) shared++;
  return alpha * Math.min(1, shared / n / AGREEMENT_FULL);
}

export interface ScoreFusedHit<Id extends HitId = HitId> {
  id: Id;
  /** (1 - alpha) * lexical + alpha * vector, in [0, 1]. */
  score: number;
  /** This query's normalised BM25 (score / the query's best BM25), 0 when not matched lexically. */
  lexical: number;
  /** This query's min-max normalised cosine over the vector candidates, 0 when not among them. */
  vector: number;
  /** The raw scores, where the document was in that list. */
  bm25?: number;
  cosine?: number;
}

/**
 * Score fusion (a convex combination of per-query normalised scores; Bruch, Gai & Ingber, "An
 * Analysis of Fusion Functions for Hybrid Retrieval", TOIS 2023): unlike RRF it keeps BM25's score
 * gaps and lets each side speak in proportion to how good it is.
 *
 *   lex(d)    = bm25(d) / max_q bm25                 (0 when d did not match; BM25 >= 0)
 *   vec(d)    = (cos(d) - min_q cos) / (max_q cos - min_q cos)   over the vector candidates (0 when absent)
 *   fused(d)  = (1 - a) * lex(d) + a * vec(d),   a = agreementAlpha(alpha)
 *
 * With a weak model (small alpha) the vector side can only reorder documents whose BM25 scores are
 * within alpha of each other: a tie-breaker. Ties are broken by the lexical score, then the id.
 */
export function scoreFuse<Id extends HitId>(
  vector: ReadonlyArray<{ id: Id; score: number }>,
  lexical: ReadonlyArray<{ id: Id; score: number }>,
  alpha: number,
  opts: { limit?: number; /** false: the plain convex combination, no agreement check. */ agreement?: boolean } = {},
): ScoreFusedHit<Id>[] {
  if (!(alpha >= 0 && alpha <= 1)) throw new TandemError('INVALID_ARGUMENT', `alpha must be in [0, 1], got ${alpha}`);
  const limit = opts.limit ?? Infinity;
  const acc = new Map<Id, ScoreFusedHit<Id>>();
  const entry = (id: Id): ScoreFusedHit<Id> => {
    let e = acc.get(id);
    if (!e) acc.set(id, (e = { id, score: 0, lexical: 0, vector: 0 }));
    return e;
  };
  const a = opts.agreement === false ? alpha : agreementAlpha(vector, lexical, alpha);
  let maxLex = 0;
  for (const h of lexical) maxLex = Math.max(maxLex, h.score);
  for (const h of lexical) {
    const e = entry(h.id);
    if (e.bm25 !== undefined) continue;
    e.bm25 = h.score;
    e.lexical = maxLex > 0 ? Math.max(0, h.score) / maxLex : 1;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of vector) {
    lo = Math.min(lo, h.score);
    hi = Math.max(hi, h.score);
  }
  for (const h of vector) {
    const e = entry(h.id);
    if (e.cosine !== undefined) continue;
    e.cosine = h.score;
    e.vector = hi > lo ? (h.score - lo) / (hi - lo) : 1;
  }
  const out = [...acc.values()];
  for (const e of out) e.score = (1 - a) * e.lexical + a * e.vector;
  out.sort((a, b) => b.score - a.score || b.lexical - a.lexical || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out.slice(0, Math.min(out.length, limit));
}

export type FusionMethod = 'score' | 'rrf';
export const FUSION_METHODS: readonly FusionMethod[] = ['score', 'rrf'];
