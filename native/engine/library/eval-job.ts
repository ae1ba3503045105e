/**
 * Retrieval evaluation of a collection (`tandem eval`, the API's `search.eval`): run labelled
 * queries through the Searcher in each mode and score them with native/engine/search/retrieval-metrics.ts
 * (nDCG@10, Recall@100, MRR@10 as trec_eval/BEIR). Recorded as an `eval` job.
 */
import { TandemError } from '../common/errors.js';
import { kindRunner, type JobRunFn } from '../jobs/job-queue.js';
import type { FusionMethod } from '../search/fusion.js';
import { evaluateRun, METRIC_NAMES, type EvalQuery, type Metrics, type Qrels, type RunHit } from '../search/retrieval-metrics.js';
import { SEARCH_MODES, type DocumentHit, type SearchMode, type Searcher } from './searcher.js';

export const EVAL_KIND = 'eval';
/** What `tandem eval` asks for without --mode. */
export const EVAL_MODES = ['lexical', 'vector', 'hybrid', 'default'] as const;
export type EvalMode = SearchMode | (typeof EVAL_MODES)[number];
/** Documents retrieved per query by default (Recall@100 needs 100). */
export const DEFAULT_EVAL_K = 100;
/** Queries per searchMany call: progress and cancellation happen between batches. */
const BATCH = 64;

/** The job's params (the query and qrels texts are its input: only their digest is stored). */
export interface EvalParams {
  collection: string;
  modes: EvalMode[];
  k: number;
  /** Hybrid and default modes: score fusion (the searcher's default) or reciprocal rank fusion. */
  fusion?: FusionMethod;
  rerank?: { model: string; top?: number };
  /** Where the CLI read them (absolute paths), so `tandem jobs retry` can run the job again. */
  queriesFile?: string;
  qrelsFile?: string;
}

export interface EvalReport {
  collection: string;
  k: number;
  rerank: string | null;
  /** Mean metrics per mode asked for. */
  modes: Record<string, Metrics>;
  /** What the searcher ran for each mode (e.g. 'default' -> 'hybrid' until the searcher has a default mode). */
  ranAs: Record<string, SearchMode>;
  /** Queries evaluated: those of the qrels with a relevant document. */
  queries: number;
  /** Per evaluated query: per mode, its metrics. */
  perQuery: Record<string, Record<string, Metrics>>;
  /** Qrels queries without a relevant judgement (left out), evaluated queries with no line in the queries file (scored 0), queries not in the qrels (ignored). */
  noRelevant: number;
  missingText: number;
  unjudged: number;
  /** Search time per mode, ms. */
  ms: Record<string, number>;
}

/** The searcher's mode for an eval mode. */
export function searcherMode(m: EvalMode): SearchMode {
  // 'default' is the searcher's recommended mode; a searcher without it would run 'hybrid' (the report's ranAs says so).
  return (SEARCH_MODES as readonly string[]).includes(m) ? (m as SearchMode) : 'hybrid';
}

export function checkEvalModes(modes: readonly string[]): EvalMode[] {
  const known = new Set<string>([...SEARCH_MODES, ...EVAL_MODES]);
  const bad = modes.find((m) => !known.has(m));
  if (bad !== undefined) throw new TandemError('INVALID_ARGUMENT', `mode must be one of ${[...known].join(', ')}, got "${bad}"`);
  if (modes.length === 0) throw new TandemError('INVALID_ARGUMENT', 'give at least one mode');
  return [...new Set(modes)] as EvalMode[];
}

/** The run lines a mode's hits become: the first stage's scores, or the reranked order when reranked. */
function runHits(hits: readonly DocumentHit[], reranked: boolean): RunHit[] {
  // After a rerank the head carries cross-encoder scores and the tail first-stage ones, which do not
  // compare: the searcher's order is the ranking then.
  return hits.map((h, i) => ({ docId: h.docKey, score: reranked ? hits.length - i : h.score }));
}

export interface EvalHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Evaluate `queries` against `qrels` on a collection, in each mode. */
export async function evaluateCollection(searcher: Searcher, p: EvalParams, queries: readonly EvalQuery[], qrels: Qrels, hooks: EvalHooks = {}): Promise<EvalReport> {
  const modes = checkEvalModes(p.modes);
  if (!Number.isInteger(p.k) || p.k < 1) throw new TandemError('INVALID_ARGUMENT', `k must be a positive integer, got ${p.k}`);
  const judged = queries.filter((q) => qrels.has(q.id));
  if (judged.length === 0) throw new TandemError('INVALID_INPUT', `none of the ${queries.length} queries has a judgement in the qrels (query ids must match the qrels' query-id column)`);
  const total = modes.length * judged.length;
  let done = 0;
  hooks.onProgress?.(0, total);
  const report: EvalReport = { collection: p.collection, k: p.k, rerank: p.rerank?.model ?? null, modes: {}, ranAs: {}, queries: 0, perQuery: {}, noRelevant: 0, missingText: 0, unjudged: queries.length - judged.length, ms: {} };
  for (const mode of modes) {
    const ranAs = searcherMode(mode);
    const run = new Map<string, RunHit[]>();
    const t0 = performance.now();
    for (let i = 0; i < judged.length; i += BATCH) {
      if (hooks.signal?.aborted) throw new TandemError('CANCELLED', 'evaluation cancelled');
      const batch = judged.slice(i, i + BATCH);
      const res = await searcher.searchMany(p.collection, batch, { k: p.k, mode: ranAs, snippets: false, ...(p.fusion ? { fusion: p.fusion } : {}), ...(p.rerank ? { rerank: { model: p.rerank.model, ...(p.rerank.top ? { top: p.rerank.top } : {}) } } : {}) });
      for (const q of batch) run.set(q.id, runHits(res.get(q.id) ?? [], !!p.rerank));
      done += batch.length;
      hooks.onProgress?.(done, total);
    }
    report.ms[mode] = Math.round(performance.now() - t0);
    const r = evaluateRun(qrels, run);
    report.modes[mode] = r.mean;
    report.ranAs[mode] = ranAs;
    report.queries = r.perQuery.size;
    report.noRelevant = r.noRelevant.length;
    for (const [qid, m] of r.perQuery) (report.perQuery[qid] ??= {})[mode] = m;
  }
  const withText = new Set(judged.map((q) => q.id));
  report.missingText = Object.keys(report.perQuery).filter((q) => !withText.has(q)).length;
  return report;
}

/** The job runner for `eval` jobs: params are EvalParams, the texts come from `load` (files for the CLI, the request for the API). */
export function evalJobRunner(searcher: Searcher, load: (p: EvalParams) => { queries: EvalQuery[]; qrels: Qrels }): JobRunFn<'eval'> {
  return kindRunner('eval', async (run) => {
    const p = run.job.params; // collection, modes and k checked by the kind's schema (common/job-kinds.ts)
    const { queries, qrels } = load(p);
    const t0 = performance.now();
    const report = await evaluateCollection(searcher, p, queries, qrels, { signal: run.signal, onProgress: (d, t) => run.progress(d, t) });
    run.setTimings({ inferenceMs: Math.round(performance.now() - t0) });
    return report;
  });
}

/** A report as an aligned text table (one row per mode). */
export function formatEvalTable(r: EvalReport): string {
  const head = ['mode', 'nDCG@10', 'Recall@100', 'MRR@10'];
  const rows = Object.entries(r.modes).map(([mode, m]) => [r.ranAs[mode] && r.ranAs[mode] !== mode ? `${mode} (as ${r.ranAs[mode]})` : mode, ...METRIC_NAMES.map((k) => m[k].toFixed(4))]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
