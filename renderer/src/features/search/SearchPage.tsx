import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { SEARCH_MODE_VALUES, type ApiModel, type ApiOutput, type ApiSearchHit } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useQuery } from '../../api/hooks';
import { parseHash } from '../../app/routes';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/ui';
import { EvaluatePanel } from './EvaluatePanel';
import { activeFilterCount, EMPTY_FILTERS, FILE_TYPES, LAST_COLLECTION_KEY, MAX_K, pickCollection, toQueryOptions, type FilterFields } from './search-state';

type Mode = (typeof SEARCH_MODE_VALUES)[number];

/** The select's value for "type a model id by hand". */
const OTHER = '__other__';
export const DEFAULT_RERANK_TOP = 50;

/** Rerank models for the select: the catalog's and those found on disk (task rerank), installed first. */
export function rerankModels(models: readonly ApiModel[]): ApiModel[] {
  return models.filter((m) => m.task === 'rerank').sort((a, b) => Number(b.installed) - Number(a.installed) || a.id.localeCompare(b.id));
}

/** "reranked top 50 with X on cpu in 12 ms" (or why nothing was reranked); why the device, if it fell back, goes in a tooltip. */
export function rerankSummary(r: ApiOutput<'search.query'>['rerank']): string | null {
  if (r === undefined) return null;
  if (r === null) return 'nothing to rerank';
  return `reranked top ${r.top} with ${r.model} on ${r.device} in ${Math.round(r.ms)} ms (${r.pairs} ${r.pairs === 1 ? 'pair' : 'pairs'})`;
}

/** The snippet with its highlight ranges as <mark>s. */
export function Highlighted({ text, ranges }: { text: string; ranges: ApiSearchHit['highlights'] }) {
  const out: ReactNode[] = [];
  let at = 0;
  ranges.forEach((r, i) => {
    if (r.start < at || r.end > text.length) return;
    out.push(text.slice(at, r.start));
    out.push(<mark key={i}>{text.slice(r.start, r.end)}</mark>);
    at = r.end;
  });
  out.push(text.slice(at));
  return <>{out}</>;
}

/** localStorage may be unavailable (private modes, sandboxed pages): remembering is best effort. */
function remembered(): string | null {
  try {
    return window.localStorage.getItem(LAST_COLLECTION_KEY);
  } catch {
    return null;
  }
}

function remember(name: string): void {
  try {
    window.localStorage.setItem(LAST_COLLECTION_KEY, name);
  } catch {
    // best effort
  }
}

/** The CLI's filters (path glob, file types, modified after/before) and k. */
function FilterControls({ value, onChange, error }: { value: FilterFields; onChange: (f: FilterFields) => void; error: string | null }) {
  const set = (patch: Partial<FilterFields>) => onChange({ ...value, ...patch });
  const n = activeFilterCount(value);
  return (
    <details className="search-filters" style={{ flexBasis: '100%' }}>
      <summary>Filters{n ? ` (${n})` : ''} · {value.k} results</summary>
      <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', alignItems: 'center', marginTop: 6 }}>
        <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
          Path
          <input id="filter-path" placeholder="glob, e.g. notes/**/*.md" value={value.pathGlob} onChange={(e) => set({ pathGlob: e.target.value })} />
        </label>
        <fieldset aria-label="File types" style={{ border: 'none', padding: 0, margin: 0, display: 'inline-flex', gap: 8, flexWrap: 'wrap' }}>
          {FILE_TYPES.map((t) => (
            <label key={t} style={{ display: 'inline-flex', gap: 3, alignItems: 'center' }}>
              <input type="checkbox" name="filter-type" value={t} checked={value.fileTypes.includes(t)} onChange={(e) => set({ fileTypes: e.target.checked ? [...value.fileTypes, t] : value.fileTypes.filter((x) => x !== t) })} />
              {t}
            </label>
          ))}
        </fieldset>
        <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
          Modified after
          <input id="filter-after" type="date" value={value.modifiedAfter} onChange={(e) => set({ modifiedAfter: e.target.value })} />
        </label>
        <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
          before
          <input id="filter-before" type="date" value={value.modifiedBefore} onChange={(e) => set({ modifiedBefore: e.target.value })} />
        </label>
        <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
          Results
          <input id="search-k" type="number" min={1} max={MAX_K} value={value.k} onChange={(e) => set({ k: e.target.value })} style={{ width: '5em' }} aria-invalid={error !== null} />
        </label>
        {n ? (
          <button type="button" className="btn btn-small" onClick={() => onChange({ ...EMPTY_FILTERS, k: value.k })}>
            Clear filters
          </button>
        ) : null}
        {error ? (
          <span className="field-error" role="alert">
            {error}
          </span>
        ) : null}
      </div>
    </details>
  );
}

