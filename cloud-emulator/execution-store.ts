import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { errorOutcome, isSuccess, type Outcome } from './http-util.js';
import type { EmulatorStats } from './types.js';

/** One run of a piece of work, shared by every request that asks for it (idempotent repeats, 303 polls). */
export interface Execution {
  readonly id: string;
  readonly route: string;
  readonly promise: Promise<Outcome>;
  /** Set once finished. */
  outcome: Outcome | null;
}

class ResetError extends Error {}

/**
 * Idempotency and Modal call ids. With an `Idempotency-Key`, the first request executes; repeats
 * while it runs share it; repeats after a success get the stored outcome (no new execution). A
 * failed execution is forgotten, so the next repeat runs again. `executions[key]` counts successes.
 */
export class ExecutionStore {
  private byKey = new Map<string, Execution>();
  private calls = new Map<string, Execution>();
  private epoch = ExecutionStore.controller();

  constructor(private readonly stats: () => EmulatorStats) {}

  /** Every running execution listens on this signal: no listener limit. */
  private static controller(): AbortController {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  }

  /**
   * The execution for this request: the stored or running one for `key`, or a new run of `work`.
   * A key reused on another route is a 422 outcome. `pollable` executions (Modal calls) get a
   * call id that `call()` finds, for 303 polls.
   */
  run(route: string, key: string | undefined, work: (signal: AbortSignal) => Promise<Outcome>, opts: { pollable?: boolean } = {}): Execution | Outcome {
    if (key !== undefined) {
      const known = this.byKey.get(key);
      if (known && known.route !== route) return errorOutcome(422, `Idempotency-Key was already used for ${known.route}`);
      if (known) return known;
    }
    const signal = this.epoch.signal;
    const exec: { -readonly [K in keyof Execution]: Execution[K] } = { id: randomUUID(), route, outcome: null, promise: Promise.resolve(errorOutcome(500, 'not started')) };
    const stats = this.stats();
    exec.promise = (async (): Promise<Outcome> => {
      let outcome: Outcome;
      try {
        outcome = await work(signal);
      } catch (e) {
        outcome = signal.aborted ? errorOutcome(503, 'the emulator was reset') : errorOutcome(500, `emulator error: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (key !== undefined && !signal.aborted) {
        if (isSuccess(outcome)) stats.executions[key] = (stats.executions[key] ?? 0) + 1;
        else if (this.byKey.get(key) === exec) this.byKey.delete(key);
      }
      exec.outcome = outcome;
      return outcome;
    })();
    if (key !== undefined) this.byKey.set(key, exec);
    if (opts.pollable) this.calls.set(exec.id, exec);
    return exec;
  }

  call(id: string): Execution | undefined {
    return this.calls.get(id);
  }

  /** Forget everything; running work is aborted (its waiters get a 503). */
  reset(): void {
    this.epoch.abort(new ResetError('the emulator was reset'));
    this.epoch = ExecutionStore.controller();
    this.byKey.clear();
    this.calls.clear();
  }
}
