/**
 * The headless web host: the built renderer and the typed API over HTTP + server-sent events, on
 * 127.0.0.1 only, behind a per-tab session.
 *
 * - The printed URL carries a one-time code in its fragment (`/#code=C`: never sent to a server, so
 *   never in a log). The page exchanges it once (`POST /auth/session {"code": C}`) for a session
 *   token it keeps in sessionStorage (scoped to the origin, port included) and sends as the
 *   `X-Tandem-Session` header. No secret ever travels in a cookie: cookies are not port-scoped, so
 *   the browser would send one to every other server on 127.0.0.1.
 * - `/api/*` needs the header (401 otherwise); a session mints more one-time codes with
 *   `POST /auth/code` (another tab, a test). State-changing calls from another origin (`Origin`,
 *   `Sec-Fetch-Site`) are refused (403), and request bodies must be exactly `application/json`.
 * - The Host header must be 127.0.0.1:PORT or localhost:PORT (DNS-rebinding defence).
 * - The RPC layer (native/engine/common/rpc.ts) over HTTP; the client's side is
 *   native/engine/common/rpc-http.ts:
 *   `POST /api/<method>` is a call: JSON in, `{"result": ...}` or `{"error": WireError}` out, the
 *   method dispatched to the service's typed API (`dispatchCall`, contract methods only); a request
 *   that goes away before its answer aborts the call's signal (cancel).
 *   `GET /api/events`: the broadcast events, server-sent (`event: <name>` + JSON data), heartbeat
 *   comments; the page reads them with fetch (EventSource cannot send a header).
 * - Everything else: static files of the built renderer, public (no secret in them; a 503 page when
 *   it was not built).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { API_EVENT_NAMES, UI_METHOD_NAMES } from '../../engine/common/api-contract.js';
import { TandemError, toWire, type ErrorCode, type WireError } from '../../engine/common/errors.js';
import { dispatchCall, type CallContext } from '../../engine/common/rpc.js';
import type { ApiService } from '../../engine/index.js';
import { CSP } from './csp.js';

/** The request header carrying the session token. */
export const SESSION_HEADER = 'X-Tandem-Session';
/** Exactly `application/json`, optionally with a charset (not `application/json-patch+json`, not `application/jsonx`). */
export const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?[\w.:-]+"?\s*)?$/i;
/** How long a one-time code minted by a session (or for `--open`) stays valid. */
export const MINTED_CODE_TTL_MS = 120_000;
/** Request bodies above this are refused (the API takes small JSON inputs). */
export const MAX_BODY_BYTES = 1024 * 1024;

export { CSP };

export interface WebHostOptions {
  service: Pick<ApiService, 'api' | 'events'>;
  /** 0 picks a free port. */
  port?: number;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  /** Time between SSE heartbeat comments. Default 15 s. */
  heartbeatMs?: number;
}

export interface WebHost {
  readonly port: number;
  /** The one-time code of `url`. */
  readonly code: string;
  /** The URL to open once: `http://127.0.0.1:PORT/#code=CODE` (the code works for one exchange). */
  readonly url: string;
  /** Another one-time code (valid for `ttlMs`, default: until used) and its URL. */
  newCode(ttlMs?: number): { code: string; url: string };
  /** Stop accepting, end event streams and open connections. */
  close(): Promise<void>;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  BUDGET_EXCEEDED: 402,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  CONFLICT: 409,
  CANCELLED: 409,
  CHECKSUM_MISMATCH: 422,
  MODEL_INVALID: 422,
  RATE_LIMITED: 429,
  OFFLINE: 503,
  NETWORK_ERROR: 502,
  BACKEND_ERROR: 502,
  BACKEND_TIMEOUT: 504,
  DEVICE_UNAVAILABLE: 503,
  // a setting is missing (the message names it): the request was fine, this host cannot serve it yet
  NOT_CONFIGURED: 503,
  // the request was fine; the disk under TANDEM_HOME is full or read-only (the message says what to do)
  DISK_FULL: 507,
  READ_ONLY: 503,
};

