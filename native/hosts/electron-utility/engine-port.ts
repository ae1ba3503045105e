/**
 * The engine side of the desktop app, over the RPC layer (native/engine/common/rpc.ts). Plain
 * Node: ports are `PortLike`s (Electron's MessagePortMain, a forked child's IPC channel, or
 * node:worker_threads' MessagePort in tests).
 *
 * Two kinds of channel:
 * - main's channel (the `connect` port, or the IPC channel's bare messages): the engine serves the
 *   whole contract (`TandemApi`, with its events) plus the control methods main alone may call
 *   (`engine.tokens`: new cloud tokens from the keychain; `engine.close`), and calls main's
 *   `host.openFile` (files.open: main opens the file with shell.openPath, no command line involved);
 * - a renderer's channel (a MessagePort main handed to the page after checking its origin once):
 *   the contract only, with its events; every call is validated by the service (zod), none by main.
 */
import { UI_METHOD_NAMES, type ApiEvents, type TandemApi } from '../../engine/common/api-contract.js';
import { TandemError } from '../../engine/common/errors.js';
import { createClient, serve, type PortLike, type RpcClient, type RpcServer } from '../../engine/common/rpc.js';
import type { ApiService } from '../../engine/index.js';

/** What main alone may call besides the contract. */
export interface EngineControl {
  /** New cloud tokens (the host's token source reads them from then on). */
  'engine.tokens'(input: { tokens: Record<string, string> }): Promise<null>;
  /** Stop: running jobs become interrupted, the store closes; answered before the process exits. */
  'engine.close'(input: Record<string, never>): Promise<null>;
}
export const ENGINE_CONTROL_METHODS = ['engine.tokens', 'engine.close'] as const;

/** What the engine calls in main. `error`: shell.openPath's error text (null: opened). */
export interface MainHost {
  'host.openFile'(input: { path: string; page?: number }): Promise<{ error: string | null }>;
}

/** main's channel to the engine. */
export type EngineMainApi = TandemApi & EngineControl;

/** The first message on the utility process's parentPort (or the IPC channel): the tokens; with a utilityProcess, main's port. */
export interface EngineConnect {
  type: 'connect';
  tokens: Record<string, string>;
}
/** Later messages on the utility process's parentPort: a renderer's port (utilityProcess only; the IPC channel multiplexes instead, rpc-mux.ts). */
export interface EngineApiPort {
  type: 'api-port';
}

export interface ServeEngineOptions {
  /** New tokens arrived. */
  onTokens?: (tokens: Record<string, string>) => void;
  /** After `engine.close` was answered: the service is closed. */
  onClosed?: () => void;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Only string -> string maps with env-var-like names are taken as tokens. */
export function parseTokens(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(x)) return out;
  for (const [k, v] of Object.entries(x)) if (/^[A-Z][A-Z0-9_]{0,63}$/.test(k) && typeof v === 'string' && v) out[k] = v;
  return out;
}

/** main's `host.*` methods, reachable from the engine over main's channel (create it before the service: files.open needs it). */
export function mainHost(port: PortLike): RpcClient<MainHost> {
  return createClient<MainHost>(port, { closedError: () => new TandemError('INTERNAL', 'the desktop app went away') });
}

/** files.open in the desktop app: the engine has no Electron, so it asks main (`host.openFile`) and waits for its answer. */
export function mainOpener(host: RpcClient<MainHost>): (file: string, page?: number) => Promise<void> {
  return async (file, page) => {
    const { error } = await host.call('host.openFile', { path: file, ...(page ? { page } : {}) });
    if (error) throw new TandemError('NOT_FOUND', `the desktop could not open ${file}: ${error}`);
  };
}

const events = (service: Pick<ApiService, 'events'>) => (emit: (name: string, payload: unknown) => void) => service.events.onAny(emit);

/** Serve the contract and the control methods on main's channel, until `engine.close` (or the port closes). */
export function serveEngine(service: Pick<ApiService, 'api' | 'events' | 'close'>, port: PortLike, opts: ServeEngineOptions = {}): RpcServer {
  let closing: Promise<null> | undefined;
  const control: EngineControl = {
    'engine.tokens': async (input) => {
      opts.onTokens?.(parseTokens(isRecord(input) ? input.tokens : undefined));
      return null;
    },
    'engine.close': () =>
      (closing ??= service
        .close()
        .catch(() => {})
        .then(() => {
          // after the answer is posted (serve posts it when this promise settles)
          setTimeout(() => opts.onClosed?.(), 0);
          return null;
        })),
  };
  const api = { ...service.api, ...control };
  return serve(api, port, { methods: [...UI_METHOD_NAMES, ...ENGINE_CONTROL_METHODS], events: events(service) });
}

/** Serve the contract alone (a renderer's channel): no control method, every input validated by the service. */
export function serveRenderer(service: Pick<ApiService, 'api' | 'events'>, port: PortLike): RpcServer {
  return serve(service.api, port, { methods: UI_METHOD_NAMES, events: events(service) });
}

export type { ApiEvents };
/** Electron's MessagePortMain as a port (main and the utility process alike; electron/ reaches it through this module). */
export { messagePortMainLike, type PortMainShape } from '../../engine/common/rpc-port-main.js';
