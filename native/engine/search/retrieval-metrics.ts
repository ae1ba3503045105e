/**
 * Retrieval metrics as trec_eval / BEIR (pytrec_eval) compute them, with the project's yardstick
 * (`../shared/acceptance/ndcg.py`) deciding the two places where tools differ. Pure: no I/O.
 *
 * - nDCG@k (trec_eval `ndcg_cut`): graded relevance with linear gain (gain = the qrel grade),
 *   discount log2(rank + 1) for ranks 1..k; the ideal DCG sorts the query's judged grades > 0
 *   (all of its qrels, retrieved or not) in decreasing order and takes the first k.
 * - Recall@k: relevant documents (grade > 0) in the top k / relevant documents judged.
 * - MRR@k: 1 / rank of the first relevant document (grade > 0) in the top k, 0 when none is.
 * - A run may list a document several times (one line per chunk): a document scores as its best
 *   chunk, then documents are ranked by that score, **ties broken by document id ascending**, as
 *   ndcg.py and `tandem search --format trec` do. (trec_eval itself breaks score ties by docno
 *   descending; the two differ only when tied documents straddle a cutoff and differ in grade.)
 * - Which queries count: every query of the qrels with at least one relevant document (grade > 0).
 *   A query the run lacks (no line in the queries file, or no hits) scores 0, as in ndcg.py and
 *   `trec_eval -c` (pytrec_eval would silently drop it and average over fewer queries). A query
 *   whose judgements are all 0 cannot score anything and is left out of the average (reported in
 *   `noRelevant`), as BEIR/MTEB drop them; ndcg.py would count it as a 0 (NFCorpus has none).
 *   Queries of the run that the qrels lack are ignored (reported in `unjudged`).
 * - Grades <= 0 count as not relevant (gain 0).
 */
import { TandemError } from '../common/errors.js';

/** qid -> (docid -> grade). */
export type Qrels = Map<string, Map<string, number>>;

export interface RunHit {
  docId: string;
  score: number;
}

export const METRIC_NAMES = ['ndcg@10', 'recall@100', 'mrr@10'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type Metrics = Record<MetricName, number>;

/** The cutoffs of METRIC_NAMES. */
const CUT = { ndcg: 10, recall: 100, mrr: 10 } as const;

export interface EvalResult {
  /** Means over the evaluated queries. */
  mean: Metrics;
  /** Every evaluated query's metrics (the qrels' queries with a relevant document). */
  perQuery: Map<string, Metrics>;
  /** Qrels queries left out: no judgement above 0. */
  noRelevant: string[];
  /** Run queries left out: not in the qrels. */
  unjudged: string[];
}

function splitFields(line: string): string[] {
  return line.includes('\t') ? line.split('\t').map((f) => f.trim()) : line.split(/\s+/);
}

/**
 * BEIR qrels (`query-id<TAB>corpus-id<TAB>score`, an optional header line) or TREC qrels
 * (`qid iter docid grade`). LF or CRLF; blank lines skipped; a pair listed twice keeps its last grade.
 * Malformed lines are INVALID_INPUT naming the line (`source` names the file in messages).
 */
export function parseQrels(text: string, source = 'qrels'): Qrels {
  const qrels: Qrels = new Map();
  let seen = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    seen++;
    const f = splitFields(line.trim());
    if (f.length !== 3 && f.length !== 4) throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: expected "query-id<TAB>corpus-id<TAB>score" (or TREC "qid 0 docid grade"), got ${f.length} fields`);
    const [qid, docId, grade] = f.length === 3 ? [f[0]!, f[1]!, f[2]!] : [f[0]!, f[2]!, f[3]!];
    if (!/^-?\d+$/.test(grade)) {
      if (seen === 1) return; // the header (query-id corpus-id score)
      throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: the score must be an integer grade, got ${JSON.stringify(grade)}`);
    }
    if (!qid || !docId) throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: empty query or corpus id`);
    let m = qrels.get(qid);
    if (!m) qrels.set(qid, (m = new Map()));
    m.set(docId, Number(grade));
  });
  if (qrels.size === 0) throw new TandemError('INVALID_INPUT', `${source} holds no judgements`);
  return qrels;
}

export interface EvalQuery {
  id: string;
  text: string;
}

/** BEIR queries: JSONL lines `{"_id", "text"}` (`id` accepted too); LF or CRLF; extra fields ignored. */
export function parseQueries(text: string, source = 'queries'): EvalQuery[] {
  const out: EvalQuery[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').replace(/^\uFEFF/, '');
    if (!line.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: not valid JSON`);
    }
    const r = (o && typeof o === 'object' ? o : {}) as Record<string, unknown>;
    const id = r._id ?? r.id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: "_id" (a string) is missing`);
    if (typeof r.text !== 'string' || !r.text.trim()) throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: "text" is missing or empty`);
    const qid = String(id);
    if (ids.has(qid)) throw new TandemError('INVALID_INPUT', `${source} line ${i + 1}: query id ${JSON.stringify(qid)} appears twice`);
    ids.add(qid);
    out.push({ id: qid, text: r.text });
  });
  if (out.length === 0) throw new TandemError('INVALID_INPUT', `${source} holds no queries`);
  return out;
}

