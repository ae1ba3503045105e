/**
 * Generate: a prompt plus a JSON Schema (edited as text, checked as you type: JSON syntax with the
 * line and column, the schema's shape, then the engine compiles it), a Qwen size, a policy (auto:
 * Modal when healthy and within budget, else the local model; modal; local), the route and
 * estimate, submit. A local generation streams into the output area token by token
 * (`generate.token` events); when the job ends, the output is checked against the schema and
 * pretty-printed, with who answered (this machine or Modal, model, device) and why, the timings
 * and the cost.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiCloudRequest, ApiRoutePlan, Policy } from '../../../../native/engine/common/contract/cloud';
import type { ApiJob } from '../../../../native/engine/common/api-contract';
import { generateFieldErrors, QWEN_MODEL_IDS } from '../../../../native/engine/common/boltz-validate';
import type { TandemError } from '../../../../native/engine/common/errors';
import { asTandemError, useApi, useApiEvent, useQuery } from '../../api/hooks';
import '../cloud/cloud.css';
import { parseJsonText } from '../cloud/json-text';
import { PlanSummary } from '../cloud/PlanSummary';
import { FINISHED, useJobDetail } from '../cloud/useJobDetail';
import { Empty, ErrorBox, Loading, PageHeader, StatusChip } from '../../components/ui';
import { formatMs, formatUsd, formatWhen } from '../../components/format';
import { useDebounced } from '../../app/debounce';

type Model = (typeof QWEN_MODEL_IDS)[number];

const MODELS: Record<Model, string> = {
  'qwen-32b': 'Qwen2.5-Coder 32B · 1x A100-80GB',
  'qwen-80b': 'Qwen3-Next 80B-A3B · 2x H100',
  'qwen-480b': 'Qwen3-Coder 480B · 8x H100',
};

export const EXAMPLE_SCHEMAS: Record<string, { prompt: string; schema: object }> = {
  'Protein summary': {
    prompt: 'Summarise what is known about T4 lysozyme: its function, organism and notable structural features.',
    schema: {
      type: 'object',
      required: ['name', 'organism', 'function', 'features'],
      properties: {
        name: { type: 'string' },
        organism: { type: 'string' },
        function: { type: 'string' },
        features: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 5 },
        lengthResidues: { type: 'integer', minimum: 1 },
      },
      additionalProperties: false,
    },
  },
  'Paper metadata': {
    prompt: 'Extract the title, authors, year and key findings of the paper "Highly accurate protein structure prediction with AlphaFold".',
    schema: {
      type: 'object',
      required: ['title', 'authors', 'year', 'findings'],
      properties: {
        title: { type: 'string' },
        authors: { type: 'array', items: { type: 'string' } },
        year: { type: 'integer', minimum: 1900, maximum: 2100 },
        findings: { type: 'array', items: { type: 'string' }, minItems: 1 },
        openAccess: { type: 'boolean' },
      },
    },
  },
  'Experiment plan': {
    prompt: 'Plan a thermal shift assay to screen 20 ligands against a purified kinase.',
    schema: {
      type: 'object',
      required: ['goal', 'steps', 'controls'],
      properties: {
        goal: { type: 'string' },
        steps: { type: 'array', items: { type: 'object', required: ['action', 'minutes'], properties: { action: { type: 'string' }, minutes: { type: 'number', minimum: 0 } } } },
        controls: { type: 'array', items: { type: 'string', enum: ['positive', 'negative', 'vehicle'] } },
        risk: { type: 'string', enum: ['low', 'medium', 'high'] },
      },
    },
  },
};

/** Where a job ran, in words: "this machine" or the cloud backend's name. */
export function backendLabel(backend: string | undefined): string {
  if (backend === 'local') return 'this machine';
  if (backend === 'modal') return 'Modal';
  if (backend === 'cloud-run') return 'Cloud Run';
  return backend ?? '–';
}

