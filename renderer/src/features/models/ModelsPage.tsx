import { useState, type FormEvent } from 'react';
import type { ApiModel, ApiOutput } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar, StatusChip } from '../../components/ui';
import { formatBytes, formatEta } from '../../components/format';

interface Pull {
  jobId: string;
  status: string;
  done: number;
  total: number | null;
  etaMs: number | null;
  file: string | null;
  error: string | null;
}

function ModelRow({ m, pull, verify, onPull, onVerify }: { m: ApiModel; pull: Pull | undefined; verify: ApiOutput<'models.verify'> | TandemError | undefined; onPull: (variant: string | undefined) => void; onVerify: () => void }) {
  const [variant, setVariant] = useState('');
  const pulling = pull && ['queued', 'running'].includes(pull.status);
  return (
    <tr data-model={m.id}>
      <th scope="row">
        <span className="mono">{m.id}</span>
        {m.problem ? <div className="error-code">{m.problem}</div> : null}
      </th>
      <td>{m.task ?? '–'}</td>
      <td className="num">{m.dims ?? '–'}</td>
      <td data-field="installed">
        {m.installed && m.problem ? (
          <span className="chip chip-failed">unusable</span>
        ) : m.installed ? (
          <>
            <span className="chip chip-succeeded">installed</span> <span className="muted">{m.variants.join(', ')}</span>
          </>
        ) : (
          <span className="chip chip-queued">not installed</span>
        )}
        {m.builtin ? (
          <>
            {' '}
            <span className="chip chip-builtin" data-builtin="true" title="Ships with Tandem: always available, offline, nothing to download">
              built in
            </span>
          </>
        ) : null}
        {m.dir ? (
          <div className="path muted" title={m.dir}>
            {m.dir}
          </div>
        ) : null}
      </td>
      <td className="num">{m.sizeOnDisk ? formatBytes(m.sizeOnDisk) : '–'}</td>
      <td>{m.license ?? '–'}</td>
      <td>
        <div className="page-actions">
          {m.inCatalog ? (
            <>
              <label className="sr-only" htmlFor={`variant-${m.id}`}>
                Variant of {m.id}
              </label>
              <select id={`variant-${m.id}`} value={variant} onChange={(e) => setVariant(e.target.value)}>
                <option value="">default ({m.defaultVariant ?? '?'})</option>
                {m.catalogVariants.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
              <button type="button" className="btn btn-small" disabled={pulling} onClick={() => onPull(variant || undefined)} aria-label={`Download ${m.id}`}>
                {pulling ? 'Downloading…' : m.installed ? 'Pull again' : 'Download'}
              </button>
            </>
          ) : null}
          {m.installed ? (
            <button type="button" className="btn btn-small" onClick={onVerify} aria-label={`Verify ${m.id}`}>
              Verify
            </button>
          ) : null}
        </div>
        {pull ? (
          <div className="pull" data-pull-status={pull.status}>
            <StatusChip status={pull.status} />{' '}
            {pulling ? (
              <>
                <ProgressBar done={pull.done} total={pull.total} label={`Downloading ${m.id}`} />
                <span className="muted">
                  {pull.file ?? ''} {pull.total ? `${formatBytes(pull.done)} of ${formatBytes(pull.total)}` : ''} {formatEta(pull.etaMs)}
                </span>
              </>
            ) : pull.error ? (
              <span className="error-code">{pull.error}</span>
            ) : null}
          </div>
        ) : null}
        {verify ? (
          <div className="verify" role="status" data-verify={'ok' in verify ? (verify.ok ? 'ok' : 'bad') : 'error'}>
            {'ok' in verify ? (
              verify.ok ? (
                <span className="chip chip-succeeded">
                  verified: {verify.files.filter((f) => f.status === 'ok').length} files match
                  {verify.files.some((f) => f.status === 'unpinned') ? `, ${verify.files.filter((f) => f.status === 'unpinned').length} unpinned (no sha256 in the catalog: trusted on first use)` : ''}
                </span>
              ) : (
                <span className="chip chip-failed">
                  {verify.files.filter((f) => f.status === 'mismatch' || f.status === 'missing').map((f) => `${f.path}: ${f.status}`).join('; ')}
                </span>
              )
            ) : (
              <span className="error-code">
                {verify.code}: {verify.message}
              </span>
            )}
          </div>
        ) : null}
      </td>
    </tr>
  );
}

export function ModelsPage() {
  const api = useApi();
  const models = useQuery('models.list', {});
  const [pulls, setPulls] = useState<Record<string, Pull>>({});
  const [verifies, setVerifies] = useState<Record<string, ApiOutput<'models.verify'> | TandemError>>({});
  const [error, setError] = useState<TandemError>();
  const [folder, setFolder] = useState('');
  const [importId, setImportId] = useState('');
  const [imported, setImported] = useState<string>();
  const [busy, setBusy] = useState(false);

  const byJob = (jobId: string) => Object.entries(pulls).find(([, p]) => p.jobId === jobId)?.[0];
  useApiEvent('job.updated', (e) => {
    const id = byJob(e.job.id);
    if (!id) return;
    setPulls((p) => ({ ...p, [id]: { ...p[id]!, status: e.job.status, done: e.job.progress.done, total: e.job.progress.total, etaMs: e.etaMs, error: e.job.error ? `${e.job.error.code}: ${e.job.error.message}` : null } }));
    if (!['queued', 'running'].includes(e.job.status)) models.reload();
  });
  useApiEvent('models.progress', (e) => {
    setPulls((p) => (p[e.id] ? { ...p, [e.id]: { ...p[e.id]!, file: e.file } } : p));
  });

  const pull = async (id: string, variant: string | undefined, allowUnpinned = false) => {
    setError(undefined);
    try {
      const r = await api.call('models.pull', { id, ...(variant ? { variant: variant as 'fp32' } : {}), ...(allowUnpinned ? { allowUnpinned } : {}) });
      setPulls((p) => ({ ...p, [id]: { jobId: r.jobId, status: 'queued', done: 0, total: null, etaMs: null, file: null, error: null } }));
    } catch (e) {
      const err = asTandemError(e);
      // A model the catalog does not pin: the engine refuses until the user says so, once per click.
      if (!allowUnpinned && err.code === 'INVALID_ARGUMENT' && err.data?.flag === '--allow-unpinned' && window.confirm(`${err.message}\n\nDownload it anyway?`)) return pull(id, variant, true);
      setError(err);
    }
  };
  const verify = async (id: string) => {
    try {
      const r = await api.call('models.verify', { id });
      setVerifies((v) => ({ ...v, [id]: r }));
    } catch (e) {
      setVerifies((v) => ({ ...v, [id]: asTandemError(e) }));
    }
  };
  const doImport = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setImported(undefined);
    try {
      const r = await api.call('models.import', { folder: folder.trim(), id: importId.trim() });
      setImported(`Imported ${r.id} into ${r.dir} (${r.files.length} files${r.unpinned.length ? `, ${r.unpinned.length} not pinned by the catalog` : ''})`);
      models.reload();
    } catch (err) {
      setError(asTandemError(err));
    } finally {
      setBusy(false);
    }
  };

  const d = models.data;
  return (
    <section aria-labelledby="page-title" className="page">
      <PageHeader title="Models" />
      {d ? (
        <div className="card" aria-label="Device">
          <h2>Device</h2>
          <div className="device" data-device={d.device.used}>
            <b>{d.device.used}</b>
            <span>{d.device.reason}</span>
          </div>
          <p className="muted">Static (Model2Vec) models run natively on the CPU as a table lookup whatever the device. Model folders: {d.modelDirs.join(', ')}</p>
          <p data-field="default-model">
            New collections use <span className="mono">{d.defaultEmbeddingModel.id}</span>: {d.defaultEmbeddingModel.reason}.
          </p>
        </div>
      ) : null}
      <ErrorBox error={error} />
      <div className="card">
        <h2>Catalog and installed models</h2>
        {models.loading && !d ? <Loading what="models" /> : null}
        <ErrorBox error={models.error} title="Could not list models" />
        {d && d.models.length === 0 ? <Empty title="No models in the catalog or on disk" /> : null}
        {d && d.models.length > 0 ? (
          <table className="table" aria-label="Models">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Task</th>
                <th scope="col" className="num">
                  Dims
                </th>
                <th scope="col">Installed</th>
                <th scope="col" className="num">
                  On disk
                </th>
                <th scope="col">License</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {d.models.map((m) => (
                <ModelRow key={m.id} m={m} pull={pulls[m.id]} verify={verifies[m.id]} onPull={(v) => void pull(m.id, v)} onVerify={() => void verify(m.id)} />
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
      <div className="card">
        <h2>Import a model folder</h2>
        <p className="muted">For machines without internet access: copy a model folder here; files are verified against the catalog when the id is in it.</p>
        <form className="form" onSubmit={doImport} aria-label="Import a model folder">
          <label className="grow">
            Folder (absolute path on the machine running Tandem)
            <input id="import-folder" value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/media/usb/all-MiniLM-L6-v2" required spellCheck={false} />
          </label>
          <label>
            Model id
            <input id="import-id" value={importId} onChange={(e) => setImportId(e.target.value)} placeholder="owner/name" required />
          </label>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Importing…' : 'Import'}
            </button>
            {imported ? (
              <span role="status" className="muted">
                {imported}
              </span>
            ) : null}
          </div>
        </form>
      </div>
    </section>
  );
}
