/**
 * How the renderer reaches the engine, picked once at start: the Electron preload bridge
 * (`window.tandem`, IPC) when present, else HTTP + server-sent events against the web host that
 * served this page (same origin). The web host's URL carries a one-time code (`#code=C`); the page
 * exchanges it once for a session token kept in sessionStorage (this origin and tab only) and sends
 * it as the `X-Tandem-Session` header on every call and on the event stream (read with fetch:
 * EventSource cannot send headers). No cookie is involved: cookies would reach every local port.
 */
import { API_EVENT_NAMES } from '../../../native/engine/common/api-contract';
import { fromWire, TandemError } from '../../../native/engine/common/errors';
import { createSseParser } from './sse';

/** The header the web host reads the session from (native/hosts/web/web-host.ts SESSION_HEADER). */
export const SESSION_HEADER = 'X-Tandem-Session';
/** Where the session token is kept: sessionStorage, scoped to the origin (port included) and tab. */
export const SESSION_KEY = 'tandem.session';

interface SessionWindow {
  location: { hash: string; pathname: string; search: string };
  history: { replaceState(data: unknown, unused: string, url: string): void };
  sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void };
}

/**
 * The session of this tab: a `#code=` fragment is exchanged (`POST /auth/session`) for a session
 * token, stored, and the fragment leaves the address bar; otherwise the stored one (if any).
 */
export async function startSession(base = '', win: SessionWindow = window): Promise<string | undefined> {
  const stored = () => win.sessionStorage.getItem(SESSION_KEY) ?? undefined;
  const m = /^#code=([0-9a-fA-F]+)$/.exec(win.location.hash);
  if (!m) return stored();
  try {
    const res = await fetch(`${base}/auth/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: m[1] }), credentials: 'omit', cache: 'no-store' });
    const body = (await res.json().catch(() => null)) as { result?: { session?: unknown } } | null;
    const session = body?.result?.session;
    if (res.ok && typeof session === 'string') win.sessionStorage.setItem(SESSION_KEY, session);
  } catch {
    // the host is gone: calls will say so
  } finally {
    // the code is spent either way: take it out of the address bar (and the history)
    win.history.replaceState(null, '', win.location.pathname + win.location.search);
  }
  return stored();
}

/** The preload bridge (declared in electron/preload/bridge.d.ts). */
type TandemBridge = NonNullable<Window['tandem']>;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface Transport {
  readonly kind: 'ipc' | 'http';
  /** Resolves to the method's result; rejects with a TandemError. */
  invoke(method: string, input: unknown): Promise<unknown>;
  /** Subscribe to an engine event; returns the unsubscribe function. */
  on(event: string, cb: (data: unknown) => void): () => void;
  /** Live-event connection state (IPC is always open). */
  onConnection(cb: (s: ConnectionState) => void): () => void;
}

/** `{ result }` / `{ error }` -> the result, or a thrown TandemError. */
export function unwrapEnvelope(body: unknown, what: string): unknown {
  if (body && typeof body === 'object') {
    if ('error' in body) throw fromWire((body as { error: unknown }).error);
    if ('result' in body) return (body as { result: unknown }).result;
  }
  throw new TandemError('INTERNAL', `${what}: unexpected reply from the engine`);
}

export function ipcTransport(bridge: TandemBridge): Transport {
  return {
    kind: 'ipc',
    invoke: async (method, input) => unwrapEnvelope(await bridge.invoke(method, input), method),
    on: (event, cb) => bridge.on(event, cb),
    onConnection: (cb) => {
      cb('open');
      return () => {};
    },
  };
}

export function httpTransport(base = '', initial: Promise<string | undefined> = startSession(base)): Transport {
  let session = initial;
  // a sign-in link pasted into a tab that is already open is a same-document navigation
  if (typeof window !== 'undefined') {
    window.addEventListener('hashchange', () => {
      if (window.location.hash.startsWith('#code=')) session = startSession(base);
    });
  }
  const listeners = new Map<string, Set<(data: unknown) => void>>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let streaming = false;
  let retryMs = 2000;
  const setState = (s: ConnectionState) => {
    state = s;
    for (const cb of connListeners) cb(s);
  };
  const headers = (token: string | undefined, extra: Record<string, string> = {}): Record<string, string> => (token ? { ...extra, [SESSION_HEADER]: token } : extra);
  const dispatch = (name: string, text: string) => {
    if (!(API_EVENT_NAMES as readonly string[]).includes(name)) return;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    for (const cb of [...(listeners.get(name) ?? [])]) cb(data);
  };
  /** The event stream over fetch, reconnecting after `retry` ms whenever it ends or fails. */
  const ensureStream = () => {
    if (streaming || typeof fetch === 'undefined') return;
    streaming = true;
    void (async () => {
      for (;;) {
        const token = await session;
        try {
          const res = await fetch(`${base}/api/events`, { headers: headers(token, { Accept: 'text/event-stream' }), credentials: 'omit', cache: 'no-store' });
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
        setState('reconnecting');
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    })();
  };
  return {
    kind: 'http',
    invoke: async (method, input) => {
      const token = await session;
      let res: Response;
      try {
        res = await fetch(`${base}/api/${method}`, {
          method: 'POST',
          headers: headers(token, { 'Content-Type': 'application/json' }),
          body: JSON.stringify(input ?? {}),
          credentials: 'omit',
          cache: 'no-store',
        });
      } catch (e) {
        throw new TandemError('NETWORK_ERROR', `cannot reach the Tandem host (${e instanceof Error ? e.message : String(e)}); is \`tandem serve\` still running?`);
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        throw new TandemError(res.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL', `${method}: the host answered ${res.status} without JSON`);
      }
      return unwrapEnvelope(body, method);
    },
    on: (event, cb) => {
      ensureStream();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(cb);
      return () => void set.delete(cb);
    },
    onConnection: (cb) => {
      ensureStream();
      connListeners.add(cb);
      cb(state);
      return () => void connListeners.delete(cb);
    },
  };
}

/** IPC inside Electron, HTTP in a browser. */
export function pickTransport(win: { tandem?: TandemBridge } = window): Transport {
  return win.tandem ? ipcTransport(win.tandem) : httpTransport();
}
