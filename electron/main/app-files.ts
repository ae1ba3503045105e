/**
 * Pure helpers of the main process (no Electron, unit-tested in plain Node): which file an
 * `app://tandem/...` URL serves from the built renderer (never outside it), its content type, the
 * CSP (the web host's, loosened for the dev server only), and a collection name for a folder.
 */
import path from 'node:path';
import { CSP } from '../../native/hosts/web/csp';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The file under `root` that `url` (app://tandem/...) names; `/` is index.html; null when outside `root` or malformed. */
export function resolveAppFile(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'app:' || u.host !== 'tandem') return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  rel = rel.replace(/^\/+/, '') || 'index.html';
  const base = path.resolve(root);
  const file = path.resolve(base, rel);
  return file.startsWith(base + path.sep) ? file : null;
}

/** The CSP of the app's pages: the web host's; with the dev server, its inline preamble and HMR socket too. */
export function cspFor(devUrl?: string): string {
  if (!devUrl) return CSP;
  const origin = new URL(devUrl).origin;
  const ws = origin.replace(/^http/, 'ws');
  return CSP.replace("script-src 'self'", `script-src 'self' 'unsafe-inline' ${origin}`).replace("connect-src 'self'", `connect-src 'self' ${origin} ${ws}`);
}

/** A collection name (1-64 of letters, digits, space . _ -, starting with a letter or digit) for a folder. */
export function collectionNameFor(folder: string): string {
  const base = path.basename(path.resolve(folder)).replace(/[^\w .-]+/g, '-').replace(/^[^A-Za-z0-9_]+/, '').slice(0, 64).trim();
  return base || 'library';
}
