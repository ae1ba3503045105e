/**
 * Main's side of the engine (native/hosts/electron-utility/engine-port.ts), over the RPC layer
 * (native/engine/common/rpc.ts), independent of how the engine process was started. `linkEngine`
 * holds main's channel: main's own calls (`call` -> `{ result } | { error }` envelopes), the
 * control methods (`engine.tokens`, `engine.close`) and main's `host.openFile` for the engine.
 * A renderer gets its own channel (`connectRenderer`), which main does not read: see
 * electron/README.md, "The renderer's channel". Two transports exist ("Where the engine runs"):
 * - a plain Node binary shipped with the app, forked with child_process.fork (`forkNodeEngine`,
 *   here: no Electron import, so tests run it under plain Node): main's channel is the child's IPC
 *   channel (advanced serialization = structured clone, as a MessagePort); renderer channels are
 *   multiplexed on it (rpc-mux.ts), their messages relayed untouched;
 * - Electron's utilityProcess with MessageChannelMain ports (engine-link.ts), the fallback: a
 *   renderer's port is transferred to the engine, main steps out entirely.
 * Inference runs in the first one because Electron binaries replace malloc with Chromium's
 * PartitionAlloc, which traps (SIGTRAP) on the large aligned allocations onnxruntime makes.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiEvents } from '../../native/engine/common/api-contract';
import { toWire, TandemError, type WireError } from '../../native/engine/common/errors';
import { createMux } from '../../native/engine/common/rpc-mux';
import { createClient, serve, type PortLike, type RpcMessage } from '../../native/engine/common/rpc';
import type { EngineConnect, EngineMainApi, MainHost, PortMainShape } from '../../native/hosts/electron-utility/engine-port';

export type Envelope = { result: unknown } | { error: WireError };

export interface EngineLink {
  /** One call on main's channel (menu actions): never rejects. */
  call(method: string, input: unknown): Promise<Envelope>;
  /** Hand a renderer's port (its other end is the page's) to the engine: it serves the contract on it. */
  connectRenderer(port: PortMainShape): void;
  setTokens(tokens: Record<string, string>): void;
  close(graceMs?: number): Promise<void>;
}

/** How main reaches a started engine process (the connect message has been sent). */
export interface EngineTransport {
  /** main's channel. */
  main: PortLike;
  /** Give the engine a renderer's port (transfer it, or relay it over a multiplexed channel). */
  connectRenderer(port: PortMainShape): void;
  /** The process ended: its exit code, or the signal that killed it (SIGTRAP: see README). */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  /** The engine's output (a node Readable, or Electron's utilityProcess stream): 'data' chunks. */
  stdout?: { on(event: 'data', cb: (d: Buffer) => void): unknown } | null;
  stderr?: { on(event: 'data', cb: (d: Buffer) => void): unknown } | null;
}

export interface EngineHooks {
  /** Events on main's channel (main itself needs none; tests watch jobs with it). */
  onEvent?: (name: string, data: unknown) => void;
  /** The engine stopped: pages' channels end with this error (engine-link.ts tells them). */
  onEnded?: (error: WireError) => void;
  /** files.open (the engine checked the path is a library document; a PDF hit's page when given): opened by main; '' when opened, else the error. */
  openFile: (file: string, page?: number) => Promise<string>;
  /** The engine's stdout/stderr lines and exits (it never prints a token). */
  log: (line: string) => void;
}

export function linkEngine(t: EngineTransport, hooks: EngineHooks): EngineLink {
  let exited: TandemError | null = null;
  let closing: Promise<void> | null = null;

  t.stdout?.on('data', (d: Buffer) => hooks.log(d.toString().trimEnd()));
  t.stderr?.on('data', (d: Buffer) => hooks.log(d.toString().trimEnd()));
  const client = createClient<EngineMainApi, ApiEvents>(t.main);
  if (hooks.onEvent) client.onAny(hooks.onEvent);
  serve<MainHost>(
    {
      'host.openFile': async ({ path: file, page }) => {
        if (typeof file !== 'string' || !path.isAbsolute(file)) return { error: 'not an absolute path' };
        try {
          const error = await hooks.openFile(file, typeof page === 'number' && Number.isInteger(page) && page > 0 ? page : undefined);
          return { error: error || null };
        } catch (e) {
          return { error: e instanceof Error ? e.message : String(e) };
        }
      },
    },
    t.main,
  );
  t.onExit((code, signal) => {
    const what = signal ? `the engine process was killed by ${signal}` : `the engine process stopped (exit code ${code})`;
    hooks.log(what);
    exited = new TandemError('INTERNAL', `${what}; restart Tandem`);
    client.close(toWire(exited));
    hooks.onEnded?.(toWire(exited));
  });

  return {
    call(method, input) {
      if (exited) return Promise.resolve({ error: toWire(exited) });
      if (closing) return Promise.resolve({ error: { code: 'CANCELLED', message: 'Tandem is shutting down' } });
      return (client.call as (m: string, i: unknown) => Promise<unknown>)(method, input).then(
        (result) => ({ result }),
        (e: unknown) => ({ error: toWire(e) }),
      );
    },
    connectRenderer(port) {
      if (exited) {
        port.postMessage({ rpc: 'end', error: toWire(exited) } satisfies RpcMessage);
        return;
      }
      t.connectRenderer(port);
    },
    setTokens(tokens) {
      if (!exited) client.call('engine.tokens', { tokens }).catch(() => {});
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
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        // answered once the store is closed; rejected if the process exits first
        client.call('engine.close', {}).then(done, done);
      });
      return closing;
    },
  };
}

/**
 * A renderer's port relayed over a multiplexed channel of main's transport to the engine: the
 * messages pass through as they are (main reads none of them); the page going away ends the channel.
 */
export function relayRendererPort(open: () => PortLike, port: PortMainShape): void {
  const ch = open();
  ch.onMessage((m) => port.postMessage(m));
  ch.onClose?.((reason) => {
    if (reason) port.postMessage({ rpc: 'end', error: reason } satisfies RpcMessage);
  });
  port.on('message', (e) => ch.post(e.data as RpcMessage));
  port.on('close', () => ch.close?.());
  port.start();
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
  const mux = createMux({
    post: (m) => {
      if (child.connected) child.send(m as EngineConnect);
    },
    onMessage: (cb) => {
      const f = (m: unknown) => cb(m);
      child.on('message', f);
      return () => void child.off('message', f);
    },
  });
  let nextChannel = 1;
  const link = linkEngine(
    {
      main: mux.main,
      connectRenderer: (port) => relayRendererPort(() => mux.open(nextChannel++), port),
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
