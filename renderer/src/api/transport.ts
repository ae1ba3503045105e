/**
 * How the renderer reaches the engine, picked once at start: a port of the RPC layer
 * (native/engine/common/rpc.ts): the Electron preload bridge (`window.tandem`, a MessagePort to the
 * engine) when present, else HTTP + server-sent events against the web host that served this page
 * (same origin; native/engine/common/rpc-http.ts). The web host's URL carries a one-time code (`#code=C`); the page
 * exchanges it once for a session token kept in sessionStorage (this origin and tab only) and sends
 * it as the `X-Tandem-Session` header on every call and on the event stream (read with fetch:
 * EventSource cannot send headers). No cookie is involved: cookies would reach every local port.
 */
import { API_EVENT_NAMES } from '../../../native/engine/common/api-contract';
import { httpPort, SESSION_HEADER, type ConnectionState } from '../../../native/engine/common/rpc-http';
import type { PortLike } from '../../../native/engine/common/rpc';

/** The header the web host reads the session from (native/hosts/web/web-host.ts SESSION_HEADER). */
export { SESSION_HEADER, type ConnectionState };
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

/** The preload bridge (declared in electron/preload/bridge.d.ts): a port to the engine. */
type TandemBridge = NonNullable<Window['tandem']>;

export interface Transport {
  readonly kind: 'ipc' | 'http';
  /** The RPC port the client speaks over. */
  readonly port: PortLike;
  /** Start receiving broadcast events (HTTP opens its event stream on first need). */
  startEvents?(): void;
  /** Live-event connection state (IPC is always open). */
  onConnection(cb: (s: ConnectionState) => void): () => void;
}

export function ipcTransport(bridge: TandemBridge): Transport {
  return {
    kind: 'ipc',
    port: { post: (m) => bridge.post(m), onMessage: (cb) => bridge.onMessage(cb) },
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
  const port = httpPort({ base, session: () => session, eventNames: API_EVENT_NAMES });
  return { kind: 'http', port, startEvents: () => port.startEvents(), onConnection: (cb) => port.onConnection(cb) };
}

/** IPC inside Electron, HTTP in a browser. */
export function pickTransport(win: { tandem?: TandemBridge } = window): Transport {
  return win.tandem ? ipcTransport(win.tandem) : httpTransport();
}
