/**
 * The engine host of the desktop app, plain Node, no Electron import. Started by
 * electron/main/engine-link.ts either under the plain Node binary shipped with the app
 * (child_process.fork: messages over the IPC channel, `connect` first with the cloud tokens) or,
 * where none is, in Electron's utilityProcess (`connect` on `process.parentPort` carrying a
 * MessagePort). Tokens come from the OS keychain, held by main, never logged. It serves the API
 * service (engine-port.ts) until main sends `close`: running jobs are recorded as interrupted, the
 * store is closed, the process exits.
 */
import { createEngine } from '../../engine/api/create-engine.js';
import { describeError } from '../../engine/common/errors.js';
import { mainOpener, parseTokens, serveEngine, type EngineReply } from './engine-port.js';

/** What this module uses of Electron's MessagePortMain (typed here: the engine never imports electron). */
interface PortMain {
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
  start(): void;
}

interface ParentPort {
  on(event: 'message', cb: (e: { data: unknown; ports: PortMain[] }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort && !process.send) {
  process.stderr.write('tandem engine: utility-entry runs inside the desktop app (forked by it with an IPC channel, or as an Electron utilityProcess); use `tandem serve` for a headless host\n');
  process.exit(2);
}

let started = false;
if (parentPort) {
  parentPort.on('message', (e) => {
    const msg = e.data as { type?: unknown; tokens?: unknown } | null;
    const port = e.ports[0];
    if (started || msg?.type !== 'connect' || !port) return;
    started = true;
    serve(msg.tokens, { post: (m) => port.postMessage(m), onMessage: (cb) => port.on('message', (ev) => cb(ev.data)) }, () => setImmediate(() => process.exit(0)));
    port.start();
  });
} else {
  // A plain Node child (electron/main/engine-channel.ts forkNodeEngine): the same messages over the
  // IPC channel, `connect` first (no port). The last reply (`closed`) is flushed before exiting.
  let flushed: Promise<void> = Promise.resolve();
  const post = (m: EngineReply): void => {
    flushed = new Promise((resolve) => {
      if (!process.connected) return resolve();
      process.send!(m, undefined, undefined, () => resolve());
    });
  };
  const onMessage = (cb: (msg: unknown) => void): void => {
    process.on('message', (m) => cb(m));
  };
  process.on('message', (m: { type?: unknown; tokens?: unknown } | null) => {
    if (started || m?.type !== 'connect') return;
    started = true;
    serve(m.tokens, { post, onMessage }, () => void flushed.then(() => process.exit(0)));
  });
  // main went away without `close` (crashed or killed): nothing can reach this engine any more.
  process.on('disconnect', () => process.exit(0));
}

function serve(rawTokens: unknown, port: { post: (m: EngineReply) => void; onMessage: (cb: (msg: unknown) => void) => void }, exit: () => void): void {
  let tokens = parseTokens(rawTokens);
  const post = port.post;
  // files.open: main opens the file with shell.openPath (never a shell command line)
  const opener = mainOpener(post);
  const service = createEngine({
    env: process.env,
    host: 'electron',
    openFile: opener.open,
    // Keychain tokens first, then the environment (the profile names the variable).
    cloud: { tokens: (_backend, _profile, envVar) => tokens[envVar] ?? process.env[envVar] },
    onError: (err) => {
      if (process.env.TANDEM_DEBUG) process.stderr.write(`tandem engine: ${describeError(err)}\n`);
    },
  });
  serveEngine(
    service,
    { post, onMessage: port.onMessage },
    {
      onTokens: (t) => (tokens = t),
      onOpened: opener.settle,
      // Worker threads of an interrupted job must not keep the process alive.
      onClosed: exit,
    },
  );
}
