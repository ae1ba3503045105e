/**
 * The same calls over both transports of the RPC layer give the same answers: a MessagePort
 * (as the desktop app's pages reach the engine: engine-port.ts serveRenderer) and HTTP + SSE (the
 * web host, native/hosts/web/web-host.ts, with the page's client port common/rpc-http.ts). One
 * engine (createEngine on a temp TANDEM_HOME) behind both.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { API_EVENT_NAMES, type ApiEvents, type TandemApi } from '../common/api-contract.js';
import type { WireError } from '../common/errors.js';
import { httpPort, SESSION_HEADER, type HttpPort } from '../common/rpc-http.js';
import { createClient, type RpcClient } from '../common/rpc.js';
import { messagePortLike } from '../node/rpc-ports.js';
import { serveRenderer } from '../../hosts/electron-utility/engine-port.js';
import { startWebHost, type WebHost } from '../../hosts/web/web-host.js';
import { createEngine, type Engine } from './create-engine.js';

type Client = RpcClient<TandemApi, ApiEvents>;
type Answer = { output: unknown } | { error: WireError };

describe('the contract over a MessagePort and over HTTP answers alike', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-transports-'));
  const ui = path.join(tmp, 'ui');
  let engine: Engine;
  let host: WebHost;
  let http: HttpPort;
  const channel = new MessageChannel();
  let overPort: Client;
  let overHttp: Client;

  before(async () => {
    fs.mkdirSync(ui);
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>t</title>');
    const docs = path.join(tmp, 'docs');
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, 'a.txt'), 'The zebra named Archibald jumps fences.');
    engine = createEngine({ env: { ...process.env, TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: '' }, host: 'test' });
    serveRenderer(engine, messagePortLike(channel.port2));
    overPort = createClient<TandemApi, ApiEvents>(messagePortLike(channel.port1));
    host = await startWebHost({ service: engine, port: 0, staticDir: ui, heartbeatMs: 1000 });
    const base = `http://127.0.0.1:${host.port}`;
    const res = await fetch(`${base}/auth/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: host.code }) });
    const { result } = (await res.json()) as { result: { session: string } };
    http = httpPort({ base, session: async () => result.session, eventNames: API_EVENT_NAMES });
    overHttp = createClient<TandemApi, ApiEvents>(http);
    assert.ok(SESSION_HEADER);
  });

  after(async () => {
    overHttp?.close();
    await host?.close();
    channel.port1.close();
    channel.port2.close();
    await engine?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const answer = (c: Client, method: string, input: unknown): Promise<Answer> =>
    (c.call as (m: string, i: unknown) => Promise<unknown>)(method, input).then(
      (output) => ({ output }),
      (e: { code: string; message: string; data?: unknown }) => ({ error: { code: e.code, message: e.message, ...(e.data ? { data: e.data } : {}) } as WireError }),
    );

  const CASES: Array<[string, unknown]> = [
    ['app.info', {}],
    ['collections.list', {}],
    ['jobs.list', {}],
    ['models.list', {}],
    ['collections.show', { name: 'nope' }],
    ['search.query', { query: '', collection: 'c' }],
    ['search.query', { query: 'zebra', collection: 'missing' }],
    ['collections.show', { name: 'x', shell: 'rm -rf /' }],
    ['no.such.method', {}],
    ['toString', {}],
  ];

  for (const [method, input] of CASES) {
    it(`${method} ${JSON.stringify(input)}`, async () => {
      const [a, b] = await Promise.all([answer(overPort, method, input), answer(overHttp, method, input)]);
      assert.deepEqual(b, a, 'HTTP answers as the port does');
      if (method === 'app.info') assert.ok('output' in a && (a.output as { host: string }).host === 'test');
      if (method === 'no.such.method') assert.ok('error' in a && a.error.code === 'NOT_FOUND', JSON.stringify(a));
      if (method === 'search.query' && (input as { query: string }).query === '') assert.ok('error' in a && a.error.code === 'INVALID_ARGUMENT', JSON.stringify(a));
    });
  }

  it('a broadcast event reaches both clients with the same payload', async () => {
    const connected = new Promise<void>((resolve) => http.onConnection((s) => s === 'open' && resolve()));
    const got = (c: Client) => new Promise<unknown>((resolve) => c.on('models.progress', resolve));
    const both = Promise.all([got(overPort), got(overHttp)]);
    await connected;
    const payload = { jobId: 'j1', id: 'm', file: 'model.onnx', bytes: 10, total: null };
    engine.events.emit('models.progress', payload);
    const [a, b] = await both;
    assert.deepEqual(a, payload);
    assert.deepEqual(b, payload);
  });

  it('a cancelled call rejects CANCELLED on both', async () => {
    for (const c of [overPort, overHttp]) {
      const ac = new AbortController();
      const p = c.call('app.info', {}, { signal: ac.signal });
      ac.abort();
      await assert.rejects(p, (e: { code?: string }) => e.code === 'CANCELLED');
    }
  });
});
