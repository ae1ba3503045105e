import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type * as Undici from 'undici';
import type { Agent, Dispatcher } from 'undici';
import { lazyModule } from '../../native/engine/node/lazy-module.js';
import { nestedErrorCodes, TandemError, type ErrorCode, type JsonValue } from '../../native/engine/common/errors.js';

const undici = lazyModule<typeof Undici>('undici');

/**
 * The one HTTP call both adapters make (../../shared/cloud-protocol.md, "Common rules"): JSON in and
 * out, bearer auth, Idempotency-Key, per-attempt first-byte and body timeouts, an overall deadline,
 * retries with exponential backoff + full jitter honouring Retry-After, and Modal's 303 polling.
 * Every failure is a TandemError whose message names the backend, function and status, never a token.
 */

export interface RetryPolicy {
  /** Failed attempts allowed before giving up (303 polls are not failures). Default 8. */
  maxAttempts: number;
  /** First backoff cap; doubles per failure. Default 500 ms. */
  baseDelayMs: number;
  /** Largest backoff cap. Default 30 000 ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;

/** HTTP statuses retried per the protocol. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Reported before each backoff wait (for logs and tests). */
export interface RetryEvent {
  /** The attempt that failed (1-based, counting 303 polls). */
  attempt: number;
  /** Failed attempts so far. */
  failures: number;
  status: number | null;
  /** The TandemError code the call would end with if it gave up now. */
  code: ErrorCode;
  reason: string;
  /** The wait before the next attempt. */
  delayMs: number;
  /** The server's Retry-After, when it sent one. */
  retryAfterMs: number | null;
}

export interface CallJsonOptions {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** JSON request body (sent with Content-Type: application/json). */
  json?: JsonValue;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>` to the request's origin only. Never appears in errors. */
  token?: string;
  idempotencyKey?: string;
  /** Names the call in messages: backend ("modal") and function ("generate", "/predict"). */
  backend: string;
  fn: string;
  /** Overall deadline of the call including retries, waits and 303 polls, ms. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** Per-attempt time to first byte (undici headersTimeout), ms. Default: the deadline. */
  firstByteTimeoutMs?: number;
  /** Per-attempt idle time between body chunks, ms. Default 60 000. */
  bodyTimeoutMs?: number;
  /** Used when no dispatcher is given (a per-call Agent is made and destroyed). Default 10 000. */
  connectTimeoutMs?: number;
  dispatcher?: Dispatcher;
  retry?: Partial<RetryPolicy>;
  /** Checks a 2xx JSON body: returns what is missing or wrong (retried as malformed), or null. */
  check?: (body: JsonValue) => string | null;
  onRetry?: (e: RetryEvent) => void;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** The timings callJson can measure itself (the adapters add the server-reported ones). */
export interface CallTimingsPartial {
  /** Whole call: every attempt, wait and poll. */
  totalMs: number;
  /** Request start to response headers, final attempt. */
  ttfbMs: number;
  /** Request body write + response body read, final attempt. */
  transferMs: number;
  attempts: number;
}

export interface CallJsonResult {
  status: number;
  body: JsonValue;
  headers: Record<string, string>;
  /** The URL that gave the final answer (after 303s). */
  url: string;
  timings: CallTimingsPartial;
  attempts: number;
}

/** Error codes meaning there is no route to the host (fatal on the first connect of a call). */
const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
/** Error codes of a connection that broke: retried. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const MAX_SERVER_TEXT = 500;

/** An undici Agent with the given connect timeout (adapters keep one per endpoint; idle sockets do not hold the process open). */
export function createDispatcher(opts: { connectTimeoutMs?: number } = {}): Agent {
  return new (undici().Agent)({ connect: { timeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS }, keepAliveTimeout: 4_000 });
}

/** Retry-After as ms from now: delta-seconds or an HTTP date (past dates give 0); null when absent or unparseable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** Full-jitter backoff before the attempt after `failures` failures: random in [0, min(max, base x 2^(failures-1))). */
export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * cap);
}

/** Replace every occurrence of the token (and its Bearer form) in a string. */
export function redact(text: string, token: string | undefined): string {
  if (!token) return text;
  return text.split(token).join('[redacted]');
}

/** The URL without credentials or query: what messages show. */
export function describeUrl(u: URL | string): string {
  try {
    const url = typeof u === 'string' ? new URL(u) : u;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A protocol error body: `{"error": "...", "status": >= 400}`. */
function errorBody(body: JsonValue | undefined): { status: number; message: string } | null {
  if (!isObject(body) || body.error === undefined || typeof body.status !== 'number' || body.status < 400) return null;
  return { status: body.status, message: typeof body.error === 'string' ? body.error : JSON.stringify(body.error) };
}

function serverText(body: JsonValue | undefined, raw: string): string {
  if (isObject(body) && body.error !== undefined) return typeof body.error === 'string' ? body.error : JSON.stringify(body.error);
  if (isObject(body) && typeof body.message === 'string') return body.message;
  const t = raw.replace(/\s+/g, ' ').trim();
  return t.length > MAX_SERVER_TEXT ? `${t.slice(0, MAX_SERVER_TEXT)}...` : t;
}

function clip(s: string): string {
  return s.length > MAX_SERVER_TEXT ? `${s.slice(0, MAX_SERVER_TEXT)}...` : s;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One failed attempt: what to throw if the call gives up, and whether to try again. */
interface Failure {
  code: ErrorCode;
  message: string;
  status: number | null;
  retryable: boolean;
  retryAfterMs: number | null;
}

type AttemptResult =
  | { kind: 'ok'; status: number; body: JsonValue; headers: Record<string, string>; ttfbMs: number; transferMs: number }
  | { kind: 'redirect'; location: URL }
  | { kind: 'failed'; failure: Failure };

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * Make one JSON call with retries and 303 following. Resolves with the final 2xx answer; rejects with
 * a TandemError: INVALID_INPUT (400/422), UNAUTHORIZED (401/403), NOT_FOUND (404), CONFLICT (409),
 * RATE_LIMITED (429 exhausted), BACKEND_ERROR (other statuses, malformed answers), BACKEND_TIMEOUT
 * (deadline, first-byte timeouts exhausted), OFFLINE (no route on connect), NETWORK_ERROR (resets
 * exhausted), CANCELLED (the caller's signal).
 */
export async function callJson(o: CallJsonOptions): Promise<CallJsonResult> {
  const t0 = performance.now();
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...definedOnly(o.retry ?? {}) };
  const label = `${o.backend} ${o.fn}`;
  if (!Number.isFinite(o.deadlineMs) || o.deadlineMs <= 0) throw new TandemError('INVALID_ARGUMENT', `${label}: deadline must be a positive number of ms, got ${o.deadlineMs}`);
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new TandemError('INVALID_ARGUMENT', `${label}: retry.maxAttempts must be an integer >= 1, got ${policy.maxAttempts}`);
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new TandemError('INVALID_ARGUMENT', `${label}: not a URL: ${JSON.stringify(redact(o.url, o.token))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TandemError('INVALID_ARGUMENT', `${label}: not an http(s) URL: ${describeUrl(url)}`);

  const origin = url.origin;
  const deadlineSignal = AbortSignal.timeout(Math.max(1, Math.floor(o.deadlineMs)));
  const signal = o.signal ? AbortSignal.any([o.signal, deadlineSignal]) : deadlineSignal;
  const ownAgent = o.dispatcher ? null : createDispatcher({ connectTimeoutMs: o.connectTimeoutMs });
  const dispatcher: Dispatcher = o.dispatcher ?? ownAgent!;
  const deadlineAt = t0 + o.deadlineMs;
  const random = o.random ?? Math.random;
  const msg = (s: string): string => redact(s, o.token);

  let method: CallJsonOptions['method'] = o.method;
  let payload: Buffer | null = o.json === undefined ? null : Buffer.from(JSON.stringify(o.json), 'utf8');
  let attempts = 0;
  let failures = 0;
  let connected = false;

  const abortError = (cause: unknown): TandemError => {
    if (o.signal?.aborted) return new TandemError('CANCELLED', `${label} cancelled`, { cause: o.signal.reason, data: { function: o.fn, attempts } });
    return new TandemError(
      'BACKEND_TIMEOUT',
      msg(`${label} (${method} ${describeUrl(url)}) did not finish within its ${formatMs(o.deadlineMs)} deadline (${attempts} attempt${attempts === 1 ? '' : 's'})`),
      { cause, data: { function: o.fn, url: msg(describeUrl(url)), deadlineMs: o.deadlineMs, attempts } },
    );
  };

  const giveUp = (f: Failure, note: string): TandemError =>
    new TandemError(f.code, msg(`${f.message}${note}`), {
      data: { function: o.fn, url: msg(describeUrl(url)), attempts, ...(f.status === null ? {} : { status: f.status }) },
    });

  const statusFailure = (status: number, text: string, retryAfterMs: number | null, via: string): Failure => {
    const server = text ? `: ${clip(text)}` : '';
    const where = `${label} (${method} ${describeUrl(url)})`;
    if (status === 400 || status === 422) return { code: 'INVALID_INPUT', message: `${label} rejected the request (HTTP ${status}${via})${server}`, status, retryable: false, retryAfterMs };
    if (status === 401 || status === 403)
      return { code: 'UNAUTHORIZED', message: `${where}: HTTP ${status}${via}: not authorized, check the backend token of the active profile${server}`, status, retryable: false, retryAfterMs };
    if (status === 404) return { code: 'NOT_FOUND', message: `${where}: HTTP 404${via}: not found${server}`, status, retryable: false, retryAfterMs };
    if (status === 409) return { code: 'CONFLICT', message: `${where}: HTTP 409${via}${server}`, status, retryable: false, retryAfterMs };
    if (RETRYABLE_STATUSES.has(status))
      return { code: status === 429 ? 'RATE_LIMITED' : 'BACKEND_ERROR', message: `${where}: HTTP ${status}${via}${server}`, status, retryable: true, retryAfterMs };
    return { code: 'BACKEND_ERROR', message: `${where}: HTTP ${status}${via}${server}`, status, retryable: false, retryAfterMs };
  };

  const networkFailure = (e: unknown, phase: 'request' | 'body'): Failure => {
    const codes = nestedErrorCodes(e);
    const where = `${label} (${method} ${describeUrl(url)})`;
    const offline = codes.find((c) => OFFLINE_CODES.has(c));
    if (offline && phase === 'request') {
      return { code: 'OFFLINE', message: `${o.backend} unreachable: ${offline} (${o.fn} at ${url.host})`, status: null, retryable: connected, retryAfterMs: null };
    }
    const timeout = codes.find((c) => TIMEOUT_CODES.has(c));
    if (timeout) {
      const what = timeout === 'UND_ERR_HEADERS_TIMEOUT' ? `no response within the ${formatMs(o.firstByteTimeoutMs ?? o.deadlineMs)} first-byte timeout` : 'the response body stalled';
      return { code: 'BACKEND_TIMEOUT', message: `${where}: ${what}`, status: null, retryable: true, retryAfterMs: null };
    }
    const socket = codes.find((c) => SOCKET_CODES.has(c) || c.startsWith('HPE_'));
    const text = e instanceof Error ? e.message : String(e);
    if (socket) return { code: 'NETWORK_ERROR', message: `${where}: connection failed during the ${phase === 'body' ? 'response body' : 'request'} (${socket}: ${clip(text)})`, status: null, retryable: true, retryAfterMs: null };
    return { code: 'NETWORK_ERROR', message: `${where}: ${codes[0] ?? 'network error'}: ${clip(text)}`, status: null, retryable: false, retryAfterMs: null };
  };

  const attempt = async (): Promise<AttemptResult> => {
    const tStart = performance.now();
    let uploadMs = 0;
    const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
    const sameOrigin = url.origin === origin;
    if (o.token && sameOrigin) headers.authorization = `Bearer ${o.token}`;
    if (o.idempotencyKey && sameOrigin) headers['idempotency-key'] = o.idempotencyKey;
    let body: Readable | undefined;
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
      body = Readable.from([payload], { objectMode: false });
      body.once('end', () => {
        uploadMs = performance.now() - tStart;
      });
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await undici().request(url, {
        method,
        headers,
        body,
        dispatcher,
        signal,
        headersTimeout: o.firstByteTimeoutMs ?? o.deadlineMs,
        bodyTimeout: o.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      });
    } catch (e) {
      if (signal.aborted) throw e;
      return { kind: 'failed', failure: networkFailure(e, 'request') };
    }
    const tHeaders = performance.now();
    connected = true;
    const status = res.statusCode;
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    if (status === 303) {
      await res.body.dump().catch(() => undefined);
      const loc = res.headers.location;
      const location = Array.isArray(loc) ? loc[0] : loc;
      if (!location) return { kind: 'failed', failure: { code: 'BACKEND_ERROR', message: `${label} (${method} ${describeUrl(url)}): 303 without a Location header`, status, retryable: false, retryAfterMs: null } };
      try {
        return { kind: 'redirect', location: new URL(location, url) };
      } catch {
        return { kind: 'failed', failure: { code: 'BACKEND_ERROR', message: `${label}: 303 with an invalid Location`, status, retryable: false, retryAfterMs: null } };
      }
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      if (signal.aborted) throw e;
      return { kind: 'failed', failure: networkFailure(e, 'body') };
    }
    const tEnd = performance.now();
    let json: JsonValue | undefined;
    let parseError: string | null = null;
    try {
      json = text.trim() === '' ? null : (JSON.parse(text) as JsonValue);
    } catch (e) {
      parseError = (e as Error).message;
    }
    if (status >= 200 && status < 300) {
      if (parseError !== null) {
        return { kind: 'failed', failure: { code: 'BACKEND_ERROR', message: `malformed JSON from ${label} (HTTP ${status}): ${clip(parseError)}`, status, retryable: true, retryAfterMs } };
      }
      const inBody = errorBody(json);
      if (inBody) return { kind: 'failed', failure: statusFailure(inBody.status, inBody.message, retryAfterMs, ` in an HTTP ${status} body`) };
      const problem = o.check?.(json ?? null) ?? null;
      if (problem !== null) return { kind: 'failed', failure: { code: 'BACKEND_ERROR', message: `malformed response from ${label}: ${problem}`, status, retryable: true, retryAfterMs } };
      return { kind: 'ok', status, body: json ?? null, headers: flatHeaders(res.headers), ttfbMs: tHeaders - tStart, transferMs: uploadMs + (tEnd - tHeaders) };
    }
    return { kind: 'failed', failure: statusFailure(status, serverText(json, text), retryAfterMs, '') };
  };