/** A job error in words a researcher can act on (truncated constrained output, an invalid output, a missing model). */
export function errorHint(e: { code: string; message: string }): string | null {
  if (/this schema needs at least \d+ tokens/.test(e.message)) return 'Max tokens is below the shortest valid JSON for this schema, so nothing was generated: raise Max tokens, or make the schema smaller (fewer required fields, shorter enums).';
  if (/^truncated:/.test(e.message)) return 'The output was cut by Max tokens before the JSON value was complete: raise Max tokens, or make the schema smaller (maxLength, maxItems, fewer fields).';
  if (e.code === 'MODEL_NOT_FOUND') return 'The local model is not on this machine: pull it on the Models page, or set localGenerateModel in cloud.json.';
  if (/does not match the request's JSON Schema/.test(e.message)) return "The model's output broke the schema; its raw text is kept in the job's results folder.";
  return null;
}

function GenerateResult({ jobId, streamed }: { jobId: string; streamed: { text: string; tokens: number } | undefined }) {
  const api = useApi();
  const { detail, error } = useJobDetail(jobId);
  // While a remote call waits: the engine's status line ("waiting for Modal generate: cold start 0:42 (typical 5-7 min for qwen-32b)").
  const [phase, setPhase] = useState<string | null>(null);
  useEffect(() => setPhase(null), [jobId]);
  useApiEvent('job.updated', (e) => {
    if (e.job.id === jobId) setPhase(FINISHED.includes(e.job.status) ? null : e.phase);
  });
  const [check, setCheck] = useState<{ ok: boolean; errors: string | null } | 'checking' | null>(null);
  const job = detail?.job;
  const request = (job?.params as { request?: ApiCloudRequest } | undefined)?.request;
  const result = (job?.status === 'succeeded' ? job.result : null) as {
    output?: unknown;
    answeredBy?: { backend?: string; function?: string; gpu?: string; model?: string; device?: string; reason?: string; where?: string; substitutedFor?: string | null };
    timings?: { totalMs?: number; ttfbMs?: number; coldStart?: boolean; modelLoadMs?: number; inferenceMs?: number; transferMs?: number; attempts?: number };
    usage?: { promptTokens?: number; completionTokens?: number };
  } | null;

  // Check the output against the request's schema (ajv, in the engine) for the record shown.
  const outputKey = result && request?.kind === 'generate' ? jobId : null;
  useEffect(() => {
    if (!outputKey || !result || request?.kind !== 'generate') {
      setCheck(null);
      return;
    }
    let live = true;
    setCheck('checking');
    api.call('cloud.validate', { request: request as unknown as Record<string, unknown>, output: result.output }).then(
      (r) => live && setCheck(r.output ?? { ok: false, errors: 'not checked' }),
      (e: unknown) => live && setCheck({ ok: false, errors: asTandemError(e).message }),
    );
    return () => {
      live = false;
    };
  }, [api, outputKey]);

  if (error) return <ErrorBox error={error} title="Cannot load the job" />;
  if (!detail || !job) return <Loading what="the job" />;
  const t = result?.timings;
  const a = result?.answeredBy;
  const route = (job.params as { route?: { reason?: string } }).route;
  const running = !FINISHED.includes(job.status);
  const hint = job.error ? errorHint(job.error) : null;
  const text = (result as { text?: unknown } | null)?.text;
  return (
    <section className="card" aria-label="Generation result" data-job={job.id} data-status={job.status} data-backend={job.backend}>
      <div className="page-header">
        <h2>Output</h2>
        <StatusChip status={job.status} />
      </div>
      {running && job.backend !== 'local' ? (
        <p className="muted" data-field="wait-phase" aria-live="polite">
          {phase ?? `Waiting for ${request?.kind === 'generate' ? request.model : 'the model'} on ${backendLabel(job.backend)}…`}
        </p>
      ) : null}
      {running && job.backend === 'local' ? (
        <p className="muted" data-field="running-local">
          Generating on this machine{route?.reason ? ` (${route.reason})` : ''}
          {streamed ? ` · ${streamed.tokens} tokens so far` : ' · loading the local model…'}
        </p>
      ) : null}
      {streamed && running ? (
        <pre className="json-out stream-out" data-field="stream" data-tokens={streamed.tokens} aria-label="Output as it streams" style={{ whiteSpace: 'pre-wrap' }}>
          {streamed.text}
          <span className="muted" aria-hidden="true">
            ▍
          </span>
        </pre>
      ) : null}
      {job.error ? (
        <div className="error-box" role="note" data-field="job-error">
          <strong>The job {job.status}</strong>
          <span className="error-code">{job.error.code}</span>
          <p>{job.error.message}</p>
          {hint ? <p data-field="error-hint">{hint}</p> : null}
        </div>
      ) : null}
      {job.error && streamed && !running ? (
        <details>
          <summary>Text streamed before it stopped ({streamed.tokens} tokens)</summary>
          <pre className="json-out" data-field="stream" data-tokens={streamed.tokens} style={{ whiteSpace: 'pre-wrap' }}>
            {streamed.text}
          </pre>
        </details>
      ) : null}
      {result ? (
        <>
          <p data-field="schema-check">
            {check === 'checking' || check === null ? <span className="muted">checking the output against the schema…</span> : null}
            {check && check !== 'checking' && check.ok ? <span className="ok-text" data-valid="true">✓ valid under the JSON Schema</span> : null}
            {check && check !== 'checking' && !check.ok ? (
              <span className="bad-text" data-valid="false">
                ✗ does not match the schema: {check.errors}
              </span>
            ) : null}
          </p>
          {result.output === undefined || result.output === null ? (
            <p className="muted" data-field="output-empty">
              The model returned no output.
            </p>
          ) : (
            <pre className="json-out" data-field="output" aria-label="Output (pretty-printed JSON)">
              {JSON.stringify(result.output, null, 2)}
            </pre>
          )}
          {streamed ? (
            <details>
              <summary>
                Streamed text ({streamed.tokens} tokens){typeof text === 'string' ? (text === streamed.text ? ' · same as the final text' : ' · differs from the final text') : ''}
              </summary>
              <pre className="json-out" data-field="stream" data-tokens={streamed.tokens} data-final={typeof text === 'string' ? String(text === streamed.text) : undefined} style={{ whiteSpace: 'pre-wrap' }}>
                {streamed.text}
              </pre>
            </details>
          ) : null}
          <dl className="kv" style={{ marginTop: 10 }}>
            <dt>Answered by</dt>
            <dd data-field="answered-by" data-backend={a?.backend ?? job.backend}>
              {(a?.backend ?? job.backend) === 'local' ? (
                <>
                  <b>this machine</b> ({job.params && (job.params as { route?: { policy?: string } }).route?.policy === 'local' ? 'policy local' : 'local fallback'}): <span className="mono">{a?.model ?? '–'}</span>
                  {' · '}
                  {a?.device ?? job.device ?? '–'}
                  {a?.substitutedFor ? (
                    <div className="bad-text" data-field="substituted">
                      Not {a.substitutedFor}: you asked for {a.substitutedFor}; a different model, on this machine, answered instead.
                    </div>
                  ) : null}
                </>
              ) : (
                <>
                  {a?.model ?? '–'} on <b>{a?.backend ?? job.backend}</b> ({backendLabel(a?.backend ?? job.backend)}
                  {a?.function ? (
                    <>
                      {' '}
                      <span className="mono">{a.function}</span>
                    </>
                  ) : null}
                  ){a?.gpu || a?.device || job.device ? ` · ${a?.gpu ?? a?.device ?? job.device}` : ''}
                </>
              )}
            </dd>
            <dt>Why</dt>
            <dd data-field="why">{a?.reason ?? route?.reason ?? '–'}</dd>
            <dt>Timings</dt>
            <dd data-field="timings">
              total {formatMs(t?.totalMs ?? detail.timings.runMs)} · first byte {formatMs(t?.ttfbMs)} · {t?.coldStart ? `cold start ${formatMs(t.modelLoadMs)}` : 'warm'} · inference {formatMs(t?.inferenceMs ?? detail.timings.inferenceMs)} · transfer{' '}
              {formatMs(t?.transferMs ?? detail.timings.transferMs)} · queue {formatMs(detail.timings.queueMs)}
              {t?.attempts && t.attempts > 1 ? ` · ${t.attempts} attempts` : ''}
            </dd>
            <dt>Tokens</dt>
            <dd>{result.usage ? `${result.usage.promptTokens ?? '?'} in, ${result.usage.completionTokens ?? '?'} out` : '–'}</dd>
            <dt>Cost</dt>
            <dd data-field="cost">{formatUsd(job.costUsd)}</dd>
          </dl>
        </>
      ) : null}
      <p className="muted">
        <a href={`#/jobs?id=${job.id}`}>job {job.id}</a> · queued {formatWhen(job.timings.queuedAt)}
      </p>
    </section>
  );
}

function RecentGenerations({ current, onOpen }: { current: string | null; onOpen: (id: string) => void }) {
  const list = useQuery('jobs.list', { kind: 'generate', limit: 20 });
  useApiEvent('job.updated', (e) => {
    if (e.job.kind === 'generate' && ['queued', 'succeeded', 'failed', 'cancelled'].includes(e.job.status)) list.reload();
  });
  const jobs: ApiJob[] = list.data?.jobs ?? [];
  if (jobs.length === 0) return null;
  return (
    <section className="card" aria-labelledby="recent-gen-title">
      <h2 id="recent-gen-title">Recent generations</h2>
      <ul className="past-jobs">
        {jobs.map((j) => {
          const req = (j.params as { request?: { model?: string; prompt?: string } }).request;
          return (
            <li key={j.id}>
              <button type="button" aria-current={current === j.id} onClick={() => onOpen(j.id)}>
                <StatusChip status={j.status} />
                <span>
                  {req?.model}
                  {j.backend === 'local' ? ` → this machine${typeof (j.result as { answeredBy?: { model?: unknown } } | null)?.answeredBy?.model === 'string' ? ` (${String((j.result as { answeredBy: { model: string } }).answeredBy.model)} answered)` : ''}` : ''}
                </span>
                <span className="muted" style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                  {req?.prompt?.slice(0, 80)} · {formatWhen(j.timings.queuedAt)}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function GeneratePage() {
  const api = useApi();
  const first = EXAMPLE_SCHEMAS['Protein summary']!;
  const [prompt, setPrompt] = useState(first.prompt);
  const [schemaText, setSchemaText] = useState(JSON.stringify(first.schema, null, 2));
  const [model, setModel] = useState<Model>('qwen-32b');
  const [maxTokens, setMaxTokens] = useState('');
  const [policy, setPolicy] = useState<Policy>('auto');
  // Start from the routing switch of the Cloud page (until the policy is picked here).
  const policyTouched = useRef(false);
  const cloudConfig = useQuery('cloud.config', {});
  const routed = cloudConfig.data?.routing.generate;
  useEffect(() => {
    if (routed && !policyTouched.current && (routed === 'auto' || routed === 'modal' || routed === 'local')) setPolicy(routed);
  }, [routed]);
  const [serverSchemaError, setServerSchemaError] = useState<string | null>(null);
  const [plan, setPlan] = useState<ApiRoutePlan>();
  const [planError, setPlanError] = useState<TandemError>();
  const [submitError, setSubmitError] = useState<TandemError>();
  const [submitting, setSubmitting] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  // Streamed text per job, kept from the first token on (it may arrive before cloud.submit returns).
  const streams = useRef(new Map<string, { text: string; tokens: number }>());
  const [streamTick, setStreamTick] = useState(0);
  useApiEvent('generate.token', (e) => {
    const s = streams.current.get(e.jobId) ?? { text: '', tokens: 0 };
    streams.current.set(e.jobId, { text: s.text + e.text, tokens: s.tokens + 1 });
    setStreamTick((n) => n + 1);
  });
  void streamTick;

  const parsed = useMemo(() => parseJsonText(schemaText), [schemaText]);
  const request = useMemo((): ApiCloudRequest | null => {
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) return null;
    const n = Number(maxTokens);
    return { kind: 'generate', model, prompt, schema: parsed.value as Record<string, unknown>, ...(maxTokens.trim() !== '' && Number.isFinite(n) ? { maxTokens: n } : {}) };
  }, [parsed, model, prompt, maxTokens]);
  const localErrors = useMemo(
    () => (parsed.ok ? generateFieldErrors({ model, prompt, schema: parsed.value, ...(maxTokens.trim() !== '' ? { maxTokens: Number(maxTokens) } : {}) }) : generateFieldErrors({ model, prompt, schema: {} }).concat([{ field: 'schema', message: `not valid JSON: ${parsed.message} (line ${parsed.line}, column ${parsed.column})` }])),
    [parsed, model, prompt, maxTokens],
  );
  const schemaLocal = localErrors.find((e) => e.field.startsWith('schema'));
  const promptError = localErrors.find((e) => e.field === 'prompt');
  const tokensError = localErrors.find((e) => e.field === 'maxTokens');

  // A finished job changes the plan (a function that just answered is estimated warm): plan again.
  const [planTick, setPlanTick] = useState(0);
  useApiEvent('job.updated', (e) => {
    if (e.job.kind === 'generate' && FINISHED.includes(e.job.status)) setPlanTick((n) => n + 1);
  });
  // The engine compiles the schema (ajv) and plans the job, shortly after typing stops.
  const key = useDebounced(request && localErrors.length === 0 ? JSON.stringify([request, policy, planTick]) : '', 350);
  useEffect(() => {
    if (!key) {
      setServerSchemaError(null);
      setPlan(undefined);
      setPlanError(undefined);
      return;
    }
    const [req, pol] = JSON.parse(key) as [ApiCloudRequest, Policy, number];
    let live = true;
    void (async () => {
      try {
        const v = await api.call('cloud.validate', { request: req as unknown as Record<string, unknown> });
        if (!live) return;
        const bad = v.errors.find((e) => e.field.startsWith('schema'));
        setServerSchemaError(bad ? bad.message : null);
        if (!v.ok) {
          setPlan(undefined);
          return;
        }
        const p = await api.call('cloud.plan', { request: req, policy: pol });
        if (live) {
          setPlan(p.plan);
          setPlanError(undefined);
        }
      } catch (e) {
        if (live) {
          setPlan(undefined);
          setPlanError(asTandemError(e));
        }
      }
    })();
    return () => {
      live = false;
    };
  }, [api, key]);

  const schemaMessage = schemaLocal ? `${schemaLocal.field}: ${schemaLocal.message}` : serverSchemaError ? `schema: ${serverSchemaError}` : null;
  // A plan that cannot be made (Modal not configured and the local fallback not installed...) disables Generate: its message is shown above the button.
  const canSubmit = request !== null && localErrors.length === 0 && serverSchemaError === null && !planError && !submitting;
  const submit = async () => {
    if (!request) return;
    setSubmitting(true);
    setSubmitError(undefined);
    try {
      const r = await api.call('cloud.submit', { request, policy });
      setJobId(r.jobId);
    } catch (e) {
      setSubmitError(asTandemError(e));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <section className="page" aria-labelledby="page-title">
      <PageHeader title="Generate" />
      <p className="muted" style={{ margin: 0 }}>
        Structured output from Qwen on Modal, or from a small model on this machine (when it is installed) when Modal is not configured, unreachable or over budget (policy auto) or when you ask for it (local): the answer is a JSON object that must be valid under your
        schema (checked by the engine before the job succeeds). Local generation streams as it comes.
      </p>
      <div className="grid-2">
        <form
          className="card"
          aria-label="Prompt and schema"
          onSubmit={(e) => {
            e.preventDefault();
            if (canSubmit) void submit();
          }}
        >
          <label style={{ display: 'flex', flexDirection: 'column', gap: 4 }}>
            Prompt
            <textarea id="gen-prompt" rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} className={promptError ? 'invalid' : ''} style={{ fontFamily: 'var(--font)' }} />
          </label>
          {promptError ? <p className="field-error">prompt: {promptError.message}</p> : null}
          <div className="examples" style={{ margin: '10px 0 4px' }}>
            <span className="muted">Example schemas:</span>
            {Object.entries(EXAMPLE_SCHEMAS).map(([name, ex]) => (
              <button
                key={name}
                type="button"
                className="btn btn-small"
                onClick={() => {
                  setSchemaText(JSON.stringify(ex.schema, null, 2));
                  setPrompt(ex.prompt);
                }}
              >
                {name}
              </button>
            ))}
          </div>
          <label style={{ display: 'flex', flexDirection: 'column', gap: 4 }}>
            JSON Schema
            <textarea id="gen-schema" className={`schema-editor${schemaMessage ? ' invalid' : ''}`} spellCheck={false} value={schemaText} onChange={(e) => setSchemaText(e.target.value)} aria-invalid={schemaMessage !== null} aria-describedby="gen-schema-status" />
          </label>
          <p id="gen-schema-status" className={schemaMessage ? 'field-error' : 'field-ok'} data-field="schema-status" role={schemaMessage ? 'alert' : undefined}>
            {schemaMessage ?? 'valid JSON Schema'}
          </p>
          <div className="form" style={{ marginTop: 8 }}>
            <label>
              Model
              <select id="gen-model" value={model} onChange={(e) => setModel(e.target.value as Model)}>
                {QWEN_MODEL_IDS.map((m) => (
                  <option key={m} value={m}>
                    {m} · {MODELS[m]}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Max tokens (optional)
              <input type="number" min={1} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} className={tokensError ? 'invalid' : ''} style={{ width: '9em' }} />
            </label>
            <label>
              Policy
              <select id="gen-policy" value={policy} onChange={(e) => {
                  policyTouched.current = true;
                  setPolicy(e.target.value as Policy);
                }}
              >
                <option value="auto">auto (Modal, else this machine)</option>
                <option value="modal">modal</option>
                <option value="local">local (this machine)</option>
              </select>
            </label>
          </div>
          {tokensError ? <p className="field-error">maxTokens: {tokensError.message}</p> : null}
          <div style={{ marginTop: 10 }}>
            <PlanSummary plan={plan} error={planError} pending={canSubmit && !plan && !planError} />
          </div>
          <div className="row-actions" style={{ marginTop: 10 }}>
            <button type="submit" className="btn btn-primary" disabled={!canSubmit} title={planError ? planError.message : undefined} data-disabled-reason={planError ? planError.code : undefined}>
              Generate
            </button>
          </div>
          <ErrorBox error={submitError} title="The job was not submitted" />
        </form>
        <div style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
          {jobId ? (
            <GenerateResult jobId={jobId} streamed={streams.current.get(jobId)} />
          ) : (
            <Empty title="No output yet">
              <p>Write a prompt and a schema, then Generate.</p>
            </Empty>
          )}
          <RecentGenerations current={jobId} onOpen={setJobId} />
        </div>
      </div>
    </section>
  );
}
