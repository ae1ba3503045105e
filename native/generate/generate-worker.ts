/**
 * Entry of the generation process. Under Node it is a worker_threads worker; under Electron the
 * same module runs as a utilityProcess (process.parentPort). No Electron import: we only use the
 * port object the runtime hands us.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GenerateEngine } from './generate-engine.js';
import type { GenerateHostMessage, GeneratePort } from './generate-protocol.js';
import { serveGenerateEngine } from './generate-service.js';

interface ElectronParentPort {
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

function adaptPort(): { port: GeneratePort; env: NodeJS.ProcessEnv; close: () => void } {
  if (parentPort) {
    const p = parentPort;
    const data = (workerData ?? {}) as { env?: NodeJS.ProcessEnv };
    return {
      env: { ...process.env, ...(data.env ?? {}) },
      port: {
        post: (msg) => p.postMessage(msg),
        onMessage: (cb) => p.on('message', (m: GenerateHostMessage) => cb(m)),
      },
      close: () => p.close(),
    };
  }
  const ep = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (!ep) throw new Error('generate-worker must run as a worker thread or an Electron utilityProcess');
  return {
    env: process.env,
    port: {
      post: (msg) => ep.postMessage(msg),
      onMessage: (cb) => ep.on('message', (e) => cb(e.data as GenerateHostMessage)),
    },
    close: () => process.exit(0),
  };
}

const { port, env, close } = adaptPort();
serveGenerateEngine(port, new GenerateEngine(env), close);
