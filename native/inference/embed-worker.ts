/**
 * Entry of the embedding process. Under Node it is a worker_threads worker; under Electron the
 * same module runs as a utilityProcess (process.parentPort). No Electron import: we only use the
 * port object the runtime hands us.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbedEngine } from './embed-engine.js';
import type { EmbedHostMessage, PortLike } from './embed-protocol.js';
import { serveEmbedEngine } from './embed-service.js';
import { RerankEngine } from './rerank-engine.js';
import { TensorRunEngine } from './tensor-run-engine.js';

interface ElectronParentPort {
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

function adaptPort(): { port: PortLike; env: NodeJS.ProcessEnv; close: () => void } {
  if (parentPort) {
    const p = parentPort;
    const data = (workerData ?? {}) as { env?: NodeJS.ProcessEnv };
    return {
      env: { ...process.env, ...(data.env ?? {}) },
      port: {
        post: (msg, transfer) => p.postMessage(msg, transfer ?? []),
        onMessage: (cb) => p.on('message', (m: EmbedHostMessage) => cb(m)),
      },
      close: () => p.close(),
    };
  }
  const ep = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (!ep) throw new Error('embed-worker must run as a worker thread or an Electron utilityProcess');
  return {
    env: process.env,
    port: {
      post: (msg) => ep.postMessage(msg),
      onMessage: (cb) => ep.on('message', (e) => cb(e.data as EmbedHostMessage)),
    },
    close: () => process.exit(0),
  };
}

const { port, env, close } = adaptPort();
serveEmbedEngine(port, new EmbedEngine(env), close, { rerank: new RerankEngine(env), tensors: new TensorRunEngine() });
