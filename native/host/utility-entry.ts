/**
 * The engine host of the desktop app: runs in Electron's utilityProcess (forked by
 * electron/main/engine-link.ts), plain Node, no Electron import. It waits for a `connect` message
 * on `process.parentPort` carrying a MessagePort and the cloud tokens (from the OS keychain, held
 * by main; never logged), then serves the API service on that port (engine-port.ts) until main
 * sends `close`: running jobs are recorded as interrupted, the store is closed, the process exits.
 */
import { createApiService } from '../api/api-service.js';
import { describeError } from '../engine/common/errors.js';
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
if (!parentPort) {
  process.stderr.write('tandem engine: utility-entry runs inside the desktop app (an Electron utilityProcess); use `tandem serve` for a headless host\n');
  process.exit(2);
}

let started = false;
parentPort.on('message', (e) => {
  const msg = e.data as { type?: unknown; tokens?: unknown } | null;
  const port = e.ports[0];
  if (started || msg?.type !== 'connect' || !port) return;
  started = true;
  let tokens = parseTokens(msg.tokens);
  const post = (m: EngineReply) => port.postMessage(m);
  // files.open: main opens the file with shell.openPath (never a shell command line)
  const opener = mainOpener(post);
  const service = createApiService({
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
    { post, onMessage: (cb) => port.on('message', (ev) => cb(ev.data)) },
    {
      onTokens: (t) => (tokens = t),
      onOpened: opener.settle,
      // Worker threads of an interrupted job must not keep the process alive.
      onClosed: () => setImmediate(() => process.exit(0)),
    },
  );
  port.start();
});
