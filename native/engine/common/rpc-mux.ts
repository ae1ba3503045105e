/**
 * Several RPC channels over one transport that cannot carry MessagePorts (a forked child's IPC
 * channel): channel 0 travels as the bare messages, any other as `{ mux: n, m }`; `{ mux: n, open: true }`
 * announces channel n, `{ mux: n, end: true }` ends it. The messages inside are passed through
 * untouched (the RPC envelope of rpc.ts, unread here). Pure.
 */
import type { WireError } from './errors.js';
import type { PortLike, RpcMessage } from './rpc.js';

export interface RawTransport {
  post(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): () => void;
  onClose?(cb: (reason?: WireError) => void): () => void;
}

export interface Mux {
  /** Channel 0: the bare messages. */
  readonly main: PortLike;
  /** Open channel n on this side (announced to the other); numbers are this side's to pick. */
  open(n: number): PortLike;
  /** Channels the other side opens. */
  onOpen(cb: (n: number, port: PortLike) => void): () => void;
}

type Wrapped = { mux: number; m?: unknown; open?: true; end?: true };
const isWrapped = (x: unknown): x is Wrapped => typeof x === 'object' && x !== null && typeof (x as { mux?: unknown }).mux === 'number';

interface Channel {
  port: PortLike;
  deliver(m: unknown): void;
  ended(reason?: WireError): void;
}

export function createMux(raw: RawTransport): Mux {
  const channels = new Map<number, Channel>();
  const openers = new Set<(n: number, port: PortLike) => void>();
  const mainListeners = new Set<(m: unknown) => void>();
  const mainClose = new Set<(reason?: WireError) => void>();

  const channel = (n: number): Channel => {
    const listeners = new Set<(m: unknown) => void>();
    const closers = new Set<(reason?: WireError) => void>();
    let done = false;
    const ended = (reason?: WireError): void => {
      if (done) return;
      done = true;
      channels.delete(n);
      for (const cb of [...closers]) cb(reason);
    };
    const port: PortLike = {
      post: (m: RpcMessage) => {
        if (!done) raw.post({ mux: n, m });
      },
      onMessage: (cb) => {
        listeners.add(cb);
        return () => void listeners.delete(cb);
      },
      onClose: (cb) => {
        closers.add(cb);
        return () => void closers.delete(cb);
      },
      close: () => {
        if (done) return;
        raw.post({ mux: n, end: true });
        ended();
      },
    };
    const c: Channel = { port, deliver: (m) => [...listeners].forEach((cb) => cb(m)), ended };
    channels.set(n, c);
    return c;
  };

  raw.onMessage((msg) => {
    if (!isWrapped(msg)) {
      for (const cb of [...mainListeners]) cb(msg);
      return;
    }
    if (msg.open) {
      if (channels.has(msg.mux)) return;
      const c = channel(msg.mux);
      for (const cb of [...openers]) cb(msg.mux, c.port);
    } else if (msg.end) channels.get(msg.mux)?.ended();
    else channels.get(msg.mux)?.deliver(msg.m);
  });
  raw.onClose?.((reason) => {
    for (const c of [...channels.values()]) c.ended(reason);
    for (const cb of [...mainClose]) cb(reason);
  });

  return {
    main: {
      post: (m) => raw.post(m),
      onMessage: (cb) => {
        mainListeners.add(cb);
        return () => void mainListeners.delete(cb);
      },
      onClose: (cb) => {
        mainClose.add(cb);
        return () => void mainClose.delete(cb);
      },
    },
    open: (n) => {
      const c = channels.get(n) ?? channel(n);
      raw.post({ mux: n, open: true });
      return c.port;
    },
    onOpen: (cb) => {
      openers.add(cb);
      return () => void openers.delete(cb);
    },
  };
}
