import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RequestLog {
  url: string;
  range: string | undefined;
  status: number;
}

export interface RangeServerBehaviour {
  /** Send this many body bytes, then destroy the socket (the first `dropTimes` requests, default 1). */
  dropAfter?: number;
  dropTimes?: number;
  /** Only drop requests for this path (default: any). */
  dropUrl?: string;
  /** Answer 200 with the whole file even when a Range is asked. */
  ignoreRange?: boolean;
  /** path -> Location of a 302 (the Hub redirects /resolve/ URLs to its CDN). */
  redirects?: Record<string, string>;
}

export interface RangeServer {
  base: string;
  log: RequestLog[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 with `Range: bytes=N-` support, fault injection and a request log. */
export async function serveFiles(files: Record<string, Buffer> | Map<string, Buffer>, behaviour: RangeServerBehaviour = {}): Promise<RangeServer> {
  const get = (url: string) => (files instanceof Map ? files.get(url) : files[url]);
  const log: RequestLog[] = [];
  const sockets = new Set<Socket>();
  let drops = 0;
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const range = req.headers.range;
    const location = behaviour.redirects?.[url];
    if (location) {
      log.push({ url, range, status: 302 });
      res.writeHead(302, { location }).end();
      return;
    }
    const body = get(url);
    if (!body) {
      log.push({ url, range, status: 404 });
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    let status = 200;
    const m = range && !behaviour.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        log.push({ url, range, status: 416 });
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
    }
    const slice = body.subarray(start);
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'content-length': slice.length, 'accept-ranges': 'bytes' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    log.push({ url, range, status });
    res.writeHead(status, headers);
    if (behaviour.dropAfter !== undefined && drops < (behaviour.dropTimes ?? 1) && (behaviour.dropUrl === undefined || behaviour.dropUrl === url)) {
      drops += 1;
      res.write(slice.subarray(0, behaviour.dropAfter), () => setTimeout(() => res.socket?.destroy(), 30));
      return;
    }
    res.end(slice);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    log,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
