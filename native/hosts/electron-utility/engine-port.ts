/**
 * The engine side of the desktop app's MessagePort protocol (Electron main <-> the engine in a
 * utilityProcess, see utility-entry.ts). Plain Node: the port is any object that can post and
 * receive structured-clone messages (Electron's MessagePortMain, or node:worker_threads' MessagePort
 * in tests), adapted to `EnginePort`.
 *
 * main -> engine: `call` (a method of the contract, already validated by main; validated again by
 * the service), `tokens` (new cloud tokens from the keychain), `opened` (the answer to `open-file`),
 * `close`.
 * engine -> main: `result` / `error` (a WireError) per call id, `event` (every contract event),
 * `open-file` (files.open checked the path is a library document; main opens it with Electron's
 * shell.openPath, no command line involved), `closed`.
 */
import type { ApiEventName } from '../../engine/common/api-contract.js';
import { TandemError, toWire, type WireError } from '../../engine/common/errors.js';
import type { ApiService } from '../../engine/api/api-service.js';

export type EngineRequest =
  | { type: 'call'; id: number; method: string; input: unknown }
  | { type: 'tokens'; tokens: Record<string, string> }
  /** `error`: shell.openPath's error text (absent: opened). */
  | { type: 'opened'; id: number; error?: string }
  | { type: 'close' };

export type EngineReply =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'event'; name: ApiEventName; data: unknown }
  | { type: 'open-file'; id: number; path: string; page?: number }
  | { type: 'closed' };

/** The first message on the utility process's parentPort: carries the MessagePort and the tokens. */
export interface EngineConnect {
  type: 'connect';
  tokens: Record<string, string>;
}

export interface EnginePort {
  post(msg: EngineReply): void;
  onMessage(cb: (msg: unknown) => void): void;
}

export interface ServeEngineOptions {
  /** New tokens arrived (the host's token source reads them from then on). */
  onTokens?: (tokens: Record<string, string>) => void;
  /** After `close`: the service is closed and `closed` was posted. */
  onClosed?: () => void;
  /** Main answered an `open-file` (see mainOpener). */
  onOpened?: (id: number, error: string | undefined) => void;
}

/**
 * files.open in the desktop app: the engine (a utilityProcess) has no Electron, so it asks main to
 * open the file (`open-file`); main answers `opened`. `open` is the API service's openFile.
 */
export function mainOpener(post: (m: EngineReply) => void): { open: (file: string, page?: number) => Promise<void>; settle: (id: number, error: string | undefined) => void } {
  const pending = new Map<number, { file: string; resolve: () => void; reject: (e: Error) => void }>();
  let next = 1;
  return {
    open: (file, page) =>
      new Promise<void>((resolve, reject) => {
        const id = next++;
        pending.set(id, { file, resolve, reject });
        post({ type: 'open-file', id, path: file, ...(page ? { page } : {}) });
      }),
    settle: (id, error) => {
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      if (error) p.reject(new TandemError('NOT_FOUND', `the desktop could not open ${p.file}: ${error}`));
      else p.resolve();
    },
  };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Only string -> string maps with env-var-like names are taken as tokens. */
export function parseTokens(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(x)) return out;
  for (const [k, v] of Object.entries(x)) if (/^[A-Z][A-Z0-9_]{0,63}$/.test(k) && typeof v === 'string' && v) out[k] = v;
  return out;
}

/** Serve `service` on `port` until a `close` message. */
export function serveEngine(service: Pick<ApiService, 'call' | 'events' | 'close'>, port: EnginePort, opts: ServeEngineOptions = {}): void {
  let closing = false;
  const offEvents = service.events.onAny((name, data) => port.post({ type: 'event', name, data }));
  port.onMessage((msg) => {
    if (!isRecord(msg)) return;
    if (msg.type === 'call' && typeof msg.id === 'number') {
      const id = msg.id;
      service.call(String(msg.method), msg.input).then(
        (result) => port.post({ type: 'result', id, result }),
        (e: unknown) => port.post({ type: 'error', id, error: toWire(e) }),
      );
    } else if (msg.type === 'tokens') {
      opts.onTokens?.(parseTokens(msg.tokens));
    } else if (msg.type === 'opened' && typeof msg.id === 'number') {
      opts.onOpened?.(msg.id, typeof msg.error === 'string' && msg.error ? msg.error : undefined);
    } else if (msg.type === 'close' && !closing) {
      closing = true;
      offEvents();
      void service
        .close()
        .catch(() => {})
        .then(() => {
          port.post({ type: 'closed' });
          opts.onClosed?.();
        });
    }
  });
}
