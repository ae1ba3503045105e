import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { SEARCH_MODE_VALUES, type ApiOutput, type ApiSearchHit } from '../../../native/engine/common/api-contract';
import type { TandemError } from '../../../native/engine/common/errors';
import { asTandemError, useApi, useQuery } from '../api/hooks';
import { parseHash } from '../app/routes';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/ui';

type Mode = (typeof SEARCH_MODE_VALUES)[number];

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

function Hit({ hit, rank, onOpen, opened }: { hit: ApiSearchHit; rank: number; onOpen: () => void; opened: string | undefined }) {
  return (
    <li className="hit" data-path={hit.path}>
      <div className="hit-head">
        <span className="hit-rank">{rank}.</span>
        <span className="hit-title">{hit.title || hit.path.split(/[\\/]/).pop()}</span>
        <span className="hit-score" title="score">
          {hit.score.toFixed(4)}
        </span>
      </div>
      <p className="hit-snippet">
        <Highlighted text={hit.snippet} ranges={hit.highlights} />
      </p>
      <div className="hit-foot">
        <span className="path" title={hit.path}>
          {hit.path}
        </span>
        {hit.page !== null ? <span className="muted">page {hit.page}</span> : <span className="muted">chars {hit.start}–{hit.end}</span>}
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
  const [mode, setMode] = useState<Mode>('hybrid');
  const [result, setResult] = useState<ApiOutput<'search.query'>>();
  const [error, setError] = useState<TandemError>();
  const [busy, setBusy] = useState(false);
  const [opened, setOpened] = useState<Record<string, string>>({});
  const input = useRef<HTMLInputElement>(null);

  const collections = cols.data?.collections ?? [];
  useEffect(() => {
    if (!collection && collections[0]) setCollection(collections[0].name);
  }, [collection, collections]);
  const ready = collections.length > 0;
  useEffect(() => {
    if (ready) input.current?.focus();
  }, [ready]);

  const run = async (m: Mode = mode) => {
    if (!query.trim() || !collection) return;
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api.call('search.query', { query: query.trim(), collection, mode: m, k: 10 }));
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
      const r = await api.call('files.open', { path: hit.path });
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
                {c.name} ({c.documents} docs)
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
          <button type="submit" className="btn btn-primary" disabled={busy || !query.trim()}>
            {busy ? 'Searching…' : 'Search'}
          </button>
        </form>
      ) : null}
      <ErrorBox error={error} title="Search failed" />
      {result ? (
        result.hits.length === 0 ? (
          <Empty title="No results">
            <p>Try other words, or the lexical or vector mode.</p>
          </Empty>
        ) : (
          <>
            <p className="muted" aria-live="polite">
              {result.hits.length} results · {result.mode} · {result.tookMs} ms
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
