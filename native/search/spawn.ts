import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start the worker module `name` that sits beside this file: `name.js` when bundled, `name.ts`
 * from sources. Node 20 does not pass tsx's loader hooks to workers, so from sources a tiny
 * bootstrap registers them before importing the entry. (The bundle needs `name` as an entry point.)
 */
export function spawnSearchWorker(name: string, opts: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), opts);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { ...opts, eval: true });
}
