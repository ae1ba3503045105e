import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import { lazyModule } from '../node/lazy-module.js';

const undici = lazyModule<typeof Undici>('undici');
import { nestedErrorCodes, TandemError } from '../common/errors.js';

/** One progress event: `bytes` of `total` of `file` are on disk (total is null when unknown). */
export interface DownloadProgress {
  file: string;
  bytes: number;
  total: number | null;
}

export interface DownloadOptions {
  url: string;
  /** Final path. Bytes go to `dest + '.partial'` first, which a later call resumes. */
  dest: string;
  /** Lowercase hex sha256 the file must have; null/undefined = accept and report what was seen. */
  expectedSha256?: string | null;
  expectedSize?: number | null;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Defaults to undici's global dispatcher. Redirects (the Hub answers 302 to its CDN) are followed either way. */
  dispatcher?: Dispatcher;
  /** Name used in progress events and messages; defaults to the basename of `dest`. */
  label?: string;
  /** Further attempts after a dropped connection or a 5xx/429 reply. Default 5. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, capped at 30 s. Default 500 ms. */
  retryDelayMs?: number;
}

export interface DownloadResult {
  sha256: string;
  size: number;
  /** HTTP requests made (1 when nothing went wrong, 0 when a complete partial was already on disk). */
  requests: number;
  /** True when a partial file from an earlier attempt or run was found on disk. */
  resumed: boolean;
}

const MAX_REDIRECTIONS = 5;
const MAX_BACKOFF_MS = 30_000;
const PROGRESS_EVERY_BYTES = 256 * 1024;

/**
 * Error codes meaning "no route to this host at all" (as opposed to a transfer that started and broke).
 * A TCP connect that times out is counted here too: retrying it only makes an offline user wait longer.
 */
const OFFLINE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Error codes of a transfer that started and broke: retried, resuming from the bytes on disk. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

function offlineError(url: URL, label: string, code: string, cause: unknown): TandemError {
  return new TandemError(
    'OFFLINE',
    `cannot reach ${url.host} to download ${label} (${code}). ` +
      'If this machine is offline, copy the model folder from elsewhere and run `tandem models import FOLDER --id ID`, ' +
      'or point TANDEM_MODELS_DIR at a folder that already holds the model.',
    { cause, data: { host: url.host, url: url.href, code } },
  );
}

/** A failure worth another attempt (the partial file is kept and resumed). */
class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function cancelled(label: string, cause: unknown): TandemError {
  return new TandemError('CANCELLED', `download of ${label} cancelled (the partial file is kept and resumed next time)`, { cause });
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** sha256 of the first `length` bytes of `file` (the prefix kept from an earlier attempt). */
async function hashPrefix(file: string, length: number): Promise<crypto.Hash> {
  const hash = crypto.createHash('sha256');
  if (length === 0) return hash;
  const stream = fs.createReadStream(file, { start: 0, end: length - 1 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash;
}

async function writeAll(fh: fsp.FileHandle, chunk: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}

/** fsync a directory so a rename into it is durable; best-effort where unsupported (Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  // Durability of the rename itself; not possible on every platform (Windows), so best-effort.
  try {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best-effort */
  }
}

/** Parse Content-Range: `bytes 100-199/1000` gives start 100, total 1000; the unsatisfied form `bytes STAR/1000` gives total only. */
function parseContentRange(value: string | string[] | undefined): { start: number | undefined; total: number | undefined } {
  const v = Array.isArray(value) ? value[0] : value;
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(v?.trim() ?? '');
  if (!m) return { start: undefined, total: undefined };
  return { start: m[1] === undefined ? undefined : Number(m[1]), total: m[2] === '*' || m[2] === undefined ? undefined : Number(m[2]) };
}

function headerNumber(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v);
}

function redirectingDispatcher(base: Dispatcher | undefined): Dispatcher {
  return (base ?? undici().getGlobalDispatcher()).compose(undici().interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }));
}

type AttemptOutcome = { kind: 'complete' } | { kind: 'restart' };

interface AttemptState {
  url: URL;
  label: string;
  partial: string;
  expectedSize: number | null;
  dispatcher: Dispatcher;
  signal: AbortSignal | undefined;
  onProgress: ((p: DownloadProgress) => void) | undefined;
}

