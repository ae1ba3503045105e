import type { AppPool } from './app-pool.js';
import type { BatchRunner } from './batch-runner.js';
import type { EmulatorConfig } from './emulator-config.js';
import type { ExecutionStore } from './execution-store.js';
import type { Outcome } from './http-util.js';
import type { EmulatorStats } from './types.js';

/** The state every route works with (one per running emulator; nothing global). */
export interface EmulatorCore {
  readonly config: EmulatorConfig;
  readonly pool: AppPool;
  readonly store: ExecutionStore;
  readonly batches: BatchRunner;
  stats(): EmulatorStats;
  /** http://127.0.0.1:PORT */
  baseUrl(): string;
}

/** One protocol request, body already read. */
export interface ProtocolRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  body: string;
  idempotencyKey: string | undefined;
}

/** A recognised protocol route: its stats name ("METHOD /path" with ids as {id}) and its handler. */
export interface RouteMatch {
  name: string;
  handle(req: ProtocolRequest): Promise<Outcome>;
}
