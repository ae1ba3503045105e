/**
 * Cloud: the active profile and its backends (URLs, where each setting came from, token set or not),
 * health per backend, warm-up with the measured cold start, the editable price table, this month's
 * spend and projection against the budget, the budget editor, the routing switch per job kind, and
 * the seed's alerts as banners.
 */
import { useEffect, useRef, useState } from 'react';
import { POLICY_VALUES, REMOTE_BACKEND_VALUES, ROUTED_KIND_VALUES, type ApiAlert, type ApiHealthRow, type Policy, type RemoteBackend, type RoutedKind } from '../../../../native/engine/common/contract/cloud';
import type { ApiJob, ApiOutput } from '../../../../native/engine/common/api-contract';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import './cloud.css';
import { ErrorBox, Loading, PageHeader, StatusChip } from '../../components/ui';
import { formatMs, formatUsd } from '../../components/format';

type Config = ApiOutput<'cloud.config'>;
type Costs = ApiOutput<'cloud.costs'>;

const RULE_WORDS: Record<ApiAlert['rule'], string> = { 'cost-anomaly': 'Cost anomaly', 'error-rate': 'Error rate', slowdown: 'Slowdown', budget: 'Budget' };
const KIND_WORDS: Record<RoutedKind, string> = { 'embed-remote': 'Embeddings (instructor-xl)', generate: 'Generate (Qwen)', boltz2: 'Boltz-2 (one complex)', 'boltz2-batch': 'Boltz-2 batches' };

/** The measured value against its threshold, in the rule's unit. */
function alertNumbers(a: ApiAlert): string {
  if (a.rule === 'budget') return `${formatUsd(a.value)} against ${formatUsd(a.threshold)}`;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return `${pct(a.value)}, limit ${pct(a.threshold)}`;
}

const pctText = (x: number) => `${+(x * 100).toFixed(2)} %`;

function Alerts({ costs, thresholds }: { costs: Costs | undefined; thresholds: Config['alertThresholds'] | undefined }) {
  const t = thresholds ?? { costAnomaly: 0.2, errorRate: 0.01, slowdown: 0.1 };
  return (
    <section className="alerts" aria-label="Alerts" data-alerts={costs ? costs.alerts.length : 'loading'}>
      {!costs ? null : costs.alerts.length === 0 ? (
        <div className="banner banner-ok" role="status">
          <b>No alerts</b> Cost per job, error rate, speed and the budget are within the limits (cost +{pctText(t.costAnomaly)}, errors {pctText(t.errorRate)}, slowdown {pctText(t.slowdown)}).
        </div>
      ) : (
        costs.alerts.map((a, i) => (
          <div key={i} className={`banner banner-${a.severity}`} role="alert" data-rule={a.rule}>
            <b>
              {a.severity} · {RULE_WORDS[a.rule]}
            </b>
            <span>
              {a.scope}: {a.message}
            </span>
            <span className="muted">({alertNumbers(a)})</span>
          </div>
        ))
      )}
    </section>
  );
}

