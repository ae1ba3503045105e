/**
 * The one typed RPC layer: the message envelope, `serve(api, port)` and `createClient<Api>(port)`
 * over any port-like transport (a node:worker_threads MessagePort, Electron's MessagePortMain or a
 * renderer MessagePort, a child process's IPC channel, HTTP + server-sent events: rpc-http.ts).
 * Pure: no Node, no DOM imports (AbortSignal is a global of both).
 *
 * Envelope (every message carries `rpc`, so a port may carry other messages beside it, ignored here):
 *   client -> server  { rpc: 'call', id, method, input }   { rpc: 'cancel', id }
 *   server -> client  { rpc: 'result', id, output }        { rpc: 'error', id, error: WireError }
 *                     { rpc: 'event', name, payload }      (a broadcast event: `id` absent)
 *                     { rpc: 'event', id, name, payload }  (progress of one call, to its onEvent)
 *   either way        { rpc: 'end', error? }               (this side is going away: pending calls reject)
 * Ids are the client's; one server and one client may share a port in each direction (calls and
 * cancels go to the server, everything else to the client), so a port can be used both ways.
 * Errors cross as WireError (errors.ts toWire / fromWire): code, message and data survive.
 */
import { fromWire, TandemError, toWire, type WireError } from './errors.js';

// ------------------------------------------------------------------------------------------------
// Envelope

export interface RpcCallMessage {
  rpc: 'call';
  id: number;
  method: string;
  input: unknown;
}
export interface RpcResultMessage {
  rpc: 'result';
  id: number;
  output: unknown;
}
export interface RpcErrorMessage {
  rpc: 'error';
  id: number;
  error: WireError;
}
export interface RpcEventMessage {
  rpc: 'event';
  /** Present: progress of that call (delivered to its `onEvent`); absent: a broadcast event. */
  id?: number;
  name: string;
  payload: unknown;
}
export interface RpcCancelMessage {
  rpc: 'cancel';
  id: number;
}
export interface RpcEndMessage {
  rpc: 'end';
  /** Why (the client's pending calls reject with it); absent: the connection closed. */
  error?: WireError;
}
export type RpcMessage = RpcCallMessage | RpcResultMessage | RpcErrorMessage | RpcEventMessage | RpcCancelMessage | RpcEndMessage;

const KINDS = new Set(['call', 'result', 'error', 'event', 'cancel', 'end']);

/** Whether `m` is an envelope of this layer (shape-checked enough to dispatch safely). */
export function isRpcMessage(m: unknown): m is RpcMessage {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as { rpc?: unknown; id?: unknown; method?: unknown; name?: unknown };
  if (typeof o.rpc !== 'string' || !KINDS.has(o.rpc)) return false;
  const hasId = typeof o.id === 'number' && Number.isSafeInteger(o.id);
  switch (o.rpc) {
    case 'call':
      return hasId && typeof o.method === 'string';
    case 'event':
      return typeof o.name === 'string' && (o.id === undefined || hasId);
    case 'end':
      return true;
    default:
      return hasId;
  }
}

// ------------------------------------------------------------------------------------------------
// Transport

/**
 * What the layer needs of a transport: post a (structured-clone or JSON-safe) message, receive
 * them. `onClose` (optional) reports that the other side is gone; `close` (optional) closes this end.
 */
export interface PortLike {
  post(msg: RpcMessage): void;
  /** Subscribe to incoming messages (any shape: non-envelopes are ignored); returns the unsubscribe function. */
  onMessage(cb: (msg: unknown) => void): () => void;
  /** The transport closed (the other process exited, the port was closed); `reason` when known. */
  onClose?(cb: (reason?: WireError) => void): () => void;
  close?(): void;
}

// ------------------------------------------------------------------------------------------------
// Typed method maps

/** What a handler gets besides its input. */
export interface CallContext {
  /** Aborted when the client cancels this call (or the connection ends). */
  readonly signal: AbortSignal;
  /** Send a progress event for this call only (to the caller's `onEvent`). */
  emit(name: string, payload: unknown): void;
  /**
   * Whether `signal` is aborted, read without creating it (serve's contexts create the signal on
   * first use: an AbortSignal costs more than the rest of a small call, ~15 us on a busy machine).
   * Optional for contexts made by hand; read it with `isCancelled(ctx)`.
   */
  readonly cancelled?: boolean;
}

/** Whether the call was cancelled, without creating its AbortSignal where the context can say so. */
export function isCancelled(ctx: CallContext): boolean {
  return ctx.cancelled ?? ctx.signal.aborted;
}

/** The methods of `Api` (its function-valued keys). */
export type RpcMethod<Api> = { [K in keyof Api]: Api[K] extends (...args: never[]) => unknown ? K : never }[keyof Api] & string;
export type RpcInput<Api, M extends keyof Api> = Api[M] extends (input: infer I, ...rest: never[]) => unknown ? I : never;
export type RpcOutput<Api, M extends keyof Api> = Api[M] extends (...args: never[]) => infer O ? Awaited<O> : never;

