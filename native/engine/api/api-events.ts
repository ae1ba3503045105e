import type { ApiEventName, ApiEvents } from '../common/api-contract.js';

export type ApiEventListener<E extends ApiEventName> = (data: ApiEvents[E]) => void;
export type AnyApiEventListener = <E extends ApiEventName>(event: E, data: ApiEvents[E]) => void;

/**
 * A small typed event emitter for the contract's events. A throwing listener never breaks the
 * emitter or the other listeners (its error goes to `onListenerError`).
 */
export class ApiEventEmitter {
  private readonly byName = new Map<ApiEventName, Set<(data: unknown) => void>>();
  private readonly any = new Set<AnyApiEventListener>();

  constructor(private readonly onListenerError: (e: unknown) => void = () => {}) {}

  /** Subscribe to one event; returns the unsubscribe function. */
  on<E extends ApiEventName>(event: E, listener: ApiEventListener<E>): () => void {
    let set = this.byName.get(event);
    if (!set) this.byName.set(event, (set = new Set()));
    const fn = listener as (data: unknown) => void;
    set.add(fn);
    return () => void set.delete(fn);
  }

  /** Subscribe to every event (hosts forward them all); returns the unsubscribe function. */
  onAny(listener: AnyApiEventListener): () => void {
    this.any.add(listener);
    return () => void this.any.delete(listener);
  }

  emit<E extends ApiEventName>(event: E, data: ApiEvents[E]): void {
    for (const fn of [...(this.byName.get(event) ?? [])]) this.safely(() => fn(data));
    for (const fn of [...this.any]) this.safely(() => fn(event, data));
  }

  listenerCount(): number {
    let n = this.any.size;
    for (const s of this.byName.values()) n += s.size;
    return n;
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.onListenerError(e);
    }
  }
}