/** What each kind of score means, for the score's tooltip. */
const SCORE_MEANING: Record<ApiSearchHit['scoreKind'], string> = {
  bm25: 'BM25: keyword relevance, higher is better, no fixed scale',
  cosine: 'cosine similarity of the query and passage vectors (-1 to 1)',
  fused: 'fused: normalised BM25 and cosine combined, weighted by the model\'s published retrieval quality (0 to 1)',
  rrf: 'reciprocal rank fusion of the keyword and vector ranks',
  rerank: "the cross-encoder's score",
};

/** `bm25 28.8`, `cosine 0.553`, `fused 0.831`: the score with what it is. */
export function formatScore(hit: Pick<ApiSearchHit, 'score' | 'scoreKind'>): string {
  const digits = hit.scoreKind === 'bm25' ? 1 : hit.scoreKind === 'rrf' ? 4 : 3;
  return `${hit.scoreKind} ${hit.score.toFixed(digits)}`;
}

function Hit({ hit, rank, onOpen, opened }: { hit: ApiSearchHit; rank: number; onOpen: () => void; opened: string | undefined }) {
  return (
    <li className="hit" data-path={hit.path}>
      <div className="hit-head">
        <span className="hit-rank">{rank}.</span>
        <span className="hit-title">{hit.title || hit.path.split(/[\\/]/).pop()}</span>
        {hit.rerankScore !== undefined ? (
          <span className="hit-score" title={`the cross-encoder's score, then the first stage's (${SCORE_MEANING[hit.scoreKind]})`}>
            <span data-field="rerank-score">rerank {hit.rerankScore.toFixed(4)}</span> · <span data-field="first-score">first {formatScore(hit)}</span>
          </span>
        ) : (
          <span className="hit-score" title={SCORE_MEANING[hit.scoreKind]} data-field="first-score">
            {formatScore(hit)}
          </span>
        )}
      </div>
      <p className="hit-snippet">
        <Highlighted text={hit.snippet} ranges={hit.highlights} />
      </p>
      <div className="hit-foot">
        <span className="path" title={hit.path}>
          {hit.path}
        </span>
        {hit.page !== null ? (
          <span className="muted" data-field="location">page {hit.page}</span>
        ) : hit.lines ? (
          <span className="muted" data-field="location">
            {hit.lines.start === hit.lines.end ? `line ${hit.lines.start}` : `lines ${hit.lines.start}–${hit.lines.end}`}
          </span>
        ) : (
          <span className="muted" data-field="location">chars {hit.start}–{hit.end}</span>
        )}
        <span className="muted">{hit.fileType}</span>
        <button type="button" className="btn btn-small" onClick={onOpen} aria-label={`Open ${hit.path}`}>
          Open
        </button>
        {opened ? (
          <span className="opened" role="status">
            {opened}
          </span>
        ) : null}
      </div>
    </li>
  );
}

