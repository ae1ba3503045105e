/**
 * Main's side of the engine protocol (native/hosts/electron-utility/engine-port.ts), independent of how the engine
 * process was started: `linkEngine` turns calls into `{ result } | { error }` envelopes over any
 * transport. Two transports exist (see electron/README.md, "Where the engine runs"):
 * - a plain Node binary shipped with the app, forked with child_process.fork (`forkNodeEngine`,
 *   here: no Electron import, so tests run it under plain Node): the same messages travel over the
 *   child's IPC channel (advanced serialization = structured clone, as a MessagePort);
 * - Electron's utilityProcess with a MessageChannelMain port (engine-link.ts), the fallback.
 * Inference runs in the first one because Electron binaries replace malloc with Chromium's
 * PartitionAlloc, which traps (SIGTRAP) on the large aligned allocations onnxruntime makes.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WireError } from '../../native/engine/common/errors';
import type { EngineConnect, EngineReply, EngineRequest } from '../../native/hosts/electron-utility/engine-port';

export type Envelope = { result: unknown } | { error: WireError };

export interface EngineLink {
  call(method: string, input: unknown): Promise<Envelope>;
  setTokens(tokens: Record<string, string>): void;
  close(graceMs?: number): Promise<void>;
}

/** How main reaches a started engine process (the connect message has been sent). */
export interface EngineTransport {
  send(m: EngineRequest): void;
  onMessage(cb: (m: EngineReply) => void): void;
  /** The process ended: its exit code, or the signal that killed it (SIGTRAP: see README). */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  /** The engine's output (a node Readable, or Electron's utilityProcess stream): 'data' chunks. */
  stdout?: { on(event: 'data', cb: (d: Buffer) => void): unknown } | null;
  stderr?: { on(event: 'data', cb: (d: Buffer) => void): unknown } | null;
}

export interface EngineHooks {
  onEvent: (name: string, data: unknown) => void;
  /** files.open (the engine checked the path is a library document; a PDF hit's page when given): opened by main; '' when opened, else the error. */
  openFile: (file: string, page?: number) => Promise<string>;
  /** The engine's stdout/stderr lines and exits (it never prints a token). */
  log: (line: string) => void;
}

export function linkEngine(t: EngineTransport, hooks: EngineHooks): EngineLink {
  const pending = new Map<number, (e: Envelope) => void>();
  let nextId = 1;
  let exited: string | null = null;
  let closing: Promise<void> | null = null;
  let onClosed: (() => void) | null = null;

  t.stdout?.on('data', (d: Buffer) => hooks.log(d.toString().trimEnd()));
  t.stderr?.on('data', (d: Buffer) => hooks.log(d.toString().trimEnd()));
  t.onExit((code, signal) => {
    exited = signal ? `the engine process was killed by ${signal}` : `the engine process stopped (exit code ${code})`;
    hooks.log(exited);
    for (const resolve of pending.values()) resolve({ error: { code: 'INTERNAL', message: `${exited}; restart Tandem` } });
    pending.clear();
    onClosed?.();
  });
  const send = (m: EngineRequest) => t.send(m);
  t.onMessage((m) => {
    if (m.type === 'result' || m.type === 'error') {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m.type === 'result' ? { result: m.result } : { error: m.error });
    } else if (m.type === 'event') hooks.onEvent(m.name, m.data);
    else if (m.type === 'open-file') {
      const id = m.id;
      if (typeof m.path !== 'string' || !path.isAbsolute(m.path)) send({ type: 'opened', id, error: 'not an absolute path' });
      else
        hooks.openFile(m.path, typeof m.page === 'number' && Number.isInteger(m.page) && m.page > 0 ? m.page : undefined).then(
          (error) => send({ type: 'opened', id, ...(error ? { error } : {}) }),
          (e: unknown) => send({ type: 'opened', id, error: e instanceof Error ? e.message : String(e) }),
        );
    } else if (m.type === 'closed') onClosed?.();
  });

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
          hooks.log(`the engine did not stop within ${graceMs} ms; killing it`);
          t.kill();
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

/** The Node binary's file name in the app's resources (forge.config.ts `extraResource`: resources/engine-node/). */
export const ENGINE_NODE_DIR = 'engine-node';
export const engineNodeName = (platform: NodeJS.Platform = process.platform): string => (platform === 'win32' ? 'node.exe' : 'node');

/**
 * The plain Node binary the engine runs under: `TANDEM_ENGINE_NODE` when set (development: the
 * Node the addons were built for), else resources/engine-node/node[.exe] of the packaged app.
 * null when neither is a file: the caller falls back to a utilityProcess and logs why.
 */
export function resolveEngineNode(opts: { resourcesPath?: string; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): { path: string | null; why: string } {
  const explicit = opts.env?.TANDEM_ENGINE_NODE;
  if (explicit) {
    return fs.statSync(explicit, { throwIfNoEntry: false })?.isFile()
      ? { path: explicit, why: `TANDEM_ENGINE_NODE=${explicit}` }
      : { path: null, why: `TANDEM_ENGINE_NODE=${explicit} is not a file` };
  }
  if (!opts.resourcesPath) return { path: null, why: 'no bundled Node in development (set TANDEM_ENGINE_NODE to a Node binary)' };
  const file = path.join(opts.resourcesPath, ENGINE_NODE_DIR, engineNodeName(opts.platform));
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ? { path: file, why: 'the Node binary shipped with the app' } : { path: null, why: `${file} is missing` };
}

export interface ForkNodeEngineOptions extends EngineHooks {
  /** The built engine host (out/main/engine-host.js). */
  entry: string;
  /** A plain Node binary (resolveEngineNode). */
  nodePath: string;
  env: NodeJS.ProcessEnv;
  tokens: Record<string, string>;
}

/** The engine host under a plain Node binary, spoken to over the child's IPC channel. */
export function forkNodeEngine(opts: ForkNodeEngineOptions): EngineLink & { pid: number | undefined } {
  const child = fork(opts.entry, [], {
    execPath: opts.nodePath,
    // No flags inherited from Electron's main (process.execArgv would be Electron's).
    execArgv: [],
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // structured clone, like the utilityProcess's MessagePort (typed arrays, undefined, Dates)
    serialization: 'advanced',
  });
  const connect: EngineConnect = { type: 'connect', tokens: opts.tokens };
  child.send(connect);
  const link = linkEngine(
    {
      send: (m) => {
        if (child.connected) child.send(m);
      },
      onMessage: (cb) => child.on('message', (m) => cb(m as EngineReply)),
      onExit: (cb) => {
        let done = false;
        const once = (code: number | null, signal: string | null) => {
          if (!done) cb(code, signal);
          done = true;
        };
        child.once('exit', once);
        // e.g. the binary is missing or not executable: no 'exit' may follow
        child.once('error', (e) => {
          opts.log(`the engine process (${opts.nodePath}) failed: ${e.message}`);
          once(null, null);
        });
      },
      kill: () => child.kill('SIGKILL'),
      stdout: child.stdout,
      stderr: child.stderr,
    },
    opts,
  );
  return Object.assign(link, { pid: child.pid });
}
