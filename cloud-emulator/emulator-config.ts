import { TandemError } from '../native/engine/common/errors.js';
import { APP_NAMES, FAULT_KINDS, type AppName, type EmulatorOptions, type FaultConfig } from './types.js';

/** Defaults before timeScale, from the seeds' measured cold starts and per-request GPU times. */
const DEFAULT_COLD_START_MS: Record<AppName, number> = { 'qwen-32b': 360_000, 'qwen-80b': 420_000, 'qwen-480b': 600_000, embed: 12_000, boltz2: 45_000, 'modal-boltz2': 60_000 };
const DEFAULT_INFERENCE_MS: Record<AppName, number> = { 'qwen-32b': 6_000, 'qwen-80b': 9_000, 'qwen-480b': 20_000, embed: 300, boltz2: 90_000, 'modal-boltz2': 120_000 };
const DEFAULT_CONCURRENCY: Record<AppName, number> = { 'qwen-32b': 20, 'qwen-80b': 10, 'qwen-480b': 3, embed: 10, boltz2: 5, 'modal-boltz2': 10 };

/** Every delay and limit the emulator uses, resolved once (ms). */
export interface EmulatorConfig {
  port: number;
  token: string | undefined;
  coldStartMs: Record<AppName, number>;
  inferenceMs: Record<AppName, number>;
  concurrency: Record<AppName, number>;
  idleMs: number;
  redirectAfterMs: number;
  cloudRunTimeoutMs: number;
  retryAfterS: number;
  faults: FaultConfig | null;
}

function nonNegative(name: string, v: number | undefined): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new TandemError('INVALID_ARGUMENT', `emulator option ${name} must be a finite number >= 0, got ${String(v)}`);
  }
}

export function checkFaultConfig(f: FaultConfig): FaultConfig {
  if (typeof f !== 'object' || f === null || typeof f.rate !== 'number' || !(f.rate >= 0 && f.rate <= 1)) {
    throw new TandemError('INVALID_ARGUMENT', 'faults.rate must be a number between 0 and 1');
  }
  if (f.kinds !== undefined) {
    if (!Array.isArray(f.kinds) || f.kinds.length === 0) throw new TandemError('INVALID_ARGUMENT', 'faults.kinds must be a non-empty list');
    for (const k of f.kinds) {
      if (!FAULT_KINDS.includes(k)) throw new TandemError('INVALID_ARGUMENT', `unknown fault kind "${String(k)}" (expected one of ${FAULT_KINDS.join(', ')})`);
    }
  }
  if (f.seed !== undefined && (typeof f.seed !== 'number' || !Number.isFinite(f.seed))) throw new TandemError('INVALID_ARGUMENT', 'faults.seed must be a number');
  return f;
}

function perApp(name: string, defaults: Record<AppName, number>, given: Partial<Record<AppName, number>> | undefined, scale: number): Record<AppName, number> {
  const out = {} as Record<AppName, number>;
  for (const app of APP_NAMES) {
    const v = given?.[app];
    nonNegative(`${name}.${app}`, v);
    out[app] = v ?? defaults[app] * scale;
  }
  for (const k of Object.keys(given ?? {})) {
    if (!(APP_NAMES as readonly string[]).includes(k)) throw new TandemError('INVALID_ARGUMENT', `unknown app "${k}" in ${name} (expected one of ${APP_NAMES.join(', ')})`);
  }
  return out;
}

export function resolveConfig(opts: EmulatorOptions = {}): EmulatorConfig {
  const scale = opts.timeScale ?? 1;
  nonNegative('timeScale', opts.timeScale);
  for (const k of ['port', 'idleMs', 'redirectAfterMs', 'cloudRunTimeoutMs', 'retryAfterS'] as const) nonNegative(k, opts[k]);
  const concurrency = perApp('concurrency', DEFAULT_CONCURRENCY, opts.concurrency, 1);
  return {
    port: opts.port ?? 0,
    token: opts.token || undefined,
    coldStartMs: perApp('coldStartMs', DEFAULT_COLD_START_MS, opts.coldStartMs, scale),
    inferenceMs: perApp('inferenceMs', DEFAULT_INFERENCE_MS, opts.inferenceMs, scale),
    concurrency,
    idleMs: opts.idleMs ?? 600_000 * scale,
    redirectAfterMs: opts.redirectAfterMs ?? 150_000 * scale,
    cloudRunTimeoutMs: opts.cloudRunTimeoutMs ?? 3_600_000 * scale,
    retryAfterS: opts.retryAfterS ?? 1,
    faults: opts.faults ? checkFaultConfig(opts.faults) : null,
  };
}
