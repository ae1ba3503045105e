import type { BackendId } from '../../../cloud-adapters/contract.js';
import type { ErrorCode } from '../common/errors.js';

/**
 * A circuit breaker per backend. `failureThreshold` consecutive backend failures open it for
 * `cooldownMs`; then one trial call is let through (half-open): success closes it, failure opens it
 * again. Only failures that say the backend is unwell count (timeouts, 5xx, resets, unreachable);
 * a 4xx about our input or a cancel does not.
 *
 * State is per process, seeded from the job history at start (`seed`), so a CLI invocation after
 * a run of failed jobs sees the breaker open too.
 */

export const BACKEND_FAILURE_CODES: readonly ErrorCode[] = ['NETWORK_ERROR', 'OFFLINE', 'BACKEND_TIMEOUT', 'BACKEND_ERROR', 'RATE_LIMITED'];

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerStatus {
  backend: BackendId;
  state: BreakerState;
  consecutiveFailures: number;
  /** Epoch ms when an open breaker lets a trial through. */
  retryAt: number | null;
  lastError: string | null;
}

export interface BreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  now?: () => number;
}

interface Slot {
  failures: number;
  openedAt: number | null;
  trialInFlight: boolean;
  lastError: string | null;
}

export class CircuitBreakers {
  private readonly slots = new Map<BackendId, Slot>();
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(opts: BreakerOptions = {}) {
    this.failureThreshold = opts.failureThreshold ?? 5;
    this.cooldownMs = opts.cooldownMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  private slot(b: BackendId): Slot {
    let s = this.slots.get(b);
    if (!s) this.slots.set(b, (s = { failures: 0, openedAt: null, trialInFlight: false, lastError: null }));
    return s;
  }

  /**
   * Replay past outcomes, oldest first (e.g. the last finished cloud jobs of the history).
   * `at` is the outcome's time, so an old failure streak has already cooled down.
   */
  seed(backend: BackendId, outcomes: { ok: boolean; at: number; error?: string }[]): void {
    for (const o of outcomes) {
      if (o.ok) this.recordSuccess(backend);
      else this.recordFailure(backend, o.error ?? 'failed', o.at);
    }
  }

  status(backend: BackendId): BreakerStatus {
    const s = this.slot(backend);
    const state = this.stateOf(s);
    return { backend, state, consecutiveFailures: s.failures, retryAt: s.openedAt === null ? null : s.openedAt + this.cooldownMs, lastError: s.lastError };
  }

  /** May a call go to this backend now? In half-open state only one trial at a time. */
  allow(backend: BackendId): boolean {
    const s = this.slot(backend);
    const state = this.stateOf(s);
    if (state === 'closed') return true;
    if (state === 'open' || s.trialInFlight) return false;
    s.trialInFlight = true;
    return true;
  }

  recordSuccess(backend: BackendId): void {
    const s = this.slot(backend);
    s.failures = 0;
    s.openedAt = null;
    s.trialInFlight = false;
  }

  recordFailure(backend: BackendId, error: string, at: number = this.now()): void {
    const s = this.slot(backend);
    s.failures++;
    s.lastError = error;
    s.trialInFlight = false;
    if (s.failures >= this.failureThreshold) s.openedAt = at;
  }

  private stateOf(s: Slot): BreakerState {
    if (s.openedAt === null) return 'closed';
    return this.now() - s.openedAt < this.cooldownMs ? 'open' : 'half-open';
  }
}
