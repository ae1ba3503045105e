/**
 * Entry of the generation process: serves GenerateWorkerApi (generate-service.ts). Under Node it
 * is a worker_threads worker; under Electron the same module can run as a utilityProcess
 * (engine/node/worker-serve.ts).
 */
import { serveWorker, workerHostPort } from '../node/worker-serve.js';
import { GenerateEngine } from './generate-engine.js';
import type { GenerateWorkerApi } from './generate-protocol.js';
import { generateHandlers } from './generate-service.js';

const host = workerHostPort('generate-worker');
const engine = new GenerateEngine(host.env);
const handlers = generateHandlers(engine);
serveWorker<GenerateWorkerApi>(host, handlers, { drain: handlers.drain, dispose: () => engine.dispose() });
