/**
 * Main's link to the engine: forks the utility process (native/host/utility-entry.ts, built as
 * out/main/engine-host.js), gives it one end of a MessageChannelMain plus the cloud tokens, and
 * turns calls into `{ result } | { error: WireError }` envelopes (the same the web host sends).
 * Events from the engine go to `onEvent`. `close()` asks the engine to stop (running jobs become
 * interrupted, the store closes) and kills it if it does not within the grace period.
 */
import path from 'node:path';
import { MessageChannelMain, utilityProcess, type MessagePortMain, type UtilityProcess } from 'electron';
import type { WireError } from '../../native/engine/common/errors';
import type { EngineConnect, EngineReply, EngineRequest } from '../../native/host/engine-port';

export type Envelope = { result: unknown } | { error: WireError };

export interface EngineLinkOptions {
  /** The built utility entry (out/main/engine-host.js). */
  entry: string;
  env: NodeJS.ProcessEnv;
  tokens: Record<string, string>;
  onEvent: (name: string, data: unknown) => void;
  /** files.open (the engine checked the path is a library document): Electron's shell.openPath; '' when opened, else the error. */
  openFile: (file: string, page?: number) => Promise<string>;
  /** The engine's stdout/stderr lines and exits (it never prints a token). */
  log: (line: string) => void;
}

export interface EngineLink {
  call(method: string, input: unknown): Promise<Envelope>;
  setTokens(tokens: Record<string, string>): void;
  close(graceMs?: number): Promise<void>;
}

export function startEngine(opts: EngineLinkOptions): EngineLink {
  const child: UtilityProcess = utilityProcess.fork(opts.entry, [], { env: opts.env, serviceName: 'Tandem engine', stdio: 'pipe' });
  const { port1, port2 }: { port1: MessagePortMain; port2: MessagePortMain } = new MessageChannelMain();
  const pending = new Map<number, (e: Envelope) => void>();
  let nextId = 1;
  let exited: string | null = null;
  let closing: Promise<void> | null = null;
  let onClosed: (() => void) | null = null;

  child.stdout?.on('data', (d: Buffer) => opts.log(d.toString().trimEnd()));
  child.stderr?.on('data', (d: Buffer) => opts.log(d.toString().trimEnd()));
  child.once('exit', (code) => {
    exited = `the engine process stopped (exit code ${code})`;
    opts.log(exited);
    for (const resolve of pending.values()) resolve({ error: { code: 'INTERNAL', message: `${exited}; restart Tandem` } });
    pending.clear();
    onClosed?.();
  });

  const connect: EngineConnect = { type: 'connect', tokens: opts.tokens };
  child.postMessage(connect, [port2]);
  port1.on('message', (e) => {
    const m = e.data as EngineReply;
    if (m.type === 'result' || m.type === 'error') {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m.type === 'result' ? { result: m.result } : { error: m.error });
    } else if (m.type === 'event') opts.onEvent(m.name, m.data);
    else if (m.type === 'open-file') {
      const id = m.id;
      if (typeof m.path !== 'string' || !path.isAbsolute(m.path)) send({ type: 'opened', id, error: 'not an absolute path' });
      else
        opts.openFile(m.path, typeof m.page === 'number' && Number.isInteger(m.page) && m.page > 0 ? m.page : undefined).then(
          (error) => send({ type: 'opened', id, ...(error ? { error } : {}) }),
          (e: unknown) => send({ type: 'opened', id, error: e instanceof Error ? e.message : String(e) }),
        );
    }
    else if (m.type === 'closed') onClosed?.();
  });
  port1.start();
  const send = (m: EngineRequest) => port1.postMessage(m);

  return {
    call(method, input) {
      if (exited) return Promise.resolve({ error: { code: 'INTERNAL', message: `${exited}; restart Tandem` } });
      if (closing) return Promise.resolve({ error: { code: 'CANCELLED', message: 'Tandem is shutting down' } });
      const id = nextId++;
      return new Promise<Envelope>((resolve) => {
        pending.set(id, resolve);
        send({ type: 'call', id, method, input });
      });
    },
    setTokens(tokens) {
      if (!exited) send({ type: 'tokens', tokens });
    },
    close(graceMs = 5000) {
      if (closing) return closing;
      if (exited) return (closing = Promise.resolve());
      closing = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          opts.log(`the engine did not stop within ${graceMs} ms; killing it`);
          child.kill();
          resolve();
        }, graceMs);
        onClosed = () => {
          clearTimeout(timer);
          resolve();
        };
        send({ type: 'close' });
      });
      return closing;
    },
  };
}
