import { useMemo, useState, type FormEvent } from 'react';
import type { ApiCollection, ApiEvents, ApiJob } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar, StatusChip } from '../../components/ui';
import { formatBytes, formatEta, formatWhen } from '../../components/format';
import { FirstRunBanner } from './FirstRunBanner';

interface Tracked {
  job: ApiJob;
  etaMs: number | null;
  phase: string | null;
  /** Files read of the files to read (index jobs; the progress itself counts chunks). */
  files?: { done: number; total: number } | null;
}

interface IndexResult {
  filesSeen?: number;
  filesIndexed?: number;
  filesUnchanged?: number;
  filesSkipped?: number;
  documentsWritten?: number;
  chunksWritten?: number;
  errorCount?: number;
  errors?: Array<{ path: string; code: string; message: string; reason?: string }>;
  /** Files not taken by the walk, each with its reason (the record keeps the first 1,000, refused ones first). */
  skipped?: Array<{ path: string; reason: string }>;
  /** Skipped and failed files by reason (`binary`, `unsupported type .png`, `corrupt PDF`, `hidden`...). */
  byReason?: Record<string, number>;
  /** Files asked for and not (all) indexed: skipped for a reason other than hidden/ignored, or failed. */
  filesNotIndexed?: number;
}

/** Reasons that are the folder's own choice (hidden, ignore rules) or lose nothing (a second link). */
function isExpectedReason(reason: string): boolean {
  const c = reason.split(':')[0]!;
  return c === 'hidden' || c.startsWith('ignored by') || c === 'duplicate' || c === 'symlink loop';
}