/** A server-side implementation of `Api`: each method may also take the call's context. */
export type RpcHandlers<Api> = { [M in RpcMethod<Api>]: (input: RpcInput<Api, M>, ctx: CallContext) => Promise<RpcOutput<Api, M>> | RpcOutput<Api, M> };

// ------------------------------------------------------------------------------------------------
// Server

export interface ServeOptions {
  /** The callable method names (default: the api object's own function-valued properties). */
  methods?: readonly string[];
  /** A source of broadcast events: called once with `emit`, returns the unsubscribe function. */
  events?: (emit: (name: string, payload: unknown) => void) => () => void;
  /** The error for a method that is not served (default NOT_FOUND "no API method <name>"). */
  unknownMethod?: (method: string) => unknown;
}

export interface RpcServer {
  /** Stop serving: in-flight calls are aborted (their answers are dropped), events unsubscribed. */
  close(): void;
}

/** NOT_FOUND naming the method (the engine's own wording, create-engine.ts). */
export function unknownMethodError(method: string): TandemError {
  const shown = method.length > 80 ? `${method.slice(0, 80)}...` : method;
  return new TandemError('NOT_FOUND', `no API method ${JSON.stringify(shown)}`);
}

/** The function serving `method` on `api`, or undefined (prototype names such as `toString` never count). */
export function methodOf(api: object, method: string, methods?: readonly string[]): ((input: unknown, ctx: CallContext) => unknown) | undefined {
  if (methods ? !methods.includes(method) : !Object.prototype.hasOwnProperty.call(api, method)) return undefined;
  const f = (api as Record<string, unknown>)[method];
  return typeof f === 'function' ? (f as (input: unknown, ctx: CallContext) => unknown).bind(api) : undefined;
}

/**
 * One call against `api`, transport-free: the method is checked (`opts.methods` or own function
 * properties), then awaited. Rejects with what the handler threw (or the unknown-method error).
 * Hosts without a port (HTTP) call this per request; `serve` uses it per `call` message.
 */
export async function dispatchCall(api: object, method: string, input: unknown, ctx: CallContext, opts: Pick<ServeOptions, 'methods' | 'unknownMethod'> = {}): Promise<unknown> {
  const f = methodOf(api, method, opts.methods);
  if (!f) throw (opts.unknownMethod ?? unknownMethodError)(method);
  return await f(input, ctx);
}

/**
 * Serve `api` (an object of async methods) on `port` until `close()` or the port closes: each
 * `call` runs its method with an AbortSignal that a `cancel` of its id aborts; the answer is a
 * `result` or an `error` (toWire). A cancelled call is still answered (the handler's CANCELLED,
 * or its output if it finished anyway). Broadcast events from `opts.events` are forwarded.
 */
export function serve<Api extends object = object>(api: RpcHandlers<Api>, port: PortLike, opts: ServeOptions = {}): RpcServer {
  /** Abort a running call (its signal, created lazily, and its `cancelled` flag). */
  const running = new Map<number, (reason: TandemError) => void>();
  let closed = false;
  const post = (m: RpcMessage): void => {
    if (closed) return;
    try {
      port.post(m);
    } catch (e) {
      // e.g. an output that cannot be cloned: say so to the caller instead of leaving it waiting
      if (m.rpc === 'result') port.post({ rpc: 'error', id: m.id, error: toWire(new TandemError('INTERNAL', `the answer could not be sent: ${e instanceof Error ? e.message : String(e)}`)) });
    }
  };
  const offEvents = opts.events?.((name, payload) => post({ rpc: 'event', name, payload }));
  const offMessage = port.onMessage((msg) => {
    if (closed || !isRpcMessage(msg)) return;
    if (msg.rpc === 'cancel') {
      running.get(msg.id)?.(new TandemError('CANCELLED', 'cancelled by the caller'));
      return;
    }
    if (msg.rpc !== 'call') return;
    const id = msg.id;
    const ac = new AbortController();
    let cancelled = false;
    const abort = (reason: TandemError): void => {
      cancelled = true;
      ac.abort(reason);
    };
    running.set(id, abort);
    const ctx: CallContext = {
      // created on first use (see CallContext.cancelled)
      get signal() {
        return ac.signal;
      },
      get cancelled() {
        return cancelled;
      },
      emit: (name, payload) => post({ rpc: 'event', id, name, payload }),
    };
    dispatchCall(api, msg.method, msg.input, ctx, opts).then(
      (output) => {
        if (running.get(id) === abort) running.delete(id);
        post({ rpc: 'result', id, output: output === undefined ? null : output });
      },
      (e: unknown) => {
        if (running.get(id) === abort) running.delete(id);
        post({ rpc: 'error', id, error: toWire(e) });
      },
    );
  });
  const stop = (): void => {
    if (closed) return;
    closed = true;
    offMessage();
    offEvents?.();
    offClose?.();
    for (const abort of running.values()) abort(new TandemError('CANCELLED', 'the connection closed'));
    running.clear();
  };
  const offClose = port.onClose?.(() => stop());
  return { close: stop };
}

// ------------------------------------------------------------------------------------------------
// Client