/** A query's documents, best first: each at its best score, ties by document id ascending. */
export function rankDocuments(hits: readonly RunHit[]): string[] {
  const best = new Map<string, number>();
  for (const h of hits) {
    if (Number.isNaN(h.score)) throw new TandemError('INVALID_ARGUMENT', `score of ${h.docId} is NaN`);
    const s = best.get(h.docId);
    if (s === undefined || h.score > s) best.set(h.docId, h.score);
  }
  return [...best]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([d]) => d);
}

/** One query's metrics over its ranked documents. */
export function queryMetrics(ranked: readonly string[], judged: ReadonlyMap<string, number>): Metrics {
  const grade = (d: string): number => Math.max(0, judged.get(d) ?? 0);
  let dcg = 0;
  for (let i = 0; i < Math.min(CUT.ndcg, ranked.length); i++) dcg += grade(ranked[i]!) / Math.log2(i + 2);
  const relevantGrades = [...judged.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  relevantGrades.slice(0, CUT.ndcg).forEach((g, i) => (idcg += g / Math.log2(i + 2)));
  let found = 0;
  for (let i = 0; i < Math.min(CUT.recall, ranked.length); i++) if (grade(ranked[i]!) > 0) found++;
  let mrr = 0;
  for (let i = 0; i < Math.min(CUT.mrr, ranked.length); i++) {
    if (grade(ranked[i]!) > 0) {
      mrr = 1 / (i + 1);
      break;
    }
  }
  const relevant = relevantGrades.length;
  return { 'ndcg@10': idcg > 0 ? dcg / idcg : 0, 'recall@100': relevant > 0 ? found / relevant : 0, 'mrr@10': mrr };
}

/** Evaluate a run (qid -> hits, chunks allowed) against qrels; see the module comment for the rules. */
export function evaluateRun(qrels: Qrels, run: ReadonlyMap<string, readonly RunHit[]>): EvalResult {
  const perQuery = new Map<string, Metrics>();
  const noRelevant: string[] = [];
  for (const [qid, judged] of qrels) {
    if (![...judged.values()].some((g) => g > 0)) {
      noRelevant.push(qid);
      continue;
    }
    perQuery.set(qid, queryMetrics(rankDocuments(run.get(qid) ?? []), judged));
  }
  const unjudged = [...run.keys()].filter((q) => !qrels.has(q));
  const mean = meanMetrics([...perQuery.values()]);
  return { mean, perQuery, noRelevant, unjudged };
}

export function meanMetrics(list: readonly Metrics[]): Metrics {
  const m: Metrics = { 'ndcg@10': 0, 'recall@100': 0, 'mrr@10': 0 };
  if (list.length === 0) return m;
  for (const x of list) for (const k of METRIC_NAMES) m[k] += x[k];
  for (const k of METRIC_NAMES) m[k] /= list.length;
  return m;
}
