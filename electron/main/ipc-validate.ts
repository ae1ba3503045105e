/**
 * The gate in main (pure: no Electron, unit-tested in plain Node): only the app's own page gets a
 * channel to the engine (checked once, when the page asks for its MessagePort; index.ts). What
 * travels on the channel is checked by the engine: a method of the contract, an input its zod
 * schema accepts (native/engine/api, `parseApiInput`), else a WireError.
 */

/** Whether a frame URL is the app's own page: `app://tandem/...`, or the dev server's origin in development. */
export function isAppUrl(url: string, devUrl?: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'app:' && u.host === 'tandem') return true;
  if (!devUrl) return false;
  try {
    return u.origin === new URL(devUrl).origin;
  } catch {
    return false;
  }
}
