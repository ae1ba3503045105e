import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { TandemError, toWire } from '../../native/engine/common/errors.js';
import { Agent } from 'undici';
import { callJson, DEFAULT_MAX_RESPONSE_BYTES, formatBytes, pollInterval, DEFAULT_POLL_POLICY, type CallJsonOptions } from './http-client.js';
import { sendJson, serverPool } from './test-server.js';

/**
 * Issue 17 (points 1 and 2): a hostile or broken server cannot grow the process without bound,
 * hold an attempt open with a trickle, make the client poll in a tight loop, or send it (and its
 * token) to another origin. Real node:http servers on 127.0.0.1.
 */

const TOKEN = 'tok-SECRET-b0unds-4e2a';
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const serve = serverPool();

function opts(url: string, extra: Partial<CallJsonOptions> = {}): CallJsonOptions {
  return { method: 'POST', url, json: { prompt: 'hi' }, backend: 'modal', fn: 'generate', deadlineMs: 20_000, token: TOKEN, retry: { baseDelayMs: 1, maxDelayMs: 4 }, ...extra };
}

async function failure(p: Promise<unknown>): Promise<TandemError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TandemError, `expected a TandemError, got ${String(e)}`);
    assert.ok(!JSON.stringify(toWire(e)).includes(TOKEN), 'token in the error');
    return e;
  }
  assert.fail('expected the call to fail');
}

/** Writes `total` bytes of JSON-looking filler in 1 MiB chunks, respecting backpressure; stops when the client goes away. */
function stream(res: http.ServerResponse, total: number, sent: { bytes: number }): void {
  const chunk = Buffer.alloc(MiB, 0x20);
  chunk.write('{"output": "');
  let closed = false;
  res.on('close', () => (closed = true));
  const pump = (): void => {
    while (!closed && sent.bytes < total) {
      sent.bytes += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!closed) res.end();
  };
  pump();
}

