/**
 * The RPC layer (rpc.ts) over HTTP + server-sent events, the client's side: a `PortLike` whose
 * `call` messages become `POST {base}/api/<method>` (JSON in; `{"result": ...}` or
 * `{"error": WireError}` out), whose `cancel` aborts that request (the web host aborts the
 * handler's signal when the request goes away), and whose broadcast events come from
 * `GET {base}/api/events` (read with fetch: EventSource cannot send the session header),
 * reconnecting after the stream's `retry:` whenever it ends. The web host's side is
 * native/hosts/web/web-host.ts. Pure: fetch, AbortController and TextDecoderStream are globals of
 * browsers and Node alike.
 */
import { TandemError, toWire, type WireError } from './errors.js';
import type { PortLike, RpcMessage } from './rpc.js';

// ------------------------------------------------------------------------------------------------
// Server-sent events

export interface SseParser {
  push(text: string): void;
}

/**
 * A server-sent-events parser for a streamed body: feed it text as it arrives (any split, CRLF or
 * LF), it calls `onEvent(name, data)` per complete event; comments (`: ping`) are dropped; `retry:`
 * is reported through `onRetry`.
 */
export function createSseParser(onEvent: (name: string, data: string) => void, onRetry?: (ms: number) => void): SseParser {
  let buf = '';
  let name = '';
  let data: string[] = [];
  const line = (l: string) => {
    if (l === '') {
      if (data.length) onEvent(name || 'message', data.join('\n'));
      name = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry?.(Number(value));
  };
  return {
    push(text) {
      buf += text;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buf);
        // a lone \r at the end may be the first half of \r\n: wait for more
        if (!m || (m[0] === '\r' && m.index === buf.length - 1)) break;
        line(buf.slice(0, m.index));
        buf = buf.slice(m.index + m[0].length);
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------
// The HTTP port

/** The header the web host reads the session from (web-host.ts SESSION_HEADER). */
export const SESSION_HEADER = 'X-Tandem-Session';

/** What this port passes to fetch (browsers' RequestInit; Node's lacks `cache`, which Node ignores). */
export interface FetchInit {
  method?: string;
  headers: Record<string, string>;
  body?: string;
  credentials: 'omit';
  cache: 'no-store';
  signal: AbortSignal;
}
export type FetchLike = (url: string, init: FetchInit) => Promise<Response>;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface HttpPortOptions {
  /** The host's origin ('' for the page's own). */
  base?: string;
  /** The session token to send (read before every request: it may change). */
  session: () => Promise<string | undefined>;
  /** Event names passed on (others are dropped). */
  eventNames: readonly string[];
  /** Default fetch: the global one. */
  fetch?: FetchLike;
}

export interface HttpPort extends PortLike {
  /** Start the event stream (once; it reconnects until `close`). */
  startEvents(): void;
  /** The event stream's state. */
  onConnection(cb: (s: ConnectionState) => void): () => void;
}

/** `{ result }` / `{ error }` (the web host's body) -> the envelope message for call `id`. */
export function httpBodyToMessage(id: number, body: unknown, what: string): RpcMessage {
  if (body && typeof body === 'object') {
    if ('error' in body) return { rpc: 'error', id, error: (body as { error: WireError }).error };
    if ('result' in body) return { rpc: 'result', id, output: (body as { result: unknown }).result };
  }
  return { rpc: 'error', id, error: toWire(new TandemError('INTERNAL', `${what}: unexpected reply from the engine`)) };
}

export function httpPort(opts: HttpPortOptions): HttpPort {
  const base = opts.base ?? '';
  const doFetch: FetchLike = opts.fetch ?? ((url, init) => fetch(url, init as RequestInit));
  const listeners = new Set<(m: unknown) => void>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  const inFlight = new Map<number, AbortController>();
  let state: ConnectionState = 'connecting';
  let streaming = false;
  let closed = false;
  let retryMs = 2000;
  const streamAbort = new AbortController();

  const deliver = (m: RpcMessage): void => {
    for (const cb of [...listeners]) cb(m);
  };
  const setState = (s: ConnectionState): void => {
    state = s;
    for (const cb of [...connListeners]) cb(s);
  };
  const headers = (token: string | undefined, extra: Record<string, string>): Record<string, string> => (token ? { ...extra, [SESSION_HEADER]: token } : extra);
  const errorMsg = (id: number, e: TandemError): RpcMessage => ({ rpc: 'error', id, error: toWire(e) });

  const call = async (id: number, method: string, input: unknown): Promise<RpcMessage> => {
    const ac = new AbortController();
    inFlight.set(id, ac);
    try {
      const token = await opts.session();
      let res: Response;
      try {
        res = await doFetch(`${base}/api/${method}`, {
          method: 'POST',
          headers: headers(token, { 'Content-Type': 'application/json' }),
          body: JSON.stringify(input ?? {}),
          credentials: 'omit',
          cache: 'no-store',
          signal: ac.signal,
        });
      } catch (e) {
        if (ac.signal.aborted) return errorMsg(id, new TandemError('CANCELLED', `${method}: cancelled`));
        return errorMsg(id, new TandemError('NETWORK_ERROR', `cannot reach the Tandem host (${e instanceof Error ? e.message : String(e)}); is \`tandem serve\` still running?`));
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        if (ac.signal.aborted) return errorMsg(id, new TandemError('CANCELLED', `${method}: cancelled`));
        return errorMsg(id, new TandemError(res.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL', `${method}: the host answered ${res.status} without JSON`));
      }
      return httpBodyToMessage(id, body, method);
    } finally {
      inFlight.delete(id);
    }
  };

  const dispatch = (name: string, text: string): void => {
    if (!opts.eventNames.includes(name)) return;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return;
    }
    deliver({ rpc: 'event', name, payload });
  };

  const startEvents = (): void => {
    if (streaming || closed) return;
    streaming = true;
    void (async () => {
      while (!closed) {
        try {
          const token = await opts.session();
          const res = await doFetch(`${base}/api/events`, { headers: headers(token, { Accept: 'text/event-stream' }), credentials: 'omit', cache: 'no-store', signal: streamAbort.signal });
          if (!res.ok || !res.body) throw new Error(`the host answered ${res.status}`);
          setState('open');
          const parser = createSseParser(dispatch, (ms) => (retryMs = ms));
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.push(value);
          }
        } catch {
          // reconnect below
        }
        if (closed) return;
        setState('reconnecting');
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    })();
  };

  return {
    post: (m) => {
      if (closed) return;
      if (m.rpc === 'call') void call(m.id, m.method, m.input).then((reply) => !closed && deliver(reply));
      else if (m.rpc === 'cancel') inFlight.get(m.id)?.abort();
    },
    onMessage: (cb) => {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
    close: () => {
      closed = true;
      streamAbort.abort();
      for (const ac of inFlight.values()) ac.abort();
    },
    startEvents,
    onConnection: (cb) => {
      startEvents();
      connListeners.add(cb);
      cb(state);
      return () => void connListeners.delete(cb);
    },
  };
}
