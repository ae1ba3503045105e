import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TandemError } from '../common/errors.js';
import type { FixtureApi } from '../../testing/rpc-fixture-worker.js';
import { WorkerClient } from './worker-client.js';

// spawnWorker finds `./rpc-fixture-worker.ts` next to this URL
const from = new URL('../../testing/rpc-fixture-worker.ts', import.meta.url).href;
const spec = { entry: 'rpc-fixture-worker', from, noun: 'fixture', cancelled: () => new TandemError('CANCELLED', 'fixture call cancelled') };
const client = new WorkerClient<FixtureApi>(spec);
after(() => client.close());

test('a call runs in the worker: its output, its progress events, its errors with code and data', async () => {
  const steps: unknown[] = [];
  const r = await client.call('echo', { text: 'hi', steps: 3 }, { onEvent: (name, p) => steps.push([name, p]) });
  assert.equal(r.text, 'hi');
  assert.notEqual(r.thread, 0, 'ran in a worker thread');
  assert.deepEqual(steps, [['step', { i: 1 }], ['step', { i: 2 }], ['step', { i: 3 }]]);
  await assert.rejects(client.call('fail', { code: 'NOT_FOUND' }), (e: unknown) => e instanceof TandemError && e.code === 'NOT_FOUND' && e.message === 'no such thing' && e.data?.path === '/a/b');
});

test('a signal cancels a running call with the worker\'s own answer; one aborted before is not sent', async () => {
  const ac = new AbortController();
  const p = client.call('wait', { ms: 30_000 }, { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (e: unknown) => e instanceof TandemError && e.code === 'CANCELLED' && /^stopped after \d+ ms$/.test(e.message));
  await assert.rejects(client.call('echo', { text: 'x', steps: 0 }, { signal: AbortSignal.abort() }), { code: 'CANCELLED', message: 'fixture call cancelled' });
  assert.equal((await client.call('echo', { text: 'after', steps: 0 })).text, 'after', 'the worker serves the next call');
});

test('calls queued behind a running one run in order; a queued call cancelled never runs', async () => {
  const ac = new AbortController();
  const first = client.call('wait', { ms: 100 });
  const second = client.call('wait', { ms: 30_000 }, { signal: ac.signal });
  const third = client.call('echo', { text: 'third', steps: 0 });
  ac.abort();
  assert.ok((await first).waited >= 100);
  await assert.rejects(second, { code: 'CANCELLED', message: 'fixture call cancelled' });
  assert.equal((await third).text, 'third');
});

test('a worker that dies fails its calls INTERNAL naming the crash; the next call gets a fresh thread', async () => {
  const before = (await client.call('echo', { text: '', steps: 0 })).thread;
  await assert.rejects(client.call('crash', null), (e: unknown) => e instanceof TandemError && e.code === 'INTERNAL' && e.message === 'fixture worker crashed: boom' && (e.cause as Error).message === 'boom');
  const afterCrash = (await client.call('echo', { text: 'again', steps: 0 })).thread;
  assert.notEqual(afterCrash, before, 'a new thread');
});

test('close() cancels running calls, the thread exits by itself (well inside the 10 s grace), and a later call starts a new one', async () => {
  const c = new WorkerClient<FixtureApi>(spec);
  const t = (await c.call('echo', { text: '', steps: 0 })).thread;
  const running = c.call('wait', { ms: 30_000 });
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await c.close();
  assert.ok(Date.now() - t0 < 5000, `close took ${Date.now() - t0} ms`);
  await assert.rejects(running, { code: 'CANCELLED', message: 'fixture client closed' });
  assert.notEqual((await c.call('echo', { text: '', steps: 0 })).thread, t);
  await c.close();
});
