/**
 * Entry of the generation process. Under Node it is a worker_threads worker; under Electron the
 * same module runs as a utilityProcess (engine/node/host-port.ts).
 */
import { hostPort } from '../node/host-port.js';
import { GenerateEngine } from './generate-engine.js';
import type { GenerateHostMessage, GenerateWorkerMessage } from './generate-protocol.js';
import { serveGenerateEngine } from './generate-service.js';

const { port, env, close } = hostPort<GenerateHostMessage, GenerateWorkerMessage>('generate-worker');
serveGenerateEngine(port, new GenerateEngine(env), close);
