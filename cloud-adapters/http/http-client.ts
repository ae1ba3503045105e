import { constants as bufferConstants } from 'node:buffer';
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
 *
 * Bounded against a hostile or broken server: a response body is counted while it streams and cut
 * past `maxResponseBytes` (refused up front when Content-Length is over it); a body must arrive
 * within `bodyDeadlineMs` of the headers and at `minBodyBytesPerSec` on average after a grace
 * period, so a trickle cannot hold an attempt open; 303 polls are spaced (PollPolicy) and counted,
 * and a 303 to another origin (or from https to http) is refused.
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

const MiB = 1024 * 1024;
/** Largest response body read when the caller sets no cap (generate, embed, health). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * MiB;
/**
 * The most a cap may be: V8's longest string (a body is decoded into one string before JSON.parse,
 * and a longer one fails with ERR_STRING_TOO_LONG or crashes the process).
 */
export const MAX_RESPONSE_BYTES_LIMIT: number = bufferConstants.MAX_STRING_LENGTH;
/** Total time to read one attempt's response body after its headers (not only idle time). */
export const DEFAULT_BODY_DEADLINE_MS = 300_000;
/** Average body rate required once `DEFAULT_BODY_GRACE_MS` has passed (a 1 byte/s trickle is cut). */
export const DEFAULT_MIN_BODY_BYTES_PER_SEC = 8 * 1024;
export const DEFAULT_BODY_GRACE_MS = 20_000;
/** A 303's own body is discarded; at most this much of it is read. */
const REDIRECT_BODY_LIMIT = 64 * 1024;

/** How 303 polls are spaced and counted. */
export interface PollPolicy {
  /** Least time between the starts of two requests of a 303 chain. Default 1000 ms. */
  minIntervalMs: number;
  /** The spacing grows by this factor per poll (backoff). Default 1.5. */
  factor: number;
  /** Largest spacing the growth reaches (a longer Retry-After is still honoured). Default 15 000 ms. */
  maxIntervalMs: number;
  /** Polls allowed in one call. Default: derived from the deadline, ceil(deadline / minIntervalMs) + 1. */
  maxPolls?: number;
}

export const DEFAULT_POLL_POLICY: Readonly<PollPolicy> = { minIntervalMs: 1000, factor: 1.5, maxIntervalMs: 15_000 };

/** The spacing before poll number `poll` (1-based): minIntervalMs x factor^(poll-1), capped at maxIntervalMs. */
export function pollInterval(poll: number, p: PollPolicy): number {
  return Math.min(Math.max(p.maxIntervalMs, p.minIntervalMs), p.minIntervalMs * p.factor ** Math.max(0, poll - 1));
}

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

/**
 * What a call is doing while it waits (for status lines: connecting, cold start, 303 polls, retries).
 * `attempt`: a request is about to go out (the socket may still be connecting); `connected`: it
 * reached the server (a socket is open and its headers are being written); `redirect`: a 303 said
 * the call is still running, the next poll follows after `waitMs`; `retry`: an attempt failed and
 * the next one follows after `delayMs`.
 */
export type CallPhaseEvent =
  | { type: 'attempt'; attempt: number; polls: number; method: 'GET' | 'POST' | 'DELETE' }
  | { type: 'connected'; attempt: number; polls: number }
  | { type: 'redirect'; polls: number; waitMs: number }
  | { type: 'retry'; attempt: number; failures: number; status: number | null; code: ErrorCode; delayMs: number };

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
  /** Per-attempt total time to read the response body after its headers, ms. Default 300 000. */
  bodyDeadlineMs?: number;
  /** Least average body rate (bytes/s since the headers) once `bodyGraceMs` has passed; 0 turns the check off. Default 8 KiB/s. */
  minBodyBytesPerSec?: number;
  /** Time after the headers before the rate is checked, ms. Default 20 000. */
  bodyGraceMs?: number;
  /** Largest response body read, bytes (any status); past it the call fails BACKEND_ERROR. Default 64 MiB. */
  maxResponseBytes?: number;
  /** Spacing and count of 303 polls. */
  poll?: Partial<PollPolicy>;
  /** Used when no dispatcher is given (a per-call Agent is made and destroyed). Default 10 000. */
  connectTimeoutMs?: number;
  dispatcher?: Dispatcher;
  retry?: Partial<RetryPolicy>;
  /** Checks a 2xx JSON body: returns what is missing or wrong (retried as malformed), or null. */
  check?: (body: JsonValue) => string | null;
  onRetry?: (e: RetryEvent) => void;
  /** Told what the call is doing while it waits (never throws into the call). */
  onPhase?: (e: CallPhaseEvent) => void;
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