/** The files an index job did not index, with their reasons: failed and refused ones first (open), then the expected skips. */
function NotIndexedList({ r }: { r: IndexResult }) {
  const errors = r.errors ?? [];
  const skipped = r.skipped ?? [];
  const refused = skipped.filter((k) => !isExpectedReason(k.reason));
  const expected = skipped.filter((k) => isExpectedReason(k.reason));
  const counts = Object.entries(r.byReason ?? {});
  const refusedCounts = counts.filter(([c]) => !isExpectedReason(c));
  const expectedCounts = counts.filter(([c]) => isExpectedReason(c));
  const problems = errors.length + refused.length;
  const total = Math.max(r.filesNotIndexed ?? 0, problems);
  const row = (path: string, reason: string, code?: string) => (
    <>
      <span className="path">{path}</span>: {code ? <span className="error-code">{code}</span> : null} <span className="reason">{reason}</span>
    </>
  );
  return (
    <>
      {problems > 0 ? (
        <details className="file-errors" data-kind="not-indexed" open={problems <= 5}>
          <summary>
            {total} {total === 1 ? 'file' : 'files'} not indexed
            {refusedCounts.length ? `: ${refusedCounts.map(([c, n]) => `${n} ${c}`).join(', ')}` : ''}
          </summary>
          <ul>
            {errors.map((e, i) => (
              <li key={`e${i}`}>{row(e.path, e.reason ?? e.message.replace(`${e.code}: `, '').replace(`${e.path}: `, ''), e.code)}</li>
            ))}
            {refused.map((k, i) => (
              <li key={`s${i}`}>{row(k.path, k.reason)}</li>
            ))}
          </ul>
        </details>
      ) : null}
      {expected.length > 0 ? (
        <details className="file-skips" data-kind="skipped">
          <summary>skipped as asked: {expectedCounts.map(([c, n]) => `${n} ${c}`).join(', ')}</summary>
          <ul>
            {expected.map((k, i) => (
              <li key={i}>{row(k.path, k.reason)}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </>
  );
}

const ACTIVE = new Set(['queued', 'running']);

function CollectionsTable({ collections, onRemove, onUpgrade }: { collections: ApiCollection[]; onRemove: (name: string) => void; onUpgrade: (c: ApiCollection) => void }) {
  return (
    <table className="table" aria-label="Collections">
      <thead>
        <tr>
          <th scope="col">Collection</th>
          <th scope="col" className="num">
            Documents
          </th>
          <th scope="col" className="num">
            Chunks
          </th>
          <th scope="col">Model</th>
          <th scope="col" className="num">
            Source
          </th>
          <th scope="col" className="num">
            Stored
          </th>
          <th scope="col">Folder</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {collections.map((c) => (
          <tr key={c.id} data-collection={c.name}>
            <th scope="row">
              <a href={`#/search?collection=${encodeURIComponent(c.name)}`}>{c.name}</a>
            </th>
            <td className="num" data-field="documents">
              {c.documents}
            </td>
            <td className="num" data-field="chunks">
              {c.chunks}
            </td>
            <td>
              {c.model === null ? (
                <span data-field="lexical-only" title="Keyword (BM25) search only: Upgrade adds vectors">
                  lexical-only
                </span>
              ) : (
                <>
                  {c.model} <span className="muted">({c.variant}{c.dims ? `, ${c.dims} dims` : ''})</span>
                </>
              )}
              {c.upgradeProgress ? (
                <div className="muted" data-field="upgrade">
                  upgrading to {c.upgradeProgress.model}: {c.upgradeProgress.done}/{c.upgradeProgress.total} chunks (search uses the current index until it ends)
                </div>
              ) : null}
            </td>
            <td className="num">{formatBytes(c.sourceBytes)}</td>
            <td className="num">{formatBytes(c.storedBytes)}</td>
            <td className="path" title={c.root ?? ''}>
              {c.root ?? '–'}
            </td>
            <td>
              <button type="button" className="btn btn-small" onClick={() => onUpgrade(c)} aria-label={`Upgrade collection ${c.name} to another model`}>
                {c.upgradeProgress ? 'Resume upgrade' : 'Upgrade'}
              </button>{' '}
              <button type="button" className="btn btn-small btn-danger" onClick={() => onRemove(c.name)} aria-label={`Remove collection ${c.name}`}>
                Remove
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function IngestionItem({ t }: { t: Tracked }) {
  const j = t.job;
  const r = (j.result ?? {}) as IndexResult;
  const root = typeof j.params.root === 'string' ? j.params.root : '?';
  const collection = typeof j.params.collection === 'string' ? j.params.collection : '?';
  return (
    <li className="ingest" data-job={j.id} data-status={j.status}>
      <div className="ingest-head">
        <StatusChip status={j.status} />
        <span className="path" title={root}>
          {root}
        </span>
        <span className="muted">→ {collection}</span>
        <a className="ingest-link" href={`#/jobs?id=${j.id}`}>
          job {j.id.slice(-8)}
        </a>
      </div>
      {ACTIVE.has(j.status) || j.status === 'interrupted' ? (
        <>
          <ProgressBar done={j.progress.done} total={j.progress.total} label={`Indexing ${root}`} />
          <p className="ingest-meta" aria-live="polite">
            {j.status === 'queued'
              ? 'waiting for the indexer…'
              : j.status === 'interrupted'
                ? 'interrupted: resume it from the Jobs page'
                : t.phase === 'scanning' || j.progress.total === null
                  ? 'scanning files…'
                  : `${j.progress.done} of about ${j.progress.total} chunks${t.files ? ` · ${t.files.done} of ${t.files.total} files read` : ''} · ${formatEta(t.etaMs)}`}
          </p>
        </>
      ) : (
        <p className="ingest-meta">
          {j.status === 'succeeded'
            ? `${r.filesSeen ?? 0} files: ${r.filesIndexed ?? 0} indexed, ${r.filesUnchanged ?? 0} unchanged, ${r.filesSkipped ?? 0} skipped · ${r.chunksWritten ?? 0} chunks · ${formatWhen(j.timings.finishedAt)}`
            : j.error
              ? `${j.error.code}: ${j.error.message}`
              : j.status}
        </p>
      )}
      {ACTIVE.has(j.status) ? null : <NotIndexedList r={r} />}
    </li>
  );
}

export function LibraryPage() {
  const api = useApi();
  const cols = useQuery('collections.list', {});
  const recent = useQuery('jobs.list', { kind: 'index', limit: 10 });
  const [live, setLive] = useState<Map<string, Tracked>>(new Map());
  const [collection, setCollection] = useState('');
  const [paths, setPaths] = useState('');
  const [submitError, setSubmitError] = useState<TandemError>();
  const [busy, setBusy] = useState(false);

  useApiEvent('job.updated', (e: ApiEvents['job.updated']) => {
    if (e.job.kind === 'upgrade') {
      // An upgrade's progress lives in the collection's record (chunks with a new vector).
      cols.reload();
      return;
    }
    if (e.job.kind !== 'index') return;
    setLive((m) => new Map(m).set(e.job.id, { job: e.job, etaMs: e.etaMs, phase: e.phase, files: e.files ?? null }));
    if (!ACTIVE.has(e.job.status)) cols.reload();
  });

  const tracked = useMemo(() => {
    const all = new Map<string, Tracked>();
    for (const j of recent.data?.jobs ?? []) all.set(j.id, { job: j, etaMs: null, phase: null });
    for (const [id, t] of live) all.set(id, t);
    return [...all.values()].sort((a, b) => (a.job.id < b.job.id ? 1 : -1)).slice(0, 10);
  }, [recent.data, live]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = paths
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);
    if (!collection.trim() || list.length === 0) {
      setSubmitError(asTandemError(new Error('Give a collection name and at least one folder or file path.')));
      return;
    }
    setBusy(true);
    setSubmitError(undefined);
    try {
      await api.call('library.index', { collection: collection.trim(), paths: list });
      setPaths('');
      recent.reload();
    } catch (err) {
      setSubmitError(asTandemError(err));
    } finally {
      setBusy(false);
    }
  };

  /** Re-embed a collection with another model in the background (an `upgrade` job; search keeps working). */
  const upgrade = async (c: ApiCollection) => {
    const suggested = c.upgradeProgress?.model ?? '';
    const model = window.prompt(
      `Re-embed "${c.name}" with which embedding model? (e.g. Xenova/bge-small-en-v1.5; see the Models page)\nSearch keeps using the current ${c.model === null ? 'keyword index' : 'vectors'} until every chunk has a new vector.`,
      suggested,
    );
    if (!model?.trim()) return;
    try {
      await api.call('collections.upgrade', { name: c.name, model: model.trim() });
    } catch (err) {
      setSubmitError(asTandemError(err));
    }
    cols.reload();
  };

  const remove = async (name: string) => {
    if (!window.confirm(`Remove the collection "${name}" and its index? Your files stay where they are.`)) return;
    try {
      await api.call('collections.remove', { name });
    } catch (err) {
      setSubmitError(asTandemError(err));
    }
    cols.reload();
  };

  const collections = cols.data?.collections ?? [];
  return (
    <section aria-labelledby="page-title" className="page">
      <PageHeader title="Library" />
      {cols.data && collections.length === 0 ? <FirstRunBanner onStarted={() => recent.reload()} /> : null}
      <div className="card">
        <h2>Add a folder or files</h2>
        <form onSubmit={submit} className="form" aria-label="Add to library">
          <label>
            Collection
            <input id="index-collection" list="collection-names" value={collection} onChange={(e) => setCollection(e.target.value)} placeholder="e.g. papers" required autoComplete="off" />
            <datalist id="collection-names">
              {collections.map((c) => (
                <option key={c.id} value={c.name} />
              ))}
            </datalist>
          </label>
          <label className="grow">
            Folders or files (absolute paths on the machine running Tandem, one per line)
            <textarea id="index-paths" value={paths} onChange={(e) => setPaths(e.target.value)} rows={3} placeholder="/home/me/papers" spellCheck={false} />
          </label>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Starting…' : 'Add to library'}
            </button>
            <span className="muted">Folders are read recursively; .gitignore is honoured. New collections use the best installed embedding model, else the built-in minishlab/potion-base-2M.</span>
          </div>
        </form>
        <ErrorBox error={submitError} title="Could not start indexing" />
      </div>

      <div className="card">
        <h2>Ingestion</h2>
        {recent.error ? <ErrorBox error={recent.error} title="Could not load recent ingestion jobs" /> : null}
        {tracked.length === 0 ? (
          <Empty title="Nothing indexed yet">
            <p>Add a folder above: its progress shows here.</p>
          </Empty>
        ) : (
          <ul className="ingest-list" aria-label="Ingestion jobs">
            {tracked.map((t) => (
              <IngestionItem key={t.job.id} t={t} />
            ))}
          </ul>
        )}
      </div>

      <div className="card">
        <h2>Collections</h2>
        {cols.loading && !cols.data ? <Loading what="collections" /> : null}
        <ErrorBox error={cols.error} title="Could not load collections" />
        {cols.data && collections.length === 0 ? (
          <Empty title="No collections yet">
            <p>Add a folder above to create your first collection.</p>
          </Empty>
        ) : null}
        {collections.length > 0 ? <CollectionsTable collections={collections} onRemove={(n) => void remove(n)} onUpgrade={(c) => void upgrade(c)} /> : null}
      </div>
    </section>
  );
}
