/** The cloud emulator: a real HTTP server speaking ../shared/cloud-protocol.md, with fault injection. */
export { startEmulator } from './emulator-server.js';
export { FAULT_KINDS, APP_NAMES } from './types.js';
export type { AppName, BatchSummary, EmulatorOptions, EmulatorStats, FaultConfig, FaultKind, RunningEmulator } from './types.js';
