/**
 * Boltz-2: protein chains and a ligand list (SMILES or CCD per row; paste many lines for a batch)
 * validated as you type, the route and cost estimate before submitting, single-complex or batch
 * submit, live per-ligand progress, a sortable confidence/affinity table, and the predicted
 * structure in 3D (3Dmol.js). Past Boltz-2 jobs can be reopened.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { POLICY_VALUES, type ApiCloudRequest, type ApiRoutePlan, type Policy } from '../../../../native/engine/common/contract/cloud';
import type { ApiJob } from '../../../../native/engine/common/api-contract';
import { boltzFieldErrors, MAX_RESIDUES, parseLigandLines, type FieldError } from '../../../../native/engine/common/boltz-validate';
import { BOLTZ_EXAMPLE } from './boltz-example';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import { parseHash } from '../../app/routes';
import { resultRows, sortRows, type ResultRow, type SortKey } from './boltz-results';
import './cloud.css';
import { MolViewer } from './MolViewer';
import { PlanSummary } from './PlanSummary';
import { useJobDetail } from './useJobDetail';
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar, StatusChip } from '../../components/ui';
import { formatMs, formatUsd, formatWhen } from '../../components/format';
import { useDebounced } from '../../app/debounce';

interface Chain {
  key: number;
  id: string;
  sequence: string;
}
interface LigandRow {
  key: number;
  id: string;
  type: 'smiles' | 'ccd';
  value: string;
}

const CHAIN_IDS = 'ABCDEFGHIJKL';

let nextKey = 1;
const newKey = () => nextKey++;

function fmtScore(v: number | null): string {
  return v === null ? '–' : v.toFixed(3);
}

function Field({ errors, field }: { errors: Map<string, string>; field: string }) {
  const m = errors.get(field);
  return m ? (
    <p className="field-error" data-error-for={field} role="alert">
      {m}
    </p>
  ) : null;
}

// --- the form ------------------------------------------------------------------------------------

function BoltzForm({ onSubmitted }: { onSubmitted: (jobId: string) => void }) {
  const api = useApi();
  const [name, setName] = useState('complex-1');
  const [chains, setChains] = useState<Chain[]>([{ key: newKey(), id: 'A', sequence: '' }]);
  const [ligands, setLigands] = useState<LigandRow[]>([{ key: newKey(), id: 'L1', type: 'smiles', value: '' }]);
  const [paste, setPaste] = useState('');
  const [affinity, setAffinity] = useState(false);
  const [mode, setMode] = useState<'single' | 'batch'>('single');
  const [policy, setPolicy] = useState<Policy | ''>('');
  const [plan, setPlan] = useState<ApiRoutePlan>();
  const [planError, setPlanError] = useState<TandemError>();
  const [planning, setPlanning] = useState(false);
  const [submitError, setSubmitError] = useState<TandemError>();
  const [submitting, setSubmitting] = useState(false);

  const usedLigands = ligands.filter((l) => l.value.trim() !== '' || l.id.trim() !== '');
  const request: ApiCloudRequest = useMemo(() => {
    const proteins = chains.map((c) => ({ id: c.id.trim(), sequence: c.sequence.replace(/\s+/g, '') }));
    const ligs = ligands.filter((l) => l.value.trim() !== '').map((l) => (l.type === 'smiles' ? { id: l.id.trim(), smiles: l.value.trim() } : { id: l.id.trim(), ccd: l.value.trim().toUpperCase() }));
    return mode === 'batch' ? { kind: 'boltz2-batch', name: name.trim(), proteins, ligands: ligs, ...(affinity ? { affinity } : {}) } : { kind: 'boltz2', name: name.trim(), proteins, ligands: ligs, ...(affinity ? { affinity } : {}) };
  }, [chains, ligands, name, affinity, mode]);

  // Validation as you type: the same pure checks the engine and the backends apply; then the
  // engine's own (ligand SMILES parsed by RDKit) once those pass.
  const localErrors: FieldError[] = useMemo(() => boltzFieldErrors(request, { batch: mode === 'batch' }), [request, mode]);
  const requestKey = JSON.stringify(request);
  const [engineCheck, setEngineCheck] = useState<{ key: string; errors: FieldError[]; warnings: FieldError[] }>();
  const engineKey = useDebounced(localErrors.length === 0 ? requestKey : '', 250);
  useEffect(() => {
    if (!engineKey) return;
    let live = true;
    api.call('cloud.validate', { request: JSON.parse(engineKey) as Record<string, unknown> }).then(
      (r) => live && setEngineCheck({ key: engineKey, errors: r.errors, warnings: r.warnings }),
      (e: unknown) => live && setEngineCheck({ key: engineKey, errors: [{ field: 'name', message: `cannot check the request: ${asTandemError(e).message}` }], warnings: [] }),
    );
    return () => {
      live = false;
    };
  }, [api, engineKey]);
  const checked = engineCheck?.key === requestKey ? engineCheck : undefined;
  const fieldErrors: FieldError[] = localErrors.length > 0 ? localErrors : (checked?.errors ?? []);
  // A field shows its error once it was edited (no red "empty sequence" on a fresh form).
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const touch = (field: string) => setTouched((t) => (t.has(field) ? t : new Set(t).add(field)));
  // Map errors on the request's (filtered) ligand list back to the form rows.
  const rowIndex = useMemo(() => ligands.map((l, i) => (l.value.trim() !== '' ? i : -1)).filter((i) => i >= 0), [ligands]);
  const toRows = (list: FieldError[], shown: (field: string) => boolean) => {
    const m = new Map<string, string>();
    for (const e of list) {
      const f = e.field.replace(/^ligands\[(\d+)\]/, (_, n: string) => `ligands[${rowIndex[Number(n)] ?? n}]`);
      if (!m.has(f) && shown(f)) m.set(f, e.message);
    }
    return m;
  };
  const errors = toRows(fieldErrors, (f) => touched.has(f.replace(/\.(?:smiles|ccd|sequence)$/, '')) || touched.has(f) || /^ligands\[\d+\]/.test(f));
  const warnings = toRows(checked?.warnings ?? [], () => true);
  const valid = localErrors.length === 0 && checked !== undefined && checked.errors.length === 0;

  // The route and the estimate, once the form is valid.
  const planKey = useDebounced(valid ? JSON.stringify([request, policy]) : '', 300);
  useEffect(() => {
    if (!planKey) {
      setPlan(undefined);
      setPlanError(undefined);
      return;
    }
    const [req, pol] = JSON.parse(planKey) as [ApiCloudRequest, Policy | ''];
    let live = true;
    setPlanning(true);
    api.call('cloud.plan', { request: req, ...(pol ? { policy: pol } : {}) }).then(
      (r) => live && (setPlan(r.plan), setPlanError(undefined), setPlanning(false)),
      (e: unknown) => live && (setPlan(undefined), setPlanError(asTandemError(e)), setPlanning(false)),
    );
    return () => {
      live = false;
    };
  }, [api, planKey]);

  const useExample = () => {
    setName(BOLTZ_EXAMPLE.name);
    setChains((cs) => cs.map((x, i) => (i === 0 ? { ...x, sequence: BOLTZ_EXAMPLE.sequence } : x)));
    setLigands((ls) => (ls.some((l) => l.value.trim() !== '') ? ls : [{ key: newKey(), id: BOLTZ_EXAMPLE.ligand.id, type: 'smiles', value: BOLTZ_EXAMPLE.ligand.smiles }]));
  };

  const addPasted = () => {
    const parsed = parseLigandLines(paste);
    if (parsed.length === 0) return;
    const keep = ligands.filter((l) => l.value.trim() !== '');
    const taken = new Set(keep.map((l) => l.id));
    const rows = parsed.map((l, i) => {
      let id = l.id;
      if (taken.has(id) || /^L\d+$/.test(id)) id = `L${keep.length + i + 1}`;
      taken.add(id);
      return { key: newKey(), id, type: l.ccd !== undefined ? ('ccd' as const) : ('smiles' as const), value: l.ccd ?? l.smiles ?? '' };
    });
    setLigands([...keep, ...rows]);
    setPaste('');
    if (keep.length + rows.length > 1) setMode('batch');
  };

  const submit = async () => {
    setSubmitError(undefined);
    setSubmitting(true);
    try {
      const r = await api.call('cloud.submit', { request, ...(policy ? { policy } : {}) });
      onSubmitted(r.jobId);
      setName((n) => n.replace(/(\d+)$/, (d) => String(Number(d) + 1)));
    } catch (e) {
      setSubmitError(asTandemError(e));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form
      className="card"
      aria-labelledby="boltz-form-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid && !submitting) void submit();
      }}
    >
      <h2 id="boltz-form-title">Predict a complex</h2>
      <div className="form">
        <label className="grow">
          Name
          <input id="boltz-name" type="text" value={name} onChange={(e) => (setName(e.target.value), touch('name'))} className={errors.has('name') ? 'invalid' : ''} />
          <Field errors={errors} field="name" />
        </label>
      </div>

      <h3>Proteins</h3>
      <Field errors={errors} field="proteins" />
      {chains.map((c, i) => {
        const seq = c.sequence.replace(/\s+/g, '');
        const err = errors.get(`proteins[${i}].sequence`) ?? errors.get(`proteins[${i}]`);
        return (
          <div className="chain" key={c.key} data-chain={i}>
            <div className="chain-head">
              <label>
                Chain{' '}
                <input type="text" value={c.id} aria-label={`Chain ${i + 1} id`} onChange={(e) => (setChains((cs) => cs.map((x) => (x.key === c.key ? { ...x, id: e.target.value } : x))), touch(`proteins[${i}].id`))} className={errors.has(`proteins[${i}].id`) ? 'invalid' : ''} />
              </label>
              <span className="muted">{seq.length} residues</span>
              <span style={{ flex: 1 }} />
              {i === 0 && seq.length === 0 ? (
                <button type="button" className="btn btn-small" data-example="t4l-l99a" title={BOLTZ_EXAMPLE.title} onClick={useExample}>
                  Example ({BOLTZ_EXAMPLE.label})
                </button>
              ) : null}
              {chains.length > 1 ? (
                <button type="button" className="btn btn-small btn-danger" onClick={() => setChains((cs) => cs.filter((x) => x.key !== c.key))} aria-label={`Remove chain ${c.id || i + 1}`}>
                  Remove
                </button>
              ) : null}
            </div>
            <textarea
              id={`chain-seq-${i}`}
              aria-label={`Sequence of chain ${c.id || i + 1}`}
              spellCheck={false}
              placeholder={`Amino-acid letters (ACDEFGHIKLMNPQRSTVWY, X), 1-${MAX_RESIDUES} residues`}
              value={c.sequence}
              onChange={(e) => (setChains((cs) => cs.map((x) => (x.key === c.key ? { ...x, sequence: e.target.value } : x))), touch(`proteins[${i}]`))}
              className={err ? 'invalid' : ''}
            />
            <Field errors={errors} field={`proteins[${i}].id`} />
            {err ? (
              <p className="field-error" data-error-for={`proteins[${i}].sequence`} role="alert">
                {err}
              </p>
            ) : seq.length > 0 ? (
              <p className="field-ok">valid sequence</p>
            ) : null}
          </div>
        );
      })}
      <button
        type="button"
        className="btn btn-small"
        disabled={chains.length >= CHAIN_IDS.length}
        onClick={() => setChains((cs) => [...cs, { key: newKey(), id: CHAIN_IDS.split('').find((x) => !cs.some((c) => c.id === x)) ?? '', sequence: '' }])}
      >
        Add chain
      </button>

      <h3>Ligands</h3>
      <Field errors={errors} field="ligands" />
      <table className="table ligand-table">
        <thead>
          <tr>
            <th>Id</th>
            <th>Type</th>
            <th style={{ width: '100%' }}>SMILES or CCD code</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {ligands.map((l, i) => {
            const err = errors.get(`ligands[${i}]`) ?? errors.get(`ligands[${i}].smiles`) ?? errors.get(`ligands[${i}].ccd`) ?? errors.get(`ligands[${i}].id`);
            return (
              <tr key={l.key} data-ligand-row={i}>
                <td>
                  <input className="lig-id" type="text" value={l.id} aria-label={`Ligand ${i + 1} id`} onChange={(e) => setLigands((ls) => ls.map((x) => (x.key === l.key ? { ...x, id: e.target.value } : x)))} />
                </td>
                <td>
                  <select value={l.type} aria-label={`Ligand ${i + 1} type`} onChange={(e) => setLigands((ls) => ls.map((x) => (x.key === l.key ? { ...x, type: e.target.value as 'smiles' | 'ccd' } : x)))}>
                    <option value="smiles">SMILES</option>
                    <option value="ccd">CCD</option>
                  </select>
                </td>
                <td>
                  <input
                    type="text"
                    spellCheck={false}
                    value={l.value}
                    aria-label={`Ligand ${i + 1} ${l.type === 'smiles' ? 'SMILES' : 'CCD code'}`}
                    placeholder={l.type === 'smiles' ? 'e.g. CC(=O)Oc1ccccc1C(=O)O' : 'e.g. ATP'}
                    className={err ? 'invalid' : ''}
                    onChange={(e) => setLigands((ls) => ls.map((x) => (x.key === l.key ? { ...x, value: e.target.value } : x)))}
                    onPaste={(e) => {
                      const text = e.clipboardData.getData('text');
                      if (!/\n/.test(text.trim())) return;
                      e.preventDefault();
                      setPaste(text);
                    }}
                  />
                  {err ? (
                    <p className="field-error" data-error-for={`ligands[${i}]`} role="alert">
                      {err}
                    </p>
                  ) : warnings.get(`ligands[${i}].smiles`) ? (
                    <p className="field-warning" data-warning-for={`ligands[${i}]`}>
                      {warnings.get(`ligands[${i}].smiles`)}
                    </p>
                  ) : null}
                </td>
                <td>
                  <button type="button" className="btn btn-small btn-danger" onClick={() => setLigands((ls) => ls.filter((x) => x.key !== l.key))} aria-label={`Remove ligand ${l.id || i + 1}`} title="Remove this ligand">
                    ×
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="row-actions">
        <button type="button" className="btn btn-small" onClick={() => setLigands((ls) => [...ls, { key: newKey(), id: `L${ls.length + 1}`, type: 'smiles', value: '' }])}>
          Add ligand
        </button>
        <span className="muted" data-field="ligand-count">
          {usedLigands.length} ligand{usedLigands.length === 1 ? '' : 's'}
        </span>
      </div>
      <label style={{ display: 'flex', flexDirection: 'column', gap: 4, marginTop: 10 }}>
        <span>
          Paste many ligands (one per line: <code>SMILES</code>, <code>id SMILES</code> or <code>id ccd:ATP</code>)
        </span>
        <textarea id="ligand-paste" rows={3} spellCheck={false} value={paste} onChange={(e) => setPaste(e.target.value)} />
      </label>
      <div className="row-actions">
        <button type="button" className="btn btn-small" disabled={paste.trim() === ''} onClick={addPasted}>
          Add these lines
        </button>
      </div>

      <h3>Options</h3>
      <div className="row-actions">
        <label className="switch">
          <input id="boltz-affinity" type="checkbox" checked={affinity} onChange={(e) => (setAffinity(e.target.checked), touch('ligands'))} /> Predict affinity (binders of at most 128 heavy atoms)
        </label>
      </div>
      <div className="row-actions">
        <span className="segmented" role="group" aria-label="Single complex or batch">
          <button type="button" className={mode === 'single' ? 'on' : ''} aria-pressed={mode === 'single'} onClick={() => setMode('single')}>
            One complex
          </button>
          <button type="button" className={mode === 'batch' ? 'on' : ''} aria-pressed={mode === 'batch'} onClick={() => (setMode('batch'), touch('ligands'))}>
            Batch: one prediction per ligand
          </button>
        </span>
        <label className="switch">
          Backend
          <select id="boltz-policy" value={policy} onChange={(e) => setPolicy(e.target.value as Policy | '')}>
            <option value="">as routed</option>
            {POLICY_VALUES.filter((p) => p !== 'local').map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div style={{ marginTop: 10 }}>
        <PlanSummary plan={plan} error={planError} pending={planning || (valid && !plan && !planError)} />
      </div>
      <div className="row-actions" style={{ marginTop: 10 }}>
        <button type="submit" className="btn btn-primary" disabled={!valid || submitting || (plan?.budget?.ok === false && plan.budget.action === 'block')}>
          {mode === 'batch' ? `Submit batch (${request.ligands.length} ligands)` : 'Submit prediction'}
        </button>
        {fieldErrors.length > 0 ? <span className="muted">{fieldErrors.length} problem{fieldErrors.length === 1 ? '' : 's'} to fix</span> : !valid ? <span className="muted">checking…</span> : null}
      </div>
      <ErrorBox error={submitError} title="The job was not submitted" />
    </form>
  );
}

// --- results --------------------------------------------------------------------------------------

const COLUMNS: Array<{ key: SortKey; label: string; title: string }> = [
  { key: 'id', label: 'Ligand', title: 'ligand id (or the complex name)' },
  { key: 'confidence', label: 'Score', title: 'confidence score: 0.8 x complex pLDDT + 0.2 x ipTM' },
  { key: 'ptm', label: 'pTM', title: 'predicted TM score' },
  { key: 'iptm', label: 'ipTM', title: 'interface pTM' },
  { key: 'plddt', label: 'pLDDT', title: 'complex pLDDT' },
  { key: 'affinity', label: 'Affinity', title: 'predicted affinity value (log10 IC50, lower binds tighter)' },
  { key: 'probability', label: 'P(binder)', title: 'probability that the ligand binds' },
];

function ResultsTable({ rows, selected, onSelect }: { rows: ResultRow[]; selected: string | null; onSelect: (id: string) => void }) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 'asc' | 'desc' }>({ key: 'id', dir: 'asc' });
  const sorted = useMemo(() => sortRows(rows, sort.key, sort.dir), [rows, sort]);
  return (
    <div className="table-scroll">
      <table className="table results-table" aria-label="Confidence and affinity">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key} className={c.key === 'id' ? '' : 'num'} aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'} title={c.title}>
                <button
                  type="button"
                  data-sort={c.key}
                  onClick={() => setSort((s) => (s.key === c.key ? { key: c.key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key: c.key, dir: c.key === 'id' || c.key === 'affinity' ? 'asc' : 'desc' }))}
                >
                  {c.label}
                  {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr
              key={r.id}
              data-row={r.id}
              data-status={r.status}
              className={selected === r.id ? 'selected' : ''}
              aria-selected={selected === r.id}
              tabIndex={0}
              onClick={() => onSelect(r.id)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(r.id);
                }
              }}
            >
              <td>
                <b>{r.id}</b> {r.status === 'done' ? <span className="ok-text">✓</span> : r.status === 'pending' ? <span className="muted">pending…</span> : <StatusChip status={r.status} />}
                <div className="muted mono" style={{ maxWidth: 140, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={r.what}>
                  {r.what}
                </div>
              </td>
              <td className="num" data-field="confidence">
                {fmtScore(r.confidence)}
              </td>
              <td className="num">{fmtScore(r.ptm)}</td>
              <td className="num">{fmtScore(r.iptm)}</td>
              <td className="num">{fmtScore(r.plddt)}</td>
              <td className="num" data-field="affinity">
                {fmtScore(r.affinity)}
              </td>
              <td className="num">{fmtScore(r.probability)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobResults({ jobId }: { jobId: string }) {
  const api = useApi();
  const { detail, error } = useJobDetail(jobId);
  const [selected, setSelected] = useState<string | null>(null);
  const [cif, setCif] = useState<{ path: string; text: string } | null>(null);
  const [cifError, setCifError] = useState<TandemError>();
  const rows = useMemo(() => (detail ? resultRows(detail.job, detail.events) : []), [detail]);
  const row = rows.find((r) => r.id === selected) ?? null;

  useEffect(() => setSelected(null), [jobId]);
  // Show the first finished structure until the user picks a row.
  useEffect(() => {
    if (selected === null) {
      const first = rows.find((r) => r.structure);
      if (first) setSelected(first.id);
    }
  }, [rows, selected]);
  const structure = row?.structure ?? null;
  const loaded = useRef<string | null>(null);
  useEffect(() => {
    if (!structure) {
      setCif(null);
      loaded.current = null;
      return;
    }
    if (loaded.current === structure) return;
    let live = true;
    loaded.current = structure;
    setCifError(undefined);
    api.call('results.read', { jobId, file: structure }).then(
      (r) => live && setCif({ path: r.path, text: r.text }),
      (e: unknown) => live && (setCif(null), setCifError(asTandemError(e))),
    );
    return () => {
      live = false;
    };
  }, [api, jobId, structure]);

  if (error) return <ErrorBox error={error} title="Cannot load the job" />;
  if (!detail) return <Loading what="the job" />;
  const j = detail.job;
  const t = detail.timings;
  const answered = (j.result as { answeredBy?: { backend?: string; function?: string; gpu?: string; reason?: string } } | null)?.answeredBy;
  const done = rows.filter((r) => r.status === 'done').length;
  return (
    <section className="card" aria-label="Boltz-2 results" data-job={j.id} data-status={j.status}>
      <div className="page-header">
        <h2>
          {j.kind === 'boltz2-batch' ? 'Batch' : 'Prediction'} <span className="mono">{(j.params as { request?: { name?: string } }).request?.name ?? j.id}</span>
        </h2>
        <StatusChip status={j.status} />
      </div>
      <div className="row-actions" data-field="progress">
        <span style={{ flex: 1 }}>
          <ProgressBar done={done} total={rows.length || null} label="Ligands done" />
        </span>
        <span>
          {done} of {rows.length} done
        </span>
      </div>
      <p className="muted">
        {j.device ?? j.backend}
        {answered?.reason ? ` · ${answered.reason}` : ''} · queued {formatWhen(j.timings.queuedAt)} · run {formatMs(t.runMs)} (cold start/load {formatMs(t.loadMs)}, inference {formatMs(t.inferenceMs)}, transfer {formatMs(t.transferMs)}) · cost{' '}
        <span data-field="cost">{formatUsd(j.costUsd)}</span> · <a href={`#/jobs?id=${j.id}`}>job {j.id.slice(-10)}</a>
      </p>
      {j.error ? (
        <div className="error-box" role="note">
          <strong>The job {j.status}</strong>
          <span className="error-code">{j.error.code}</span>
          <p>{j.error.message}</p>
        </div>
      ) : null}
      <ResultsTable rows={rows} selected={selected} onSelect={setSelected} />
      <h3>Structure{row ? `: ${row.id}` : ''}</h3>
      <ErrorBox error={cifError} title="Cannot read the structure" />
      <MolViewer cif={cif?.text ?? null} label={row ? `${row.id} (${row.what})` : 'none'} />
      {cif ? <p className="muted path">{cif.path}</p> : null}
    </section>
  );
}

function PastJobs({ current, onOpen }: { current: string | null; onOpen: (id: string) => void }) {
  const single = useQuery('jobs.list', { kind: 'boltz2', limit: 25 });
  const batch = useQuery('jobs.list', { kind: 'boltz2-batch', limit: 25 });
  useApiEvent('job.updated', (e) => {
    if (e.job.kind !== 'boltz2' && e.job.kind !== 'boltz2-batch') return;
    if (['queued', 'succeeded', 'failed', 'cancelled'].includes(e.job.status)) (e.job.kind === 'boltz2' ? single : batch).reload();
  });
  const jobs: ApiJob[] = [...(single.data?.jobs ?? []), ...(batch.data?.jobs ?? [])].sort((a, b) => (a.id < b.id ? 1 : -1));
  return (
    <section className="card" aria-labelledby="past-title">
      <h2 id="past-title">Past Boltz-2 jobs</h2>
      <ErrorBox error={single.error ?? batch.error} />
      {jobs.length === 0 ? (
        <Empty title="No Boltz-2 jobs yet">
          <p>Submit a prediction: it appears here and in Jobs.</p>
        </Empty>
      ) : (
        <ul className="past-jobs">
          {jobs.map((j) => {
            const req = (j.params as { request?: { name?: string; ligands?: unknown[] } }).request;
            return (
              <li key={j.id}>
                <button type="button" aria-current={current === j.id} data-past-job={j.id} onClick={() => onOpen(j.id)}>
                  <StatusChip status={j.status} />
                  <span>{req?.name ?? j.id}</span>
                  <span className="muted">
                    {j.kind === 'boltz2-batch' ? `batch of ${req?.ligands?.length ?? '?'}` : 'single'} · {j.backend} · {formatWhen(j.timings.queuedAt)}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

export function Boltz2Page() {
  const [jobId, setJobId] = useState<string | null>(() => parseHash(window.location.hash).params.get('job'));
  return (
    <section className="page" aria-labelledby="page-title" style={{ maxWidth: 1500 }}>
      <PageHeader title="Boltz-2" />
      <p className="muted" style={{ margin: 0 }}>
        Structure and binding-affinity prediction on a remote GPU (Cloud Run L4, or Modal). Sequences and ligands are checked as you type, with the same rules the service applies.
      </p>
      <div className="boltz-layout">
        <div style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
          <BoltzForm onSubmitted={setJobId} />
          <PastJobs current={jobId} onOpen={setJobId} />
        </div>
        <div>{jobId ? <JobResults jobId={jobId} /> : <Empty title="No prediction open">Submit one, or open a past job.</Empty>}</div>
      </div>
    </section>
  );
}
