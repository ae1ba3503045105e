import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApiService } from '../api/api-service.js';
import { sharedOrSkip } from '../testing/shared.js';
import { CSP, SESSION_COOKIE, startWebHost, type WebHost } from './web-host.js';

const { shared, skip } = sharedOrSkip();

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request (node:http lets us set the Host header, which fetch does not). */
function request(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function setup(t: TestContext, withUi = true): Promise<{ host: WebHost; dir: string; svc: ReturnType<typeof createApiService> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-host-'));
  const ui = path.join(dir, 'ui');
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true });
  if (withUi) {
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Tandem</title><div id="root"></div>');
    fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log(1)');
  }
  const svc = createApiService({ env: { ...process.env, TANDEM_HOME: path.join(dir, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' }, host: 'web', progressIntervalMs: 0 });
  const host = await startWebHost({ service: svc, port: 0, staticDir: ui, heartbeatMs: 50 });
  t.after(async () => {
    await host.close();
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { host, dir, svc };
}

function api(host: WebHost, method: string, input: unknown, headers: Record<string, string> = { authorization: `Bearer ${host.token}` }): Promise<Reply> {
  return request(host.port, { method: 'POST', path: `/api/${method}`, headers: { host: `127.0.0.1:${host.port}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
}

test('the token is required: 401 without it, the printed URL sets an HttpOnly SameSite=Strict cookie and redirects to /', async (t) => {
  const { host } = await setup(t);
  assert.match(host.url, new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[0-9a-f]{64}$`), 'the URL carries a 32-byte hex token');
  const h = { host: `127.0.0.1:${host.port}` };

  const noToken = await api(host, 'app.info', {}, {});
  assert.equal(noToken.status, 401, 'API without a token');
  assert.equal(JSON.parse(noToken.body).error.code, 'UNAUTHORIZED', 'a WireError with UNAUTHORIZED');
  assert.ok(!noToken.body.includes(host.token), 'the token never appears in an error');
  assert.equal((await api(host, 'app.info', {}, { authorization: 'Bearer wrong' })).status, 401, 'API with a wrong token');
  assert.equal((await request(host.port, { path: '/', headers: h })).status, 401, 'the page without a token');
  assert.equal((await request(host.port, { path: '/?token=nope', headers: h })).status, 401, 'the page with a wrong token');

  const login = await request(host.port, { path: `/?token=${host.token}`, headers: h });
  assert.equal(login.status, 302, 'the token link redirects');
  assert.equal(login.headers.location, '/', 'to / (the token leaves the URL)');
  const cookie = String(login.headers['set-cookie']?.[0] ?? '');
  assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=${host.token};`), 'a session cookie');
  assert.match(cookie, /HttpOnly/, 'HttpOnly');
  assert.match(cookie, /SameSite=Strict/, 'SameSite=Strict');

  const page = await request(host.port, { path: '/', headers: { ...h, cookie: `${SESSION_COOKIE}=${host.token}` } });
  assert.equal(page.status, 200, 'the cookie opens the app');
  assert.equal(page.headers['content-security-policy'], CSP, 'the HTML carries the strict CSP');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/, "CSP default-src 'self'");
  assert.doesNotMatch(String(page.headers['content-security-policy']), /script-src[^;]*unsafe-inline/, 'no inline scripts');
  assert.equal(page.headers['x-content-type-options'], 'nosniff', 'nosniff');
  const asset = await request(host.port, { path: '/assets/app.js', headers: { ...h, cookie: `${SESSION_COOKIE}=${host.token}` } });
  assert.equal(asset.status, 200, 'assets are served');
  assert.match(String(asset.headers['content-type']), /javascript/, 'with their type');
  const traversal = await request(host.port, { path: '/%2e%2e/%2e%2e/etc/passwd', headers: { ...h, cookie: `${SESSION_COOKIE}=${host.token}` } });
  assert.ok(!traversal.body.includes('root:'), 'dot segments cannot leave the UI folder');
  const encoded = await request(host.port, { path: '/..%2f..%2f..%2fetc%2fpasswd', headers: { ...h, cookie: `${SESSION_COOKIE}=${host.token}` } });
  assert.equal(encoded.status, 404, 'nor can encoded slashes');
  assert.ok(!encoded.body.includes('root:'), 'nothing outside is served');
  const info = await api(host, 'app.info', {}, { cookie: `${SESSION_COOKIE}=${host.token}` });
  assert.equal(JSON.parse(info.body).result.host, 'web', 'the cookie authenticates API calls too');
});

test('the Host header must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding)', async (t) => {
  const { host } = await setup(t);
  const auth = { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' };
  const evil = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { ...auth, host: `evil.example:${host.port}` }, body: '{}' });
  assert.equal(evil.status, 421, 'a foreign Host is refused even with the token');
  const wrongPort = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { ...auth, host: `127.0.0.1:${host.port + 1}` }, body: '{}' });
  assert.equal(wrongPort.status, 421, 'another port is refused');
  const local = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { ...auth, host: `localhost:${host.port}` }, body: '{}' });
  assert.equal(local.status, 200, 'localhost:PORT is accepted');
});

test('bad input comes back as a WireError with INVALID_ARGUMENT and HTTP 400; other errors map to statuses', async (t) => {
  const { host } = await setup(t);
  const bad = await api(host, 'search.query', { query: 'x', collection: 'c', mode: 'sideways' });
  assert.equal(bad.status, 400, 'HTTP 400');
  const err = JSON.parse(bad.body).error;
  assert.equal(err.code, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
  assert.match(err.message, /mode/, 'naming the field');
  const missing = await api(host, 'collections.show', { name: 'nope' });
  assert.equal(missing.status, 404, 'NOT_FOUND is 404');
  assert.equal(JSON.parse(missing.body).error.code, 'NOT_FOUND', 'as a WireError');
  const unknown = await api(host, 'no.such.method', {});
  assert.equal(unknown.status, 404, 'an unknown method is 404');
  const notJson = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { host: `127.0.0.1:${host.port}`, authorization: `Bearer ${host.token}`, 'content-type': 'application/json' }, body: '{oops' });
  assert.equal(JSON.parse(notJson.body).error.code, 'INVALID_ARGUMENT', 'a body that is not JSON');
  const form = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { host: `127.0.0.1:${host.port}`, authorization: `Bearer ${host.token}`, 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(form.status, 415, 'only application/json is accepted');
});

test('without a built UI the page is a clear 503 saying to run npm run build', async (t) => {
  const { host } = await setup(t, false);
  const r = await request(host.port, { path: '/', headers: { host: `127.0.0.1:${host.port}`, cookie: `${SESSION_COOKIE}=${host.token}` } });
  assert.equal(r.status, 503, '503');
  assert.match(r.body, /npm run build/, 'says what to run');
});

test('server-sent events deliver job events (and heartbeats) to an authenticated client', { skip }, async (t) => {
  const { host, dir } = await setup(t);
  const docs = path.join(dir, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'a.md'), 'Archibald the zebra.');
  const unauth = await new Promise<number>((resolve) => {
    http.get({ host: '127.0.0.1', port: host.port, path: '/api/events', headers: { host: `127.0.0.1:${host.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
  });
  assert.equal(unauth, 401, 'the event stream needs the token too');

  let text = '';
  const res = await new Promise<http.IncomingMessage>((resolve) => {
    http.get({ host: '127.0.0.1', port: host.port, path: '/api/events', headers: { host: `127.0.0.1:${host.port}`, cookie: `${SESSION_COOKIE}=${host.token}` } }, resolve);
  });
  assert.match(String(res.headers['content-type']), /^text\/event-stream/, 'an event stream');
  res.setEncoding('utf8');
  const succeeded = new Promise<void>((resolve) => {
    res.on('data', (d: string) => {
      text += d;
      if (/event: job\.updated\ndata: \{[^\n]*"status":"succeeded"/.test(text) && /: ping/.test(text)) resolve();
    });
  });
  const r = await api(host, 'library.index', { paths: [docs], collection: 'sse' });
  const jobId = JSON.parse(r.body).result.jobIds[0] as string;
  await succeeded;
  res.destroy();
  const updates = [...text.matchAll(/event: job\.updated\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as { job: { id: string; status: string } });
  assert.ok(updates.every((u) => u.job.id === jobId), 'events are about the job');
  assert.ok(updates.some((u) => u.job.status === 'running'), 'the running state is delivered');
  assert.match(text, /event: job\.event\ndata: \{[^\n]*"type":"queued"/, 'job history events are delivered');
  assert.match(text, /: ping \d+/, 'heartbeat comments keep the stream alive');
});
