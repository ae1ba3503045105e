/**
 * Loaded models kept by key (never one load per request): concurrent requests for the same key share
 * one load; a load that fails is forgotten so the next request tries again. Used by the embedding
 * and reranking engines.
 */
export class LoadCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  async get(key: string, load: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const existing = this.entries.get(key);
    if (existing) return { value: await existing, cached: true };
    const p = load();
    this.entries.set(key, p);
    try {
      return { value: await p, cached: false };
    } catch (e) {
      this.entries.delete(key);
      throw e;
    }
  }

  /** Forget everything and dispose what loaded (failed loads are skipped). */
  async clear(dispose: (value: T) => Promise<void>): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) {
      const v = await p.catch(() => undefined);
      if (v !== undefined) await dispose(v);
    }
  }
}
