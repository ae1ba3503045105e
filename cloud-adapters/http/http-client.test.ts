import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TandemError, toWire } from '../../native/engine/common/errors.js';
import { backoffDelay, callJson, parseRetryAfter, type CallJsonOptions, type RetryEvent } from './http-client.js';
import { closedPort, sendJson, serverPool, startServer, type Handler, type TestServer } from './test-server.js';

const TOKEN = 'tok-SECRET-7f3a9c1e';
const FAST = { baseDelayMs: 1, maxDelayMs: 4 };
/** 303 polls a few ms apart (the default is 1 s, growing). */
const FAST_POLL = { minIntervalMs: 5, maxIntervalMs: 20 };

const serve = serverPool();

function opts(url: string, extra: Partial<CallJsonOptions> = {}): CallJsonOptions {
  return { method: 'POST', url, json: { prompt: 'hi' }, backend: 'modal', fn: 'generate', deadlineMs: 10_000, token: TOKEN, retry: FAST, ...extra };
}

async function failure(p: Promise<unknown>): Promise<TandemError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TandemError, `expected a TandemError, got ${String(e)}`);
    assertNoToken(e);
    return e;
  }
  assert.fail('expected the call to fail');
}

function assertNoToken(e: TandemError): void {
  assert.ok(!e.message.includes(TOKEN), `token in message: ${e.message}`);
  assert.ok(!String(e).includes(TOKEN), 'token in String(err)');
  assert.ok(!JSON.stringify(toWire(e)).includes(TOKEN), 'token in toWire(err)');
}

/** Answers the listed responses in order, the last one repeating. */
function script(...steps: Handler[]): Handler {
  return (req, res, i) => steps[Math.min(i, steps.length - 1)]!(req, res, i);
}
const ok: Handler = (_q, res) => sendJson(res, 200, { output: { a: 1 } });
const status =
  (code: number, headers: Record<string, string> = {}): Handler =>
  (_q, res) =>
    sendJson(res, code, { error: `failure ${code}`, status: code }, headers);

