/**
 * Pure helpers of the Search page: which collection to open on, the filter fields as the API's
 * filters, and the Evaluate panel's chart data. No DOM, no React (tested under Node).
 */
import type { ApiCollection, ApiInput, ApiOutput, ApiRetrievalMetrics } from '../../../../native/engine/common/api-contract';

/** Where the page remembers the last collection searched. */
export const LAST_COLLECTION_KEY = 'tandem.search.collection';

/**
 * The collection the page opens on: the one the URL names, else the last one searched (if it still
 * exists and has documents), else the most recently indexed one with documents (`recentlyIndexed`:
 * collection names, newest first, from the index jobs), else any with documents. Never an empty
 * collection unless the URL asks for it; '' when all are empty.
 */
export function pickCollection(collections: ReadonlyArray<Pick<ApiCollection, 'name' | 'documents' | 'createdAt'>>, opts: { fromUrl?: string | null; remembered?: string | null; recentlyIndexed?: readonly string[] } = {}): string {
  const byName = new Map(collections.map((c) => [c.name, c]));
  if (opts.fromUrl && byName.has(opts.fromUrl)) return opts.fromUrl;
  const usable = (n: string | null | undefined): n is string => !!n && (byName.get(n)?.documents ?? 0) > 0;
  if (usable(opts.remembered)) return opts.remembered;
  const recent = (opts.recentlyIndexed ?? []).find(usable);
  if (recent) return recent;
  const nonEmpty = collections.filter((c) => c.documents > 0).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return nonEmpty[0]?.name ?? '';
}

export const FILE_TYPES = ['txt', 'md', 'html', 'pdf', 'docx', 'csv', 'tsv', 'jsonl', 'code'] as const;

/** The filter fields as typed (dates as yyyy-mm-dd from <input type=date>, k as text). */
export interface FilterFields {
  pathGlob: string;
  fileTypes: string[];
  modifiedAfter: string;
  modifiedBefore: string;
  k: string;
}

export const EMPTY_FILTERS: FilterFields = { pathGlob: '', fileTypes: [], modifiedAfter: '', modifiedBefore: '', k: '10' };
export const MAX_K = 200;

type QueryFilters = NonNullable<ApiInput<'search.query'>['filters']>;

/** The API's filters and k, or the first problem (said so the user can fix it). */
export function toQueryOptions(f: FilterFields): { filters: QueryFilters | undefined; k: number } | { error: string } {
  const k = Number(f.k);
  if (!(Number.isInteger(k) && k >= 1 && k <= MAX_K)) return { error: `results must be a whole number from 1 to ${MAX_K}` };
  const date = /^\d{4}-\d{2}-\d{2}$/;
  if (f.modifiedAfter && !date.test(f.modifiedAfter)) return { error: 'modified after: a date like 2026-01-31' };
  if (f.modifiedBefore && !date.test(f.modifiedBefore)) return { error: 'modified before: a date like 2026-01-31' };
  if (f.modifiedAfter && f.modifiedBefore && f.modifiedAfter >= f.modifiedBefore) return { error: 'modified after must be earlier than modified before' };
  const filters: QueryFilters = {
    ...(f.pathGlob.trim() ? { pathGlob: f.pathGlob.trim() } : {}),
    ...(f.fileTypes.length ? { fileTypes: [...f.fileTypes] } : {}),
    ...(f.modifiedAfter ? { modifiedAfter: f.modifiedAfter } : {}),
    ...(f.modifiedBefore ? { modifiedBefore: f.modifiedBefore } : {}),
  };
  return { filters: Object.keys(filters).length ? filters : undefined, k };
}

/** How many filters are set (for the toggle's label). */
export function activeFilterCount(f: FilterFields): number {
  return [f.pathGlob.trim() !== '', f.fileTypes.length > 0, f.modifiedAfter !== '', f.modifiedBefore !== ''].filter(Boolean).length;
}

export type MetricKey = keyof ApiRetrievalMetrics;
export const METRICS: ReadonlyArray<{ key: MetricKey; label: string }> = [
  { key: 'ndcg@10', label: 'nDCG@10' },
  { key: 'recall@100', label: 'Recall@100' },
  { key: 'mrr@10', label: 'MRR@10' },
];

/** Per-query bars for one metric: queries ordered by the first mode's value (best first), then id. */
export function chartRows(r: Pick<ApiOutput<'search.eval'>, 'modes' | 'perQuery'>, metric: MetricKey): { modes: string[]; rows: Array<{ qid: string; values: number[] }> } {
  const modes = Object.keys(r.modes);
  const rows = Object.entries(r.perQuery).map(([qid, byMode]) => ({ qid, values: modes.map((m) => byMode[m]?.[metric] ?? 0) }));
  rows.sort((a, b) => (b.values[0] ?? 0) - (a.values[0] ?? 0) || (a.qid < b.qid ? -1 : a.qid > b.qid ? 1 : 0));
  return { modes, rows };
}
