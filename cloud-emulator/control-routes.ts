import { isTandemError } from '../native/engine/common/errors.js';
import { errorOutcome, parseJson, type Outcome } from './http-util.js';
import { APP_NAMES, FAULT_KINDS, type AppName, type FaultConfig, type FaultKind, type RunningEmulator } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

type Control = Pick<RunningEmulator, 'stats' | 'setFaults' | 'injectNext' | 'scaleToZero' | 'reset'>;

function guarded(f: () => Outcome): Outcome {
  try {
    return f();
  } catch (e) {
    if (isTandemError(e, 'INVALID_ARGUMENT')) return errorOutcome(400, e.message);
    throw e;
  }
}

/**
 * /_emulator/*: stats, faults, scale-to-zero, reset, for out-of-process users (the CLI emulator,
 * e2e tests). No auth and no faults here; the server only listens on 127.0.0.1.
 */
export function handleControl(ctl: Control, method: string, path: string, body: string): Outcome {
  const route = `${method} ${path}`;
  if (route === 'GET /_emulator/stats') return { status: 200, body: ctl.stats() as unknown as Outcome['body'] };
  const parsed = parseJson(body);
  if (!parsed.ok) return parsed.outcome;
  const v = parsed.value;
  switch (route) {
    case 'POST /_emulator/faults':
      return guarded(() => {
        if (v === undefined || v === null) {
          ctl.setFaults(null);
          return { status: 200, body: { ok: true } };
        }
        if (!isObj(v)) return errorOutcome(400, 'expected a FaultConfig {"rate", "kinds"?, "seed"?} or {"next": [{"fault", "route"?, "count"?}]}');
        if (v.next !== undefined) {
          if (!Array.isArray(v.next)) return errorOutcome(400, 'next must be a list of {"fault", "route"?, "count"?}');
          for (const n of v.next) {
            if (!isObj(n) || typeof n.fault !== 'string') return errorOutcome(400, 'each entry of next needs a "fault"');
            if (!(FAULT_KINDS as readonly string[]).includes(n.fault)) return errorOutcome(400, `unknown fault kind "${n.fault}" (expected one of ${FAULT_KINDS.join(', ')})`);
            if (n.route !== undefined && typeof n.route !== 'string') return errorOutcome(400, 'next[].route must be a string');
            if (n.count !== undefined && typeof n.count !== 'number') return errorOutcome(400, 'next[].count must be a number');
          }
        }
        if (v.rate !== undefined) ctl.setFaults(v as unknown as FaultConfig);
        for (const n of (v.next ?? []) as { fault: string; route?: string; count?: number }[]) {
          ctl.injectNext(n.fault as FaultKind, { ...(n.route !== undefined ? { route: n.route } : {}), ...(n.count !== undefined ? { count: n.count } : {}) });
        }
        if (v.rate === undefined && v.next === undefined) ctl.setFaults(null);
        return { status: 200, body: { ok: true } };
      });
    case 'POST /_emulator/scale-to-zero': {
      const app = isObj(v) ? v.app : undefined;
      if (app !== undefined && !(APP_NAMES as readonly unknown[]).includes(app)) return errorOutcome(400, `unknown app ${JSON.stringify(app)} (expected one of ${APP_NAMES.join(', ')})`);
      ctl.scaleToZero(app as AppName | undefined);
      return { status: 200, body: { ok: true } };
    }
    case 'POST /_emulator/reset':
      ctl.reset();
      return { status: 200, body: { ok: true } };
    default:
      return errorOutcome(404, `unknown control route ${route}`);
  }
}
