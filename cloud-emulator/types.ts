/** The emulator's public types (re-exported by index.ts; other code depends on these exact names). */

export type FaultKind = 'rate-limit' | 'server-error' | 'unavailable' | 'error-body' | 'reset' | 'malformed-json' | 'hang';

export const FAULT_KINDS: readonly FaultKind[] = ['rate-limit', 'server-error', 'unavailable', 'error-body', 'reset', 'malformed-json', 'hang'];

/** `modal-boltz2`: Boltz-2 on Modal A100-40GB, the rollback target of the Cloud Run migration (seed 000). */
export type AppName = 'qwen-32b' | 'qwen-80b' | 'qwen-480b' | 'embed' | 'boltz2' | 'modal-boltz2';

export const APP_NAMES: readonly AppName[] = ['qwen-32b', 'qwen-80b', 'qwen-480b', 'embed', 'boltz2', 'modal-boltz2'];

export interface FaultConfig {
  /** Probability (0..1) that a protocol request gets a fault. */
  rate: number;
  /** Kinds to draw from (default: all). */
  kinds?: FaultKind[];
  /** PRNG seed (default 1), so a run's faults are reproducible. */
  seed?: number;
}

export interface EmulatorOptions {
  /** Default 0: a random free port. Always bound to 127.0.0.1. */
  port?: number;
  /** When set, every protocol route requires `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** Multiplies every default delay (not explicitly given ones); default 1. */
  timeScale?: number;
  /** Cold start per app, ms (explicit values are used as given). */
  coldStartMs?: Partial<Record<AppName, number>>;
  /** Inference per request (boltz2: per complex/ligand), ms. */
  inferenceMs?: Partial<Record<AppName, number>>;
  /** An app scales to zero after this long without model requests; default 600000 x timeScale. */
  idleMs?: number;
  /** Modal: a call still running after this answers 303; default 150000 x timeScale. */
  redirectAfterMs?: number;
  /** Cloud Run /predict past this answers 504; default 3600000 x timeScale. */
  cloudRunTimeoutMs?: number;
  /** Advertised per-app concurrency limits; the emulator records requests beyond them (and still serves them). */
  concurrency?: Partial<Record<AppName, number>>;
  /** Retry-After (seconds) sent with 429/503; default 1. */
  retryAfterS?: number;
  /** Random faults; default none. */
  faults?: FaultConfig;
}

export interface BatchSummary {
  status: string;
  done: number;
  total: number;
}

export interface EmulatorStats {
  /** Protocol requests received (control routes are not counted). */
  requests: number;
  /** Per "METHOD /path" (ids shown as {id}), e.g. 'POST /modal/generate': 3. */
  byRoute: Record<string, number>;
  faultsInjected: Record<FaultKind, number>;
  /** Successful executions per Idempotency-Key (must stay <= 1). */
  executions: Record<string, number>;
  /** Work completed, counted once per execution. */
  completed: { generate: number; embed: number; predict: number; batchLigands: number; batches: number; warmups: number };
  coldStarts: Record<AppName, number>;
  /** Highest number of executions in flight at once per app. */
  maxInFlight: Record<AppName, number>;
  /** Executions that started while the app was already at its advertised limit. */
  overConcurrency: Record<AppName, number>;
  batches: Record<string, BatchSummary>;
}

export interface RunningEmulator {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** `${url}/modal/{function}` */
  readonly modalTemplate: string;
  /** `${url}/cloud-run` */
  readonly cloudRunUrl: string;
  stats(): EmulatorStats;
  setFaults(f: FaultConfig | null): void;
  /** Force `fault` on the next `count` (default 1) requests whose "METHOD /path" contains `route` (undefined = any protocol route). */
  injectNext(fault: FaultKind, opts?: { route?: string; count?: number }): void;
  /** Make apps cold now (all when omitted). */
  scaleToZero(app?: AppName): void;
  /** Clear stats, stored results, batches and faults; every app cold. */
  reset(): void;
  /** Stop the server; also ends hanging requests. */
  close(): Promise<void>;
}
