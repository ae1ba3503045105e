/**
 * Electron's MessagePortMain (in main or a utility process) as a port of the RPC layer (rpc.ts).
 * Typed structurally here: the engine never imports electron. Pure.
 */
import type { PortLike } from './rpc.js';

/** What this module uses of Electron's MessagePortMain. */
export interface PortMainShape {
  on(event: 'message', cb: (e: { data: unknown }) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  removeListener(event: string, cb: (...a: never[]) => void): unknown;
  postMessage(msg: unknown): void;
  start(): void;
  close(): void;
}

/** Electron's MessagePortMain (main or a utility process) as a PortLike; call `start()` on it after wiring. */
export function messagePortMainLike(port: PortMainShape): PortLike {
  return {
    post: (m) => port.postMessage(m),
    onMessage: (cb) => {
      const f = (e: { data: unknown }) => cb(e.data);
      port.on('message', f);
      return () => void port.removeListener('message', f);
    },
    onClose: (cb) => {
      const f = () => cb();
      port.on('close', f);
      return () => void port.removeListener('close', f);
    },
    close: () => port.close(),
  };
}