describe('callJson', () => {
  test('sends JSON with bearer auth and Idempotency-Key, returns the body and timings', async () => {
    const s = await serve(ok);
    const r = await callJson(opts(`${s.url}/generate`, { idempotencyKey: 'job-1' }));
    assert.deepEqual(r.body, { output: { a: 1 } }, 'body');
    assert.equal(r.attempts, 1, 'one attempt');
    assert.equal(r.timings.attempts, 1, 'timings count attempts');
    assert.ok(r.timings.totalMs >= r.timings.ttfbMs, 'total covers ttfb');
    const seen = s.seen[0]!;
    assert.equal(seen.headers.authorization, `Bearer ${TOKEN}`, 'bearer token');
    assert.equal(seen.headers['idempotency-key'], 'job-1', 'idempotency key');
    assert.equal(seen.headers['content-type'], 'application/json', 'content type');
    assert.deepEqual(JSON.parse(seen.body), { prompt: 'hi' }, 'request body');
  });

  test('no Authorization header without a token', async () => {
    const s = await serve(ok);
    await callJson(opts(s.url, { token: undefined, method: 'GET', json: undefined }));
    assert.equal(s.seen[0]!.headers.authorization, undefined, 'no auth header');
    assert.equal(s.seen[0]!.method, 'GET', 'GET');
  });

  for (const code of [408, 425, 429, 500, 502, 503, 504]) {
    test(`HTTP ${code} is retried`, async () => {
      const s = await serve(script(status(code), ok));
      const r = await callJson(opts(s.url, { idempotencyKey: 'k' }));
      assert.equal(r.attempts, 2, 'retried once');
      assert.equal(s.seen.length, 2, 'two requests');
      assert.equal(s.seen[1]!.headers['idempotency-key'], 'k', 'the retry carries the same key');
    });
  }

  for (const [code, expected] of [
    [400, 'INVALID_INPUT'],
    [422, 'INVALID_INPUT'],
    [401, 'UNAUTHORIZED'],
    [403, 'UNAUTHORIZED'],
    [404, 'NOT_FOUND'],
  ] as const) {
    test(`HTTP ${code} is not retried and maps to ${expected}`, async () => {
      const s = await serve(status(code));
      const e = await failure(callJson(opts(s.url)));
      assert.equal(e.code, expected, `code for ${code}`);
      assert.equal(s.seen.length, 1, 'exactly one request');
      assert.match(e.message, new RegExp(`${code}`), 'message names the status');
      assert.match(e.message, /modal generate/, 'message names the function');
    });
  }

  test('400 carries the server message', async () => {
    const s = await serve((_q, res) => sendJson(res, 400, { error: 'Missing required field: prompt', status: 400 }));
    const e = await failure(callJson(opts(s.url)));
    assert.equal(e.code, 'INVALID_INPUT', 'code');
    assert.match(e.message, /Missing required field: prompt/, 'server text');
  });

  test('exhausted 429 is RATE_LIMITED, exhausted 503 is BACKEND_ERROR, after maxAttempts requests', async () => {
    const s429 = await serve(status(429));
    const e429 = await failure(callJson(opts(s429.url, { retry: { ...FAST, maxAttempts: 3 } })));
    assert.equal(e429.code, 'RATE_LIMITED', '429 code');
    assert.equal(s429.seen.length, 3, 'three attempts');
    const s503 = await serve(status(503));
    const e503 = await failure(callJson(opts(s503.url, { retry: { ...FAST, maxAttempts: 2 } })));
    assert.equal(e503.code, 'BACKEND_ERROR', '503 code');
    assert.equal(s503.seen.length, 2, 'two attempts');
    assert.match(e503.message, /503/, 'message names the status');
    assert.match(e503.message, /failure 503/, 'message has the server text');
  });

  test('Retry-After in seconds sets the wait', async () => {
    const s = await serve(script(status(503, { 'retry-after': '1' }), ok));
    const events: RetryEvent[] = [];
    const r = await callJson(opts(s.url, { onRetry: (e) => events.push(e) }));
    assert.equal(r.attempts, 2, 'two attempts');
    assert.equal(events.length, 1, 'one retry');
    assert.equal(events[0]!.delayMs, 1000, 'waited the Retry-After');
    assert.equal(events[0]!.status, 503, 'status in the event');
  });

  test('Retry-After as an HTTP date sets the wait', async () => {
    const s = await serve(script((_q, res, _i) => status(429, { 'retry-after': new Date(Date.now() + 2000).toUTCString() })(_q, res, _i), ok));
    const events: RetryEvent[] = [];
    await callJson(opts(s.url, { onRetry: (e) => events.push(e) }));
    assert.equal(events.length, 1, 'one retry');
    const d = events[0]!.delayMs;
    assert.ok(d > 0 && d <= 2000, `delay from the date, got ${d}`);
    assert.equal(events[0]!.retryAfterMs, d, 'the delay is the Retry-After');
  });

  test('a Retry-After past the deadline gives up at once with the status code', async () => {
    const s = await serve(status(429, { 'retry-after': '3600' }));
    const e = await failure(callJson(opts(s.url, { deadlineMs: 5_000 })));
    assert.equal(e.code, 'RATE_LIMITED', 'code');
    assert.equal(s.seen.length, 1, 'no second attempt');
    assert.match(e.message, /deadline/, 'explains the deadline');
  });

  test('parseRetryAfter and backoffDelay', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000, 'seconds');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000, 'date');
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0, 'past date');
    assert.equal(parseRetryAfter('soon', now), null, 'garbage');
    assert.equal(parseRetryAfter(undefined, now), null, 'absent');
    const policy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };
    assert.equal(backoffDelay(1, policy, () => 0.999999), 499, 'first cap is the base');
    assert.equal(backoffDelay(3, policy, () => 0.5), 1000, 'doubles');
    assert.equal(backoffDelay(20, policy, () => 0.5), 15_000, 'capped at max');
    assert.equal(backoffDelay(4, policy, () => 0), 0, 'full jitter reaches 0');
  });

  test('303 chains are followed with GET to relative Locations', async () => {
    const s = await serve(
      script(
        (_q, res) => res.writeHead(303, { location: 'poll/abc' }).end(),
        (_q, res) => res.writeHead(303, { location: '/fn/poll/abc?n=2' }).end(),
        (_q, res) => res.writeHead(303, { location: '?n=3' }).end(),
        ok,
      ),
    );
    const r = await callJson(opts(`${s.url}/fn/generate`, { idempotencyKey: 'job-9', poll: FAST_POLL }));
    assert.deepEqual(r.body, { output: { a: 1 } }, 'final body');
    assert.equal(r.attempts, 4, 'each poll is an attempt');
    assert.deepEqual(
      s.seen.map((q) => `${q.method} ${q.url}`),
      ['POST /fn/generate', 'GET /fn/poll/abc', 'GET /fn/poll/abc?n=2', 'GET /fn/poll/abc?n=3'],
      'methods and resolved locations',
    );
    assert.equal(s.seen[2]!.headers.authorization, `Bearer ${TOKEN}`, 'auth kept on the same origin');
    assert.equal(s.seen[2]!.body, '', 'polls have no body');
  });

  test('303 polls do not count as failures; a failing poll is retried at the poll URL', async () => {
    const s = await serve(
      script(
        (_q, res) => res.writeHead(303, { location: '/poll' }).end(),
        (_q, res) => res.writeHead(303, { location: '/poll' }).end(),
        (_q, res) => res.writeHead(303, { location: '/poll' }).end(),
        status(503),
        ok,
      ),
    );
    const r = await callJson(opts(`${s.url}/generate`, { retry: { ...FAST, maxAttempts: 2 }, poll: FAST_POLL }));
    assert.equal(r.attempts, 5, 'five attempts');
    assert.equal(s.seen[4]!.url, '/poll', 'retried the poll, not the submit');
    assert.equal(s.seen.filter((q) => q.method === 'POST').length, 1, 'one submit');
  });

  test('a 303 to another origin is refused: that server is never asked, its body never lands in the error', async () => {
    const FOREIGN = 'FOREIGN-BODY-5d1c';
    const other = await serve((_q, res) => sendJson(res, 500, { error: FOREIGN, status: 500 }));
    const s = await serve((_q, res) => res.writeHead(303, { location: `${other.url}/result` }).end());
    const e = await failure(callJson(opts(s.url, { idempotencyKey: 'k', poll: FAST_POLL })));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /redirect to another origin refused/, 'message');
    assert.equal(other.seen.length, 0, 'the other origin received no request');
    assert.equal(s.seen.length, 1, 'not retried');
    assert.ok(!JSON.stringify(toWire(e)).includes(FOREIGN), 'no foreign body in the error');
  });

  test('a connection reset mid-body is retried', async () => {
    const s = await serve(
      script((_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"output": {"a"');
        setTimeout(() => res.socket?.destroy(), 5);
      }, ok),
    );
    const r = await callJson(opts(s.url));
    assert.equal(r.attempts, 2, 'retried');
    assert.deepEqual(r.body, { output: { a: 1 } }, 'body of the retry');
  });

  test('a reset before any response is retried; persistent resets give NETWORK_ERROR', async () => {
    const s = await serve(script((_q, res) => res.socket?.destroy(), ok));
    const r = await callJson(opts(s.url));
    assert.equal(r.attempts, 2, 'retried');
    const dead = await serve((_q, res) => res.socket?.destroy());
    const e = await failure(callJson(opts(dead.url, { retry: { ...FAST, maxAttempts: 3 } })));
    assert.equal(e.code, 'NETWORK_ERROR', 'code');
    assert.equal(dead.seen.length, 3, 'three attempts');
  });

  test('malformed JSON in a 2xx is retried; persistent is BACKEND_ERROR', async () => {
    const bad: Handler = (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"output": ');
    const s = await serve(script(bad, ok));
    const r = await callJson(opts(s.url));
    assert.equal(r.attempts, 2, 'retried');
    const s2 = await serve(bad);
    const e = await failure(callJson(opts(s2.url, { retry: { ...FAST, maxAttempts: 2 } })));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /malformed JSON from modal generate/, 'message');
  });

  test('a 2xx with error + status >= 400 is that error', async () => {
    const s = await serve(script((_q, res) => sendJson(res, 200, { error: 'overloaded', status: 503 }), ok));
    const r = await callJson(opts(s.url));
    assert.equal(r.attempts, 2, '503-in-200 retried');
    const s2 = await serve((_q, res) => sendJson(res, 200, { error: 'Missing required field: schema', status: 400 }));
    const e = await failure(callJson(opts(s2.url)));
    assert.equal(e.code, 'INVALID_INPUT', '400-in-200 code');
    assert.equal(s2.seen.length, 1, 'not retried');
    assert.match(e.message, /Missing required field: schema/, 'server text');
  });

  test('a failed body check is retried as malformed, then BACKEND_ERROR naming what is missing', async () => {
    const check = (b: unknown): string | null => (b && typeof b === 'object' && 'output' in b ? null : 'missing output');
    const s = await serve(script((_q, res) => sendJson(res, 200, { text: 'x' }), ok));
    const r = await callJson(opts(s.url, { check: (b) => check(b) }));
    assert.equal(r.attempts, 2, 'retried');
    const s2 = await serve((_q, res) => sendJson(res, 200, { text: 'x' }));
    const e = await failure(callJson(opts(s2.url, { check: (b) => check(b), retry: { ...FAST, maxAttempts: 2 } })));
    assert.equal(e.code, 'BACKEND_ERROR', 'code');
    assert.match(e.message, /malformed response from modal generate: missing output/, 'message');
  });

  test('a hang hits the first-byte timeout and the retry succeeds', async () => {
    const s = await serve(script(() => undefined, ok));
    const events: RetryEvent[] = [];
    const r = await callJson(opts(s.url, { firstByteTimeoutMs: 150, onRetry: (e) => events.push(e) }));
    assert.equal(r.attempts, 2, 'retried after the timeout');
    assert.equal(events[0]!.code, 'BACKEND_TIMEOUT', 'the failure was a timeout');
    assert.match(events[0]!.reason, /first-byte timeout/, 'reason');
  });

  test('the overall deadline gives BACKEND_TIMEOUT naming the deadline and path', async () => {
    const s = await serve(() => undefined);
    const e = await failure(callJson(opts(`${s.url}/fn/generate`, { deadlineMs: 200 })));
    assert.equal(e.code, 'BACKEND_TIMEOUT', 'code');
    assert.match(e.message, /200 ms deadline/, 'names the deadline');
    assert.match(e.message, /\/fn\/generate/, 'names the path');
  });

  test('the caller signal cancels a pending call with CANCELLED', async () => {
    const ac = new AbortController();
    const s = await serve(() => ac.abort(new TandemError('CANCELLED', 'user cancelled')));
    const e = await failure(callJson(opts(s.url, { signal: ac.signal })));
    assert.equal(e.code, 'CANCELLED', 'code');
    assert.equal(s.seen.length, 1, 'one request');
  });

  test('the caller signal cancels a backoff wait', async () => {
    const ac = new AbortController();
    const s = await serve((_q, res) => {
      sendJson(res, 503, { error: 'busy', status: 503 }, { 'retry-after': '5' });
    });
    const p = callJson(opts(s.url, { signal: ac.signal, onRetry: () => ac.abort() }));
    const e = await failure(p);
    assert.equal(e.code, 'CANCELLED', 'code');
    assert.equal(s.seen.length, 1, 'no second request');
  });

  test('connection refused on connect is OFFLINE', async () => {
    const port = await closedPort();
    const e = await failure(callJson(opts(`http://127.0.0.1:${port}/x`)));
    assert.equal(e.code, 'OFFLINE', 'code');
    assert.match(e.message, /modal unreachable: ECONNREFUSED/, 'message');
  });

  test('connection refused after an earlier answer in the same call is retried (then OFFLINE)', async () => {
    let s: TestServer | null = null;
    s = await startServer((_q, res) => {
      res.on('finish', () => void s!.close());
      sendJson(res, 503, { error: 'restarting', status: 503 });
    });
    const events: RetryEvent[] = [];
    const e = await failure(callJson(opts(s.url, { retry: { ...FAST, maxAttempts: 3 }, onRetry: (x) => events.push(x) })));
    assert.equal(e.code, 'OFFLINE', 'code once the retries are spent');
    assert.equal(events.length, 2, 'two retries: after the 503, after the first refusal');
    assert.equal(events[0]!.status, 503, 'the first answer was the 503');
    assert.equal(events[1]!.code, 'OFFLINE', 'the refusal was retried');
    assert.equal(s.seen.length, 1, 'only the first attempt reached the server');
  });

  test('the token never appears in errors, even when the server echoes it', async () => {
    const echo: Handler = (q, res) => sendJson(res, 401, { error: `bad credentials: ${q.headers.authorization}`, status: 401 });
    const s = await serve(echo);
    const e = await failure(callJson(opts(s.url)));
    assert.equal(e.code, 'UNAUTHORIZED', 'code');
    assert.match(e.message, /\[redacted\]/, 'echoed token redacted');
    const s2 = await serve((q, res) => sendJson(res, 500, { error: `trace: ${q.headers.authorization}`, status: 500 }));
    const e2 = await failure(callJson(opts(s2.url, { retry: { ...FAST, maxAttempts: 2 } })));
    assert.equal(e2.code, 'BACKEND_ERROR', 'code');
    const s3 = await serve(() => undefined);
    await failure(callJson(opts(`${s3.url}/?token=${TOKEN}`, { deadlineMs: 100 })));
  });
});
