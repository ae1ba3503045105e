/**
 * The gate every renderer request passes in main (pure: no Electron, unit-tested in plain Node):
 * the method must be one of the contract, its input must match the method's zod schema, the
 * sender must be the app's own page. Anything else is refused with a WireError INVALID_ARGUMENT
 * (UNAUTHORIZED for a foreign sender) and never reaches the engine.
 */
import { API_METHODS, isApiEventName, isApiMethod, type ApiMethod } from '../../native/engine/common/api-contract';
import type { WireError } from '../../native/engine/common/errors';

/** Inputs are small JSON objects; anything bigger is refused (as the web host refuses large bodies). */
export const MAX_INPUT_BYTES = 1024 * 1024;

export type Validated = { ok: true; method: ApiMethod; input: unknown } | { ok: false; error: WireError };

function sizeOf(x: unknown): number {
  try {
    return JSON.stringify(x ?? {}).length;
  } catch {
    return Infinity; // cycles, BigInt...: not JSON, not an API input
  }
}

/** Check a `tandem:invoke` request: a contract method and an input its schema accepts (defaults filled in). */
export function validateInvoke(method: unknown, input: unknown): Validated {
  if (!isApiMethod(method)) {
    const shown = typeof method === 'string' ? JSON.stringify(method.slice(0, 80)) : typeof method;
    return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `unknown API method ${shown}` } };
  }
  if (sizeOf(input) > MAX_INPUT_BYTES) return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `${method}: the input is not JSON or is larger than ${MAX_INPUT_BYTES} bytes` } };
  const r = API_METHODS[method].input.safeParse(input ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
    return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `${method}: invalid input: ${issues.join('; ')}` } };
  }
  return { ok: true, method, input: r.data };
}

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

/** Engine events forwarded to the renderer: the contract's, nothing else. */
export function isForwardedEvent(name: unknown): boolean {
  return isApiEventName(name);
}
