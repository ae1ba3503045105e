import { Worker } from 'node:worker_threads';

/**
 * onnxruntime-node needs a larger native stack than a worker thread's default 4 MB (session
 * creation recurses deeply; see native/cli/bin.ts). 16 MB is what tests and benchmarks run with.
 */
const WORKER_LIMITS = { stackSizeMb: 16 };

/**
 * Start the worker module `name` that sits next to the caller (`callerUrl` = its import.meta.url):
 * `name.js` in the bundle, `name.ts` from sources. Node 20 does not pass tsx's loader hooks to
 * workers, so from sources a tiny bootstrap registers them before importing the entry.
 */
export function spawnWorker(name: string, callerUrl: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), { workerData, resourceLimits: WORKER_LIMITS });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits: WORKER_LIMITS });
}
