import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createApiService } from '../../engine/api/api-service.js';
import { mainOpener, parseTokens, serveEngine, type EngineReply, type EngineRequest } from './engine-port.js';

/** The main-process side of the protocol over a real MessagePort. */
function client(port: MessagePort) {
  const replies: EngineReply[] = [];
  const waiters: Array<() => void> = [];
  port.on('message', (m: EngineReply) => {
    replies.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const until = async <T extends EngineReply>(pred: (r: EngineReply) => r is T): Promise<T> => {
    for (;;) {
      const found = replies.find(pred);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { replies, until, send: (m: EngineRequest | Record<string, unknown> | string) => port.postMessage(m) };
}

test('serveEngine answers calls with results or WireErrors, forwards events, takes tokens and closes the service', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-port-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const service = createApiService({ env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '' }, host: 'electron' });
  const { port1, port2 } = new MessageChannel();
  t.after(() => {
    port1.close();
    port2.close();
  });
  const tokens: Array<Record<string, string>> = [];
  let closed = 0;
  serveEngine(service, { post: (m) => port2.postMessage(m), onMessage: (cb) => port2.on('message', cb) }, { onTokens: (x) => tokens.push(x), onClosed: () => closed++ });
  const c = client(port1);

  c.send({ type: 'call', id: 1, method: 'app.info', input: {} });
  const info = await c.until((r): r is Extract<EngineReply, { type: 'result' }> => r.type === 'result' && r.id === 1);
  assert.equal((info.result as { host: string }).host, 'electron', 'the result of app.info comes back by id');
  assert.equal((info.result as { dataDir: string }).dataDir, home, 'from the engine on this TANDEM_HOME');

  c.send({ type: 'call', id: 2, method: 'collections.show', input: { name: 'nope' } });
  c.send({ type: 'call', id: 3, method: 'search.query', input: { query: '' } });
  const notFound = await c.until((r): r is Extract<EngineReply, { type: 'error' }> => r.type === 'error' && r.id === 2);
  const invalid = await c.until((r): r is Extract<EngineReply, { type: 'error' }> => r.type === 'error' && r.id === 3);
  assert.equal(notFound.error.code, 'NOT_FOUND', 'engine errors cross as WireErrors with their code');
  assert.equal(invalid.error.code, 'INVALID_ARGUMENT', 'the service validates again');

  service.events.emit('models.progress', { jobId: 'j', id: 'm', file: 'f', bytes: 1, total: 2 });
  const ev = await c.until((r): r is Extract<EngineReply, { type: 'event' }> => r.type === 'event');
  assert.equal(ev.name, 'models.progress', 'contract events are forwarded by name');
  assert.deepEqual(ev.data, { jobId: 'j', id: 'm', file: 'f', bytes: 1, total: 2 }, 'with their data');

  c.send({ type: 'tokens', tokens: { TANDEM_MODAL_TOKEN: 'secret-1', 'bad name': 'x', EMPTY: '' } });
  c.send('garbage');
  c.send({ type: 'close' });
  await c.until((r): r is Extract<EngineReply, { type: 'closed' }> => r.type === 'closed');
  assert.deepEqual(tokens, [{ TANDEM_MODAL_TOKEN: 'secret-1' }], 'tokens arrive filtered to env-style names with values');
  assert.equal(closed, 1, 'onClosed runs once the service is closed');
  await assert.rejects(service.call('app.info', {}), /shutting down/, 'the service is closed');
  assert.ok(!c.replies.some((r) => JSON.stringify(r).includes('secret-1')), 'a token never travels back');
});

test('parseTokens keeps only string values under env-variable names', () => {
  assert.deepEqual(parseTokens({ A_B: 'x', a: 'y', B: 3, C: '' }), { A_B: 'x' }, 'filtered');
  assert.deepEqual(parseTokens(null), {}, 'nothing from null');
  assert.deepEqual(parseTokens(['A']), {}, 'nothing from an array');
});

test('files.open in the desktop app: the engine asks main (open-file) with the exact path and waits for its answer', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-engine-open-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const service = createApiService({ env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '' }, host: 'electron' });
  t.after(() => service.close());
  const { port1, port2 } = new MessageChannel();
  t.after(() => {
    port1.close();
    port2.close();
  });
  const post = (m: EngineReply) => port2.postMessage(m);
  const opener = mainOpener(post);
  serveEngine(service, { post, onMessage: (cb) => port2.on('message', cb) }, { onOpened: opener.settle });
  const c = client(port1);

  const hostile = 'C:\\Users\\r\\papers\\a&calc&.pdf';
  const opened = opener.open(hostile);
  const ask = await c.until((r): r is Extract<EngineReply, { type: 'open-file' }> => r.type === 'open-file');
  assert.equal(ask.path, hostile, 'main gets the path as data, byte for byte');
  let settled = false;
  void opened.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'files.open waits for main');
  c.send({ type: 'opened', id: ask.id });
  await opened;

  const failing = opener.open('/no/such/file.pdf');
  const ask2 = await c.until((r): r is Extract<EngineReply, { type: 'open-file' }> => r.type === 'open-file' && r.id !== ask.id);
  c.send({ type: 'opened', id: ask2.id, error: 'Failed to open path' });
  await assert.rejects(failing, (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && /could not open \/no\/such\/file\.pdf: Failed to open path/.test(e.message), 'shell.openPath errors come back as NOT_FOUND naming the file');
  c.send({ type: 'opened', id: 999 });
});
