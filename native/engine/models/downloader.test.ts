import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { isTandemError } from '../common/errors.js';
import { downloadFile, type DownloadProgress } from './downloader.js';
import { serveFiles } from '../../testing/range-server.js';



/** A port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

describe('downloadFile', { timeout: 20_000 }, () => {
  let tmp: string;
  let agent: Agent;
  const payload = crypto.randomBytes(300_000);
  const payloadSha = sha(payload);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-dl-'));
    agent = new Agent({ keepAliveTimeout: 50 });
  });
  after(async () => {
    await agent.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('downloads, verifies, reports progress and leaves no .partial', async () => {
    const srv = await serveFiles({ '/f.bin': payload });
    try {
      const dest = path.join(tmp, 'plain', 'f.bin');
      const events: DownloadProgress[] = [];
      const r = await downloadFile({
        url: `${srv.base}/f.bin`,
        dest,
        expectedSha256: payloadSha,
        expectedSize: payload.length,
        dispatcher: agent,
        onProgress: (p) => events.push(p),
      });
      assert.equal(r.sha256, payloadSha);
      assert.equal(r.size, payload.length);
      assert.equal(r.requests, 1);
      assert.deepEqual(fs.readFileSync(dest), payload);
      assert.equal(fs.existsSync(`${dest}.partial`), false);
      assert.ok(events.length >= 2, `progress events: ${events.length}`);
      assert.equal(events.at(-1)?.bytes, payload.length);
      assert.equal(events.at(-1)?.total, payload.length);
      assert.equal(events.at(-1)?.file, 'f.bin');
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.bytes >= events[i - 1]!.bytes, 'progress never goes backwards');
    } finally {
      await srv.close();
    }
  });

  test('resumes with a Range request after the connection drops mid-body', async () => {
    const srv = await serveFiles({ '/f.bin': payload }, { dropAfter: 100_000 });
    try {
      const dest = path.join(tmp, 'resume', 'f.bin');
      const r = await downloadFile({
        url: `${srv.base}/f.bin`,
        dest,
        expectedSha256: payloadSha,
        expectedSize: payload.length,
        dispatcher: agent,
        retryDelayMs: 10,
      });
      assert.equal(r.sha256, payloadSha);
      assert.deepEqual(fs.readFileSync(dest), payload);
      assert.equal(srv.log.length, 2, `expected two requests, got ${JSON.stringify(srv.log)}`);
      assert.equal(srv.log[0]!.range, undefined);
      const m = /^bytes=(\d+)-$/.exec(srv.log[1]!.range ?? '');
      assert.ok(m, `second request has a Range header: ${JSON.stringify(srv.log[1])}`);
      assert.ok(Number(m[1]) > 0, 'the resume starts past byte 0');
      assert.equal(srv.log[1]!.status, 206);
      assert.equal(r.resumed, true);
    } finally {
      await srv.close();
    }
  });

  test('follows redirects and keeps the Range header across them when resuming', async () => {
    const srv = await serveFiles({ '/cdn/f.bin': payload }, { dropAfter: 70_000, redirects: { '/repo/resolve/main/f.bin': '/cdn/f.bin' } });
    try {
      const dest = path.join(tmp, 'redirect', 'f.bin');
      const r = await downloadFile({ url: `${srv.base}/repo/resolve/main/f.bin`, dest, expectedSha256: payloadSha, dispatcher: agent, retryDelayMs: 5 });
      assert.equal(r.sha256, payloadSha);
      assert.deepEqual(
        srv.log.map((l) => [l.url, l.status]),
        [
          ['/repo/resolve/main/f.bin', 302],
          ['/cdn/f.bin', 200],
          ['/repo/resolve/main/f.bin', 302],
          ['/cdn/f.bin', 206],
        ],
      );
      assert.equal(srv.log[3]!.range, srv.log[2]!.range);
      assert.match(srv.log[3]!.range ?? '', /^bytes=[1-9]\d*-$/);
    } finally {
      await srv.close();
    }
  });

  test('rejects a sha256 mismatch, naming the file and both hashes, and deletes the partial', async () => {
    const srv = await serveFiles({ '/f.bin': payload });
    try {
      const dest = path.join(tmp, 'bad', 'f.bin');
      const wrong = sha(Buffer.from('something else'));
      await assert.rejects(
        downloadFile({ url: `${srv.base}/f.bin`, dest, expectedSha256: wrong, dispatcher: agent, label: 'acme/x/f.bin' }),
        (e: unknown) => {
          assert.ok(isTandemError(e, 'CHECKSUM_MISMATCH'), String(e));
          assert.match(e.message, /acme\/x\/f\.bin/);
          assert.ok(e.message.includes(wrong), 'names the expected hash');
          assert.ok(e.message.includes(payloadSha), 'names the actual hash');
          return true;
        },
      );
      assert.equal(fs.existsSync(dest), false);
      assert.equal(fs.existsSync(`${dest}.partial`), false);
    } finally {
      await srv.close();
    }
  });

  test('a 200 reply to a Range request restarts the file from byte 0', async () => {
    const srv = await serveFiles({ '/f.bin': payload }, { ignoreRange: true });
    try {
      const dest = path.join(tmp, 'restart', 'f.bin');
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      // A stale partial whose bytes are NOT a prefix of the file: appending to it would fail the hash.
      fs.writeFileSync(`${dest}.partial`, crypto.randomBytes(50_000));
      const r = await downloadFile({ url: `${srv.base}/f.bin`, dest, expectedSha256: payloadSha, expectedSize: payload.length, dispatcher: agent });
      assert.equal(r.sha256, payloadSha);
      assert.deepEqual(fs.readFileSync(dest), payload);
      assert.equal(srv.log.length, 1);
      assert.equal(srv.log[0]!.range, 'bytes=50000-');
      assert.equal(srv.log[0]!.status, 200);
    } finally {
      await srv.close();
    }
  });

  test('a 416 for a partial that already holds the whole file completes without a body', async () => {
    const srv = await serveFiles({ '/f.bin': payload });
    try {
      const dest = path.join(tmp, 'complete', 'f.bin');
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(`${dest}.partial`, payload);
      // No expectedSize, so the downloader has to ask the server.
      const r = await downloadFile({ url: `${srv.base}/f.bin`, dest, expectedSha256: payloadSha, dispatcher: agent });
      assert.equal(r.sha256, payloadSha);
      assert.deepEqual(srv.log.map((l) => l.status), [416]);
      assert.deepEqual(fs.readFileSync(dest), payload);
    } finally {
      await srv.close();
    }
  });

  test('gives up after the retry budget, keeping the partial for a later resume', async () => {
    const srv = await serveFiles({ '/f.bin': payload }, { dropAfter: 10_000, dropTimes: 100 });
    try {
      const dest = path.join(tmp, 'giveup', 'f.bin');
      await assert.rejects(
        downloadFile({ url: `${srv.base}/f.bin`, dest, expectedSha256: payloadSha, expectedSize: payload.length, dispatcher: agent, maxRetries: 2, retryDelayMs: 5 }),
        (e: unknown) => isTandemError(e, 'NETWORK_ERROR') && /3 failed attempts/.test(e.message),
      );
      assert.equal(srv.log.length, 3);
      assert.ok(fs.statSync(`${dest}.partial`).size > 0, 'partial kept');
      assert.equal(fs.existsSync(dest), false);
    } finally {
      await srv.close();
    }
  });

  test('connection refused is OFFLINE, naming the host and the offline alternatives', async () => {
    const port = await closedPort();
    const dest = path.join(tmp, 'offline', 'f.bin');
    await assert.rejects(
      downloadFile({ url: `http://127.0.0.1:${port}/f.bin`, dest, expectedSha256: payloadSha, dispatcher: agent, retryDelayMs: 5 }),
      (e: unknown) => {
        assert.ok(isTandemError(e, 'OFFLINE'), String(e));
        assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
        assert.match(e.message, /tandem models import/);
        assert.match(e.message, /TANDEM_MODELS_DIR/);
        return true;
      },
    );
    assert.equal(fs.existsSync(dest), false);
  });

  test('404 is NOT_FOUND and an aborted signal is CANCELLED', async () => {
    const srv = await serveFiles({});
    try {
      const dest = path.join(tmp, 'missing', 'f.bin');
      await assert.rejects(downloadFile({ url: `${srv.base}/nope.bin`, dest, dispatcher: agent }), (e: unknown) => isTandemError(e, 'NOT_FOUND'));
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(downloadFile({ url: `${srv.base}/nope.bin`, dest, dispatcher: agent, signal: ac.signal }), (e: unknown) => isTandemError(e, 'CANCELLED'));
    } finally {
      await srv.close();
    }
  });
});
