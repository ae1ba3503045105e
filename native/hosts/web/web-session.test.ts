/**
 * The web host's session in a real browser: `tandem serve` (from the sources) and Debian's Chromium
 * through playwright-core. Chromium opens the printed URL, the UI works, then it visits another
 * local port served by a recorder (node:http): nothing it sends there, replayed against the web host
 * in any form (header, cookie, bearer), opens the API. The printed code works once; a request
 * without the session header, a cross-site POST and a non-JSON content type are refused.
 * Needs the built renderer (dist/renderer, `npm run build`) and Chromium; skips saying why otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CHROMIUM = process.env.TANDEM_E2E_CHROMIUM ?? '/usr/bin/chromium';
const RENDERER = path.join(root, 'dist', 'renderer');
const skip = !fs.existsSync(CHROMIUM)
  ? `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set TANDEM_E2E_CHROMIUM)`
  : !fs.existsSync(path.join(RENDERER, 'index.html'))
    ? `skipped: the renderer is not built (${RENDERER}): run npm run build`
    : false;

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
}

interface Reply {
  status: number;
  body: string;
}

function post(port: number, p: string, headers: Record<string, string>, body = '{}'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: p, headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `tandem serve --port 0` from the sources; resolves with its printed URL. */
async function serve(home: string): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'native/hosts/cli/bin.ts'), 'serve', '--port', '0', '--host-dir', RENDERER], {
    cwd: root,
    env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(home, 'models'), TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tandem serve printed no URL within 60 s:\n${out}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Tandem is running at (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tandem serve exited (${code}):\n${out}`));
    });
  });
  return { proc, url, output: () => out };
}

/** Another local server that records every request a browser makes to it. */
async function recorder(): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]!.toLowerCase()] = req.rawHeaders[i + 1]!;
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers });
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      // a page that also fetches and loads an image with credentials, as a hostile local page would
      res.end('<!doctype html><title>other</title><img src="/img.png"><script>fetch("/probe", { credentials: "include" }).then(() => { document.title = "probed"; });</script>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('the serve session in Chromium: one-time code, a tab session in a header, nothing sent to another local port opens the API', { skip, timeout: 180_000 }, async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-web-session-'));
  const host = await serve(home);
  const rec = await recorder();
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  t.after(async () => {
    await browser.close();
    await rec.close();
    const exited = new Promise((resolve) => host.proc.once('exit', resolve));
    host.proc.kill('SIGTERM');
    await exited;
    fs.rmSync(home, { recursive: true, force: true });
  });
  const printed = new URL(host.url);
  const port = Number(printed.port);
  assert.equal(printed.hostname, '127.0.0.1');
  assert.match(printed.hash, /^#code=[0-9a-f]{64}$/, 'the printed URL carries a one-time code in its fragment');
  assert.equal(printed.search, '', 'nothing secret in the query (a fragment never reaches a server or its log)');
  const code = printed.hash.slice('#code='.length);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(host.url);
  await page.waitForURL(`${printed.origin}/`, { timeout: 20_000 });
  await page.locator('nav[aria-label="Pages"]').waitFor({ timeout: 20_000 });
  await page.locator('.conn', { hasText: 'live' }).waitFor({ timeout: 20_000 });
  await page.goto(`${printed.origin}/#/models`);
  await page.locator('tr[data-model="minishlab/potion-base-2M"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.getByRole('alert').count(), 0, 'the UI shows no error: its API calls carry the session');
  await page.reload();
  await page.locator('.conn', { hasText: 'live' }).waitFor({ timeout: 20_000 });
  await page.locator('tr[data-model="minishlab/potion-base-2M"]').waitFor({ timeout: 20_000 });

  const session = (await page.evaluate('sessionStorage.getItem("tandem.session")')) as string | null;
  assert.match(String(session), /^[0-9a-f]{64}$/, 'the tab keeps a session token in sessionStorage');
  assert.deepEqual(await context.cookies(), [], 'no cookie at all');
  assert.equal(await page.evaluate('document.cookie'), '');
  assert.ok(!host.output().includes(session!), 'the session is never printed');

  // the same browser visits other local servers (another port; localhost too)
  for (const origin of [`http://127.0.0.1:${rec.port}`, `http://localhost:${rec.port}`]) {
    await page.goto(`${origin}/`);
    await page.waitForFunction('document.title === "probed"', undefined, { timeout: 10_000 });
  }
  assert.ok(rec.seen.some((s) => s.url === '/probe') && rec.seen.some((s) => s.url === '/img.png'), `the recorder saw the page's requests: ${rec.seen.map((s) => s.url).join(', ')}`);
  assert.ok(rec.seen.every((s) => s.headers.cookie === undefined), 'no cookie travelled to the other port');

  // replay everything it sent there, every way the host could read it
  const values = new Set<string>();
  for (const s of rec.seen) {
    for (const v of Object.values(s.headers)) {
      values.add(v);
      for (const piece of v.split(/[\s;,=]+/)) if (piece.length >= 8) values.add(piece);
    }
    values.add(s.url);
  }
  let replays = 0;
  for (const s of rec.seen) {
    const { host: _h, 'content-length': _l, 'content-type': _c, ...forwarded } = s.headers;
    const r = await post(port, '/api/collections.list', forwarded);
    assert.equal(r.status, 401, `replaying the headers of ${s.method} ${s.url} opens nothing`);
    replays++;
  }
  for (const v of values) {
    const safe = v.replace(/[^\t\x20-\x7e]/g, '');
    const forms: Array<Record<string, string>> = [{ 'x-tandem-session': safe }, { cookie: safe }, { cookie: `tandem_session=${safe}` }, { authorization: `Bearer ${safe}` }];
    for (const headers of forms) {
      const r = await post(port, '/api/collections.list', headers);
      assert.equal(r.status, 401, `a value seen on the other port (${JSON.stringify(headers)}) opens nothing`);
      replays++;
    }
  }
  assert.ok(replays > 20, `replayed ${replays} requests`);

  // the session itself works, but only in its header, only from this origin, only with JSON
  assert.equal((await post(port, '/api/collections.list', { 'x-tandem-session': session! })).status, 200, 'the tab session opens the API (so the 401s above are not vacuous)');
  const bare = await post(port, '/api/collections.list', {});
  assert.equal(bare.status, 401, 'a request without the header is 401');
  assert.equal(JSON.parse(bare.body).error.code, 'UNAUTHORIZED');
  const again = await post(port, '/auth/session', {}, JSON.stringify({ code }));
  assert.equal(again.status, 401, 'the printed code works once: a second exchange is 401');
  const crossSite = await post(port, '/api/collections.list', { 'x-tandem-session': session!, origin: `http://127.0.0.1:${rec.port}` });
  assert.equal(crossSite.status, 403, 'a POST with another origin is refused, session or not');
  const crossFetch = await post(port, '/api/collections.list', { 'x-tandem-session': session!, 'sec-fetch-site': 'cross-site' });
  assert.equal(crossFetch.status, 403, 'Sec-Fetch-Site: cross-site is refused');
  const patch = await post(port, '/api/collections.list', { 'x-tandem-session': session!, 'content-type': 'application/json-patch+json' });
  assert.equal(patch.status, 415, 'application/json-patch+json is refused');

  // and a page on the other port cannot use the API from the browser either (no session, and refused)
  await page.goto(`http://127.0.0.1:${rec.port}/`);
  const fromOther = await page.evaluate(async (target) => {
    try {
      const r = await fetch(`${target}/api/collections.list`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' });
      return r.status;
    } catch (e) {
      return String(e);
    }
  }, printed.origin);
  assert.notEqual(fromOther, 200, `a cross-origin fetch from the other port gets nothing (${fromOther})`);
});
