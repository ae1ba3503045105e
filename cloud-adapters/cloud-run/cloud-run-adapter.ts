import { TandemError, type JsonValue } from '../../native/engine/common/errors.js';
import { asObject, call, healthFrom, idempotencyKeyOf, isObject, num, requireFields, STRUCTURE_MAX_RESPONSE_BYTES, str, timingsOf, type CallContext, type JsonObject } from '../adapter-util.js';
import type {
  AdapterFactory,
  BackendEndpoint,
  Boltz2BatchRequest,
  Boltz2LigandResult,
  Boltz2Request,
  CallOptions,
  Capabilities,
  CloudAdapter,
  CloudRequest,
  CostEstimate,
  FunctionCapability,
  HealthResult,
  PollOutcome,
  PriceTable,
  RemoteStatus,
  SubmitOutcome,
  WarmupResult,
} from '../contract.js';
import { predictionProblem, prediction, wireComplex } from '../boltz-wire.js';
import { createDispatcher } from '../http/http-client.js';
import { estimateCost } from '../prices.js';
import { validateRequest } from '../validate.js';

/**
 * Cloud Run (Boltz-2 on L4): one service base URL with /health, /predict (synchronous, held up to
 * the service timeout), /batch (202 + job id) and /batch/{id} (GET to poll, DELETE to cancel).
 * Request fields are snake_case on the wire.
 */

export const CLOUD_RUN_URL_SETTING = 'TANDEM_CLOUDRUN_URL';
/** Deadline of health, poll and cancel calls unless the caller gives one. */
export const SHORT_CALL_DEADLINE_MS = 60_000;
/** A health call slower than this during warmup counts as a cold start. */
export const COLD_HEALTH_MS = 5_000;

/** scaledownS: Cloud Run may keep an idle instance for up to 15 min but promises nothing (no seed gives a window): 60 s, conservatively. */
export const CLOUD_RUN_FUNCTIONS: readonly FunctionCapability[] = [
  { name: 'predict', kinds: ['boltz2'], gpu: { type: 'L4', count: 1 }, maxConcurrency: 5, timeoutS: 3600, coldStartS: 45, typicalGpuS: 90, scaledownS: 60 },
  { name: 'batch', kinds: ['boltz2-batch'], gpu: { type: 'L4', count: 1 }, maxConcurrency: 5, timeoutS: 3600, coldStartS: 45, typicalGpuS: 90, batch: 'remote', scaledownS: 60 },
];

const STATUSES: readonly RemoteStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

function fn(name: 'predict' | 'batch'): FunctionCapability {
  return CLOUD_RUN_FUNCTIONS.find((f) => f.name === name)!;
}

/** The base URL without a trailing slash; INVALID_ARGUMENT unless http(s). */
export function checkBaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new TandemError('INVALID_ARGUMENT', `the Cloud Run service URL (${CLOUD_RUN_URL_SETTING}) is not an http(s) URL`);
  }
  return url.replace(/\/+$/, '');
}

function pollCheck(body: JsonValue): string | null {
  if (!isObject(body)) return 'expected a JSON object';
  if (!STATUSES.includes(body.status as RemoteStatus)) return `status ${JSON.stringify(body.status ?? null)} is not one of ${STATUSES.join(', ')}`;
  if (body.results !== undefined && body.results !== null) {
    if (!Array.isArray(body.results)) return 'results is not a list';
    for (const [i, r] of body.results.entries()) {
      const p = predictionProblem(r, `results[${i}]: `);
      if (p) return p;
      if (typeof (r as JsonObject).ligand_id !== 'string') return `results[${i}]: missing ligand_id`;
    }
  }
  return null;
}

class CloudRunAdapter implements CloudAdapter {
  readonly id = 'cloud-run' as const;
  private readonly base: string;
  private readonly ctx: CallContext;

  constructor(endpoint: BackendEndpoint) {
    this.base = checkBaseUrl(endpoint.url);
    this.ctx = { backend: 'cloud-run', endpoint, dispatcher: createDispatcher({ connectTimeoutMs: endpoint.connectTimeoutMs }), defaultFirstByteTimeoutMs: null, defaultResponseCaps: { predict: STRUCTURE_MAX_RESPONSE_BYTES, batch: STRUCTURE_MAX_RESPONSE_BYTES } };
  }

  private batchUrl(remoteId: string): string {
    if (typeof remoteId !== 'string' || remoteId === '') throw new TandemError('INVALID_ARGUMENT', 'cloud-run: a batch job id is required');
    return `${this.base}/batch/${encodeURIComponent(remoteId)}`;
  }

  capabilities(): Capabilities {
    return { backend: 'cloud-run', functions: CLOUD_RUN_FUNCTIONS.map((f) => ({ ...f, kinds: [...f.kinds], gpu: { ...f.gpu } })) };
  }

  functionFor(req: CloudRequest): FunctionCapability {
    switch (req.kind) {
      case 'boltz2':
        return fn('predict');
      case 'boltz2-batch':
        return fn('batch');
      case 'generate':
      case 'embed-remote':
        throw new TandemError('INVALID_ARGUMENT', `cloud-run does not serve ${req.kind} jobs (Modal does)`);
      default:
        throw new TandemError('INVALID_ARGUMENT', `cloud-run: unknown job kind ${JSON.stringify((req as { kind?: unknown }).kind)}`);
    }
  }

