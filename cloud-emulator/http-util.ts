import type http from 'node:http';
import type { JsonValue } from '../native/engine/common/errors.js';

/** What a route answers, before any fault decides how it is written. */
export interface Outcome {
  status: number;
  body: JsonValue;
  headers?: Record<string, string>;
}

export function errorOutcome(status: number, error: string, headers?: Record<string, string>): Outcome {
  return headers ? { status, body: { error, status }, headers } : { status, body: { error, status } };
}

/** Modal style: the function *returned* an error dict, so HTTP says 200. */
export function modalError(status: number, error: string): Outcome {
  return { status: 200, body: { error, status } };
}

/** A 2xx whose body is not an error dict (the protocol's rule for clients). */
export function isSuccess(o: Outcome): boolean {
  if (o.status < 200 || o.status > 299) return false;
  const b = o.body;
  return !(typeof b === 'object' && b !== null && !Array.isArray(b) && 'error' in b && typeof b.status === 'number' && b.status >= 400);
}

export type Parsed = { ok: true; value: unknown } | { ok: false; outcome: Outcome };

export function parseJson(text: string): Parsed {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, outcome: errorOutcome(400, 'request body is not valid JSON') };
  }
}

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The whole request body as UTF-8, or null when it is larger than MAX_BODY_BYTES. */
export function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Writes an outcome normally, or broken the way `fault` ('reset' | 'malformed-json') asks. */
export function writeOutcome(res: http.ServerResponse, o: Outcome, fault: 'reset' | 'malformed-json' | null = null): void {
  if (res.destroyed || res.writableEnded) return;
  const body = Buffer.from(JSON.stringify(o.body));
  if (fault === 'malformed-json') {
    // A strict prefix of a JSON object's text is never valid JSON.
    const cut = body.subarray(0, Math.max(1, Math.floor(body.length / 2)));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': cut.length });
    res.end(cut);
    return;
  }
  res.writeHead(o.status, { ...o.headers, 'content-type': 'application/json', 'content-length': body.length });
  if (fault === 'reset') {
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
    return;
  }
  res.end(body);
}
