import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApiService } from '../../engine/api/api-service.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { CSP, MINTED_CODE_TTL_MS, SESSION_HEADER, startWebHost, type WebHost } from './web-host.js';

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

async function setup(t: TestContext, withUi = true): Promise<{ host: WebHost; dir: string; svc: ReturnType<typeof createApiService>; session: string }> {
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
  // a second code for the tests' own session: host.code stays unused for the tests that need it
  const session = await exchange(host, host.newCode().code);
  return { host, dir, svc, session };
}

function post(host: WebHost, p: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(host.port, { method: 'POST', path: p, headers: { host: `127.0.0.1:${host.port}`, 'content-type': 'application/json', ...headers }, body });
}

async function exchange(host: WebHost, code: string): Promise<string> {
  const r = await post(host, '/auth/session', JSON.stringify({ code }));
  assert.equal(r.status, 200, `the code is exchanged: ${r.body}`);
  return (JSON.parse(r.body) as { result: { session: string } }).result.session;
}

function api(host: WebHost, session: string | Record<string, string>, method: string, input: unknown): Promise<Reply> {
  return post(host, `/api/${method}`, JSON.stringify(input), typeof session === 'string' ? { [SESSION_HEADER]: session } : session);
}

test('the printed URL carries a one-time code in its fragment; its exchange gives a session that only the header carries', async (t) => {
  const { host, session: other } = await setup(t);
  assert.match(host.url, new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/#code=[0-9a-f]{64}$`), 'the code rides in the fragment (never sent to a server)');
  assert.equal(host.url.split('#code=')[1], host.code);
  const h = { host: `127.0.0.1:${host.port}` };

  const noSession = await api(host, {}, 'app.info', {});
  assert.equal(noSession.status, 401, 'API without a session');
  assert.equal(JSON.parse(noSession.body).error.code, 'UNAUTHORIZED', 'a WireError with UNAUTHORIZED');
  assert.equal((await api(host, 'wrong', 'app.info', {})).status, 401, 'API with a wrong session');
  assert.equal((await api(host, host.code, 'app.info', {})).status, 401, 'the code itself is not a session');

  const session = await exchange(host, host.code);
  assert.match(session, /^[0-9a-f]{64}$/, 'a 32-byte session token');
  assert.notEqual(session, other, 'each exchange gives its own session');
  const again = await post(host, '/auth/session', JSON.stringify({ code: host.code }));
  assert.equal(again.status, 401, 'the code works once');
  assert.equal(JSON.parse(again.body).error.code, 'UNAUTHORIZED');
  assert.ok(!again.body.includes(host.code), 'the code never appears in an error');
  assert.equal((await post(host, '/auth/session', JSON.stringify({ code: 'nope' }))).status, 401, 'a made-up code');
  assert.equal((await post(host, '/auth/session', '{}')).status, 401, 'no code');

  const info = await api(host, session, 'app.info', {});
  assert.equal(info.status, 200, 'the header opens the API');
  assert.equal(JSON.parse(info.body).result.host, 'web');
  assert.equal((await api(host, { cookie: `tandem_session=${session}` }, 'app.info', {})).status, 401, 'a cookie opens nothing');
  assert.equal((await api(host, { authorization: `Bearer ${session}` }, 'app.info', {})).status, 401, 'nor does a bearer token');

  const minted = await post(host, '/auth/code', '{}', { [SESSION_HEADER]: session });
  assert.equal(minted.status, 200, 'a session mints another one-time code');
  assert.equal(JSON.parse(minted.body).result.expiresInMs, MINTED_CODE_TTL_MS);
  const third = await exchange(host, JSON.parse(minted.body).result.code as string);
  assert.equal((await api(host, third, 'app.info', {})).status, 200, 'which opens a session too');
  assert.equal((await post(host, '/auth/code', '{}')).status, 401, 'minting needs a session');
  const expired = host.newCode(-1);
  assert.equal((await post(host, '/auth/session', JSON.stringify({ code: expired.code }))).status, 401, 'an expired code is refused');

  const page = await request(host.port, { path: '/', headers: h });
  assert.equal(page.status, 200, 'the app itself is public (it holds no secret)');
  assert.equal(page.headers['set-cookie'], undefined, 'and sets no cookie');
  assert.equal(page.headers['content-security-policy'], CSP, 'the HTML carries the strict CSP');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/, "CSP default-src 'self'");
  assert.doesNotMatch(String(page.headers['content-security-policy']), /script-src[^;]*unsafe-inline/, 'no inline scripts');
  assert.equal(page.headers['x-content-type-options'], 'nosniff', 'nosniff');
  const asset = await request(host.port, { path: '/assets/app.js', headers: h });
  assert.equal(asset.status, 200, 'assets are served');
  assert.match(String(asset.headers['content-type']), /javascript/, 'with their type');
  const traversal = await request(host.port, { path: '/%2e%2e/%2e%2e/etc/passwd', headers: h });
  assert.ok(!traversal.body.includes('root:'), 'dot segments cannot leave the UI folder');
  const encoded = await request(host.port, { path: '/..%2f..%2f..%2fetc%2fpasswd', headers: h });
  assert.equal(encoded.status, 404, 'nor can encoded slashes');
  assert.ok(!encoded.body.includes('root:'), 'nothing outside is served');
});

