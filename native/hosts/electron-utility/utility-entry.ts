/**
 * The engine host of the desktop app, plain Node, no Electron import. Started by
 * electron/main/engine-link.ts either under the plain Node binary shipped with the app
 * (child_process.fork: RPC over the IPC channel, `connect` first with the cloud tokens; main's
 * channel is the bare messages, each renderer's a multiplexed channel, rpc-mux.ts) or, where none
 * is, in Electron's utilityProcess (`connect` on `process.parentPort` carrying main's MessagePort,
 * then `api-port` messages each carrying a renderer's MessagePort). Tokens come from the OS keychain,
 * held by main, never logged. It serves the API service (engine-port.ts) until main calls
 * `engine.close`: running jobs are recorded as interrupted, the store is closed, the process exits.
 */
import { createEngine } from '../../engine/index.js';
import { describeError } from '../../engine/common/errors.js';
import { createMux } from '../../engine/common/rpc-mux.js';
import type { PortLike } from '../../engine/common/rpc.js';
import { messagePortMainLike, type PortMainShape } from '../../engine/common/rpc-port-main.js';
import { mainHost, mainOpener, parseTokens, serveEngine, serveRenderer } from './engine-port.js';

interface ParentPort {
  on(event: 'message', cb: (e: { data: unknown; ports: PortMainShape[] }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort && !process.send) {
  process.stderr.write('tandem engine: utility-entry runs inside the desktop app (forked by it with an IPC channel, or as an Electron utilityProcess); use `tandem serve` for a headless host\n');
  process.exit(2);
}

type Engine = ReturnType<typeof start>;
let engine: Engine | undefined;

if (parentPort) {
  parentPort.on('message', (e) => {
    const msg = e.data as { type?: unknown; tokens?: unknown } | null;
    const port = e.ports[0];
    if (!port) return;
    if (!engine && msg?.type === 'connect') {
      engine = start(msg.tokens, messagePortMainLike(port), () => setImmediate(() => process.exit(0)));
      port.start();
    } else if (engine && msg?.type === 'api-port') {
      engine.renderer(messagePortMainLike(port));
      port.start();
    }
  });
} else {
  // A plain Node child (electron/main/engine-channel.ts forkNodeEngine): the same RPC over the IPC
  // channel, `connect` first. The last answer (to engine.close) is flushed before exiting.
  let flushed: Promise<void> = Promise.resolve();
  const mux = createMux({
    post: (m) => {
      flushed = new Promise((resolve) => {
        if (!process.connected) return resolve();
        process.send!(m, undefined, undefined, () => resolve());
      });
    },
    onMessage: (cb) => {
      const f = (m: unknown) => cb(m);
      process.on('message', f);
      return () => void process.off('message', f);
    },
  });
  const offConnect = mux.main.onMessage((m) => {
    const msg = m as { type?: unknown; tokens?: unknown } | null;
    if (engine || msg?.type !== 'connect') return;
    offConnect();
    const e = start(msg.tokens, mux.main, () => void flushed.then(() => process.exit(0)));
    engine = e;
    mux.onOpen((_n, port) => e.renderer(port));
  });
  // main went away without `engine.close` (crashed or killed): nothing can reach this engine any more.
  process.on('disconnect', () => process.exit(0));
}

function start(rawTokens: unknown, main: PortLike, exit: () => void) {
  let tokens = parseTokens(rawTokens);
  // files.open: main opens the file with shell.openPath (never a shell command line)
  const host = mainHost(main);
  const service = createEngine({
    env: process.env,
    host: 'electron',
    openFile: mainOpener(host),
    // Keychain tokens first, then the environment (the profile names the variable).
    cloud: { tokens: (_backend, _profile, envVar) => tokens[envVar] ?? process.env[envVar] },
    onError: (err) => {
      if (process.env.TANDEM_DEBUG) process.stderr.write(`tandem engine: ${describeError(err)}\n`);
    },
  });
  serveEngine(service, main, {
    onTokens: (t) => (tokens = t),
    // Worker threads of an interrupted job must not keep the process alive.
    onClosed: exit,
  });
  return { renderer: (port: PortLike) => serveRenderer(service, port) };
}