/**
 * One HTTP request: append to (or restart) the partial file. Resolves when the body was read to its
 * end; throws RetryableError for a broken transfer, TandemError for anything final.
 */
async function attempt(st: AttemptState, offset: number): Promise<AttemptOutcome> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'tandem-model-downloader' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let res: Dispatcher.ResponseData;
  try {
    res = await undici().request(st.url, { method: 'GET', headers, dispatcher: st.dispatcher, signal: st.signal ?? null });
  } catch (e) {
    if (st.signal?.aborted) throw cancelled(st.label, e);
    const codes = nestedErrorCodes(e);
    const off = codes.find((c) => OFFLINE_CODES.has(c));
    if (off) throw offlineError(st.url, st.label, off, e);
    if (codes.some((c) => RETRYABLE_CODES.has(c))) throw new RetryableError(`request for ${st.label} failed: ${(e as Error).message}`, { cause: e });
    throw new TandemError('NETWORK_ERROR', `request for ${st.label} to ${st.url.host} failed: ${(e as Error).message}`, { cause: e });
  }

  const { statusCode } = res;
  let start: number;
  if (statusCode === 206) {
    const cr = parseContentRange(res.headers['content-range']);
    if (cr.start !== offset) {
      // A range we did not ask for: throw the partial away and start over.
      await res.body.dump();
      await fsp.rm(st.partial, { force: true });
      return { kind: 'restart' };
    }
    start = offset;
  } else if (statusCode === 200) {
    start = 0; // no Range support (or it was ignored): the body is the whole file
  } else if (statusCode === 416) {
    await res.body.dump();
    const cr = parseContentRange(res.headers['content-range']);
    if (cr.total !== undefined && cr.total === offset) return { kind: 'complete' }; // everything is already on disk
    await fsp.rm(st.partial, { force: true });
    return { kind: 'restart' };
  } else {
    await res.body.dump().catch(() => undefined);
    const where = `${st.label} (${st.url.href})`;
    if (statusCode === 404) throw new TandemError('NOT_FOUND', `${where}: the server has no such file (HTTP 404)`, { data: { status: statusCode, url: st.url.href } });
    if (statusCode === 401 || statusCode === 403) {
      throw new TandemError('UNAUTHORIZED', `${where}: access denied (HTTP ${statusCode}); the repository may be gated or private`, { data: { status: statusCode, url: st.url.href } });
    }
    if (statusCode === 429 || statusCode >= 500) throw new RetryableError(`${where}: HTTP ${statusCode}`);
    throw new TandemError('NETWORK_ERROR', `${where}: unexpected HTTP ${statusCode}`, { data: { status: statusCode, url: st.url.href } });
  }

  const length = headerNumber(res.headers['content-length']);
  const total = st.expectedSize ?? (length !== undefined ? start + length : null);
  const fh = await fsp.open(st.partial, start === 0 ? 'w' : 'r+');
  let position = start;
  let lastReport = -Infinity;
  const report = (force: boolean): void => {
    if (!st.onProgress || (!force && position - lastReport < PROGRESS_EVERY_BYTES)) return;
    lastReport = position;
    st.onProgress({ file: st.label, bytes: position, total });
  };
  try {
    report(true);
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      await writeAll(fh, buf, position);
      position += buf.length;
      if (st.expectedSize !== null && position > st.expectedSize) {
        break; // more bytes than the file can have: stop reading, the size check below rejects it
      }
      report(false);
    }
  } catch (e) {
    if (st.signal?.aborted) throw cancelled(st.label, e);
    throw new RetryableError(`connection dropped while downloading ${st.label} at byte ${position}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh.close();
    res.body.destroy();
  }
  report(true);
  const announced = length !== undefined ? start + length : undefined;
  if (announced !== undefined && position < announced) {
    throw new RetryableError(`connection ended early while downloading ${st.label} (${position} of ${announced} bytes)`);
  }
  if (st.expectedSize !== null && position < st.expectedSize) {
    throw new RetryableError(`connection ended early while downloading ${st.label} (${position} of ${st.expectedSize} bytes)`);
  }
  return { kind: 'complete' };
}

function mismatch(label: string, expected: string, actual: string, detail: string): TandemError {
  return new TandemError('CHECKSUM_MISMATCH', `${label}: ${detail}: expected sha256 ${expected}, got ${actual}; the download was discarded`, {
    data: { file: label, expected, actual },
  });
}

/**
 * Download `url` to `dest`, resumably and verified:
 * - bytes go to `dest.partial`; an existing partial is resumed with `Range: bytes=N-` (a 200 reply restarts it);
 * - a dropped connection is retried with backoff, resuming from the bytes on disk;
 * - sha256 is taken over the whole file (the kept prefix is re-hashed) and compared with `expectedSha256`;
 *   on mismatch the partial is deleted and CHECKSUM_MISMATCH is thrown;
 * - on success the file is fsynced and atomically renamed to `dest`.
 * No route to the host throws OFFLINE naming the host and the offline alternatives.
 */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch (e) {
    throw new TandemError('INVALID_ARGUMENT', `not a valid URL: ${opts.url}`, { cause: e });
  }
  const expectedSha = opts.expectedSha256?.toLowerCase() ?? null;
  if (expectedSha !== null && !/^[0-9a-f]{64}$/.test(expectedSha)) {
    throw new TandemError('INVALID_ARGUMENT', `expectedSha256 must be 64 hex digits, got "${opts.expectedSha256}"`);
  }
  const expectedSize = opts.expectedSize ?? null;
  const label = opts.label ?? path.basename(opts.dest);
  const maxRetries = opts.maxRetries ?? 5;
  const baseDelay = opts.retryDelayMs ?? 500;
  const partial = `${opts.dest}.partial`;
  await fsp.mkdir(path.dirname(opts.dest), { recursive: true });

  const st: AttemptState = {
    url,
    label,
    partial,
    expectedSize,
    dispatcher: redirectingDispatcher(opts.dispatcher),
    signal: opts.signal,
    onProgress: opts.onProgress,
  };

  let requests = 0;
  let failures = 0;
  let resumed = false;
  for (;;) {
    if (opts.signal?.aborted) throw cancelled(label, opts.signal.reason);
    let offset = await fileSize(partial);
    if (expectedSize !== null && offset > expectedSize) {
      await fsp.rm(partial, { force: true });
      offset = 0;
    }
    if (offset > 0) resumed = true;
    let outcome: AttemptOutcome;
    if (expectedSize !== null && offset === expectedSize) {
      outcome = { kind: 'complete' }; // an earlier run got every byte; just verify
    } else {
      requests += 1;
      try {
        outcome = await attempt(st, offset);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        failures += 1;
        if (failures > maxRetries) {
          throw new TandemError('NETWORK_ERROR', `giving up on ${label} after ${failures} failed attempts: ${e.message} (the partial file is kept and resumed next time)`, {
            cause: e,
            data: { url: url.href },
          });
        }
        try {
          await sleep(Math.min(baseDelay * 2 ** (failures - 1), MAX_BACKOFF_MS), opts.signal);
        } catch (abort) {
          throw cancelled(label, abort);
        }
        continue;
      }
    }
    if (outcome.kind === 'restart') {
      failures += 1;
      if (failures > maxRetries) throw new TandemError('NETWORK_ERROR', `giving up on ${label}: the server kept answering with unusable ranges`, { data: { url: url.href } });
      continue;
    }

    // Complete: verify size and hash over the whole file.
    const size = await fileSize(partial);
    const actual = (await hashPrefix(partial, size)).digest('hex');
    if (expectedSize !== null && size !== expectedSize) {
      await fsp.rm(partial, { force: true });
      throw mismatch(label, expectedSha ?? '(not pinned)', actual, `size mismatch (${size} bytes, expected ${expectedSize})`);
    }
    if (expectedSha !== null && actual !== expectedSha) {
      await fsp.rm(partial, { force: true });
      throw mismatch(label, expectedSha, actual, 'checksum mismatch');
    }
    const fh = await fsp.open(partial, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(partial, opts.dest);
    await fsyncDir(path.dirname(opts.dest));
    return { sha256: actual, size, requests, resumed };
  }
}

/** sha256 (hex) and size of a file on disk, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