describe('bounded response bodies', () => {
  test('a 2 GiB answer is cut at the 64 MiB cap: BACKEND_ERROR naming the size, RSS growth under 200 MB', async () => {
    const sent = { bytes: 0 };
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no Content-Length to refuse up front
      stream(res, 2 * GiB, sent);
    });
    (globalThis as { gc?: () => void }).gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const t0 = performance.now();
    let e: TandemError;
    try {
      e = await failure(callJson(opts(s.url)));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMb = (peak - base) / 1e6;
    console.log(`2 GiB answer: cut in ${Math.round(performance.now() - t0)} ms; server wrote ${formatBytes(sent.bytes)}; RSS growth ${growthMb.toFixed(0)} MB`);
    assert.equal(e.code, 'BACKEND_ERROR', e.message);
    assert.match(e.message, /passed the 64 MiB limit for generate responses \(cut after 64(\.\d)? MiB/, 'names the cap and the size read');
    assert.equal(s.seen.length, 1, 'an oversized answer is not retried');
    assert.ok(growthMb < 200, `RSS grew ${growthMb.toFixed(0)} MB`);
    assert.ok(sent.bytes < 512 * MiB, `the connection was closed early (server wrote ${formatBytes(sent.bytes)})`);
  });

  test('a Content-Length over the cap is refused before reading the body', async () => {
    let closedAt = 0;
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * GiB) });
      res.write('{"output": "'); // and never more: a client that reads waits until its deadline
      res.on('close', () => (closedAt = performance.now()));
    });
    const t0 = performance.now();
    const e = await failure(callJson(opts(s.url, { deadlineMs: 10_000 })));
    const ms = performance.now() - t0;
    assert.equal(e.code, 'BACKEND_ERROR', e.message);
    assert.match(e.message, /answer of 2 GiB \(Content-Length 2147483648\) is over the 64 MiB limit for generate responses; refused without reading it/, 'message');
    assert.ok(ms < 2000, `refused at once (${Math.round(ms)} ms)`);
    assert.equal(s.seen.length, 1, 'not retried');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(closedAt > 0, 'the client closed the connection');
  });

  test('the cap is per call: a 2,000-byte answer passes a 4 KiB cap and fails a 1 KiB one; caps are checked', async () => {
    const big = { output: { text: 'x'.repeat(1980) } };
    const s = await serve((_q, res) => sendJson(res, 200, big));
    const r = await callJson(opts(s.url, { maxResponseBytes: 4096 }));
    assert.deepEqual(r.body, big, 'under the cap');
    const e = await failure(callJson(opts(s.url, { maxResponseBytes: 1024, fn: 'embed' })));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /\(Content-Length \d+\) is over the 1 KiB limit for embed responses/, 'declared size refused');
    const chunked = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(big));
    });
    const e2 = await failure(callJson(opts(chunked.url, { maxResponseBytes: 1024 })));
    assert.match(e2.message, /passed the 1 KiB limit for generate responses \(cut after [\d.]+ KiB, no Content-Length\)/, 'streamed size cut');
    await assert.rejects(callJson(opts(s.url, { maxResponseBytes: 0 })), (x: unknown) => x instanceof TandemError && x.code === 'INVALID_ARGUMENT', 'a zero cap is refused');
    await assert.rejects(callJson(opts(s.url, { maxResponseBytes: 4 * GiB })), (x: unknown) => x instanceof TandemError && x.code === 'INVALID_ARGUMENT' && /maxResponseBytes/.test(x.message), 'a cap past the longest string is refused');
    assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 64 * MiB, 'default cap');
  });

  test('an error status with a huge body is cut too (the error text never grows the process)', async () => {
    const sent = { bytes: 0 };
    const s = await serve((_q, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      stream(res, 256 * MiB, sent);
    });
    const e = await failure(callJson(opts(s.url, { maxResponseBytes: 2 * MiB })));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /HTTP 500 answer passed the 2 MiB limit/, 'message');
    assert.ok(e.message.length < 1000, `short message (${e.message.length} chars)`);
  });

  test('a body that trickles (1 byte / 100 ms) is cut by the per-attempt body deadline, not left to the idle timeout', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(t));
    });
    const t0 = performance.now();
    const e = await failure(callJson(opts(s.url, { bodyDeadlineMs: 1500, minBodyBytesPerSec: 0, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } })));
    const ms = performance.now() - t0;
    assert.equal(e.code, 'BACKEND_TIMEOUT', e.message);
    assert.match(e.message, /did not arrive within the 1\.5 s body deadline/, 'names the body deadline');
    assert.equal(s.seen.length, 2, 'a slow body is retried like a stalled one');
    assert.ok(ms < 4500, `cut after two 1.5 s attempts (${Math.round(ms)} ms)`);
  });

  test('a body below the least average rate is cut once the grace period has passed', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write('          '), 100); // 100 bytes/s
      res.on('close', () => clearInterval(t));
    });
    const t0 = performance.now();
    const e = await failure(callJson(opts(s.url, { minBodyBytesPerSec: 1000, bodyGraceMs: 400, retry: { maxAttempts: 1 } })));
    const ms = performance.now() - t0;
    assert.equal(e.code, 'BACKEND_TIMEOUT', e.message);
    assert.match(e.message, /arrived too slowly \(below 1000 bytes\/s after 400 ms\)/, 'names the rate');
    assert.ok(ms < 2000, `cut soon after the grace period (${Math.round(ms)} ms)`);
  });
});

