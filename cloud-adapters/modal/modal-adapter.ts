import { performance } from 'node:perf_hooks';
import { TandemError, type JsonValue } from '../../native/engine/common/errors.js';
import {
  asObject,
  call,
  checkFunctionName,
  healthFrom,
  idempotencyKeyOf,
  isObject,
  num,
  remainingMs,
  requireFields,
  STRUCTURE_MAX_RESPONSE_BYTES,
  str,
  sumTimings,
  timingsOf,
  type CallContext,
} from '../adapter-util.js';
import type {
  Boltz2Request,
  AdapterFactory,
  BackendEndpoint,
  CallOptions,
  CallTimings,
  Capabilities,
  CloudAdapter,
  CloudRequest,
  CostEstimate,
  EmbedRemoteRequest,
  EmbedRemoteResult,
  FunctionCapability,
  GenerateRequest,
  GenerateResult,
  HealthResult,
  PollOutcome,
  PriceTable,
  QwenModel,
  SubmitOutcome,
  WarmupResult,
} from '../contract.js';
import { prediction, predictionProblem, wireComplex } from '../boltz-wire.js';
import { createDispatcher } from '../http/http-client.js';
import { estimateCost } from '../prices.js';
import { validateRequest } from '../validate.js';

/**
 * Modal: one web endpoint per function, `TANDEM_MODAL_URL_TEMPLATE` with `{function}` replaced
 * (e.g. https://ws--app-{function}.modal.run). Calls are synchronous: a long one answers 303 and the
 * HTTP client polls the Location until the result, so poll/cancel do not exist here.
 */

export const MODAL_TEMPLATE_SETTING = 'TANDEM_MODAL_URL_TEMPLATE';
/** Texts per embed request (each chunk is its own call). */
export const EMBED_CHUNK = 256;
/** Default first-byte timeout: a 303 arrives after 150 s, so wait a little longer for it. */
export const MODAL_FIRST_BYTE_TIMEOUT_MS = 160_000;
export const HEALTH_DEADLINE_MS = 120_000;

/**
 * Scale-down windows (how long Modal keeps an idle container): seed 001 gives 600 s for the 32B app
 * (`scaledown_window=600`) and seed 003 600 s for instructor-xl; the seeds give none for the 80B/480B
 * app or Boltz-2 on Modal, so those use Modal's default, 60 s. Cold-start ranges: seed 002 (Qwen 32B
 * 5 min with cached graphs, 7 min on the first start), cloud-protocol.md (embeddings ~10-14 s).
 */
export const MODAL_FUNCTIONS: readonly FunctionCapability[] = [
  { name: 'generate', kinds: ['generate'], gpu: { type: 'A100-80GB', count: 1 }, maxConcurrency: 20, timeoutS: 1200, coldStartS: 360, coldStartRangeS: [300, 420], typicalGpuS: 8, scaledownS: 600 },
  { name: 'qwen-80b-generate', kinds: ['generate'], gpu: { type: 'H100', count: 2 }, maxConcurrency: 10, timeoutS: 1800, coldStartS: 420, typicalGpuS: 12, scaledownS: 60 },
  { name: 'qwen-480b-generate', kinds: ['generate'], gpu: { type: 'H100', count: 8 }, maxConcurrency: 3, timeoutS: 3600, coldStartS: 600, typicalGpuS: 25, scaledownS: 60 },
  { name: 'embed', kinds: ['embed-remote'], gpu: { type: 'A10G', count: 1 }, maxConcurrency: 10, timeoutS: 600, coldStartS: 13, coldStartRangeS: [10, 14], typicalGpuS: 0.5, scaledownS: 600 },
  // Boltz-2 on Modal A100-40GB (seed 000: where it ran before the Cloud Run migration; the rollback
  // target). Same body and answer as Cloud Run's /predict; a batch is sent ligand by ligand.
  { name: 'boltz2', kinds: ['boltz2', 'boltz2-batch'], gpu: { type: 'A100-40GB', count: 1 }, maxConcurrency: 10, timeoutS: 1800, coldStartS: 60, typicalGpuS: 200, batch: 'per-item', scaledownS: 60 },
];

/** The generate function serving each Qwen size. */
export const GENERATE_FUNCTION: Record<QwenModel, string> = { 'qwen-32b': 'generate', 'qwen-80b': 'qwen-80b-generate', 'qwen-480b': 'qwen-480b-generate' };

function fn(name: string): FunctionCapability {
  const f = MODAL_FUNCTIONS.find((x) => x.name === name);
  if (!f) throw new TandemError('INTERNAL', `modal: no function ${name}`);
  return f;
}

/** The served function a health/warmup function belongs to: `qwen-80b-warmup` -> qwen-80b-generate, `embed-health` -> embed, `warmup` -> generate. */
export function familyOf(name: string): FunctionCapability {
  const prefix = name.replace(/-?(health|warmup)$/, '');
  if (prefix === '') return fn('generate');
  return MODAL_FUNCTIONS.find((f) => f.name === prefix || f.name === `${prefix}-generate`) ?? fn('generate');
}