/** The HTTP status a wire error is sent with. */
export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

function baseHeaders(): Record<string, string> {
  return { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Resource-Policy': 'same-origin' };
}

/** Secrets are kept (and looked up) by their SHA-256 only. */
function digest(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

function randomSecret(): string {
  return crypto.randomBytes(32).toString('hex');
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;line-height:1.5"><h1>${title}</h1>${body}</body></html>`;
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: http.ServerResponse, e: unknown): void {
  const w: WireError = toWire(e);
  sendJson(res, httpStatusFor(w.code), { error: w });
}

function sendHtml(res: http.ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'Content-Length': Buffer.byteLength(html), ...extra });
  res.end(html);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new TandemError('INVALID_ARGUMENT', `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Start the host on 127.0.0.1. */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const staticRoot = path.resolve(opts.staticDir);
  const streams = new Set<http.ServerResponse>();
  /** digest(code) -> expiry (ms since epoch; Infinity: until used). */
  const codes = new Map<string, number>();
  /** digest(session token). */
  const sessions = new Set<string>();
  let port = 0;

  const newCode = (ttlMs?: number): { code: string; url: string } => {
    const code = randomSecret();
    codes.set(digest(code), ttlMs === undefined ? Infinity : Date.now() + ttlMs);
    return { code, url: `http://127.0.0.1:${port}/#code=${code}` };
  };

  /** A code is good for one exchange: taken out whether or not it expired. */
  const takeCode = (code: string): boolean => {
    const key = digest(code);
    const expires = codes.get(key);
    if (expires === undefined) return false;
    codes.delete(key);
    return expires > Date.now();
  };

  const authorized = (req: http.IncomingMessage): boolean => {
    const t = req.headers[SESSION_HEADER.toLowerCase()];
    return typeof t === 'string' && t.length > 0 && sessions.has(digest(t));
  };

  const hostAllowed = (req: http.IncomingMessage): boolean => {
    const h = (req.headers.host ?? '').toLowerCase();
    return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  };

  /** A browser says where a request comes from; anything but this origin (or a typed URL) is refused. */
  const sameOrigin = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) return false;
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  };

  const unauthorized = (res: http.ServerResponse): void =>
    sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: `missing or unknown session (${SESSION_HEADER}): open the URL that \`tandem serve\` printed (each works once; press Enter in its terminal for a new one)` } satisfies WireError });

  /** Parse a JSON request body (the caller checked for `application/json`: a cross-site form cannot send it without a CORS preflight). */
  const jsonBody = async (req: http.IncomingMessage, what: string): Promise<unknown> => {
    const text = await readBody(req);
    if (!text.trim()) return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new TandemError('INVALID_ARGUMENT', `${what}: the body is not valid JSON`);
    }
  };

  const serveAuth = async (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: `use POST for ${pathname}` } satisfies WireError });
    }
    if (!JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { error: { code: 'INVALID_ARGUMENT', message: 'send the input as application/json' } satisfies WireError });
    if (pathname === '/auth/session') {
      let input: unknown;
      try {
        input = await jsonBody(req, pathname);
      } catch (e) {
        return sendError(res, e);
      }
      const code = (input as { code?: unknown } | null)?.code;
      if (typeof code !== 'string' || !takeCode(code)) {
        return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'this sign-in code was already used or has expired: open the URL that `tandem serve` printed, or press Enter in its terminal for a new one' } satisfies WireError });
      }
      const session = randomSecret();
      sessions.add(digest(session));
      return sendJson(res, 200, { result: { session } });
    }
    if (pathname === '/auth/code') {
      if (!authorized(req)) return unauthorized(res);
      const { code } = newCode(MINTED_CODE_TTL_MS);
      return sendJson(res, 200, { result: { code, expiresInMs: MINTED_CODE_TTL_MS } });
    }
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such endpoint: ${pathname}` } satisfies WireError });
  };

  const serveApi = async (req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: `use POST for /api/${method}` } satisfies WireError });
    }
    if (!JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '')) {
      return sendJson(res, 415, { error: { code: 'INVALID_ARGUMENT', message: 'send the input as application/json' } satisfies WireError });
    }
    // the caller going away (the page's cancel aborts its fetch) cancels the call
    const ac = new AbortController();
    const gone = () => {
      if (!res.writableEnded) ac.abort(new TandemError('CANCELLED', `/api/${method}: the caller went away`));
    };
    res.on('close', gone);
    const ctx: CallContext = { signal: ac.signal, emit: () => {} };
    try {
      const input = await jsonBody(req, `/api/${method}`);
      const result = await dispatchCall(opts.service.api, method, input, ctx, { methods: UI_METHOD_NAMES });
      sendJson(res, 200, { result: result ?? null });
    } catch (e) {
      sendError(res, e);
    } finally {
      res.off('close', gone);
    }
  };

  const serveEvents = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(200, { ...baseHeaders(), 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(`: tandem events (${API_EVENT_NAMES.join(', ')})\nretry: 2000\n\n`);
    streams.add(res);
    const off = opts.service.events.onAny((event, data) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    const beat = setInterval(() => res.write(`: ping ${Date.now()}\n\n`), heartbeatMs);
    const end = () => {
      clearInterval(beat);
      off();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  };

  const serveStatic = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders(), Allow: 'GET, HEAD' });
      return void res.end();
    }
    const index = path.join(staticRoot, 'index.html');
    if (!fs.existsSync(index)) {
      return sendHtml(res, 503, page('Tandem is not built yet', `<p>The user interface has not been built: run <code>npm run build</code> in the Tandem folder, then reload this page.</p><p>(looked for <code>${index.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</code>)</p>`));
    }
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return sendHtml(res, 400, page('Bad request', '<p>Malformed path.</p>'));
    }
    const file = path.resolve(staticRoot, '.' + (rel === '/' ? '/index.html' : rel));
    if (file !== staticRoot && !file.startsWith(staticRoot + path.sep)) return sendHtml(res, 404, page('Not found', '<p>No such page.</p>'));
    let target = file;
    if (!fs.existsSync(target) || !fs.statSync(target).isFile()) {
      // client-side routes fall back to the app; missing assets are 404s
      if (path.extname(rel)) return sendHtml(res, 404, page('Not found', '<p>No such file.</p>'));
      target = index;
    }
    const type = CONTENT_TYPES[path.extname(target).toLowerCase()] ?? 'application/octet-stream';
    const body = fs.readFileSync(target);
    const headers: Record<string, string | number> = { ...baseHeaders(), 'Content-Type': type, 'Content-Length': body.length };
    if (type.startsWith('text/html')) headers['Content-Security-Policy'] = CSP;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = http.createServer((req, res) => {
    if (!hostAllowed(req)) return sendHtml(res, 421, page('Wrong host', '<p>This server answers only to 127.0.0.1 and localhost.</p>'));
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const isApi = url.pathname.startsWith('/api/') || url.pathname.startsWith('/auth/');
    if (isApi && !sameOrigin(req)) {
      return sendJson(res, 403, { error: { code: 'UNAUTHORIZED', message: 'cross-site request refused: the Tandem API answers only its own page' } satisfies WireError });
    }
    if (url.pathname.startsWith('/auth/')) return void serveAuth(req, res, url.pathname);
    if (url.pathname.startsWith('/api/') && !authorized(req)) return unauthorized(res);
    if (url.pathname === '/api/events') {
      if (req.method !== 'GET') return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: 'use GET for /api/events' } satisfies WireError });
      return serveEvents(req, res);
    }
    if (url.pathname.startsWith('/api/')) return void serveApi(req, res, url.pathname.slice('/api/'.length));
    serveStatic(req, res, url.pathname);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new TandemError('CONFLICT', `port ${opts.port} is in use: pick another with --port`) : e));
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of streams) s.end();
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
    return closing;
  };

  const first = newCode();
  return { port, code: first.code, url: first.url, newCode, close };
}