function Backends({ config, onChanged }: { config: Config; onChanged: () => void }) {
  const api = useApi();
  const [health, setHealth] = useState<Partial<Record<RemoteBackend, ApiHealthRow | 'checking'>>>({});
  const check = async (backend?: RemoteBackend) => {
    const which = backend ? [backend] : [...REMOTE_BACKEND_VALUES];
    setHealth((h) => ({ ...h, ...Object.fromEntries(which.map((b) => [b, 'checking'])) }));
    try {
      const r = await api.call('cloud.health', backend ? { backend } : {});
      setHealth((h) => ({ ...h, ...Object.fromEntries(r.backends.map((row) => [row.backend, row])) }));
    } catch (e) {
      const err = asTandemError(e);
      setHealth((h) => ({ ...h, ...Object.fromEntries(which.map((b) => [b, { backend: b, ok: false, function: null, status: null, model: null, gpu: null, latencyMs: null, error: { code: err.code, message: err.message } }])) }));
    }
    onChanged();
  };
  // Probe once when the page opens (the Check buttons probe again).
  const checkRef = useRef(check);
  checkRef.current = check;
  useEffect(() => {
    void checkRef.current();
  }, []);
  const rows: Array<{ id: RemoteBackend; name: string; url: string | null; source: string | undefined; tokenEnv: string; hasToken: boolean; setting: string }> = [
    { id: 'modal', name: 'Modal', url: config.modal.urlTemplate, source: config.sources.modalUrl, tokenEnv: config.modal.tokenEnv, hasToken: config.modal.hasToken, setting: 'TANDEM_MODAL_URL_TEMPLATE' },
    { id: 'cloud-run', name: 'Cloud Run', url: config.cloudRun.url, source: config.sources.cloudRunUrl, tokenEnv: config.cloudRun.tokenEnv, hasToken: config.cloudRun.hasToken, setting: 'TANDEM_CLOUDRUN_URL' },
  ];
  return (
    <section className="card" aria-labelledby="backends-title">
      <div className="page-header">
        <h2 id="backends-title">Backends · profile {config.profile}</h2>
        <button type="button" className="btn" onClick={() => void check()}>
          Check all
        </button>
      </div>
      <p className="muted">
        Profile <b>{config.profile}</b> (from {config.sources.profile}); settings file <span className="path">{config.settingsPath}</span>. Settings file &lt; environment &lt; command-line flags.
      </p>
      <table className="table cloud-table">
        <thead>
          <tr>
            <th>Backend</th>
            <th>URL (source)</th>
            <th>Token</th>
            <th>Breaker</th>
            <th>Health</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const h = health[r.id];
            const breaker = config.breakers.find((b) => b.backend === r.id);
            const state = h === undefined ? 'unknown' : h === 'checking' ? 'checking' : h.ok ? 'ok' : 'error';
            return (
              <tr key={r.id} data-backend={r.id}>
                <td>
                  <b>{r.name}</b>
                </td>
                <td>
                  {r.url ? <span className="path">{r.url}</span> : <span className="bad-text">not set ({r.setting})</span>}
                  {r.source ? <div className="muted">from {r.source}</div> : null}
                </td>
                <td data-field="token">
                  {r.hasToken ? <span className="ok-text">set</span> : <span className="muted">not set</span>} <span className="muted mono">${r.tokenEnv}</span>
                </td>
                <td>
                  <span className={breaker?.state === 'closed' ? 'ok-text' : 'warn-text'}>{breaker?.state ?? '–'}</span>
                  {breaker && breaker.consecutiveFailures > 0 ? <div className="muted">{breaker.consecutiveFailures} failures in a row</div> : null}
                </td>
                <td data-health={state}>
                  {h === undefined ? <span className="muted">not checked</span> : null}
                  {h === 'checking' ? <span className="muted">checking…</span> : null}
                  {h && h !== 'checking' && h.ok ? (
                    <span>
                      <span className="ok-text">ok</span> {h.status} · {h.model ?? '–'} · {h.gpu ?? '–'} · {formatMs(h.latencyMs)}
                    </span>
                  ) : null}
                  {h && h !== 'checking' && !h.ok ? (
                    <span>
                      <span className="bad-text">{h.error ? h.error.code : h.status}</span> {h.error?.message}
                    </span>
                  ) : null}
                  <div>
                    <button type="button" className="btn btn-small" onClick={() => void check(r.id)} aria-label={`Check ${r.name} health`}>
                      Check
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <BackendSettings config={config} onSaved={(b) => (onChanged(), void check(b))} />
    </section>
  );
}

/**
 * Edit the active profile's backend URLs and token variable names (cloud.setBackend): saved in the
 * settings file, effective at once, then health is checked. Tokens themselves are never typed here:
 * the desktop app keeps them in the OS keychain (File > Cloud Tokens), the web host reads them from
 * its environment.
 */
function BackendSettings({ config, onSaved }: { config: Config; onSaved: (backend: RemoteBackend) => void }) {
  const api = useApi();
  const info = useQuery('app.info', {});
  const fromFile = (source: string | undefined) => source !== undefined && source.startsWith(config.settingsPath);
  const initial = (backend: RemoteBackend) => {
    const url = backend === 'modal' ? config.modal.urlTemplate : config.cloudRun.url;
    const source = backend === 'modal' ? config.sources.modalUrl : config.sources.cloudRunUrl;
    // A redacted URL (*** in place of a password or query value) cannot be edited back: start empty.
    return { url: url && !url.includes('***') ? url : '', tokenEnv: backend === 'modal' ? config.modal.tokenEnv : config.cloudRun.tokenEnv, source, fromFile: fromFile(source) };
  };
  const [form, setForm] = useState(() => ({ modal: initial('modal'), 'cloud-run': initial('cloud-run') }));
  const [state, setState] = useState<Partial<Record<RemoteBackend, { saving?: boolean; message?: string; error?: TandemError }>>>({});
  const save = async (backend: RemoteBackend) => {
    const f = form[backend];
    setState((s) => ({ ...s, [backend]: { saving: true } }));
    try {
      const r = await api.call('cloud.setBackend', { backend, url: f.url.trim() === '' ? null : f.url.trim(), tokenEnv: f.tokenEnv.trim() });
      const message = r.overriddenBy ? `Saved in profile ${r.profile}, but ${r.overriddenBy} overrides it in this session.` : r.url ? `Saved in profile ${r.profile}; checking health…` : `Removed from profile ${r.profile}.`;
      setState((s) => ({ ...s, [backend]: { message } }));
      onSaved(backend);
    } catch (e) {
      setState((s) => ({ ...s, [backend]: { error: asTandemError(e) } }));
    }
  };
  const host = info.data?.host;
  const rows: Array<{ id: RemoteBackend; name: string; placeholder: string }> = [
    { id: 'modal', name: 'Modal URL template', placeholder: 'https://workspace--app-{function}.modal.run' },
    { id: 'cloud-run', name: 'Cloud Run URL', placeholder: 'https://boltz2-xxxx.a.run.app' },
  ];
  return (
    <div className="backend-settings" data-field="backend-settings">
      <h3>Edit profile {config.profile}</h3>
      {rows.map((r) => {
        const f = form[r.id];
        const st = state[r.id];
        return (
          <form
            key={r.id}
            className="inline-form backend-form"
            data-backend-form={r.id}
            onSubmit={(e) => {
              e.preventDefault();
              void save(r.id);
            }}
          >
            <label className="grow">
              {r.name}
              <input type="text" spellCheck={false} value={f.url} placeholder={r.placeholder} aria-label={r.name} onChange={(e) => setForm((x) => ({ ...x, [r.id]: { ...x[r.id], url: e.target.value } }))} />
            </label>
            <label>
              Token variable
              <input type="text" spellCheck={false} value={f.tokenEnv} aria-label={`${r.name} token variable`} onChange={(e) => setForm((x) => ({ ...x, [r.id]: { ...x[r.id], tokenEnv: e.target.value } }))} />
            </label>
            <button type="submit" className="btn" disabled={st?.saving === true}>
              Save and check
            </button>
            {st?.message ? (
              <span className="ok-text" role="status" data-field="saved">
                {st.message}
              </span>
            ) : null}
            <ErrorBox error={st?.error} title="Not saved" />
          </form>
        );
      })}
      <p className="muted" data-field="token-help">
        {host === 'electron'
          ? 'Tokens are kept in the OS keychain, never in the settings file: File › Cloud Tokens › Paste Modal / Cloud Run Token from Clipboard.'
          : 'Tokens are never typed here: this host reads each token from the environment variable named above (set it where tandem serve runs).'}
      </p>
    </div>
  );
}

interface WarmState {
  jobId: string | null;
  status: string;
  coldStart?: boolean;
  modelLoadMs?: number;
  totalMs?: number;
  costUsd?: number;
  error?: string;
}

function Warmups({ config }: { config: Config }) {
  const api = useApi();
  const [state, setState] = useState<Record<string, WarmState>>({});
  const key = (b: string, f: string) => `${b}:${f}`;
  const apply = (k: string, j: ApiJob) => {
    const r = (j.result ?? {}) as { coldStart?: boolean; modelLoadMs?: number; totalMs?: number };
    setState((s) => ({
      ...s,
      [k]: { jobId: j.id, status: j.status, costUsd: j.costUsd, ...(j.status === 'succeeded' ? { coldStart: r.coldStart, modelLoadMs: r.modelLoadMs, totalMs: r.totalMs } : {}), ...(j.error ? { error: `${j.error.code}: ${j.error.message}` } : {}) },
    }));
  };
  useApiEvent('job.updated', (e) => {
    const entry = Object.entries(state).find(([, s]) => s.jobId === e.job.id);
    if (entry) apply(entry[0], e.job);
  });
  const warm = async (backend: RemoteBackend, fn: string) => {
    const k = key(backend, fn);
    setState((s) => ({ ...s, [k]: { jobId: null, status: 'queued' } }));
    try {
      const { jobId } = await api.call('cloud.warmup', { backend, ...(backend === 'modal' ? { function: fn } : {}) });
      // The job may have finished before its id arrived here: read it once.
      apply(k, (await api.call('jobs.show', { id: jobId })).job);
    } catch (e) {
      const err = asTandemError(e);
      setState((s) => ({ ...s, [k]: { jobId: null, status: 'failed', error: `${err.code}: ${err.message}` } }));
    }
  };
  return (
    <section className="card" aria-labelledby="warm-title">
      <h2 id="warm-title">Warm up</h2>
      <p className="muted">Load a model before you need it: the first request after scale-to-zero pays the cold start (seconds for embeddings, minutes for Qwen). Each warm-up is a job with its cost.</p>
      <table className="table warm-table cloud-table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Function</th>
            <th>Result</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {config.warmups.map((w) => {
            const s = state[key(w.backend, w.function)];
            return (
              <tr key={key(w.backend, w.function)} data-warmup={w.function} data-state={s?.status ?? 'idle'}>
                <td>
                  {w.label} <span className="muted">on {w.backend}</span>
                </td>
                <td className="mono">{w.function}</td>
                <td data-field="cold-start">
                  {!s ? <span className="muted">–</span> : null}
                  {s && (s.status === 'queued' || s.status === 'running') ? <StatusChip status={s.status} /> : null}
                  {s?.status === 'succeeded' ? (
                    s.coldStart ? (
                      <span>
                        cold start <b>{formatMs(s.modelLoadMs)}</b> · total {formatMs(s.totalMs)} · {formatUsd(s.costUsd ?? 0)}
                      </span>
                    ) : (
                      <span>
                        already warm · total {formatMs(s.totalMs)}
                      </span>
                    )
                  ) : null}
                  {s && (s.status === 'failed' || s.status === 'cancelled') ? <span className="bad-text">{s.error ?? s.status}</span> : null}
                  {s?.jobId ? (
                    <>
                      {' '}
                      <a href={`#/jobs?id=${s.jobId}`} className="muted">
                        job
                      </a>
                    </>
                  ) : null}
                </td>
                <td>
                  <button type="button" className="btn btn-small" disabled={s?.status === 'queued' || s?.status === 'running'} onClick={() => void warm(w.backend, w.function)} aria-label={`Warm up ${w.label}`}>
                    Warm up
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Spend({ costs, config, onChanged }: { costs: Costs; config: Config; onChanged: () => void }) {
  const api = useApi();
  const m = costs.month;
  const b = costs.budget;
  const [amount, setAmount] = useState(b ? String(b.monthlyUsd) : '');
  const [action, setAction] = useState<'warn' | 'block'>(b?.action ?? 'warn');
  const [error, setError] = useState<TandemError>();
  const [saved, setSaved] = useState<string | null>(null);
  const scale = Math.max(m.projectedUsd, b?.monthlyUsd ?? 0, m.spentUsd, 1e-9);
  const over = b !== null && m.projectedUsd > b.monthlyUsd;
  const save = async (clear: boolean) => {
    setError(undefined);
    setSaved(null);
    const n = Number(amount);
    if (!clear && (amount.trim() === '' || !Number.isFinite(n) || n < 0)) {
      setError(asTandemError(new Error('the budget must be a number of USD >= 0')));
      return;
    }
    try {
      const r = await api.call('cloud.setBudget', clear ? { monthlyUsd: null } : { monthlyUsd: n, action });
      setSaved(r.budget ? `Saved: ${formatUsd(r.budget.monthlyUsd)} per month, ${r.budget.action} when exceeded.` : 'Budget removed.');
      if (clear) setAmount('');
      onChanged();
    } catch (e) {
      setError(asTandemError(e));
    }
  };
  return (
    <section className="card" aria-labelledby="spend-title" data-month={m.month}>
      <h2 id="spend-title">This month · {m.month}</h2>
      <dl className="kv">
        <dt>Spent</dt>
        <dd data-field="spent">
          {formatUsd(m.spentUsd)} on {m.jobs} jobs
        </dd>
        <dt>Projected</dt>
        <dd data-field="projected">
          {formatUsd(m.projectedUsd)} <span className="muted">(at the rate of {m.daysElapsed.toFixed(1)} of {m.daysInMonth} days)</span>
        </dd>
        <dt>Budget</dt>
        <dd data-field="budget">{b ? `${formatUsd(b.monthlyUsd)} (${b.action} when exceeded)` : 'none'}</dd>
      </dl>
      <div
        className={`meter${over ? ' meter-over' : ''}`}
        role="meter"
        aria-label="Projected spend against the budget"
        aria-valuemin={0}
        aria-valuemax={b?.monthlyUsd ?? scale}
        aria-valuenow={m.projectedUsd}
        aria-valuetext={`${formatUsd(m.projectedUsd)} projected${b ? ` of ${formatUsd(b.monthlyUsd)}` : ''}`}
      >
        <div className="meter-projected" style={{ width: `${(m.projectedUsd / scale) * 100}%` }} />
        <div className="meter-spent" style={{ width: `${(m.spentUsd / scale) * 100}%` }} />
        {b ? <div className="meter-budget" style={{ left: `calc(${(b.monthlyUsd / scale) * 100}% - 1px)` }} title={`budget ${formatUsd(b.monthlyUsd)}`} /> : null}
      </div>
      <p className="muted">Dark: spent so far; light: the projection for the whole month; the line: the budget.</p>
      {m.byKindBackend.length ? (
        <table className="table">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Backend</th>
              <th className="num">Jobs</th>
              <th className="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {m.byKindBackend.map((r) => (
              <tr key={`${r.kind}|${r.backend}`}>
                <td>{r.kind}</td>
                <td>{r.backend}</td>
                <td className="num">{r.jobs}</td>
                <td className="num">{formatUsd(r.usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h3>Monthly budget · profile {config.profile}</h3>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save(false);
        }}
      >
        <label>
          USD per month
          <input id="budget-amount" type="number" min={0} step="any" value={amount} onChange={(e) => setAmount(e.target.value)} />
        </label>
        <label>
          When exceeded
          <select id="budget-action" value={action} onChange={(e) => setAction(e.target.value as 'warn' | 'block')}>
            <option value="warn">warn</option>
            <option value="block">block new jobs</option>
          </select>
        </label>
        <button type="submit" className="btn btn-primary">
          Save budget
        </button>
        {config.budget ? (
          <button type="button" className="btn" onClick={() => void save(true)}>
            Remove
          </button>
        ) : null}
      </form>
      {saved ? (
        <p className="ok-text" role="status" data-field="budget-saved">
          {saved}
        </p>
      ) : null}
      <ErrorBox error={error} title="The budget was not saved" />
      <AlertThresholds config={config} onChanged={onChanged} />
    </section>
  );
}

const THRESHOLD_FIELDS = [
  { key: 'costAnomaly', label: 'Cost per job up by more than', max: 1000 },
  { key: 'errorRate', label: 'Error rate above', max: 100 },
  { key: 'slowdown', label: 'Median run time slower by more than', max: 1000 },
] as const;
type ThresholdKey = (typeof THRESHOLD_FIELDS)[number]['key'];

/** The alert rules' thresholds of the active profile (cloud.setAlerts), typed in percent. */
function AlertThresholds({ config, onChanged }: { config: Config; onChanged: () => void }) {
  const api = useApi();
  const t = config.alertThresholds;
  const pct = (x: number) => String(+(x * 100).toFixed(4));
  const [text, setText] = useState<Record<ThresholdKey, string>>({ costAnomaly: pct(t.costAnomaly), errorRate: pct(t.errorRate), slowdown: pct(t.slowdown) });
  const [error, setError] = useState<TandemError>();
  const [saved, setSaved] = useState<string | null>(null);
  const invalid = THRESHOLD_FIELDS.filter((f) => {
    const n = Number(text[f.key]);
    return text[f.key].trim() === '' || !Number.isFinite(n) || n <= 0 || n > f.max;
  });
  const save = async () => {
    setError(undefined);
    setSaved(null);
    try {
      const input = Object.fromEntries(THRESHOLD_FIELDS.map((f) => [f.key, Number(text[f.key]) / 100])) as Record<ThresholdKey, number>;
      const r = await api.call('cloud.setAlerts', input);
      const a = r.alertThresholds;
      setSaved(`Saved: cost +${pctText(a.costAnomaly)}, errors ${pctText(a.errorRate)}, slowdown ${pctText(a.slowdown)}.`);
      onChanged();
    } catch (e) {
      setError(asTandemError(e));
    }
  };
  return (
    <>
      <h3>Alert thresholds · profile {config.profile}</h3>
      <form
        className="inline-form"
        aria-label="Alert thresholds"
        onSubmit={(e) => {
          e.preventDefault();
          if (invalid.length === 0) void save();
        }}
      >
        {THRESHOLD_FIELDS.map((f) => (
          <label key={f.key}>
            {f.label} (%)
            <input id={`alert-${f.key}`} type="number" min={0} max={f.max} step="any" value={text[f.key]} aria-invalid={invalid.includes(f)} onChange={(e) => setText((x) => ({ ...x, [f.key]: e.target.value }))} />
          </label>
        ))}
        <button type="submit" className="btn" disabled={invalid.length > 0}>
          Save thresholds
        </button>
      </form>
      {invalid.map((f) => (
        <p key={f.key} className="bad-text" data-error-for={`alerts.${f.key}`}>
          {f.label}: a percentage above 0 and at most {f.max}
        </p>
      ))}
      {saved ? (
        <p className="ok-text" role="status" data-field="alerts-saved">
          {saved}
        </p>
      ) : null}
      <ErrorBox error={error} title="The thresholds were not saved" />
    </>
  );
}

function Routing({ config, onChanged }: { config: Config; onChanged: () => void }) {
  const api = useApi();
  const [error, setError] = useState<TandemError>();
  const set = async (kind: RoutedKind, policy: Policy) => {
    setError(undefined);
    try {
      await api.call('cloud.setRoute', { kind, policy });
      onChanged();
    } catch (e) {
      setError(asTandemError(e));
    }
  };
  return (
    <section className="card" aria-labelledby="routing-title">
      <h2 id="routing-title">Routing · profile {config.profile}</h2>
      <p className="muted">
        Per job kind: <b>auto</b> runs on this machine when it can (embeddings), else on the kind&apos;s usual backend; <b>modal</b> / <b>cloud-run</b> pin a backend (one switch moves a kind between them); <b>local</b> never leaves
        this machine.
      </p>
      <table className="table">
        <tbody>
          {ROUTED_KIND_VALUES.map((k) => (
            <tr key={k}>
              <td>
                <label htmlFor={`route-${k}`}>{KIND_WORDS[k]}</label>
              </td>
              <td>
                <select id={`route-${k}`} value={config.routing[k]} onChange={(e) => void set(k, e.target.value as Policy)}>
                  {POLICY_VALUES.map((p) => (
                    <option key={p} value={p}>
                      {p}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Saved in profile {config.profile} at once; the next plan uses it{config.sources.routing ? ` (from ${config.sources.routing})` : ''}.</p>
      <ErrorBox error={error} title="The route was not changed" />
    </section>
  );
}

function Prices({ config, onChanged }: { config: Config; onChanged: () => void }) {
  const api = useApi();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [add, setAdd] = useState<{ backend: RemoteBackend; gpu: string; rate: string }>({ backend: 'modal', gpu: '', rate: '' });
  const [error, setError] = useState<TandemError>();
  const gpusUsed = new Map<string, string[]>();
  for (const f of config.functions) {
    const k = `${f.backend}|${f.gpu.type}`;
    gpusUsed.set(k, [...(gpusUsed.get(k) ?? []), f.name]);
  }
  const reset = async (backend: RemoteBackend, gpu: string) => {
    setError(undefined);
    try {
      await api.call('cloud.setPrice', { backend, gpu, rate: null });
      setEdits((e) => {
        const { [`${backend}|${gpu}`]: _drop, ...rest } = e;
        return rest;
      });
      onChanged();
    } catch (e) {
      setError(asTandemError(e));
    }
  };
  const save = async (backend: RemoteBackend, gpu: string, text: string) => {
    setError(undefined);
    const rate = Number(text);
    if (text.trim() === '' || !Number.isFinite(rate) || rate <= 0) {
      setError(asTandemError(new Error(`the price of ${gpu} on ${backend} must be a positive number of USD per GPU-hour`)));
      return;
    }
    try {
      await api.call('cloud.setPrice', { backend, gpu, rate });
      setEdits((e) => {
        const { [`${backend}|${gpu}`]: _drop, ...rest } = e;
        return rest;
      });
      onChanged();
    } catch (e) {
      setError(asTandemError(e));
    }
  };
  return (
    <section className="card" aria-labelledby="prices-title">
      <h2 id="prices-title">Prices (USD per GPU-hour) · profile {config.profile}</h2>
      <p className="muted">Estimates use these at once (GPU-seconds x GPUs x rate); a changed built-in price can be reset.</p>
      <table className="table cloud-table">
        <thead>
          <tr>
            <th>Backend</th>
            <th>GPU</th>
            <th>Used by</th>
            <th className="num">Rate</th>
          </tr>
        </thead>
        <tbody>
          {REMOTE_BACKEND_VALUES.flatMap((b) =>
            Object.entries(config.prices[b] ?? {}).map(([gpu, rate]) => {
              const k = `${b}|${gpu}`;
              const v = edits[k] ?? String(rate);
              return (
                <tr key={k} data-price={k}>
                  <td>{b}</td>
                  <td>{gpu}</td>
                  <td className="muted mono">{(gpusUsed.get(k) ?? []).join(', ') || '–'}</td>
                  <td className="num">
                    <span className="rate-edit">
                      <input type="number" min={0} step="any" value={v} aria-label={`Price of ${gpu} on ${b}`} onChange={(e) => setEdits((x) => ({ ...x, [k]: e.target.value }))} />
                      <button type="button" className="btn btn-small" disabled={edits[k] === undefined || Number(edits[k]) === rate} onClick={() => void save(b, gpu, v)} aria-label={`Save the price of ${gpu} on ${b}`}>
                        Save
                      </button>
                      {config.defaultPrices[b]?.[gpu] !== undefined && config.defaultPrices[b]?.[gpu] !== rate ? (
                        <button type="button" className="btn btn-small" title={`built-in: $${config.defaultPrices[b]?.[gpu]}/h`} onClick={() => void reset(b, gpu)} aria-label={`Reset the price of ${gpu} on ${b}`}>
                          Reset
                        </button>
                      ) : null}
                    </span>
                  </td>
                </tr>
              );
            }),
          )}
        </tbody>
      </table>
      <form
        className="inline-form"
        style={{ marginTop: 10 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (add.gpu.trim()) void save(add.backend, add.gpu.trim(), add.rate).then(() => setAdd((a) => ({ ...a, gpu: '', rate: '' })));
        }}
      >
        <label>
          Backend
          <select value={add.backend} onChange={(e) => setAdd((a) => ({ ...a, backend: e.target.value as RemoteBackend }))}>
            {REMOTE_BACKEND_VALUES.map((b) => (
              <option key={b}>{b}</option>
            ))}
          </select>
        </label>
        <label>
          GPU type
          <input type="text" value={add.gpu} placeholder="e.g. H200" onChange={(e) => setAdd((a) => ({ ...a, gpu: e.target.value }))} />
        </label>
        <label>
          Rate
          <input type="number" min={0} step="any" value={add.rate} onChange={(e) => setAdd((a) => ({ ...a, rate: e.target.value }))} />
        </label>
        <button type="submit" className="btn">
          Add price
        </button>
      </form>
      <ErrorBox error={error} title="The price was not saved" />
    </section>
  );
}

/** The remote functions, in a card of their own (full width: seven columns do not fit half a page). */
function Functions({ config }: { config: Config }) {
  return (
    <section className="card" aria-labelledby="functions-title" data-card="functions">
      <h2 id="functions-title">Functions</h2>
      <table className="table functions-table">
        <thead>
          <tr>
            <th>Backend</th>
            <th>Function</th>
            <th>Kinds</th>
            <th>GPU</th>
            <th className="num">Concurrency</th>
            <th className="num" title="Typical cold start; whether estimates assume warm now, and the scale-down window">Cold start</th>
            <th className="num">Timeout</th>
          </tr>
        </thead>
        <tbody>
          {config.functions.map((f) => (
            <tr key={`${f.backend}|${f.name}`}>
              <td>{f.backend}</td>
              <td className="mono">{f.name}</td>
              <td>{f.kinds.join(', ')}</td>
              <td className="nowrap">
                {f.gpu.count}x {f.gpu.type}
              </td>
              <td className="num">{f.maxConcurrency}</td>
              <td className="num">
                ~{f.coldStartS} s
                {f.warm ? (
                  // What estimates assume now: warm when the function answered within its scale-down window.
                  <div className={f.warm.assumed === 'warm' ? 'ok-text' : 'muted'} data-field="warmth" data-assumed={f.warm.assumed} title={f.warm.why}>
                    {f.warm.assumed} now{f.scaledownS ? ` · ${f.scaledownS >= 120 ? `${Math.round(f.scaledownS / 60)} min` : `${f.scaledownS} s`} window` : ''}
                  </div>
                ) : null}
              </td>
              <td className="num">{f.timeoutS} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function CloudPage() {
  const [version, setVersion] = useState(0);
  const config = useQuery('cloud.config', {}, String(version));
  const costs = useQuery('cloud.costs', {}, String(version));
  const changed = () => setVersion((v) => v + 1);
  useApiEvent('job.updated', (e) => {
    if (e.job.backend !== 'local' && ['succeeded', 'failed'].includes(e.job.status)) costs.reload();
  });
  return (
    <section className="page" aria-labelledby="page-title">
      <PageHeader title="Cloud" />
      <Alerts costs={costs.data} thresholds={config.data?.alertThresholds} />
      <ErrorBox error={config.error} title="Cannot read the cloud settings" />
      <ErrorBox error={costs.error} title="Cannot compute the costs" />
      {!config.data ? (
        config.error ? null : <Loading what="the cloud settings" />
      ) : (
        <>
          <Backends config={config.data} onChanged={changed} />
          <div className="grid-2">
            <Warmups config={config.data} />
            {costs.data ? <Spend costs={costs.data} config={config.data} onChanged={changed} /> : <Loading what="the costs" />}
          </div>
          <div className="grid-2">
            <Routing config={config.data} onChanged={changed} />
            <Prices config={config.data} onChanged={changed} />
          </div>
          <Functions config={config.data} />
        </>
      )}
    </section>
  );
}