/** Check the URL template: it must hold `{function}` and give an http(s) URL. */
export function checkTemplate(template: string): string {
  if (typeof template !== 'string' || !template.includes('{function}')) {
    throw new TandemError('INVALID_ARGUMENT', `the Modal URL template (${MODAL_TEMPLATE_SETTING}) must contain {function}, e.g. https://workspace--app-{function}.modal.run`);
  }
  try {
    const u = new URL(template.replaceAll('{function}', 'function'));
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new TandemError('INVALID_ARGUMENT', `the Modal URL template (${MODAL_TEMPLATE_SETTING}) is not an http(s) URL`);
  }
  return template;
}

function generateCheck(body: JsonValue): string | null {
  if (!isObject(body)) return 'expected a JSON object';
  if (body.output === undefined || body.output === null) return 'missing output';
  if (body.text !== undefined && typeof body.text !== 'string') return 'text is not a string';
  return null;
}

/** Checks an embed answer for `count` texts: an `embeddings` list of equal-length finite vectors. */
function embedCheck(count: number): (body: JsonValue) => string | null {
  return (body) => {
    if (!isObject(body)) return 'expected a JSON object';
    const e = body.embeddings;
    if (!Array.isArray(e)) return 'missing embeddings';
    if (e.length !== count) return `${e.length} embeddings for ${count} texts`;
    let dim = -1;
    for (let i = 0; i < e.length; i++) {
      const v = e[i];
      if (!Array.isArray(v) || v.length === 0) return `embeddings[${i}] is not a non-empty list of numbers`;
      if (dim < 0) dim = v.length;
      if (v.length !== dim) return `embeddings[${i}] has ${v.length} dimensions, embeddings[0] has ${dim}`;
      if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) return `embeddings[${i}] holds a value that is not a finite number`;
    }
    return null;
  };
}

class ModalAdapter implements CloudAdapter {
  readonly id = 'modal' as const;
  private readonly template: string;
  private readonly ctx: CallContext;

  constructor(endpoint: BackendEndpoint) {
    this.template = checkTemplate(endpoint.url);
    this.ctx = {
      backend: 'modal',
      endpoint,
      dispatcher: createDispatcher({ connectTimeoutMs: endpoint.connectTimeoutMs }),
      defaultFirstByteTimeoutMs: MODAL_FIRST_BYTE_TIMEOUT_MS,
      defaultResponseCaps: { boltz2: STRUCTURE_MAX_RESPONSE_BYTES },
    };
  }

  private url(name: string): string {
    return this.template.replaceAll('{function}', checkFunctionName(name, 'modal'));
  }

  capabilities(): Capabilities {
    return { backend: 'modal', functions: MODAL_FUNCTIONS.map((f) => ({ ...f, kinds: [...f.kinds], gpu: { ...f.gpu } })) };
  }

  functionFor(req: CloudRequest): FunctionCapability {
    switch (req.kind) {
      case 'generate': {
        const name = GENERATE_FUNCTION[req.model];
        if (!name) throw new TandemError('INVALID_INPUT', `model: must be one of ${Object.keys(GENERATE_FUNCTION).join(', ')}, got ${JSON.stringify(req.model)}`);
        return fn(name);
      }
      case 'embed-remote':
        return fn('embed');
      case 'boltz2':
      case 'boltz2-batch':
        return fn('boltz2');
      default:
        throw new TandemError('INVALID_ARGUMENT', `modal: unknown job kind ${JSON.stringify((req as { kind?: unknown }).kind)}`);
    }
  }

  validate(req: CloudRequest): void {
    this.functionFor(req);
    validateRequest(req);
  }

  async health(opts: CallOptions & { function?: string } = {}): Promise<HealthResult> {
    const name = opts.function ?? 'health';
    const r = await call(this.ctx, { method: 'GET', url: this.url(name), fn: name, deadlineMs: opts.deadlineMs ?? HEALTH_DEADLINE_MS, signal: opts.signal, check: requireFields('status') });
    return healthFrom('modal', name, r);
  }

  async warmup(opts: CallOptions & { function?: string } = {}): Promise<WarmupResult> {
    const name = opts.function ?? 'warmup';
    const deadlineMs = opts.deadlineMs ?? familyOf(name).timeoutS * 1000;
    const r = await call(this.ctx, { method: 'GET', url: this.url(name), fn: name, deadlineMs, signal: opts.signal, onPhase: opts.onPhase, check: requireFields('status') });
    const t = timingsOf(r, r.body);
    return { backend: 'modal', function: name, modelLoadMs: t.modelLoadMs, totalMs: t.totalMs, coldStart: t.coldStart };
  }

  async submit(req: CloudRequest, opts: CallOptions = {}): Promise<SubmitOutcome> {
    this.validate(req);
    if (req.kind === 'generate') return this.generate(req, opts);
    if (req.kind === 'embed-remote') return this.embed(req, opts);
    if (req.kind === 'boltz2') return this.boltz2(req, opts);
    throw new TandemError('INVALID_ARGUMENT', `modal runs ${req.kind} jobs one ligand at a time: submit each ligand as a boltz2 request (the job layer does this)`);
  }

