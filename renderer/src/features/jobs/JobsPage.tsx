import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { BACKEND_VALUES, JOB_STATUS_VALUES, type ApiJob, type ApiOutput } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { formatTree } from '../../../../native/engine/common/format-tree';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import { parseHash } from '../../app/routes';
import { TimeChart, type Series } from '../../components/TimeChart';
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar, StatusChip } from '../../components/ui';
import { formatEta, formatMs, formatUsd, formatWhen } from '../../components/format';
import { useDebounced } from '../../app/debounce';
import { mergeJobList } from './job-list';

interface Filters {
  status: string;
  kind: string;
  backend: string;
  text: string;
}

const ROW_HEIGHT = 36;
const LIST_LIMIT = 2000;

function runMs(j: ApiJob): number | null {
  const t = j.timings;
  if (!t.startedAt) return null;
  const end = t.finishedAt ? Date.parse(t.finishedAt) : j.status === 'running' ? Date.now() : null;
  return end === null ? null : end - Date.parse(t.startedAt);
}

function matches(j: ApiJob, f: Filters): boolean {
  if (f.status && j.status !== f.status) return false;
  if (f.kind && j.kind !== f.kind) return false;
  if (f.backend && j.backend !== f.backend) return false;
  if (f.text) {
    const hay = `${j.id} ${j.kind} ${j.label} ${j.backend} ${j.status} ${JSON.stringify(j.params)} ${j.error ? `${j.error.code} ${j.error.message}` : ''}`.toLowerCase();
    if (!hay.includes(f.text.toLowerCase())) return false;
  }
  return true;
}

