/**
 * Entry of the embedding process: serves EmbedWorkerApi (embed-service.ts). Under Node it is a
 * worker_threads worker; under Electron the same module can run as a utilityProcess
 * (engine/node/worker-serve.ts).
 */
import { workerHostPort } from '../node/worker-serve.js';
import { EmbedEngine } from './embed-engine.js';
import { serveEmbedEngine } from './embed-service.js';
import { RerankEngine } from './rerank-engine.js';
import { TensorRunEngine } from './tensor-run-engine.js';

const host = workerHostPort('embed-worker');
serveEmbedEngine(host, new EmbedEngine(host.env), { rerank: new RerankEngine(host.env), tensors: new TensorRunEngine() });
