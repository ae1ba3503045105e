import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { messagePortLike } from './rpc-ports.js';
import { TandemError, type TandemError as TE } from '../common/errors.js';
import { createClient, isRpcMessage, serve, type CallContext, type RpcMessage } from '../common/rpc.js';

/** A small typed method map, as TandemApi is one (api-contract.ts). */
interface DemoApi {
  add(input: { a: number; b: number }): Promise<{ sum: number }>;
  fail(input: { code: 'NOT_FOUND' | 'INVALID_ARGUMENT' }): Promise<never>;
  crash(input: Record<string, never>): Promise<never>;
  slow(input: { steps: number }): Promise<{ done: number }>;
  bytes(input: { n: number }): Promise<Float32Array>;
}
interface DemoEvents {
  tick: { n: number };
}

function demoHandlers(seen: { aborted: number; started: Array<() => void> }) {
  return {
    add: async ({ a, b }: { a: number; b: number }) => ({ sum: a + b }),
    fail: async ({ code }: { code: 'NOT_FOUND' | 'INVALID_ARGUMENT' }) => {
      throw new TandemError(code, `failed with ${code}`, { data: { path: '/x/y', n: 3 } });
    },
    crash: async () => {
      throw new RangeError('plain error');
    },
    slow: ({ steps }: { steps: number }, ctx: CallContext) =>
      new Promise<{ done: number }>((resolve, reject) => {
        let done = 0;
        for (const s of seen.started.splice(0)) s();
        const timer = setInterval(() => {
          done++;
          ctx.emit('step', { done });
          if (done === steps) {
            clearInterval(timer);
            resolve({ done });
          }
        }, 5);
        ctx.signal.addEventListener('abort', () => {
          seen.aborted++;
          clearInterval(timer);
          reject(new TandemError('CANCELLED', `stopped after ${done}`));
        });
      }),
    bytes: async ({ n }: { n: number }) => Float32Array.from({ length: n }, (_, i) => i / 2),
    notAMethod: 42,
  };
}

function setup(t: { after(fn: () => void): void }, clientOpts = {}) {
  const { port1, port2 } = new MessageChannel();
  const seen = { aborted: 0, started: [] as Array<() => void> };
  const emitters = new Set<(name: string, payload: unknown) => void>();
  const server = serve(demoHandlers(seen), messagePortLike(port2), {
    events: (emit) => {
      emitters.add(emit);
      return () => emitters.delete(emit);
    },
  });
  const client = createClient<DemoApi, DemoEvents>(messagePortLike(port1), clientOpts);
  t.after(() => {
    port1.close();
    port2.close();
  });
  const broadcast = (name: string, payload: unknown) => {
    for (const e of emitters) e(name, payload);
  };
  const started = () => new Promise<void>((resolve) => seen.started.push(resolve));
  return { client, server, seen, broadcast, started, port1, port2, emitters };
}

test('typed calls over a MessageChannel: outputs by id, by name or through client.api, typed arrays cloned', async (t) => {
  const { client } = setup(t);
  const [a, b] = await Promise.all([client.call('add', { a: 2, b: 3 }), client.api.add({ a: 10, b: -4 })]);
  assert.deepEqual(a, { sum: 5 }, 'call(method, input)');
  assert.deepEqual(b, { sum: 6 }, 'api[method](input), answered by its own id');
  const f = await client.call('bytes', { n: 4 });
  assert.ok(f instanceof Float32Array, 'a Float32Array survives the structured clone');
  assert.deepEqual([...f], [0, 0.5, 1, 1.5]);
  assert.equal(client.pending(), 0, 'nothing left waiting');
});

test('errors keep code, message and data; plain errors become INTERNAL; unknown and prototype names are NOT_FOUND', async (t) => {
  const { client } = setup(t);
  await assert.rejects(client.call('fail', { code: 'NOT_FOUND' }), (e: TE) => {
    assert.ok(e instanceof TandemError, 'a TandemError on the client side');
    assert.equal(e.code, 'NOT_FOUND');
    assert.equal(e.message, 'failed with NOT_FOUND');
    assert.deepEqual(e.data, { path: '/x/y', n: 3 }, 'details (data) survive');
    return true;
  });
  await assert.rejects(client.call('crash', {}), (e: TE) => e.code === 'INTERNAL' && e.message === 'plain error');
  const untyped = client.call as (m: string, i: unknown) => Promise<unknown>;
  for (const m of ['nope', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'notAMethod']) {
    await assert.rejects(untyped(m, {}), (e: TE) => e.code === 'NOT_FOUND' && e.message.includes(JSON.stringify(m)), `${m} is not a method`);
  }
});

