import { TandemError } from '../common/errors.js';

/**
 * Concurrency caps per remote function ("modal:generate", "cloud-run:predict"...): a client never
 * has more requests in flight to one function than the function accepts (Modal's max inputs x
 * max containers, Cloud Run's concurrency), or than the user's lower cap in the settings.
 * FIFO; a waiter whose signal aborts leaves the line.
 */
export class FunctionLimiter {
  private readonly inFlight = new Map<string, number>();
  private readonly waiters = new Map<string, { resolve: (release: () => void) => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort: () => void }[]>();
  private readonly peak = new Map<string, number>();

  /** `limitOf(key)` gives the cap for a key (called on every acquire, so settings changes apply). */
  constructor(private readonly limitOf: (key: string) => number) {}

  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw signal.reason ?? new TandemError('CANCELLED', 'cancelled');
    if ((this.inFlight.get(key) ?? 0) < this.cap(key)) return this.take(key);
    return new Promise<() => void>((resolve, reject) => {
      const list = this.waiters.get(key) ?? [];
      const w = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = list.indexOf(w);
          if (i >= 0) list.splice(i, 1);
          reject(signal?.reason ?? new TandemError('CANCELLED', 'cancelled'));
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      list.push(w);
      this.waiters.set(key, list);
    });
  }

  /** Requests in flight now, and the most seen at once, per key. */
  snapshot(): Record<string, { inFlight: number; peak: number; limit: number }> {
    const out: Record<string, { inFlight: number; peak: number; limit: number }> = {};
    for (const k of new Set([...this.inFlight.keys(), ...this.peak.keys()])) out[k] = { inFlight: this.inFlight.get(k) ?? 0, peak: this.peak.get(k) ?? 0, limit: this.cap(k) };
    return out;
  }

  private cap(key: string): number {
    const n = this.limitOf(key);
    return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
  }

  private take(key: string): () => void {
    const n = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, n);
    if (n > (this.peak.get(key) ?? 0)) this.peak.set(key, n);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      const list = this.waiters.get(key);
      // hand freed slots straight to waiters (no window for a newcomer to jump the line)
      while (list && list.length > 0 && (this.inFlight.get(key) ?? 0) < this.cap(key)) {
        const w = list.shift()!;
        w.signal?.removeEventListener('abort', w.onAbort);
        w.resolve(this.take(key));
      }
    };
  }
}