  private async boltz2(req: Boltz2Request, opts: CallOptions): Promise<SubmitOutcome> {
    const f = fn('boltz2');
    const r = await call(this.ctx, {
      method: 'POST',
      url: this.url(f.name),
      fn: f.name,
      json: wireComplex(req),
      idempotencyKey: idempotencyKeyOf(opts),
      deadlineMs: opts.deadlineMs ?? f.timeoutS * 1000,
      signal: opts.signal, onPhase: opts.onPhase,
      check: (b) => predictionProblem(b, ''),
    });
    return { state: 'done', result: prediction(asObject(r.body)), timings: timingsOf(r, r.body), function: f.name };
  }

  private async generate(req: GenerateRequest, opts: CallOptions): Promise<SubmitOutcome> {
    const f = this.functionFor(req);
    const json: { [k: string]: JsonValue } = { prompt: req.prompt, schema: req.schema };
    if (req.maxTokens !== undefined) json.max_tokens = req.maxTokens;
    if (req.temperature !== undefined) json.temperature = req.temperature;
    const r = await call(this.ctx, {
      method: 'POST',
      url: this.url(f.name),
      fn: f.name,
      json,
      idempotencyKey: idempotencyKeyOf(opts),
      deadlineMs: opts.deadlineMs ?? f.timeoutS * 1000,
      signal: opts.signal, onPhase: opts.onPhase,
      check: generateCheck,
    });
    const o = asObject(r.body);
    const usage = asObject(o.usage);
    const output = o.output as JsonValue;
    const result: GenerateResult = {
      output,
      text: str(o.text) ?? JSON.stringify(output),
      usage: { promptTokens: num(usage.prompt_tokens) ?? 0, completionTokens: num(usage.completion_tokens) ?? 0 },
    };
    return { state: 'done', result, timings: timingsOf(r, r.body), function: f.name };
  }

  private async embed(req: EmbedRemoteRequest, opts: CallOptions): Promise<SubmitOutcome> {
    const f = fn('embed');
    const key = idempotencyKeyOf(opts);
    const chunks: string[][] = [];
    for (let i = 0; i < req.texts.length; i += EMBED_CHUNK) chunks.push(req.texts.slice(i, i + EMBED_CHUNK));
    const start = performance.now();
    const deadlineAt = opts.deadlineMs === undefined ? null : start + opts.deadlineMs;
    const embeddings: number[][] = [];
    const timings: CallTimings[] = [];
    let dim = -1;
    for (const [i, texts] of chunks.entries()) {
      const json: { [k: string]: JsonValue } = { texts };
      if (req.instruction !== undefined) json.instruction = req.instruction;
      const deadlineMs = deadlineAt === null ? f.timeoutS * 1000 : remainingMs(deadlineAt, performance.now(), `modal embed (chunk ${i + 1} of ${chunks.length})`);
      const r = await call(this.ctx, {
        method: 'POST',
        url: this.url(f.name),
        fn: f.name,
        json,
        idempotencyKey: `${key}:${i}`,
        deadlineMs,
        signal: opts.signal, onPhase: opts.onPhase,
        check: embedCheck(texts.length),
      });
      const vectors = asObject(r.body).embeddings as number[][];
      const d = vectors[0]!.length;
      if (dim >= 0 && d !== dim) {
        throw new TandemError('BACKEND_ERROR', `malformed response from modal embed: chunk ${i + 1} has ${d}-dimensional embeddings, earlier chunks ${dim}`);
      }
      dim = d;
      for (const v of vectors) embeddings.push(v);
      timings.push(timingsOf(r, r.body));
    }
    const result: EmbedRemoteResult = { embeddings, dim };
    return { state: 'done', result, timings: sumTimings(timings), function: f.name };
  }

  poll(_remoteId: string, _opts?: CallOptions): Promise<PollOutcome> {
    return Promise.reject(new TandemError('INVALID_ARGUMENT', 'modal calls are synchronous (long ones are followed through 303 inside submit): there is nothing to poll'));
  }

  cancel(_remoteId: string, _opts?: CallOptions): Promise<void> {
    return Promise.reject(new TandemError('INVALID_ARGUMENT', 'modal calls are synchronous: cancel a running call through the signal passed to submit'));
  }

  estimateCost(req: CloudRequest, prices: PriceTable, opts: { warm?: boolean } = {}): CostEstimate {
    const f = this.functionFor(req);
    const units =
      req.kind === 'embed-remote' ? Math.max(1, Math.ceil((Array.isArray(req.texts) ? req.texts.length : 0) / EMBED_CHUNK)) : req.kind === 'boltz2-batch' ? Math.max(1, Array.isArray(req.ligands) ? req.ligands.length : 0) : 1;
    return estimateCost(f, units, opts.warm !== true, prices, 'modal');
  }
}

export const modalAdapter: AdapterFactory = {
  id: 'modal',
  create: (endpoint: BackendEndpoint): CloudAdapter => new ModalAdapter(endpoint),
};