  try {
    for (;;) {
      if (signal.aborted) throw abortError(signal.reason);
      attempts++;
      const r = await attempt();
      if (r.kind === 'ok') {
        const totalMs = performance.now() - t0;
        return {
          status: r.status,
          body: r.body,
          headers: r.headers,
          url: url.href,
          attempts,
          timings: { totalMs, ttfbMs: r.ttfbMs, transferMs: r.transferMs, attempts },
        };
      }
      if (r.kind === 'redirect') {
        url = r.location;
        method = 'GET';
        payload = null;
        failures = 0;
        continue;
      }
      const f = r.failure;
      if (!f.retryable) throw giveUp(f, attempts > 1 ? ` (after ${attempts} attempts)` : '');
      failures++;
      if (failures >= policy.maxAttempts) throw giveUp(f, ` (gave up after ${failures} failed attempt${failures === 1 ? '' : 's'}, ${attempts} in all)`);
      const delayMs = f.retryAfterMs ?? backoffDelay(failures, policy, random);
      const remaining = deadlineAt - performance.now();
      if (delayMs >= remaining) {
        throw giveUp(f, ` (the next attempt in ${formatMs(delayMs)}${f.retryAfterMs === null ? '' : ' (Retry-After)'} would pass the ${formatMs(o.deadlineMs)} deadline; ${attempts} attempts made)`);
      }
      o.onRetry?.({ attempt: attempts, failures, status: f.status, code: f.code, reason: msg(f.message), delayMs, retryAfterMs: f.retryAfterMs });
      await sleep(delayMs, signal);
    }
  } catch (e) {
    if (signal.aborted) throw abortError(e);
    if (e instanceof TandemError) throw e;
    throw new TandemError('INTERNAL', msg(`${label}: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    if (ownAgent) void ownAgent.destroy().catch(() => undefined);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function formatMs(ms: number): string {
  if (ms >= 1000) {
    const s = ms / 1000;
    return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  }
  return `${Math.round(ms)} ms`;
}