describe('bounded, same-origin 303 polling', () => {
  test('a 303 pointing at itself is polled at most once a second (growing): 3 requests in 3.5 s, not thousands', async () => {
    const times: number[] = [];
    const s = await serve((q, res) => {
      times.push(performance.now());
      res.writeHead(303, { location: q.url }).end();
    });
    const t0 = performance.now();
    const e = await failure(callJson(opts(`${s.url}/generate`, { deadlineMs: 3500 })));
    const ms = performance.now() - t0;
    console.log(`self-303: ${s.seen.length} requests in ${Math.round(ms)} ms, gaps ${times.slice(1, 11).map((t, i) => Math.round(t - times[i]!)).join(', ')} ms`);
    assert.equal(e.code, 'BACKEND_TIMEOUT', e.message);
    assert.match(e.message, /still running after \d+ polls?; the next poll in/, 'explains the stop');
    assert.ok(s.seen.length <= 4, `${s.seen.length} requests in ${Math.round(ms)} ms`);
    assert.ok(s.seen.length >= 2, 'it did poll');
    assert.equal(s.seen[1]!.method, 'GET', 'polls are GETs');
    // Measured at the server: the first gap is short of 1 s by the submit's own latency (connect, loading undici).
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= (i === 1 ? 700 : 900), `poll ${i} came ${Math.round(times[i]! - times[i - 1]!)} ms after the request before`);
  });

  test('poll spacing: 1 s, then x1.5 per poll up to 15 s; Retry-After lengthens it, never shortens it', async () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 50].map((n) => pollInterval(n, DEFAULT_POLL_POLICY)),
      [1000, 1500, 2250, 3375, 15_000, 15_000],
      'default spacing',
    );
    const times: number[] = [];
    const s = await serve((q, res, i) => {
      times.push(performance.now());
      if (i === 0) res.writeHead(303, { location: '/poll' }).end();
      else if (i < 3) res.writeHead(303, { location: '/poll', 'retry-after': i === 1 ? '0' : '0.9' }).end();
      else sendJson(res, 200, { output: { a: 1 } });
    });
    const r = await callJson(opts(s.url, { poll: { minIntervalMs: 400, factor: 1 } }));
    assert.deepEqual(r.body, { output: { a: 1 } }, 'result');
    // Measured at the server between polls (the submit's own latency, e.g. loading undici, would blur the first gap).
    const gap1 = times[2]! - times[1]!;
    const gap2 = times[3]! - times[2]!;
    assert.ok(gap1 >= 350, `Retry-After: 0 does not go below the minimum (${Math.round(gap1)} ms)`);
    assert.ok(gap2 >= 800, `Retry-After: 0.9 is honoured (${Math.round(gap2)} ms)`);
  });

  test('polls are counted: past poll.maxPolls the call fails BACKEND_ERROR; the default limit follows the deadline', async () => {
    const s = await serve((q, res) => res.writeHead(303, { location: '/again' }).end());
    const e = await failure(callJson(opts(s.url, { poll: { minIntervalMs: 5, factor: 1, maxPolls: 4 } })));
    assert.equal(e.code, 'BACKEND_ERROR', e.message);
    assert.match(e.message, /still answering 303 after 4 polls, the most allowed in a 20 s deadline/, 'message');
    assert.equal(s.seen.length, 5, 'the submit and 4 polls');
    const s2 = await serve((q, res) => res.writeHead(303, { location: '/again' }).end());
    const e2 = await failure(callJson(opts(s2.url, { deadlineMs: 1000, poll: { minIntervalMs: 100, factor: 1, maxIntervalMs: 100 } })));
    assert.ok(s2.seen.length <= 12, `derived limit: ${s2.seen.length} requests for a 1 s deadline at 100 ms (${e2.code}: ${e2.message})`);
  });

  test('a 303 to another port is refused: that server never receives a request and its body never lands in the error', async () => {
    const FOREIGN = 'FOREIGN-SECRET-BODY-91aa';
    const other = await serve((_q, res) => sendJson(res, 200, { output: { stolen: FOREIGN }, error: FOREIGN }));
    const s = await serve((_q, res) => res.writeHead(303, { location: `${other.url}/result?x=${FOREIGN}` }).end());
    const e = await failure(callJson(opts(`${s.url}/generate`, { poll: { minIntervalMs: 5 } })));
    assert.equal(e.code, 'BACKEND_ERROR', e.message);
    assert.match(e.message, /redirect to another origin refused/, 'message');
    assert.equal(other.seen.length, 0, 'the other port received no request');
    assert.equal(s.seen.length, 1, 'not retried');
    assert.ok(!JSON.stringify(toWire(e)).includes(FOREIGN), 'nothing of the foreign answer or its URL query in the error');
    // localhost and 127.0.0.1 are different origins too.
    const port = new URL(s.url).port;
    const s3 = await serve((_q, res) => res.writeHead(303, { location: `http://localhost:${port}/x` }).end());
    const e3 = await failure(callJson(opts(s3.url, { poll: { minIntervalMs: 5 } })));
    assert.match(e3.message, /redirect to another origin refused/, 'another host name');
  });

  test('a 303 from https to http is refused (same host and port, another scheme)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-tls-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    if (made.status !== 0) {
      t.skip('openssl is not available to make a self-signed certificate');
      return;
    }
    const seen: string[] = [];
    const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      const port = (server.address() as AddressInfo).port;
      res.writeHead(303, { location: `http://127.0.0.1:${port}/result` }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const agent = new Agent({ connect: { ca: fs.readFileSync(cert) } });
    try {
      const port = (server.address() as AddressInfo).port;
      const e = await failure(callJson(opts(`https://127.0.0.1:${port}/generate`, { dispatcher: agent, poll: { minIntervalMs: 5 } })));
      assert.equal(e.code, 'BACKEND_ERROR', e.message);
      assert.match(e.message, /redirect to another origin refused \(from https to http\)/, 'message');
      assert.deepEqual(seen, ['POST /generate'], 'the http URL was never requested');
    } finally {
      await agent.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