export interface RpcCallOptions {
  /** Aborting sends `cancel` and rejects the call with CANCELLED. */
  signal?: AbortSignal;
  /** Progress events of this call (the handler's `ctx.emit`). */
  onEvent?: (name: string, payload: unknown) => void;
}

export interface ClientOptions {
  /**
   * After a cancel, wait for the server's answer (its CANCELLED error, or the output if it finished
   * first) instead of rejecting at once. For servers that must be known idle (workers). Default false.
   */
  awaitCancelled?: boolean;
  /** The error pending calls reject with when the port closes without a reason. */
  closedError?: () => TandemError;
}

export interface RpcClient<Api extends object, Events extends object = Record<string, unknown>> {
  /** Call `method`: resolves to its output, rejects with a TandemError (fromWire). */
  call<M extends RpcMethod<Api>>(method: M, input: RpcInput<Api, M>, opts?: RpcCallOptions): Promise<RpcOutput<Api, M>>;
  /** The same, as methods: `client.api['search.query'](input)`. */
  readonly api: { [M in RpcMethod<Api>]: (input: RpcInput<Api, M>, opts?: RpcCallOptions) => Promise<RpcOutput<Api, M>> };
  /** Subscribe to one broadcast event; returns the unsubscribe function. */
  on<E extends keyof Events & string>(name: E, cb: (payload: Events[E]) => void): () => void;
  /** Subscribe to every broadcast event. */
  onAny(cb: (name: string, payload: unknown) => void): () => void;
  /** Calls waiting for an answer. */
  pending(): number;
  /** Stop using the port: pending and later calls reject (CANCELLED unless `reason`); the port is closed if it can be. */
  close(reason?: WireError): void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent: ((name: string, payload: unknown) => void) | undefined;
}

const defaultClosed = (): TandemError => new TandemError('INTERNAL', 'the connection to the engine closed');

/** A typed client of an `Api` served on the other end of `port` (see `serve`). */
export function createClient<Api extends object, Events extends object = Record<string, unknown>>(port: PortLike, opts: ClientOptions = {}): RpcClient<Api, Events> {
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const anyListeners = new Set<(name: string, payload: unknown) => void>();
  let nextId = 1;
  let ended: TandemError | undefined;

  const end = (reason: TandemError): void => {
    if (ended) return;
    ended = reason;
    offMessage();
    offClose?.();
    const all = [...pending.values()];
    pending.clear();
    for (const p of all) p.reject(reason);
  };

  const offMessage = port.onMessage((msg) => {
    if (!isRpcMessage(msg)) return;
    switch (msg.rpc) {
      case 'result':
      case 'error': {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.rpc === 'result') p.resolve(msg.output);
        else p.reject(fromWire(msg.error));
        return;
      }
      case 'event':
        if (msg.id !== undefined) {
          pending.get(msg.id)?.onEvent?.(msg.name, msg.payload);
          return;
        }
        for (const cb of [...(listeners.get(msg.name) ?? [])]) cb(msg.payload);
        for (const cb of [...anyListeners]) cb(msg.name, msg.payload);
        return;
      case 'end':
        end(msg.error ? fromWire(msg.error) : (opts.closedError ?? defaultClosed)());
        return;
      default:
        return;
    }
  });
  const offClose = port.onClose?.((reason) => end(reason ? fromWire(reason) : (opts.closedError ?? defaultClosed)()));

  const call = (method: string, input: unknown, o: RpcCallOptions = {}): Promise<unknown> => {
    if (ended) return Promise.reject(ended);
    if (o.signal?.aborted) return Promise.reject(new TandemError('CANCELLED', `${method}: cancelled`));
    const id = nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        if (!pending.has(id)) return;
        try {
          port.post({ rpc: 'cancel', id });
        } catch {
          // the port is gone: the close handler rejects
        }
        if (opts.awaitCancelled) return;
        pending.delete(id);
        reject(new TandemError('CANCELLED', `${method}: cancelled`));
      };
      const done = (): void => o.signal?.removeEventListener('abort', onAbort);
      pending.set(id, {
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        onEvent: o.onEvent,
      });
      o.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        port.post({ rpc: 'call', id, method, input });
      } catch (e) {
        pending.delete(id);
        done();
        reject(new TandemError('INVALID_ARGUMENT', `${method}: the input could not be sent: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  };

  const api = new Proxy({} as Record<string, unknown>, {
    get: (_t, prop) => (typeof prop === 'string' && prop !== 'then' ? (input: unknown, o?: RpcCallOptions) => call(prop, input, o) : undefined),
  });

  return {
    call: call as RpcClient<Api, Events>['call'],
    api: api as RpcClient<Api, Events>['api'],
    on: (name, cb) => {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      const fn = cb as (payload: unknown) => void;
      set.add(fn);
      return () => void set.delete(fn);
    },
    onAny: (cb) => {
      anyListeners.add(cb);
      return () => void anyListeners.delete(cb);
    },
    pending: () => pending.size,
    close: (reason) => {
      end(reason ? fromWire(reason) : new TandemError('CANCELLED', 'the client was closed'));
      port.close?.();
    },
  };
}
