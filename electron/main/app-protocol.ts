/**
 * The renderer is loaded from disk through a custom `app://tandem/` scheme (no remote content, no
 * file:// origin): a standard, secure scheme whose handler serves only files inside the built
 * renderer, with the CSP and nosniff headers.
 */
import fs from 'node:fs/promises';
import { protocol } from 'electron';
import { contentType, resolveAppFile } from './app-files';

export const APP_URL = 'app://tandem/index.html';

/** Must run before `app.whenReady()`. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serve `rendererDir` on app://tandem/ (after ready). */
export function serveRenderer(rendererDir: string, csp: string): void {
  protocol.handle('app', async (req) => {
    const file = resolveAppFile(rendererDir, req.url);
    if (!file) return new Response('Not found', { status: 404 });
    try {
      const body = await fs.readFile(file);
      return new Response(new Uint8Array(body), {
        status: 200,
        headers: { 'Content-Type': contentType(file), 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' },
      });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}
