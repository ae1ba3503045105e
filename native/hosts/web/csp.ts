// The Content-Security-Policy of the renderer's pages, one for both hosts that serve them: the web
// host (tandem serve) and Electron's app:// protocol (electron/main/app-files.ts), which imports this
// module alone rather than the web host.
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