test('state-changing calls from another origin are refused; only application/json is taken', async (t) => {
  const { host, session } = await setup(t);
  const ok = await api(host, { [SESSION_HEADER]: session, origin: `http://127.0.0.1:${host.port}`, 'sec-fetch-site': 'same-origin' }, 'app.info', {});
  assert.equal(ok.status, 200, 'the page itself (same origin) is served');
  assert.equal((await api(host, { [SESSION_HEADER]: session, origin: `http://localhost:${host.port}` }, 'app.info', {})).status, 200, 'localhost:PORT is the same app');
  for (const [what, headers] of [
    ['another local port', { origin: `http://127.0.0.1:${host.port + 1}` }],
    ['another site', { origin: 'https://evil.example' }],
    ['an opaque origin', { origin: 'null' }],
    ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
  ] as const) {
    const r = await api(host, { [SESSION_HEADER]: session, ...headers }, 'app.info', {});
    assert.equal(r.status, 403, `${what}: refused even with the session`);
    assert.equal(JSON.parse(r.body).error.code, 'UNAUTHORIZED');
    const ex = await post(host, '/auth/session', JSON.stringify({ code: host.newCode().code }), headers);
    assert.equal(ex.status, 403, `${what}: no code exchange either`);
  }
  for (const type of ['application/json-patch+json', 'application/jsonx', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; foo=bar', '']) {
    const r = await api(host, { [SESSION_HEADER]: session, 'content-type': type }, 'app.info', {});
    assert.equal(r.status, 415, `content type "${type}" is refused`);
    assert.equal((await post(host, '/auth/session', JSON.stringify({ code: host.newCode().code }), { 'content-type': type })).status, 415, `and for the exchange ("${type}")`);
  }
  for (const type of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"']) {
    assert.equal((await api(host, { [SESSION_HEADER]: session, 'content-type': type }, 'app.info', {})).status, 200, `content type "${type}" is taken`);
  }
});

test('the Host header must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding)', async (t) => {
  const { host, session } = await setup(t);
  const auth = { [SESSION_HEADER]: session, 'content-type': 'application/json' };
  const evil = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { ...auth, host: `evil.example:${host.port}` }, body: '{}' });
  assert.equal(evil.status, 421, 'a foreign Host is refused even with the session');
  const wrongPort = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { ...auth, host: `127.0.0.1:${host.port + 1}` }, body: '{}' });
  assert.equal(wrongPort.status, 421, 'another port is refused');
  const local = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { ...auth, host: `localhost:${host.port}` }, body: '{}' });
  assert.equal(local.status, 200, 'localhost:PORT is accepted');
});

