/**
 * Node transports for the RPC layer (common/rpc.ts): a node:worker_threads MessagePort (or a
 * Worker, or a worker's parentPort) and a child process's IPC channel, as `PortLike`s.
 */
import type { ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { PortLike, RpcMessage } from '../common/rpc.js';
import type { WireError } from '../common/errors.js';

/** A worker_threads MessagePort, Worker or parentPort: messages are structured clones (copied, never transferred). */
export function messagePortLike(target: MessagePort | Worker): PortLike {
  const port = target as unknown as EventEmitter;
  return {
    post: (m: RpcMessage) => target.postMessage(m),
    onMessage: (cb) => {
      const f = (m: unknown) => cb(m);
      port.on('message', f);
      return () => void port.off('message', f);
    },
    onClose: (cb) => {
      // a MessagePort emits 'close', a Worker 'exit'
      const f = () => cb();
      port.on('close', f);
      port.on('exit', f);
      return () => {
        port.off('close', f);
        port.off('exit', f);
      };
    },
    close: () => {
      if ('close' in target && typeof target.close === 'function') target.close();
    },
  };
}

/** The parent's side of a forked child's IPC channel (fork with serialization 'advanced' for structured clone). */
export function childProcessPortLike(child: ChildProcess, closedReason?: () => WireError): PortLike {
  return {
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (cb) => {
      const f = (m: unknown) => cb(m);
      child.on('message', f);
      return () => void child.off('message', f);
    },
    onClose: (cb) => {
      const f = () => cb(closedReason?.());
      child.on('disconnect', f);
      return () => void child.off('disconnect', f);
    },
  };
}

/** This process's IPC channel to its parent (a forked child's side). */
export function parentProcessPortLike(proc: NodeJS.Process = process): PortLike {
  return {
    post: (m) => {
      if (proc.connected) proc.send!(m);
    },
    onMessage: (cb) => {
      const f = (m: unknown) => cb(m);
      proc.on('message', f);
      return () => void proc.off('message', f);
    },
    onClose: (cb) => {
      const f = () => cb();
      proc.on('disconnect', f);
      return () => void proc.off('disconnect', f);
    },
  };
}