export function SearchPage() {
  const api = useApi();
  const cols = useQuery('collections.list', {});
  const initial = parseHash(window.location.hash).params.get('collection') ?? '';
  const [collection, setCollection] = useState(initial);
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<Mode>('default');
  const [result, setResult] = useState<ApiOutput<'search.query'>>();
  const [error, setError] = useState<TandemError>();
  const [busy, setBusy] = useState(false);
  const [opened, setOpened] = useState<Record<string, string>>({});
  const [rerankOn, setRerankOn] = useState(false);
  const [rerankChoice, setRerankChoice] = useState('');
  const [rerankOther, setRerankOther] = useState('');
  const [rerankTop, setRerankTop] = useState(String(DEFAULT_RERANK_TOP));
  const [filterFields, setFilterFields] = useState<FilterFields>(EMPTY_FILTERS);
  const queryOptions = toQueryOptions(filterFields);
  const filterError = 'error' in queryOptions ? queryOptions.error : null;
  const input = useRef<HTMLInputElement>(null);
  const modelList = useQuery('models.list', {});
  const rerankers = useMemo(() => rerankModels(modelList.data?.models ?? []), [modelList.data]);
  useEffect(() => {
    if (!rerankChoice && rerankers[0]) setRerankChoice(rerankers[0].id);
  }, [rerankChoice, rerankers]);
  const rerankModel = (rerankChoice === OTHER || (!rerankChoice && rerankers.length === 0) ? rerankOther : rerankChoice).trim();
  const topN = Number(rerankTop);
  const topError = rerankOn && !(Number.isInteger(topN) && topN >= 1 && topN <= 200) ? 'top N must be a whole number from 1 to 200' : null;
  const modelError = rerankOn && !rerankModel ? 'choose a rerank model or type its id' : null;

  const collections = cols.data?.collections ?? [];
  // Open on the URL's collection, else the last one searched, else the most recently indexed one with documents: never an empty one.
  const indexJobs = useQuery('jobs.list', { kind: 'index', status: 'succeeded', limit: 100 });
  const jobsSettled = indexJobs.data !== undefined || indexJobs.error !== undefined;
  useEffect(() => {
    if (collection || !cols.data || !jobsSettled) return;
    const recentlyIndexed = (indexJobs.data?.jobs ?? []).map((j) => j.params.collection).filter((c): c is string => typeof c === 'string');
    const pick = pickCollection(cols.data.collections, { fromUrl: initial, remembered: remembered(), recentlyIndexed });
    if (pick) setCollection(pick);
  }, [collection, cols.data, jobsSettled, indexJobs.data, initial]);
  useEffect(() => {
    if (collection) remember(collection);
  }, [collection]);
  const ready = collections.length > 0;
  useEffect(() => {
    if (ready) input.current?.focus();
  }, [ready]);

  const run = async (m: Mode = mode) => {
    if (!query.trim() || !collection || topError || modelError || 'error' in queryOptions) return;
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api.call('search.query', { query: query.trim(), collection, mode: m, k: queryOptions.k, ...(queryOptions.filters ? { filters: queryOptions.filters } : {}), ...(rerankOn ? { rerank: { model: rerankModel, top: topN } } : {}) }));
      setOpened({});
    } catch (e) {
      setError(asTandemError(e));
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run();
  };

  const open = async (hit: ApiSearchHit) => {
    try {
      const r = await api.call('files.open', { path: hit.path, ...(hit.page !== null ? { page: hit.page } : {}) });
      setOpened((o) => ({ ...o, [hit.path]: r.opened ? 'opened' : `on the host: ${r.path}` }));
    } catch (e) {
      const te = asTandemError(e);
      setOpened((o) => ({ ...o, [hit.path]: `${te.code}: ${te.message}` }));
    }
  };

  return (
    <section aria-labelledby="page-title" className="page">
      <PageHeader title="Search" />
      {cols.loading && !cols.data ? <Loading what="collections" /> : null}
      <ErrorBox error={cols.error} title="Could not load collections" />
      {cols.data && collections.length === 0 ? (
        <Empty title="Nothing to search yet">
          <p>
            Add a folder in the <a href="#/library">Library</a> first.
          </p>
        </Empty>
      ) : null}
      {collections.length > 0 ? (
        <form className="search-form" onSubmit={submit} role="search">
          <label className="sr-only" htmlFor="search-query">
            Search query
          </label>
          <input id="search-query" ref={input} type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Search your documents…  (press / from anywhere)" autoComplete="off" />
          <label className="sr-only" htmlFor="search-collection">
            Collection
          </label>
          <select id="search-collection" value={collection} onChange={(e) => setCollection(e.target.value)}>
            {collections.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name} ({c.documents ? `${c.documents} docs` : 'empty'})
              </option>
            ))}
          </select>
          <div className="segmented" role="group" aria-label="Search mode">
            {SEARCH_MODE_VALUES.map((m) => (
              <button
                key={m}
                type="button"
                className={m === mode ? 'on' : ''}
                aria-pressed={m === mode}
                onClick={() => {
                  setMode(m);
                  if (query.trim()) void run(m);
                }}
              >
                {m}
              </button>
            ))}
          </div>
          <button type="submit" className="btn btn-primary" disabled={busy || !query.trim() || topError !== null || modelError !== null || filterError !== null}>
            {busy ? 'Searching…' : 'Search'}
          </button>
          <FilterControls value={filterFields} onChange={setFilterFields} error={filterError} />
          <fieldset className="rerank-controls" aria-label="Rerank" style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center', border: 'none', padding: 0, margin: 0, flexBasis: '100%' }}>
            <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
              <input id="rerank-toggle" type="checkbox" checked={rerankOn} onChange={(e) => setRerankOn(e.target.checked)} />
              Rerank with a cross-encoder
            </label>
            {rerankOn ? (
              <>
                <label className="sr-only" htmlFor="rerank-model">
                  Rerank model
                </label>
                <select id="rerank-model" value={rerankers.length === 0 && !rerankChoice ? OTHER : rerankChoice} onChange={(e) => setRerankChoice(e.target.value)}>
                  {rerankers.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.id}
                      {m.installed ? '' : ' (not installed)'}
                    </option>
                  ))}
                  <option value={OTHER}>other (type an id)…</option>
                </select>
                {rerankChoice === OTHER || rerankers.length === 0 ? (
                  <input id="rerank-model-other" aria-label="Rerank model id" placeholder="e.g. Xenova/ms-marco-MiniLM-L-6-v2" value={rerankOther} onChange={(e) => setRerankOther(e.target.value)} />
                ) : null}
                <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
                  top
                  <input id="rerank-top" type="number" min={1} max={200} value={rerankTop} onChange={(e) => setRerankTop(e.target.value)} style={{ width: '5em' }} aria-invalid={topError !== null} />
                </label>
                {topError || modelError ? (
                  <span className="field-error" role="alert">
                    {topError ?? modelError}
                  </span>
                ) : (
                  <span className="muted">rescores the top {topN} of the first stage</span>
                )}
              </>
            ) : null}
          </fieldset>
        </form>
      ) : null}
      {collections.length > 0 ? <EvaluatePanel collection={collection} /> : null}
      <ErrorBox error={error} title={error && rerankOn && /rerank|MODEL_/.test(`${error.code} ${error.message}`) ? `Rerank model ${rerankModel}: cannot use it` : 'Search failed'} />
      {result ? (
        result.hits.length === 0 ? (
          <Empty title="No results">
            <p>Try other words, or the lexical or vector mode.</p>
          </Empty>
        ) : (
          <>
            <p className="muted" aria-live="polite" data-field="search-status">
              {result.hits.length} results · {result.mode} · {result.tookMs} ms
              {result.rerank !== undefined ? <span data-field="rerank-status" title={result.rerank?.deviceReason ? `device: ${result.rerank.deviceReason}` : undefined}>
                  {' · '}
                  {rerankSummary(result.rerank)}
                </span> : null}
            </p>
            <ol className="hits" aria-label="Results">
              {result.hits.map((h, i) => (
                <Hit key={h.docKey} hit={h} rank={i + 1} onOpen={() => void open(h)} opened={opened[h.path]} />
              ))}
            </ol>
          </>
        )
      ) : null}
    </section>
  );
}