test('broadcast events reach on/onAny subscribers; per-call events reach only that call', async (t) => {
  const { client, broadcast } = setup(t);
  const ticks: unknown[] = [];
  const any: string[] = [];
  const off = client.on('tick', (p) => ticks.push(p.n));
  client.onAny((name) => any.push(name));
  broadcast('tick', { n: 1 });
  broadcast('other', { x: 1 });
  const steps: unknown[] = [];
  const out = await client.call('slow', { steps: 3 }, { onEvent: (name, payload) => steps.push([name, payload]) });
  assert.deepEqual(out, { done: 3 });
  assert.deepEqual(steps, [['step', { done: 1 }], ['step', { done: 2 }], ['step', { done: 3 }]], 'progress in order, before the result');
  off();
  broadcast('tick', { n: 2 });
  await client.call('add', { a: 0, b: 0 }); // a round trip: the event above has arrived
  assert.deepEqual(ticks, [1], 'unsubscribed after the first');
  assert.deepEqual(any, ['tick', 'other', 'tick'], 'onAny sees every broadcast, no per-call progress');
});

test('cancel: the abort reaches the handler signal, the call rejects CANCELLED at once (or with the server answer when awaited)', async (t) => {
  const { client, seen, started } = setup(t);
  const ac = new AbortController();
  const s = started();
  const p = client.call('slow', { steps: 1000 }, { signal: ac.signal });
  await s;
  ac.abort();
  await assert.rejects(p, (e: TE) => e.code === 'CANCELLED' && /slow: cancelled/.test(e.message));
  await client.call('add', { a: 1, b: 1 });
  assert.equal(seen.aborted, 1, 'the handler saw its signal abort');
  await assert.rejects(client.call('add', { a: 1, b: 1 }, { signal: AbortSignal.abort() }), (e: TE) => e.code === 'CANCELLED', 'an aborted signal never sends');

  const awaiting = setup(t, { awaitCancelled: true });
  const ac2 = new AbortController();
  const s2 = awaiting.started();
  const p2 = awaiting.client.call('slow', { steps: 1000 }, { signal: ac2.signal });
  await s2;
  ac2.abort();
  await assert.rejects(p2, (e: TE) => e.code === 'CANCELLED' && /stopped after \d+/.test(e.message), 'the server answer, once it stopped');
});

test('a closed port rejects pending and later calls; the server aborts running handlers and stops', async (t) => {
  const { client, seen, started, port1, emitters } = setup(t);
  const s = started();
  const p = client.call('slow', { steps: 1000 });
  await s;
  port1.close();
  await assert.rejects(p, (e: TE) => e.code === 'INTERNAL' && /connection to the engine closed/.test(e.message));
  await assert.rejects(client.call('add', { a: 1, b: 2 }), (e: TE) => e.code === 'INTERNAL', 'later calls too');
  for (let i = 0; i < 50 && seen.aborted === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.aborted, 1, 'the running handler was aborted on the server side');
  assert.equal(emitters.size, 0, 'the server unsubscribed from events');

  const { client: c2, port2 } = setup(t);
  const pending = c2.call('slow', { steps: 1000 });
  port2.postMessage({ rpc: 'end', error: { code: 'CANCELLED', message: 'Tandem is shutting down' } } satisfies RpcMessage);
  await assert.rejects(pending, (e: TE) => e.code === 'CANCELLED' && e.message === 'Tandem is shutting down', 'an end message names the reason');
});

test('messages that are not envelopes are ignored by both sides', async (t) => {
  const { client, port1, port2 } = setup(t);
  port1.postMessage('garbage');
  port1.postMessage({ rpc: 'call', id: 'x', method: 'add' });
  port1.postMessage({ type: 'call', id: 1, method: 'add', input: { a: 1, b: 1 } });
  port2.postMessage({ rpc: 'result', id: 99, output: 1 });
  port2.postMessage(null);
  assert.deepEqual(await client.call('add', { a: 1, b: 1 }), { sum: 2 }, 'still answering');
  assert.ok(!isRpcMessage({ rpc: 'call', id: 1.5, method: 'x' }) && !isRpcMessage({ rpc: 'nope', id: 1 }) && isRpcMessage({ rpc: 'end' }));
});