function JobsTable({ jobs, selected, onSelect, eta }: { jobs: ApiJob[]; selected: string | null; onSelect: (id: string) => void; eta: Map<string, number | null> }) {
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: jobs.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const onKey = (e: KeyboardEvent<HTMLDivElement>, i: number) => {
    const move = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(jobs[i]!.id);
    } else if (move) {
      e.preventDefault();
      const next = Math.max(0, Math.min(jobs.length - 1, i + move));
      v.scrollToIndex(next);
      requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus());
    }
  };
  return (
    <div className="vtable" role="table" aria-label="Jobs" aria-rowcount={jobs.length}>
      <div className="vrow vhead" role="row">
        <span role="columnheader" className="col-mid">
          Job
        </span>
        <span role="columnheader">Kind</span>
        <span role="columnheader">Label</span>
        <span role="columnheader" className="col-wide">
          Backend
        </span>
        <span role="columnheader">Status</span>
        <span role="columnheader" className="col-mid">
          Progress
        </span>
        <span role="columnheader" className="col-wide">
          Queued
        </span>
        <span role="columnheader">Duration</span>
        <span role="columnheader" className="col-wide">
          Cost
        </span>
      </div>
      <div className="vbody" ref={scroller} style={{ height: Math.min(420, Math.max(1, jobs.length) * ROW_HEIGHT + 2) }}>
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((row) => {
            const j = jobs[row.index]!;
            const e = eta.get(j.id);
            return (
              <div
                key={j.id}
                role="row"
                tabIndex={0}
                data-index={row.index}
                data-job={j.id}
                data-status={j.status}
                aria-selected={selected === j.id}
                className={`vrow${selected === j.id ? ' selected' : ''}`}
                style={{ top: row.start, height: ROW_HEIGHT }}
                onClick={() => onSelect(j.id)}
                onKeyDown={(ev) => onKey(ev, row.index)}
              >
                <span role="cell" className="mono col-mid" title={j.id}>
                  {j.id.slice(-10)}
                </span>
                <span role="cell">{j.kind}</span>
                <span role="cell" data-field="label" title={j.label}>
                  {j.label || '–'}
                </span>
                <span role="cell" className="col-wide">
                  {j.backend}
                </span>
                <span role="cell">
                  <StatusChip status={j.status} />
                </span>
                <span role="cell" className="col-mid" title={j.status === 'running' && e ? formatEta(e) : undefined}>
                  {j.status === 'running' || j.status === 'interrupted' ? (
                    <ProgressBar done={j.progress.done} total={j.progress.total} label={`Progress of ${j.id}`} />
                  ) : j.progress.total !== null ? (
                    `${j.progress.done}/${j.progress.total}`
                  ) : (
                    '–'
                  )}
                </span>
                <span role="cell" className="col-wide">
                  {formatWhen(j.timings.queuedAt)}
                </span>
                <span role="cell">{formatMs(runMs(j))}</span>
                <span role="cell" className="col-wide">
                  {formatUsd(j.costUsd)}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

const TIMING_PARTS = [
  { key: 'queueMs', label: 'queue', cls: 't-queue' },
  { key: 'loadMs', label: 'cold start / load', cls: 't-load' },
  { key: 'inferenceMs', label: 'inference', cls: 't-inference' },
  { key: 'transferMs', label: 'transfer', cls: 't-transfer' },
  { key: 'otherMs', label: 'other', cls: 't-other' },
] as const;

function JobDetail({ id, onChanged, onClose, version }: { id: string; onChanged: () => void; onClose: () => void; version: number }) {
  const api = useApi();
  const [detail, setDetail] = useState<ApiOutput<'jobs.show'>>();
  const [error, setError] = useState<TandemError>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    api.call('jobs.show', { id }).then(
      (d) => live && (setDetail(d), setError(undefined)),
      (e: unknown) => live && setError(asTandemError(e)),
    );
    return () => {
      live = false;
    };
  }, [api, id, version]);

  const act = async (what: 'jobs.cancel' | 'jobs.retry' | 'jobs.resume') => {
    setBusy(true);
    setError(undefined);
    try {
      await api.call(what, { id });
      onChanged();
    } catch (e) {
      setError(asTandemError(e));
    } finally {
      setBusy(false);
    }
  };

  const j = detail?.job;
  const t = detail?.timings;
  const total = t ? TIMING_PARTS.reduce((n, p) => n + (t[p.key] ?? 0), 0) : 0;
  return (
    <aside className="card detail" aria-label="Job detail" data-job={id}>
      <div className="page-header">
        <h2>
          Job <span className="mono">{id}</span>
        </h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close the job detail">
          Close
        </button>
      </div>
      <ErrorBox error={error} />
      {!j || !t ? (
        <Loading what="the job" />
      ) : (
        <>
          <p className="detail-label" data-field="label">
            {j.label || '–'}
          </p>
          <dl>
            <dt>Status</dt>
            <dd>
              <StatusChip status={j.status} />
            </dd>
            <dt>Kind</dt>
            <dd>
              {j.kind} on {j.backend}
              {j.device ? ` (${j.device})` : ''}
            </dd>
            <dt>Progress</dt>
            <dd>{j.progress.total !== null ? `${j.progress.done} of ${j.progress.total}` : j.progress.done || '–'}</dd>
            <dt>Queued</dt>
            <dd>{formatWhen(j.timings.queuedAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatWhen(j.timings.finishedAt)}</dd>
            <dt>Cost</dt>
            <dd data-field="cost">{formatUsd(j.costUsd)}</dd>
            {j.retryOf ? (
              <>
                <dt>Retry of</dt>
                <dd>
                  <a href={`#/jobs?id=${j.retryOf}`}>{j.retryOf}</a>
                </dd>
              </>
            ) : null}
            <dt>Params</dt>
            <dd className="mono">{JSON.stringify(j.params)}</dd>
          </dl>
          {j.error ? (
            <div className="error-box" role="note">
              <strong>Error</strong>
              <span className="error-code">{j.error.code}</span>
              <p>{j.error.message}</p>
            </div>
          ) : null}
          <h3>Result</h3>
          {j.result === null || j.result === undefined ? (
            <p className="muted">{['queued', 'running'].includes(j.status) ? 'Not finished yet.' : 'No result recorded.'}</p>
          ) : (
            <pre className="result-tree" data-field="result" aria-label="Job result">
              {formatTree(j.result)}
            </pre>
          )}
          <h3>Where the time went</h3>
          {total > 0 ? (
            <div className="timing-bar" aria-hidden="true">
              {TIMING_PARTS.map((p) => {
                const v = t[p.key] ?? 0;
                return v > 0 ? <span key={p.key} className={p.cls} style={{ width: `${(v / total) * 100}%` }} title={`${p.label}: ${formatMs(v)}`} /> : null;
              })}
            </div>
          ) : null}
          <dl className="timings" aria-label="Timing breakdown">
            {TIMING_PARTS.map((p) => (
              <div key={p.key} style={{ display: 'contents' }}>
                <dt>
                  <span className="legend">
                    <span>
                      <i className={p.cls} />
                      {p.label}
                    </span>
                  </span>
                </dt>
                <dd data-timing={p.key}>{formatMs(t[p.key])}</dd>
              </div>
            ))}
            <dt>run time</dt>
            <dd data-timing="runMs">{formatMs(t.runMs)}</dd>
            <dt>total</dt>
            <dd data-timing="totalMs">{formatMs(t.totalMs)}</dd>
          </dl>
          <div className="page-actions" style={{ marginTop: 12 }}>
            {j.status === 'interrupted' ? (
              <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void act('jobs.resume')}>
                Resume
              </button>
            ) : null}
            {['failed', 'cancelled', 'interrupted'].includes(j.status) ? (
              <button type="button" className="btn" disabled={busy} onClick={() => void act('jobs.retry')}>
                Retry
              </button>
            ) : null}
            {['queued', 'running', 'interrupted'].includes(j.status) ? (
              <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void act('jobs.cancel')}>
                Cancel
              </button>
            ) : null}
          </div>
          <h3>Events</h3>
          <ol className="events" aria-label="Job events">
            {detail.events.map((e) => (
              <li key={e.id}>
                <span className="muted">{formatWhen(e.at)}</span> <b>{e.type}</b>{' '}
                {Object.keys(e.data).length ? <span className="mono">{JSON.stringify(e.data)}</span> : null}
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}

function Charts({ jobs }: { jobs: ApiJob[] }) {
  const data = useMemo(() => {
    const done = jobs.filter((j) => j.timings.finishedAt && j.timings.startedAt).sort((a, b) => Date.parse(a.timings.finishedAt!) - Date.parse(b.timings.finishedAt!));
    const x = done.map((j) => Date.parse(j.timings.finishedAt!) / 1000);
    let cum = 0;
    const latency: Series[] = [{ label: 'run time', stroke: '#2f5bd3', values: done.map((j) => runMs(j)), format: (v) => formatMs(v) }];
    const cost: Series[] = [
      { label: 'cost per job', stroke: '#8250df', values: done.map((j) => j.costUsd), format: (v) => formatUsd(v) },
      { label: 'cumulative', stroke: '#137333', values: done.map((j) => (cum += j.costUsd)), format: (v) => formatUsd(v), points: false },
    ];
    return { x, latency, cost };
  }, [jobs]);
  if (data.x.length === 0) return null;
  return (
    <div className="grid-2">
      <div className="card">
        <TimeChart title="Latency over time" x={data.x} series={data.latency} />
      </div>
      <div className="card">
        <TimeChart title="Cost over time" x={data.x} series={data.cost} />
      </div>
    </div>
  );
}

export function JobsPage() {
  const [filters, setFilters] = useState<Filters>({ status: '', kind: '', backend: '', text: '' });
  const text = useDebounced(filters.text, 250);
  const query = { ...(filters.status ? { status: filters.status as ApiJob['status'] } : {}), ...(filters.kind ? { kind: filters.kind } : {}), ...(filters.backend ? { backend: filters.backend as ApiJob['backend'] } : {}), ...(text ? { text } : {}), limit: LIST_LIMIT };
  const list = useQuery('jobs.list', query, JSON.stringify(query));
  const stats = useQuery('jobs.stats', {});
  const [jobs, setJobs] = useState<ApiJob[]>([]);
  const [eta, setEta] = useState<Map<string, number | null>>(new Map());
  const [selected, setSelected] = useState<string | null>(() => parseHash(window.location.hash).params.get('id'));
  const [version, setVersion] = useState(0);

  /** The latest state of each job seen in a `job.updated` event on this page. */
  const seen = useRef(new Map<string, ApiJob>());
  useEffect(() => {
    if (list.data) setJobs(mergeJobList(list.data.jobs, seen.current, (j) => matches(j, { ...filters, text })));
    // filters and text are the ones list.data was fetched with (its query key)
  }, [list.data]);
  useEffect(() => {
    const on = () => setSelected(parseHash(window.location.hash).params.get('id'));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  useApiEvent('job.updated', (e) => {
    seen.current.set(e.job.id, e.job);
    const f = { ...filters, text };
    setJobs((prev) => {
      const i = prev.findIndex((j) => j.id === e.job.id);
      const keep = matches(e.job, f);
      if (i === -1) return keep ? [e.job, ...prev] : prev;
      const next = [...prev];
      if (keep) next[i] = e.job;
      else next.splice(i, 1);
      return next;
    });
    setEta((m) => new Map(m).set(e.job.id, e.etaMs));
    if (e.job.id === selected && e.job.status !== 'running') setVersion((v) => v + 1);
    if (!['queued', 'running'].includes(e.job.status)) stats.reload();
  });

  const kinds = useMemo(() => [...new Set([...jobs.map((j) => j.kind), ...(stats.data?.durations.map((d) => d.kind) ?? []), 'index', 'embed'])].sort(), [jobs, stats.data]);
  const select = (id: string) => {
    setSelected(id);
    history.replaceState(null, '', `#/jobs?id=${id}`);
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [k]: e.target.value }));
  const s = stats.data;
  const p95 = s?.durations.reduce<number | null>((m, d) => (d.p95Ms !== null && (m === null || d.p95Ms > m) ? d.p95Ms : m), null) ?? null;

  return (
    <section aria-labelledby="page-title" className="page">
      <PageHeader title="Jobs">
        <button type="button" className="btn" onClick={() => (list.reload(), stats.reload())}>
          Refresh
        </button>
      </PageHeader>
      {s ? (
        <div className="stats-row" aria-label="Job statistics">
          <div className="stat">
            <b>{s.counts.total ?? 0}</b>jobs
          </div>
          <div className="stat">
            <b>{s.counts.running ?? 0}</b>running
          </div>
          <div className="stat">
            <b>{s.counts.failed ?? 0}</b>failed
          </div>
          <div className="stat">
            <b>{s.errorRate.overall.rate === null ? '–' : `${(s.errorRate.overall.rate * 100).toFixed(1)}%`}</b>error rate
          </div>
          <div className="stat">
            <b>{formatMs(p95)}</b>slowest p95
          </div>
          <div className="stat">
            <b>{formatUsd(s.cost.totalUsd)}</b>total cost
          </div>
        </div>
      ) : null}
      <div className="filters" role="search" aria-label="Filter jobs">
        <label>
          Status
          <select value={filters.status} onChange={set('status')} id="filter-status">
            <option value="">any</option>
            {JOB_STATUS_VALUES.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select value={filters.kind} onChange={set('kind')} id="filter-kind">
            <option value="">any</option>
            {kinds.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
        <label>
          Backend
          <select value={filters.backend} onChange={set('backend')} id="filter-backend">
            <option value="">any</option>
            {BACKEND_VALUES.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
        <label>
          Text
          <input type="search" value={filters.text} onChange={set('text')} placeholder="id, params, error…" id="filter-text" />
        </label>
        <span className="muted">
          {jobs.length}
          {list.data?.nextCursor ? '+' : ''} jobs
        </span>
      </div>
      <ErrorBox error={list.error} title="Could not load jobs" />
      {list.loading && !list.data ? <Loading what="jobs" /> : null}
      {list.data && jobs.length === 0 ? (
        <Empty title={filters.status || filters.kind || filters.backend || text ? 'No jobs match these filters' : 'No jobs yet'}>
          <p>Every indexing run, model download and cloud job is recorded here.</p>
        </Empty>
      ) : null}
      {jobs.length > 0 ? (
        <div className={`jobs-layout${selected ? ' with-detail' : ''}`}>
          <JobsTable jobs={jobs} selected={selected} onSelect={select} eta={eta} />
          {selected ? (
            <JobDetail
              id={selected}
              version={version}
              onChanged={() => (list.reload(), stats.reload(), setVersion((v) => v + 1))}
              onClose={() => (setSelected(null), history.replaceState(null, '', '#/jobs'))}
            />
          ) : null}
        </div>
      ) : null}
      <Charts jobs={jobs} />
    </section>
  );
}
