import { APP_NAMES, FAULT_KINDS, type AppName, type EmulatorStats, type FaultKind } from './types.js';

const perApp = (): Record<AppName, number> => Object.fromEntries(APP_NAMES.map((a) => [a, 0])) as Record<AppName, number>;

export function emptyStats(): EmulatorStats {
  return {
    requests: 0,
    byRoute: {},
    faultsInjected: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    executions: {},
    completed: { generate: 0, embed: 0, predict: 0, batchLigands: 0, batches: 0, warmups: 0 },
    coldStarts: perApp(),
    maxInFlight: perApp(),
    overConcurrency: perApp(),
    batches: {},
  };
}

/** A deep copy, so callers can keep a snapshot while the emulator runs on. */
export function snapshot(s: EmulatorStats): EmulatorStats {
  return structuredClone(s);
}
