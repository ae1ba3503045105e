import { parentPort, workerData } from 'node:worker_threads';

/**
 * The messages an engine process exchanges with its host. Results are copied (structured clone),
 * never transferred: detaching an ArrayBuffer invalidates V8's "no buffer was ever detached"
 * protector for the whole isolate, and from then on its optimized code checks every typed-array
 * access. Static pooling ran ~40% slower in the embedding worker after its first transferred
 * result (138 -> 195 ms per 7,640 chunks); copying costs about 0.5 ms per MB (an 11.7 MB
 * Float32Array posted and received through a MessagePort: 5.4 ms).
 */
export interface HostPort<In, Out> {
  post(msg: Out): void;
  onMessage(cb: (msg: In) => void): void;
}

interface ElectronParentPort {
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

/**
 * The host of an engine process: under Node a worker_threads parent (env from `workerData.env`
 * over this process's), under Electron a utilityProcess's `process.parentPort` (no Electron
 * import: only the port object the runtime hands us). `close` lets the process end.
 */
export function hostPort<In, Out>(entry: string): { port: HostPort<In, Out>; env: NodeJS.ProcessEnv; close: () => void } {
  if (parentPort) {
    const p = parentPort;
    const data = (workerData ?? {}) as { env?: NodeJS.ProcessEnv };
    return {
      env: { ...process.env, ...(data.env ?? {}) },
      port: {
        post: (msg) => p.postMessage(msg),
        onMessage: (cb) => p.on('message', (m: In) => cb(m)),
      },
      close: () => p.close(),
    };
  }
  const ep = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (!ep) throw new Error(`${entry} must run as a worker thread or an Electron utilityProcess`);
  return {
    env: process.env,
    port: {
      post: (msg) => ep.postMessage(msg),
      onMessage: (cb) => ep.on('message', (e) => cb(e.data as In)),
    },
    close: () => process.exit(0),
  };
}
