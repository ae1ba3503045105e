// Stands in for Electron's utilityProcess so the built engine host (out/main/engine-host.js) runs
// under plain Node: `node --import ./electron/parent-port-shim.mjs out/main/engine-host.js`, started
// by electron/desktop-bundle.test.ts with an IPC channel. Used by that test only.
//
// - `process.parentPort`: an EventEmitter with postMessage whose 'message' events carry
//   { data, ports }, as Electron's. Once the engine listens, it gets `connect` with one end of a
//   node:worker_threads MessageChannel wrapped as a MessagePortMain (on('message', e => e.data), start).
// - main's end of that channel is relayed over the IPC channel: what the test sends goes to the
//   engine, what the engine posts comes back as { type: 'engine', msg }.
// - every worker thread the engine starts is reported as { type: 'worker', file } (node:worker_threads'
//   Worker is wrapped before the bundle imports it), so the test sees which files of out/main ran.
import { EventEmitter } from 'node:events';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const wt = require('node:worker_threads');

// `--import` also runs in every worker thread the engine starts: the shim belongs to the engine's
// main thread only (a MessageChannel listening in a worker would keep that worker alive for good).
if (wt.isMainThread) install();

function install() {
  const send = (m) => process.send?.(m);

  const NodeWorker = wt.Worker;
  wt.Worker = class ReportedWorker extends NodeWorker {
    constructor(file, options) {
      super(file, options);
      send({ type: 'worker', file: String(file) });
    }
  };
  syncBuiltinESMExports();

  const { port1, port2 } = new wt.MessageChannel();
  const portMain = {
    on(event, cb) {
      port2.on(event, (data) => cb({ data, ports: [] }));
      return portMain;
    },
    postMessage: (msg) => port2.postMessage(msg),
    start: () => port2.start(),
    close: () => port2.close(),
  };

  const parentPort = new EventEmitter();
  parentPort.postMessage = (msg) => send({ type: 'parent', msg });
  let connected = false;
  parentPort.on('newListener', (event) => {
    if (event !== 'message' || connected) return;
    connected = true;
    setImmediate(() => parentPort.emit('message', { data: { type: 'connect', tokens: {} }, ports: [portMain] }));
  });
  Object.defineProperty(process, 'parentPort', { value: parentPort, configurable: true });

  port1.on('message', (msg) => send({ type: 'engine', msg }));
  process.on('message', (msg) => port1.postMessage(msg));
}
