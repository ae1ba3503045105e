import { request } from 'undici';

/** Test helpers: a plain undici client that never follows redirects, and condition polling. */

export type Json = { [k: string]: unknown };

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Json;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const hasBody = opts.body !== undefined;
  const r = await request(base + path, {
    method: method as 'GET',
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(hasBody ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await r.body.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // left empty: the caller asserts on text
  }
  return { status: r.statusCode, headers: r.headers, text, json };
}

/** Follows 303s (GET on Location) until another status; returns the final reply and the 303s seen. */
export async function follow(first: Reply, headers: Record<string, string> = {}): Promise<{ reply: Reply; redirects: number }> {
  let reply = first;
  let redirects = 0;
  while (reply.status === 303) {
    redirects++;
    const url = new URL(String(reply.headers.location));
    reply = await call(url.origin, 'GET', url.pathname, { headers });
  }
  return { reply, redirects };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds; throws naming `what` after `limitMs` (a hang guard, not a timing assertion). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
