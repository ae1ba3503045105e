/**
 * How the renderer reaches the engine, picked once at start: the Electron preload bridge
 * (`window.tandem`, IPC) when present, else HTTP + server-sent events against the web host that
 * served this page (same origin; the session cookie authenticates).
 */
import { API_EVENT_NAMES } from '../../../native/engine/common/api-contract';
import { fromWire, TandemError } from '../../../native/engine/common/errors';

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

export function httpTransport(base = ''): Transport {
  const listeners = new Map<string, Set<(data: unknown) => void>>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let source: EventSource | undefined;
  const setState = (s: ConnectionState) => {
    state = s;
    for (const cb of connListeners) cb(s);
  };
  const ensureSource = () => {
    if (source || typeof EventSource === 'undefined') return;
    source = new EventSource(`${base}/api/events`);
    source.onopen = () => setState('open');
    source.onerror = () => setState('reconnecting');
    for (const name of API_EVENT_NAMES) {
      source.addEventListener(name, (ev) => {
        let data: unknown;
        try {
          data = JSON.parse((ev as MessageEvent<string>).data);
        } catch {
          return;
        }
        for (const cb of [...(listeners.get(name) ?? [])]) cb(data);
      });
    }
  };
  return {
    kind: 'http',
    invoke: async (method, input) => {
      let res: Response;
      try {
        res = await fetch(`${base}/api/${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(input ?? {}),
          credentials: 'same-origin',
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
      ensureSource();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(cb);
      return () => void set.delete(cb);
    },
    onConnection: (cb) => {
      ensureSource();
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
