import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { createApiService } from '../../engine/api/api-service.js';
import type { ApiEvents } from '../../engine/common/api-contract.js';
import { createClient, serve, type RpcMessage } from '../../engine/common/rpc.js';
import { messagePortLike } from '../../engine/node/rpc-ports.js';
import { mainHost, mainOpener, parseTokens, serveEngine, serveRenderer, type EngineMainApi, type MainHost } from './engine-port.js';

type Coded = Error & { code?: string };

function channel(t: { after(fn: () => void): void }) {
  const { port1, port2 } = new MessageChannel();
  t.after(() => {
    port1.close();
    port2.close();
  });
  const seen: unknown[] = [];
  port1.on('message', (m) => seen.push(m));
  return { main: messagePortLike(port1), engine: messagePortLike(port2), seen, port1 };
}

test('serveEngine answers calls with outputs or WireErrors, forwards events, takes tokens and closes the service', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-port-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const service = createApiService({ env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '' }, host: 'electron' });
  const ch = channel(t);
  const tokens: Array<Record<string, string>> = [];
  let closed = 0;
  serveEngine(service, ch.engine, { onTokens: (x) => tokens.push(x), onClosed: () => closed++ });
  const c = createClient<EngineMainApi, ApiEvents>(ch.main);

  const info = await c.call('app.info', {});
  assert.equal(info.host, 'electron', 'the result of app.info comes back by id');
  assert.equal(info.dataDir, home, 'from the engine on this TANDEM_HOME');

  const notFound = c.call('collections.show', { name: 'nope' });
  const invalid = c.call('search.query', { query: '' } as never);
  await assert.rejects(notFound, (e: Coded) => e.code === 'NOT_FOUND', 'engine errors cross as WireErrors with their code');
  await assert.rejects(invalid, (e: Coded) => e.code === 'INVALID_ARGUMENT', 'the service validates');

  const got = new Promise<unknown>((resolve) => c.on('models.progress', resolve));
  service.events.emit('models.progress', { jobId: 'j', id: 'm', file: 'f', bytes: 1, total: 2 });
  assert.deepEqual(await got, { jobId: 'j', id: 'm', file: 'f', bytes: 1, total: 2 }, 'contract events are forwarded by name, with their data');

  await c.call('engine.tokens', { tokens: { TANDEM_MODAL_TOKEN: 'secret-1', 'bad name': 'x', EMPTY: '' } });
  ch.port1.postMessage('garbage');
  await c.call('engine.close', {});
  for (let i = 0; i < 20 && closed === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(tokens, [{ TANDEM_MODAL_TOKEN: 'secret-1' }], 'tokens arrive filtered to env-style names with values');
  assert.equal(closed, 1, 'onClosed runs once the service is closed');
  await assert.rejects(service.call('app.info', {}), /shutting down/, 'the service is closed');
  assert.ok(!ch.seen.some((r) => JSON.stringify(r).includes('secret-1')), 'a token never travels back');
});

test('a renderer channel serves the contract and its events, never the control methods', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-renderer-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const service = createApiService({ env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '' }, host: 'electron' });
  t.after(() => service.close());
  const ch = channel(t);
  serveRenderer(service, ch.engine);
  const c = createClient<EngineMainApi, ApiEvents>(ch.main);
  assert.equal((await c.call('app.info', {})).host, 'electron');
  await assert.rejects(c.call('engine.close', {}), (e: Coded) => e.code === 'NOT_FOUND' && /no API method "engine.close"/.test(e.message), 'engine.close is not reachable from a page');
  await assert.rejects(c.call('engine.tokens', { tokens: { A: 'b' } }), (e: Coded) => e.code === 'NOT_FOUND');
  const got = new Promise<unknown>((resolve) => c.on('generate.token', resolve));
  service.events.emit('generate.token', { jobId: 'j', text: 'hi' });
  assert.deepEqual(await got, { jobId: 'j', text: 'hi' });
  assert.equal((await c.call('app.info', {})).dataDir, home, 'still serving');
});

test('parseTokens keeps only string values under env-variable names', () => {
  assert.deepEqual(parseTokens({ A_B: 'x', a: 'y', B: 3, C: '' }), { A_B: 'x' }, 'filtered');
  assert.deepEqual(parseTokens(null), {}, 'nothing from null');
  assert.deepEqual(parseTokens(['A']), {}, 'nothing from an array');
});

test('files.open in the desktop app: the engine asks main (host.openFile) with the exact path and waits for its answer', async (t) => {
  const ch = channel(t);
  const asks: Array<{ path: string; page?: number; answer: (error: string | null) => void }> = [];
  // main's side: serve host.openFile, answer when the test says
  serve<MainHost>({ 'host.openFile': (input) => new Promise((resolve) => asks.push({ ...input, answer: (error) => resolve({ error }) })) }, ch.main);
  const open = mainOpener(mainHost(ch.engine));
  const until = async (n: number) => {
    for (let i = 0; i < 200 && asks.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };

  const hostile = 'C:\\Users\\r\\papers\\a&calc&.pdf';
  const opened = open(hostile, 3);
  await until(1);
  assert.equal(asks[0]!.path, hostile, 'main gets the path as data, byte for byte');
  assert.equal(asks[0]!.page, 3, 'and the page');
  let settled = false;
  void opened.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'files.open waits for main');
  asks[0]!.answer(null);
  await opened;

  const failing = open('/no/such/file.pdf');
  await until(2);
  asks[1]!.answer('Failed to open path');
  await assert.rejects(failing, (e: Coded) => e.code === 'NOT_FOUND' && /could not open \/no\/such\/file\.pdf: Failed to open path/.test(e.message), 'shell.openPath errors come back as NOT_FOUND naming the file');
  assert.ok(ch.seen.every((m) => (m as RpcMessage).rpc !== undefined), 'only envelopes on the wire');
});