test('bad input comes back as a WireError with INVALID_ARGUMENT and HTTP 400; other errors map to statuses', async (t) => {
  const { host, session } = await setup(t);
  const bad = await api(host, session, 'search.query', { query: 'x', collection: 'c', mode: 'sideways' });
  assert.equal(bad.status, 400, 'HTTP 400');
  const err = JSON.parse(bad.body).error;
  assert.equal(err.code, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
  assert.match(err.message, /mode/, 'naming the field');
  const missing = await api(host, session, 'collections.show', { name: 'nope' });
  assert.equal(missing.status, 404, 'NOT_FOUND is 404');
  assert.equal(JSON.parse(missing.body).error.code, 'NOT_FOUND', 'as a WireError');
  const unknown = await api(host, session, 'no.such.method', {});
  assert.equal(unknown.status, 404, 'an unknown method is 404');
  const notJson = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { host: `127.0.0.1:${host.port}`, [SESSION_HEADER]: session, 'content-type': 'application/json' }, body: '{oops' });
  assert.equal(JSON.parse(notJson.body).error.code, 'INVALID_ARGUMENT', 'a body that is not JSON');
  const form = await request(host.port, { method: 'POST', path: '/api/app.info', headers: { host: `127.0.0.1:${host.port}`, [SESSION_HEADER]: session, 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(form.status, 415, 'only application/json is accepted');
});

test('without a built UI the page is a clear 503 saying to run npm run build', async (t) => {
  const { host } = await setup(t, false);
  const r = await request(host.port, { path: '/', headers: { host: `127.0.0.1:${host.port}` } });
  assert.equal(r.status, 503, '503');
  assert.match(r.body, /npm run build/, 'says what to run');
});

test('server-sent events deliver job events (and heartbeats) to an authenticated client', { skip }, async (t) => {
  const { host, dir, session } = await setup(t);
  const docs = path.join(dir, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'a.md'), 'Archibald the zebra.');
  const unauth = await new Promise<number>((resolve) => {
    http.get({ host: '127.0.0.1', port: host.port, path: '/api/events', headers: { host: `127.0.0.1:${host.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
  });
  assert.equal(unauth, 401, 'the event stream needs the session too');

  let text = '';
  const res = await new Promise<http.IncomingMessage>((resolve) => {
    http.get({ host: '127.0.0.1', port: host.port, path: '/api/events', headers: { host: `127.0.0.1:${host.port}`, [SESSION_HEADER]: session } }, resolve);
  });
  assert.match(String(res.headers['content-type']), /^text\/event-stream/, 'an event stream');
  res.setEncoding('utf8');
  const succeeded = new Promise<void>((resolve) => {
    res.on('data', (d: string) => {
      text += d;
      if (/event: job\.updated\ndata: \{[^\n]*"status":"succeeded"/.test(text) && /: ping/.test(text)) resolve();
    });
  });
  const r = await api(host, session, 'library.index', { paths: [docs], collection: 'sse' });
  const jobId = JSON.parse(r.body).result.jobIds[0] as string;
  await succeeded;
  res.destroy();
  const updates = [...text.matchAll(/event: job\.updated\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as { job: { id: string; status: string } });
  assert.ok(updates.every((u) => u.job.id === jobId), 'events are about the job');
  assert.ok(updates.some((u) => u.job.status === 'running'), 'the running state is delivered');
  assert.match(text, /event: job\.event\ndata: \{[^\n]*"type":"queued"/, 'job history events are delivered');
  assert.match(text, /: ping \d+/, 'heartbeat comments keep the stream alive');
});

test('methods that read or write any path the caller names are not served to a page: CLI only', async (t) => {
  const { host, session } = await setup(t);
  const out = path.join(os.tmpdir(), `tandem-never-${process.pid}.json`);
  const run = await api(host, session, 'inference.runOnnx', { model: '/etc/hostname', input: '/etc/hostname', output: out });
  assert.equal(run.status, 404, 'inference.runOnnx is not a method of the web host');
  assert.equal(JSON.parse(run.body).error.code, 'NOT_FOUND');
  assert.equal(fs.existsSync(out), false, 'nothing was written');
  const inspect = await api(host, session, 'models.inspect', { model: '/etc/passwd' });
  assert.equal(inspect.status, 404, 'models.inspect is not a method of the web host');
  const evalFiles = await api(host, session, 'search.eval', { collection: 'c', queriesFile: '/etc/passwd', qrelsFile: '/etc/passwd' });
  assert.equal(evalFiles.status, 400, 'search.eval reads no files for a page');
  assert.match(JSON.parse(evalFiles.body).error.message, /queriesFile and qrelsFile are for the command line/);
});
