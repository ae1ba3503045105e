import { useState, type ChangeEvent } from 'react';
import { EVAL_MODE_VALUES, type ApiOutput } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent } from '../../api/hooks';
import { ErrorBox, ProgressBar } from '../../components/ui';
import { chartRows, METRICS, type MetricKey } from './search-state';

type EvalMode = (typeof EVAL_MODE_VALUES)[number];
type EvalResult = ApiOutput<'search.eval'>;

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2'];

/** A text area that a file can fill (upload) or that takes pasted text. */
function TextSource({ id, label, accept, placeholder, value, onChange }: { id: string; label: string; accept: string; placeholder: string; value: string; onChange: (text: string) => void }) {
  const [fileNote, setFileNote] = useState('');
  const load = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (!f) return;
    onChange(await f.text());
    setFileNote(`${f.name} (${f.size.toLocaleString()} bytes)`);
  };
  return (
    <div className="eval-source" style={{ display: 'flex', flexDirection: 'column', gap: 4 }}>
      <label htmlFor={id}>{label}</label>
      <input id={`${id}-file`} type="file" accept={accept} aria-label={`${label}: choose a file`} onChange={(e) => void load(e)} />
      {fileNote ? <span className="muted">{fileNote}</span> : null}
      <textarea id={id} rows={4} spellCheck={false} placeholder={placeholder} value={value} onChange={(e) => (onChange(e.target.value), setFileNote(''))} />
    </div>
  );
}

/** Per-query bars of one metric, one colour per mode (queries ordered by the first mode, best first). */
export function EvalBars({ result, metric }: { result: EvalResult; metric: MetricKey }) {
  const { modes, rows } = chartRows(result, metric);
  const barW = 4;
  const slot = modes.length * barW + 3;
  const h = 140;
  const width = Math.max(300, rows.length * slot + 30);
  return (
    <div className="eval-chart" style={{ overflowX: 'auto' }}>
      <svg width={width} height={h + 20} role="img" aria-label={`${METRICS.find((m) => m.key === metric)?.label} per query`} data-bars={rows.length * modes.length}>
        <line x1={26} x2={width} y1={h} y2={h} stroke="currentColor" strokeOpacity={0.4} />
        {[0, 0.5, 1].map((v) => (
          <text key={v} x={0} y={h - v * (h - 10) + 4} fontSize={10} fill="currentColor">
            {v.toFixed(1)}
          </text>
        ))}
        {rows.map((r, i) =>
          r.values.map((v, j) => {
            const bh = v * (h - 10);
            return (
              <rect key={`${r.qid}-${j}`} x={28 + i * slot + j * barW} y={h - bh} width={barW - 0.5} height={Math.max(bh, 0.5)} fill={COLORS[j % COLORS.length]}>
                <title>{`${r.qid} · ${modes[j]}: ${v.toFixed(4)}`}</title>
              </rect>
            );
          }),
        )}
        <text x={28} y={h + 14} fontSize={10} fill="currentColor">
          {rows.length} queries, ordered by {modes[0]}
        </text>
      </svg>
      <p className="eval-legend">
        {modes.map((m, j) => (
          <span key={m} style={{ marginRight: 12 }}>
            <span aria-hidden="true" style={{ display: 'inline-block', width: 10, height: 10, background: COLORS[j % COLORS.length], marginRight: 4 }} />
            {m}
          </span>
        ))}
      </p>
    </div>
  );
}

