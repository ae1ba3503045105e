import crypto from 'node:crypto';
import type { Dispatcher } from 'undici';
import { TandemError, type JsonValue } from '../native/engine/common/errors.js';
import type { BackendEndpoint, CallOptions, CallTimings, HealthResult, BackendId } from './contract.js';
import { callJson, DEFAULT_MAX_RESPONSE_BYTES, type CallJsonOptions, type CallJsonResult } from './http/http-client.js';

/** Helpers shared by the adapters: reading JSON fields, timings, deadlines, the common call. */

export type JsonObject = { [k: string]: JsonValue };

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body as an object ({} otherwise; callers check the fields they need first). */
export function asObject(v: JsonValue | undefined): JsonObject {
  return isObject(v) ? v : {};
}

export function num(v: JsonValue | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: JsonValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/** CallTimings from one call plus the server-reported model_load_ms / inference_ms / cold_start. */
export function timingsOf(call: CallJsonResult, body: JsonValue): CallTimings {
  const o = asObject(body);
  const modelLoadMs = Math.max(0, num(o.model_load_ms) ?? 0);
  return {
    totalMs: call.timings.totalMs,
    ttfbMs: call.timings.ttfbMs,
    modelLoadMs,
    inferenceMs: Math.max(0, num(o.inference_ms) ?? 0),
    transferMs: call.timings.transferMs,
    coldStart: o.cold_start === true || modelLoadMs > 0,
    attempts: call.attempts,
  };
}

/** Timings of several calls made one after another (embedding chunks): sums, cold when any was. */
export function sumTimings(all: CallTimings[]): CallTimings {
  const t: CallTimings = { totalMs: 0, ttfbMs: 0, modelLoadMs: 0, inferenceMs: 0, transferMs: 0, coldStart: false, attempts: 0 };
  for (const x of all) {
    t.totalMs += x.totalMs;
    t.ttfbMs += x.ttfbMs;
    t.modelLoadMs += x.modelLoadMs;
    t.inferenceMs += x.inferenceMs;
    t.transferMs += x.transferMs;
    t.coldStart ||= x.coldStart;
    t.attempts += x.attempts;
  }
  return t;
}

/** The caller's Idempotency-Key, or a fresh one so the retries of this call still deduplicate. */
export function idempotencyKeyOf(opts: CallOptions): string {
  return opts.idempotencyKey ?? `tandem-${crypto.randomUUID()}`;
}

/** A function name safe to put into a URL. */
export function checkFunctionName(name: string, backend: BackendId): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(name)) throw new TandemError('INVALID_ARGUMENT', `${backend}: invalid function name ${JSON.stringify(name)}`);
  return name;
}

/** What every call of one adapter shares: endpoint settings, the dispatcher. */
export interface CallContext {
  backend: BackendId;
  endpoint: BackendEndpoint;
  dispatcher: Dispatcher;
  /** Default first-byte timeout when the endpoint sets none (null: the call's deadline). */
  defaultFirstByteTimeoutMs: number | null;
  /** Built-in response caps of this backend's functions (by capability name); others get DEFAULT_MAX_RESPONSE_BYTES. */
  defaultResponseCaps: Readonly<Record<string, number>>;
}

/** Boltz-2 answers carry mmCIF structures (a batch poll, many of them): their built-in response cap. */
export const STRUCTURE_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/**
 * The response cap of one function: the endpoint's setting for it, else the backend's built-in cap
 * for it, else the endpoint's `default`, else 64 MiB.
 */
export function responseCap(ctx: CallContext, capKey: string): number {
  const set = ctx.endpoint.maxResponseBytes ?? {};
  return set[capKey] ?? ctx.defaultResponseCaps[capKey] ?? set.default ?? DEFAULT_MAX_RESPONSE_BYTES;
}

/** callJson with the endpoint's token, timeouts, retry and poll policies and the function's response cap. */
export function call(
  ctx: CallContext,
  o: Pick<CallJsonOptions, 'method' | 'url' | 'json' | 'fn' | 'check' | 'idempotencyKey' | 'onPhase'> & {
    deadlineMs: number;
    signal?: AbortSignal;
    /** The function's name in capabilities() for its response cap (default `fn`). */
    capKey?: string;
  },
): Promise<CallJsonResult> {
  const { capKey, ...rest } = o;
  const e = ctx.endpoint;
  const firstByte = e.firstByteTimeoutMs ?? ctx.defaultFirstByteTimeoutMs ?? o.deadlineMs;
  return callJson({
    ...rest,
    backend: ctx.backend,
    token: e.token,
    dispatcher: ctx.dispatcher,
    firstByteTimeoutMs: Math.min(firstByte, o.deadlineMs),
    retry: e.retry,
    maxResponseBytes: responseCap(ctx, capKey ?? o.fn),
    ...(e.poll ? { poll: e.poll } : {}),
    ...(e.bodyDeadlineMs !== undefined ? { bodyDeadlineMs: e.bodyDeadlineMs } : {}),
    ...(e.minBodyBytesPerSec !== undefined ? { minBodyBytesPerSec: e.minBodyBytesPerSec } : {}),
    ...(e.bodyGraceMs !== undefined ? { bodyGraceMs: e.bodyGraceMs } : {}),
  });
}

/** A check that the body is a JSON object holding `fields` (for callJson's `check`). */
export function requireFields(...fields: string[]): (body: JsonValue) => string | null {
  return (body) => {
    if (!isObject(body)) return `expected a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}`;
    const missing = fields.filter((f) => body[f] === undefined || body[f] === null);
    return missing.length ? `missing ${missing.join(', ')}` : null;
  };
}

/** HealthResult from a health body: ok when status is healthy/ok and the GPU is not reported missing. */
export function healthFrom(backend: BackendId, fn: string, call: CallJsonResult): HealthResult {
  const o = asObject(call.body);
  const status = str(o.status) ?? 'unknown';
  const ok = (status === 'healthy' || status === 'ok') && o.gpu_available !== false;
  return {
    backend,
    function: fn,
    ok,
    status,
    model: str(o.model),
    gpu: str(o.gpu_name) ?? str(o.gpu),
    latencyMs: call.timings.totalMs,
    raw: o,
  };
}

/** ms left before `deadlineAt` (performance.now() based), or BACKEND_TIMEOUT when none is. */
export function remainingMs(deadlineAt: number, now: number, what: string): number {
  const left = Math.floor(deadlineAt - now);
  if (left <= 0) throw new TandemError('BACKEND_TIMEOUT', `${what} ran out of its deadline`);
  return left;
}