/** Why a body read was stopped by the client (a network error is thrown instead). */
type BodyCut = 'cap' | 'deadline' | 'slow';

interface BodyLimits {
  maxBytes: number;
  deadlineMs: number;
  minBytesPerSec: number;
  graceMs: number;
}

/**
 * Read a response body counting bytes as they arrive: never holds more than `maxBytes`, and stops
 * the stream (closing the connection) when it passes the cap, the total deadline or falls below the
 * least average rate after the grace period. Network errors and aborts are thrown.
 */
async function readBounded(body: Readable, lim: BodyLimits): Promise<{ buf: Buffer; bytes: number; cut: BodyCut | null; ms: number }> {
  const t0 = performance.now();
  const chunks: Buffer[] = [];
  let bytes = 0;
  let cut: BodyCut | null = null;
  let timer: NodeJS.Timeout | undefined;
  const deadlineAt = t0 + lim.deadlineMs;
  const arm = (): void => {
    clearTimeout(timer);
    // With no further byte, the average rate drops below the minimum at t0 + max(grace, bytes / rate).
    const slowAt = lim.minBytesPerSec > 0 ? t0 + Math.max(lim.graceMs, (bytes / lim.minBytesPerSec) * 1000) : Number.POSITIVE_INFINITY;
    const at = Math.min(deadlineAt, slowAt);
    timer = setTimeout(
      () => {
        cut = performance.now() >= deadlineAt - 1 ? 'deadline' : 'slow';
        body.destroy();
      },
      Math.max(0, at - performance.now()),
    );
  };
  arm();
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      bytes += b.length;
      if (bytes > lim.maxBytes) {
        cut = 'cap';
        break;
      }
      chunks.push(b);
      arm();
    }
  } catch (e) {
    if (cut === null) throw e;
  } finally {
    clearTimeout(timer);
    if (cut !== null) {
      body.on('error', () => undefined); // destroying an unread undici body emits an AbortError
      body.destroy();
    }
  }
  const ms = performance.now() - t0;
  if (cut !== null) return { buf: Buffer.alloc(0), bytes, cut, ms };
  return { buf: Buffer.concat(chunks, bytes), bytes, cut, ms };
}

