/**
 * Entry of the embedding process. Under Node it is a worker_threads worker; under Electron the
 * same module runs as a utilityProcess (engine/node/host-port.ts).
 */
import { hostPort } from '../node/host-port.js';
import { EmbedEngine } from './embed-engine.js';
import type { EmbedHostMessage, EmbedWorkerMessage } from './embed-protocol.js';
import { serveEmbedEngine } from './embed-service.js';
import { RerankEngine } from './rerank-engine.js';
import { TensorRunEngine } from './tensor-run-engine.js';

const { port, env, close } = hostPort<EmbedHostMessage, EmbedWorkerMessage>('embed-worker');
serveEmbedEngine(port, new EmbedEngine(env), close, { rerank: new RerankEngine(env), tensors: new TensorRunEngine() });