/** The Search page's Evaluate panel: BEIR queries + qrels (upload or paste), modes, k -> search.eval. */
export function EvaluatePanel({ collection }: { collection: string }) {
  const api = useApi();
  const [queries, setQueries] = useState('');
  const [qrels, setQrels] = useState('');
  const [modes, setModes] = useState<EvalMode[]>([...EVAL_MODE_VALUES]);
  const [k, setK] = useState('100');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number | null } | null>(null);
  const [result, setResult] = useState<EvalResult>();
  const [error, setError] = useState<TandemError>();
  const [metric, setMetric] = useState<MetricKey>('ndcg@10');
  useApiEvent('job.updated', (e) => {
    if (busy && e.job.kind === 'eval' && e.job.status === 'running' && e.job.params.collection === collection) setProgress(e.job.progress);
  });
  const kn = Number(k);
  const problem = !collection
    ? 'choose a collection with documents'
    : !queries.trim() || !qrels.trim()
      ? 'give the queries (JSONL) and the qrels (TSV)'
      : modes.length === 0
        ? 'pick at least one mode'
        : !(Number.isInteger(kn) && kn >= 1 && kn <= 1000)
          ? 'k must be a whole number from 1 to 1000'
          : null;

  const run = async () => {
    if (problem) return;
    setBusy(true);
    setError(undefined);
    setProgress(null);
    try {
      setResult(await api.call('search.eval', { collection, queries, qrels, modes: EVAL_MODE_VALUES.filter((m) => modes.includes(m)), k: kn }));
    } catch (e) {
      setError(asTandemError(e));
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };

  const notes = result
    ? [
        result.noRelevant ? `${result.noRelevant} qrels queries without a relevant document left out` : '',
        result.missingText ? `${result.missingText} qrels queries without a query line scored 0` : '',
        result.unjudged ? `${result.unjudged} queries without qrels ignored` : '',
      ].filter(Boolean)
    : [];

  return (
    <details className="eval-panel" id="eval-panel">
      <summary>Evaluate retrieval on labelled queries</summary>
      <p className="muted">
        BEIR files: queries as JSONL lines <code>{'{"_id", "text"}'}</code>, qrels as TSV <code>query-id corpus-id score</code> (header optional). nDCG@10, Recall@100 and MRR@10 as trec_eval/BEIR compute them, on <strong>{collection || 'no collection'}</strong>; recorded as an <code>eval</code> job.
      </p>
      <div className="eval-sources" style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))', gap: 12 }}>
        <TextSource id="eval-queries" label="Queries (JSONL)" accept=".jsonl,.json,.ndjson,.txt" placeholder='{"_id": "q1", "text": "…"}' value={queries} onChange={setQueries} />
        <TextSource id="eval-qrels" label="Qrels (TSV)" accept=".tsv,.txt,.qrels" placeholder={'query-id\tcorpus-id\tscore'} value={qrels} onChange={setQrels} />
      </div>
      <div className="eval-options" style={{ display: 'flex', gap: 12, flexWrap: 'wrap', alignItems: 'center', marginTop: 8 }}>
        <fieldset aria-label="Modes to evaluate" style={{ border: 'none', padding: 0, margin: 0, display: 'inline-flex', gap: 10 }}>
          {EVAL_MODE_VALUES.map((m) => (
            <label key={m} style={{ display: 'inline-flex', gap: 4, alignItems: 'center' }}>
              <input type="checkbox" name="eval-mode" value={m} checked={modes.includes(m)} onChange={(e) => setModes((cur) => (e.target.checked ? [...cur, m] : cur.filter((x) => x !== m)))} />
              {m}
            </label>
          ))}
        </fieldset>
        <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
          k
          <input id="eval-k" type="number" min={1} max={1000} value={k} onChange={(e) => setK(e.target.value)} style={{ width: '5em' }} aria-invalid={!(Number.isInteger(kn) && kn >= 1 && kn <= 1000)} />
        </label>
        <button type="button" className="btn btn-primary" onClick={() => void run()} disabled={busy || problem !== null}>
          {busy ? 'Evaluating…' : 'Run evaluation'}
        </button>
        {problem && !busy ? <span className="muted">{problem}</span> : null}
      </div>
      {busy && progress ? <ProgressBar done={progress.done} total={progress.total} label="queries searched (all modes)" /> : null}
      <ErrorBox error={error} title="Evaluation failed" />
      {result ? (
        <div className="eval-result" data-job={result.jobId}>
          <table className="eval-table" aria-label="Retrieval metrics per mode" style={{ borderCollapse: 'separate', borderSpacing: '18px 4px', marginLeft: -18, textAlign: 'right' }}>
            <thead>
              <tr>
                <th scope="col" style={{ textAlign: 'left' }}>
                  mode
                </th>
                {METRICS.map((m) => (
                  <th key={m.key} scope="col">
                    {m.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Object.entries(result.modes).map(([mode, m]) => (
                <tr key={mode} data-mode={mode}>
                  <th scope="row" style={{ textAlign: 'left' }}>{result.ranAs[mode] && result.ranAs[mode] !== mode ? `${mode} (as ${result.ranAs[mode]})` : mode}</th>
                  {METRICS.map((x) => (
                    <td key={x.key} data-metric={x.key} style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {m[x.key].toFixed(4)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted" data-field="eval-status">
            {result.queries} queries · k {result.k} · job {result.jobId}
            {notes.length ? ` · ${notes.join(' · ')}` : ''}
          </p>
          <label style={{ display: 'inline-flex', gap: 6, alignItems: 'center' }}>
            Per query
            <select id="eval-metric" value={metric} onChange={(e) => setMetric(e.target.value as MetricKey)}>
              {METRICS.map((m) => (
                <option key={m.key} value={m.key}>
                  {m.label}
                </option>
              ))}
            </select>
          </label>
          <EvalBars result={result} metric={metric} />
        </div>
      ) : null}
    </details>
  );
}