/** 1536 -> "1.5 KiB", 67108864 -> "64 MiB". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${n} bytes`;
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
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
  | { kind: 'redirect'; location: URL; retryAfterMs: number | null }
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
  const maxBytes = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_RESPONSE_BYTES_LIMIT) {
    throw new TandemError('INVALID_ARGUMENT', `${label}: maxResponseBytes must be an integer from 1 to ${MAX_RESPONSE_BYTES_LIMIT} (${formatBytes(MAX_RESPONSE_BYTES_LIMIT)}), got ${maxBytes}`);
  }
  const bodyLimits: BodyLimits = {
    maxBytes,
    deadlineMs: o.bodyDeadlineMs ?? DEFAULT_BODY_DEADLINE_MS,
    minBytesPerSec: o.minBodyBytesPerSec ?? DEFAULT_MIN_BODY_BYTES_PER_SEC,
    graceMs: o.bodyGraceMs ?? DEFAULT_BODY_GRACE_MS,
  };
  if (!(bodyLimits.deadlineMs > 0) || !(bodyLimits.minBytesPerSec >= 0) || !(bodyLimits.graceMs >= 0)) {
    throw new TandemError('INVALID_ARGUMENT', `${label}: bodyDeadlineMs must be > 0, minBodyBytesPerSec and bodyGraceMs >= 0`);
  }
  const pollPolicy: PollPolicy = { ...DEFAULT_POLL_POLICY, ...definedOnly(o.poll ?? {}) };
  if (!(pollPolicy.minIntervalMs >= 1) || !(pollPolicy.factor >= 1) || !(pollPolicy.maxIntervalMs >= 1)) {
    throw new TandemError('INVALID_ARGUMENT', `${label}: poll.minIntervalMs and poll.maxIntervalMs must be >= 1 ms and poll.factor >= 1`);
  }
  const maxPolls = pollPolicy.maxPolls ?? Math.ceil(o.deadlineMs / pollPolicy.minIntervalMs) + 1;
  if (!Number.isInteger(maxPolls) || maxPolls < 0) throw new TandemError('INVALID_ARGUMENT', `${label}: poll.maxPolls must be an integer >= 0, got ${maxPolls}`);

  const origin = url.origin;
  const deadlineSignal = AbortSignal.timeout(Math.max(1, Math.floor(o.deadlineMs)));
  const signal = o.signal ? AbortSignal.any([o.signal, deadlineSignal]) : deadlineSignal;
  const ownAgent = o.dispatcher ? null : createDispatcher({ connectTimeoutMs: o.connectTimeoutMs });
  let attempts = 0;
  let polls = 0;
  const phase = (e: CallPhaseEvent): void => {
    try {
      o.onPhase?.(e);
    } catch {
      // a status line must never break the call
    }
  };
  // With onPhase, the dispatcher says when a request reaches a socket (undici's onRequestStart: connected, headers going out).
  const dispatcher: Dispatcher = o.onPhase ? observeConnect(o.dispatcher ?? ownAgent!, () => phase({ type: 'connected', attempt: attempts, polls })) : (o.dispatcher ?? ownAgent!);
  const deadlineAt = t0 + o.deadlineMs;
  const random = o.random ?? Math.random;
  const msg = (s: string): string => redact(s, o.token);

  let method: CallJsonOptions['method'] = o.method;
  let payload: Buffer | null = o.json === undefined ? null : Buffer.from(JSON.stringify(o.json), 'utf8');
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
    const where = `${label} (${method} ${describeUrl(url)})`;
    if (status === 303) {
      // The 303's own body is never used: read a little of it (so the connection can be reused), else drop it.
      await readBounded(res.body, { ...bodyLimits, maxBytes: REDIRECT_BODY_LIMIT }).catch(() => undefined);
      const loc = res.headers.location;
      const location = Array.isArray(loc) ? loc[0] : loc;
      if (!location) return { kind: 'failed', failure: { code: 'BACKEND_ERROR', message: `${where}: 303 without a Location header`, status, retryable: false, retryAfterMs: null } };
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return { kind: 'failed', failure: { code: 'BACKEND_ERROR', message: `${label}: 303 with an invalid Location`, status, retryable: false, retryAfterMs: null } };
      }
      if (next.origin !== origin) {
        // Polls carry the token and their answers become results and error messages: same origin only.
        const downgrade = url.protocol === 'https:' && next.protocol === 'http:' ? ' (from https to http)' : '';
        return {
          kind: 'failed',
          failure: { code: 'BACKEND_ERROR', message: `${where}: redirect to another origin refused${downgrade}: a 303 to ${next.protocol}//${next.host}, the call is to ${origin}`, status, retryable: false, retryAfterMs: null },
        };
      }
      return { kind: 'redirect', location: next, retryAfterMs };
    }
    const declared = Number(Array.isArray(res.headers['content-length']) ? res.headers['content-length'][0] : res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.body.on('error', () => undefined); // destroying an unread undici body emits an AbortError
      res.body.destroy();
      return {
        kind: 'failed',
        failure: {
          code: 'BACKEND_ERROR',
          message: `${where}: HTTP ${status} answer of ${formatBytes(declared)} (Content-Length ${declared}) is over the ${formatBytes(maxBytes)} limit for ${o.fn} responses; refused without reading it`,
          status,
          retryable: false,
          retryAfterMs: null,
        },
      };
    }
    let text: string;
    try {
      const read = await readBounded(res.body, bodyLimits);
      if (read.cut === 'cap') {
        return {
          kind: 'failed',
          failure: {
            code: 'BACKEND_ERROR',
            message: `${where}: HTTP ${status} answer passed the ${formatBytes(maxBytes)} limit for ${o.fn} responses (cut after ${formatBytes(read.bytes)}${Number.isFinite(declared) ? '' : ', no Content-Length'})`,
            status,
            retryable: false,
            retryAfterMs: null,
          },
        };
      }
      if (read.cut !== null) {
        const why =
          read.cut === 'deadline'
            ? `the response body did not arrive within the ${formatMs(bodyLimits.deadlineMs)} body deadline`
            : `the response body arrived too slowly (below ${formatBytes(bodyLimits.minBytesPerSec)}/s after ${formatMs(bodyLimits.graceMs)})`;
        return { kind: 'failed', failure: { code: 'BACKEND_TIMEOUT', message: `${where}: ${why}: ${formatBytes(read.bytes)} in ${formatMs(read.ms)}`, status: null, retryable: true, retryAfterMs: null } };
      }
      text = new TextDecoder().decode(read.buf);
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
      phase({ type: 'attempt', attempt: attempts, polls, method });
      const requestAt = performance.now();
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
        polls++;
        const where = `${label} (${method} ${describeUrl(url)})`;
        if (polls > maxPolls) {
          throw new TandemError('BACKEND_ERROR', msg(`${where}: still answering 303 after ${maxPolls} poll${maxPolls === 1 ? '' : 's'}, the most allowed in a ${formatMs(o.deadlineMs)} deadline; gave up`), {
            data: { function: o.fn, url: msg(describeUrl(url)), attempts, polls: maxPolls, status: 303 },
          });
        }
        // Polls are spaced from the start of the previous request (a server that holds each poll, as Modal does, adds no wait).
        const gap = Math.max(pollInterval(polls, pollPolicy), r.retryAfterMs ?? 0);
        const waitMs = Math.max(0, Math.ceil(requestAt + gap - performance.now()));
        if (performance.now() + waitMs >= deadlineAt) {
          throw new TandemError(
            'BACKEND_TIMEOUT',
            msg(`${where}: still running after ${polls} poll${polls === 1 ? '' : 's'}; the next poll in ${formatMs(waitMs)}${r.retryAfterMs !== null && r.retryAfterMs >= gap ? ' (Retry-After)' : ''} would pass the ${formatMs(o.deadlineMs)} deadline`),
            { data: { function: o.fn, url: msg(describeUrl(url)), deadlineMs: o.deadlineMs, attempts, polls } },
          );
        }
        url = r.location;
        method = 'GET';
        payload = null;
        failures = 0;
        phase({ type: 'redirect', polls, waitMs });
        if (waitMs > 0) await sleep(waitMs, signal);
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
      phase({ type: 'retry', attempt: attempts, failures, status: f.status, code: f.code, delayMs });
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

/**
 * The dispatcher with a hook on each request's start on a socket (undici calls onRequestStart once
 * the connection is open, before the request's headers are written): the end of "connecting".
 */
function observeConnect(d: Dispatcher, onConnected: () => void): Dispatcher {
  const interceptor = (dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] => (opts, handler) => {
    const h = handler as Dispatcher.DispatchHandler;
    const wrapped: Dispatcher.DispatchHandler = {
      onRequestStart: (controller, context) => {
        onConnected();
        return h.onRequestStart?.(controller, context);
      },
      onRequestUpgrade: (controller, statusCode, headers, socket) => h.onRequestUpgrade?.(controller, statusCode, headers, socket),
      onResponseStart: (controller, statusCode, headers, statusMessage) => h.onResponseStart?.(controller, statusCode, headers, statusMessage),
      onResponseData: (controller, chunk) => h.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => h.onResponseEnd?.(controller, trailers),
      onResponseError: (controller, error) => h.onResponseError?.(controller, error),
    };
    return dispatch(opts, wrapped);
  };
  return d.compose(interceptor);
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
