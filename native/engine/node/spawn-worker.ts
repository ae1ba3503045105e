import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * onnxruntime-node needs a larger native stack than a worker thread's default 4 MB (session
 * creation recurses deeply; see native/hosts/cli/bin.ts). Every engine worker gets 16 MB.
 */
const WORKER_LIMITS = { stackSizeMb: 16 };

/**
 * Start the worker module `name` that sits next to the caller (`callerUrl` = its import.meta.url):
 * `name.js` in a bundle (the bundle needs `name` as an entry point), `name.ts` from sources.
 * Node 20 does not pass tsx's loader hooks to workers, so from sources a tiny bootstrap registers
 * them before importing the entry.
 */
export function spawnWorker(name: string, callerUrl: string, opts: WorkerOptions = {}): Worker {
  const options: WorkerOptions = { ...opts, resourceLimits: { ...WORKER_LIMITS, ...opts.resourceLimits } };
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