  validate(req: CloudRequest): void {
    this.functionFor(req);
    validateRequest(req);
  }

  async health(opts: CallOptions & { function?: string } = {}): Promise<HealthResult> {
    const r = await call(this.ctx, { method: 'GET', url: `${this.base}/health`, fn: '/health', deadlineMs: opts.deadlineMs ?? SHORT_CALL_DEADLINE_MS, signal: opts.signal, check: requireFields('status') });
    return healthFrom('cloud-run', 'health', r);
  }

  /** Cloud Run's min-instances are not ours to set: warming up is one health call, cold when it took > 5 s. */
  async warmup(opts: CallOptions & { function?: string } = {}): Promise<WarmupResult> {
    const r = await call(this.ctx, {
      method: 'GET',
      url: `${this.base}/health`,
      fn: '/health',
      deadlineMs: opts.deadlineMs ?? fn('predict').timeoutS * 1000,
      signal: opts.signal, onPhase: opts.onPhase,
      check: requireFields('status'),
    });
    const modelLoadMs = Math.max(0, num(asObject(r.body).model_load_ms) ?? 0);
    return { backend: 'cloud-run', function: 'health', modelLoadMs, totalMs: r.timings.totalMs, coldStart: r.timings.totalMs > COLD_HEALTH_MS || modelLoadMs > 0 };
  }

  async submit(req: CloudRequest, opts: CallOptions = {}): Promise<SubmitOutcome> {
    this.validate(req);
    if (req.kind === 'boltz2') return this.predict(req, opts);
    if (req.kind === 'boltz2-batch') return this.batch(req, opts);
    throw new TandemError('INTERNAL', `cloud-run: unhandled kind ${req.kind}`);
  }

  private async predict(req: Boltz2Request, opts: CallOptions): Promise<SubmitOutcome> {
    const f = fn('predict');
    const json = wireComplex(req);
    if (req.diffusionSamples !== undefined) json.diffusion_samples = req.diffusionSamples;
    if (req.recyclingSteps !== undefined) json.recycling_steps = req.recyclingSteps;
    const r = await call(this.ctx, {
      method: 'POST',
      url: `${this.base}/predict`,
      fn: '/predict',
      capKey: f.name,
      json,
      idempotencyKey: idempotencyKeyOf(opts),
      deadlineMs: opts.deadlineMs ?? f.timeoutS * 1000,
      signal: opts.signal, onPhase: opts.onPhase,
      check: (b) => predictionProblem(b, ''),
    });
    return { state: 'done', result: prediction(asObject(r.body)), timings: timingsOf(r, r.body), function: f.name };
  }

  private async batch(req: Boltz2BatchRequest, opts: CallOptions): Promise<SubmitOutcome> {
    const f = fn('batch');
    const json = wireComplex(req);
    if (req.options !== undefined) json.options = req.options;
    const r = await call(this.ctx, {
      method: 'POST',
      url: `${this.base}/batch`,
      fn: '/batch',
      capKey: f.name,
      json,
      idempotencyKey: idempotencyKeyOf(opts),
      deadlineMs: opts.deadlineMs ?? SHORT_CALL_DEADLINE_MS * 5,
      signal: opts.signal, onPhase: opts.onPhase,
      check: (b) => (isObject(b) && typeof b.job_id === 'string' && b.job_id !== '' ? null : 'missing job_id'),
    });
    return { state: 'accepted', remoteId: String(asObject(r.body).job_id), timings: timingsOf(r, r.body), function: f.name };
  }

  async poll(remoteId: string, opts: CallOptions = {}): Promise<PollOutcome> {
    const r = await call(this.ctx, { method: 'GET', url: this.batchUrl(remoteId), fn: '/batch/{id}', capKey: 'batch', deadlineMs: opts.deadlineMs ?? SHORT_CALL_DEADLINE_MS, signal: opts.signal, check: pollCheck });
    const o = asObject(r.body);
    const results: Boltz2LigandResult[] = (Array.isArray(o.results) ? o.results : []).map((x) => {
      const item = asObject(x);
      return { ligandId: String(item.ligand_id), ...prediction(item) };
    });
    return {
      remoteId: str(o.job_id) ?? remoteId,
      status: o.status as RemoteStatus,
      done: Math.max(0, num(o.done) ?? results.length),
      total: Math.max(0, num(o.total) ?? results.length),
      results,
      error: str(o.error),
      timings: timingsOf(r, r.body),
    };
  }

  async cancel(remoteId: string, opts: CallOptions = {}): Promise<void> {
    await call(this.ctx, { method: 'DELETE', url: this.batchUrl(remoteId), fn: '/batch/{id}', capKey: 'batch', deadlineMs: opts.deadlineMs ?? SHORT_CALL_DEADLINE_MS, signal: opts.signal });
  }

  estimateCost(req: CloudRequest, prices: PriceTable, opts: { warm?: boolean } = {}): CostEstimate {
    const f = this.functionFor(req);
    const units = req.kind === 'boltz2-batch' ? Math.max(1, Array.isArray(req.ligands) ? req.ligands.length : 0) : 1;
    return estimateCost(f, units, opts.warm !== true, prices, 'cloud-run');
  }
}

export const cloudRunAdapter: AdapterFactory = {
  id: 'cloud-run',
  create: (endpoint: BackendEndpoint): CloudAdapter => new CloudRunAdapter(endpoint),
};
