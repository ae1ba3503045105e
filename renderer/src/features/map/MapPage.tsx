/**
 * Map: a 2D projection (PCA or UMAP, computed by the engine off its main thread and cached) of a
 * collection's chunks, as a canvas scatter plot coloured by folder or file type. Hover (or [ and ]
 * on the focused plot) shows a chunk's preview and path; click (or Enter) opens the file.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiEvents, ApiOutput } from '../../../../native/engine/common/api-contract';
import { MAP_METHOD_VALUES, type MapMethodName } from '../../../../native/engine/common/contract/map';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import { parseHash } from '../../app/routes';
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar } from '../../components/ui';
import { formatMs } from '../../components/format';
import { ScatterCanvas } from './ScatterCanvas';
import { categorize } from './scatter';
import './map.css';

type MapResult = ApiOutput<'map.compute'>;
type ColorBy = 'folder' | 'fileType';

const METHOD_LABEL: Record<MapMethodName, string> = { pca: 'PCA', umap: 'UMAP' };
const COLOR_BY_LABEL: Record<ColorBy, string> = { folder: 'Folder', fileType: 'File type' };
const PHASE_LABEL: Record<ApiEvents['map.progress']['phase'], string> = { loading: 'Loading vectors', projecting: 'Projecting', saving: 'Saving' };

function folderLabel(f: string): string {
  return f === '.' ? '(top folder)' : f;
}

function fileName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function MapPage() {
  const api = useApi();
  const cols = useQuery('collections.list', {});
  const initial = parseHash(window.location.hash).params.get('collection') ?? '';
  const [collection, setCollection] = useState(initial);
  const [method, setMethod] = useState<MapMethodName>('pca');
  const [colorBy, setColorBy] = useState<ColorBy>('folder');
  const [result, setResult] = useState<MapResult>();
  const [error, setError] = useState<TandemError>();
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<ApiEvents['map.progress']>();
  /** The point under the pointer (or stepped to by keyboard), and the one last clicked (kept). */
  const [hover, setHover] = useState(-1);
  const [selected, setSelected] = useState(-1);
  const [opened, setOpened] = useState<string>();
  const [tick, setTick] = useState(0);
  const request = useRef(0);

  const collections = cols.data?.collections ?? [];
  useEffect(() => {
    if (!collection && collections[0]) setCollection(collections[0].name);
  }, [collection, collections]);

  useEffect(() => {
    if (!collection) return;
    const id = ++request.current;
    setBusy(true);
    setError(undefined);
    setProgress(undefined);
    setHover(-1);
    setSelected(-1);
    setOpened(undefined);
    api.call('map.compute', { collection, method }).then(
      (r) => {
        if (id !== request.current) return;
        setResult(r);
        setBusy(false);
      },
      (e: unknown) => {
        if (id !== request.current) return;
        setError(asTandemError(e));
        setResult(undefined);
        setBusy(false);
      },
    );
  }, [api, collection, method, tick]);

  useApiEvent('map.progress', (p) => {
    if (p.collection === collection && p.method === method) setProgress(p);
  });

  const points = useMemo(() => result?.points ?? [], [result]);
  const xs = useMemo(() => Float32Array.from(points, (p) => p.x), [points]);
  const ys = useMemo(() => Float32Array.from(points, (p) => p.y), [points]);
  const cats = useMemo(() => categorize(points, (p) => (colorBy === 'folder' ? folderLabel(p.folder) : p.fileType)), [points, colorBy]);
  const colors = useMemo(() => cats.list.map((c) => c.color), [cats]);
  const active = hover >= 0 ? hover : selected;
  const current = active >= 0 ? points[active] : undefined;

  const open = async (i: number) => {
    const p = points[i];
    if (!p) return;
    setSelected(i);
    setOpened(undefined);
    try {
      const r = await api.call('files.open', { path: p.documentPath });
      setOpened(r.opened ? `Opened ${r.path}` : `The file is on the host: ${r.path}`);
    } catch (e) {
      const te = asTandemError(e);
      setOpened(`${te.code}: ${te.message}`);
    }
  };

  return (
    <section aria-labelledby="page-title" className="page map-page">
      <PageHeader title="Map" />
      {cols.loading && !cols.data ? <Loading what="collections" /> : null}
      <ErrorBox error={cols.error} title="Could not load collections" />
      {cols.data && collections.length === 0 ? (
        <Empty title="Nothing to map yet">
          <p>
            Add a folder in the <a href="#/library">Library</a>: its chunks appear here as a map, close when their meaning is close.
          </p>
        </Empty>
      ) : null}
      {collections.length > 0 ? (
        <div className="map-controls" role="group" aria-label="Map settings">
          <label>
            Collection{' '}
            <select id="map-collection" value={collection} onChange={(e) => setCollection(e.target.value)}>
              {collections.map((c) => (
                <option key={c.id} value={c.name}>
                  {c.name} ({c.chunks} chunks)
                </option>
              ))}
            </select>
          </label>
          <div className="segmented" role="group" aria-label="Projection">
            {MAP_METHOD_VALUES.map((m) => (
              <button key={m} type="button" className={m === method ? 'on' : ''} aria-pressed={m === method} onClick={() => setMethod(m)}>
                {METHOD_LABEL[m]}
              </button>
            ))}
          </div>
          <div className="segmented" role="group" aria-label="Colour by">
            {(['folder', 'fileType'] as const).map((c) => (
              <button key={c} type="button" className={c === colorBy ? 'on' : ''} aria-pressed={c === colorBy} onClick={() => setColorBy(c)}>
                {COLOR_BY_LABEL[c]}
              </button>
            ))}
          </div>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              cols.reload();
              setTick((t) => t + 1);
            }}
            disabled={busy || !collection}
          >
            Refresh
          </button>
        </div>
      ) : null}

      {busy ? (
        <div className="card map-progress" aria-live="polite">
          <p>
            Computing the {METHOD_LABEL[method]} map of <b>{collection}</b>
            {progress ? ` · ${PHASE_LABEL[progress.phase]}${progress.total ? ` ${progress.done} of ${progress.total}` : ''}` : ''}…
          </p>
          <ProgressBar done={progress?.done ?? 0} total={progress?.total ?? null} label="Map progress" />
        </div>
      ) : null}
      <ErrorBox error={error} title="Could not compute the map" />

      {result && !busy && points.length === 0 ? (
        <Empty title="No chunks to map">
          <p>
            The collection <b>{result.collection}</b> has no embedded chunks yet. Index a folder into it from the <a href="#/library">Library</a>.
          </p>
        </Empty>
      ) : null}

      {result && points.length > 0 ? (
        <div className="map-layout">
          <div className="card map-card">
            <p className="muted map-summary" data-testid="map-summary">
              {points.length.toLocaleString()} {result.sampled ? `of ${result.total.toLocaleString()} chunks (an even sample)` : points.length === 1 ? 'chunk' : 'chunks'} · {METHOD_LABEL[result.method]} · {result.model} ·{' '}
              {result.cached ? 'from the cache' : `computed in ${formatMs(result.computeMs)}`}
            </p>
            <ScatterCanvas
              xs={xs}
              ys={ys}
              colorOf={cats.of}
              colors={colors}
              active={active}
              onActive={setHover}
              onOpen={(i) => void open(i)}
              label={`${METHOD_LABEL[result.method]} map of ${points.length} chunks of ${result.collection}, coloured by ${COLOR_BY_LABEL[colorBy].toLowerCase()}`}
              describedBy="map-keys"
              tooltip={(i) => {
                const p = points[i];
                return p ? (
                  <>
                    <span className="tip-preview">{p.preview}</span>
                    <span className="tip-path">
                      {fileName(p.documentPath)}
                      {p.page !== undefined ? ` · page ${p.page}` : ''}
                    </span>
                  </>
                ) : null;
              }}
            />
            <p id="map-keys" className="muted map-keys">
              Drag to pan, wheel to zoom, click a point to open its file. Keyboard: focus the map, then <kbd>←↑→↓</kbd> pan, <kbd>+</kbd> <kbd>−</kbd> zoom, <kbd>0</kbd> reset, <kbd>[</kbd> <kbd>]</kbd> step through
              chunks, <kbd>Enter</kbd> opens, <kbd>Esc</kbd> clears.
            </p>
          </div>
          <aside className="map-side">
            <div className="card">
              <h2>{COLOR_BY_LABEL[colorBy]}</h2>
              <ul className="map-legend" aria-label={`Colours by ${COLOR_BY_LABEL[colorBy].toLowerCase()}`}>
                {cats.list.map((c) => (
                  <li key={c.label} data-category={c.label}>
                    <i style={{ background: c.color }} aria-hidden="true" />
                    <span className="legend-label">{c.label}</span>
                    <span className="muted num">{c.count}</span>
                  </li>
                ))}
              </ul>
            </div>
            <div className="card map-detail" aria-live="polite" data-testid="map-detail">
              {current ? (
                <>
                  <h2>{fileName(current.documentPath)}</h2>
                  <p className="map-preview">{current.preview}</p>
                  <p className="path" title={current.documentPath}>
                    {current.documentPath}
                  </p>
                  <p className="muted">
                    {current.page !== undefined ? `page ${current.page} · ` : ''}
                    {current.fileType} · {folderLabel(current.folder)}
                  </p>
                  <button type="button" className="btn btn-small" onClick={() => void open(active)}>
                    Open file
                  </button>
                  {opened && active === selected ? (
                    <p className="opened" role="status">
                      {opened}
                    </p>
                  ) : null}
                </>
              ) : (
                <p className="muted">Point at a dot to see its text and file.</p>
              )}
            </div>
          </aside>
        </div>
      ) : null}
    </section>
  );
}
