/**
 * A worker for worker-client.test.ts (not an engine worker, not in the bundles): serves a small
 * method map with serveWorker, so WorkerClient's lifecycle can be tested on a real thread.
 */
import { threadId } from 'node:worker_threads';
import { TandemError } from '../engine/common/errors.js';
import { isCancelled } from '../engine/common/rpc.js';
import { oneAtATime, serveWorker, workerHostPort } from '../engine/node/worker-serve.js';

export interface FixtureApi {
  echo(input: { text: string; steps: number }): Promise<{ text: string; thread: number }>;
  fail(input: { code: 'NOT_FOUND' }): Promise<never>;
  /** Runs until cancelled (or `ms`); answers how long it ran. */
  wait(input: { ms: number }): Promise<{ waited: number }>;
  /** An uncaught exception in the thread. */
  crash(input: null): Promise<never>;
}

const handlers = oneAtATime<FixtureApi>(
  {
    echo: ({ text, steps }, ctx) => {
      for (let i = 1; i <= steps; i++) ctx.emit('step', { i });
      return { text, thread: threadId };
    },
    fail: ({ code }) => {
      throw new TandemError(code, 'no such thing', { data: { path: '/a/b' } });
    },
    wait: async ({ ms }, ctx) => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        if (isCancelled(ctx)) throw new TandemError('CANCELLED', `stopped after ${Date.now() - t0} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return { waited: Date.now() - t0 };
    },
    crash: () => {
      setImmediate(() => {
        throw new Error('boom');
      });
      return new Promise<never>(() => {});
    },
  },
  () => new TandemError('CANCELLED', 'fixture call cancelled'),
);
serveWorker<FixtureApi>(workerHostPort('rpc-fixture-worker'), handlers, { drain: handlers.drain });
