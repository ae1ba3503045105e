import { createRequire } from 'node:module';

/**
 * A dependency loaded on first use instead of at start-up: every `tandem` command loads one bundle,
 * and packages only some commands need (the HTTP client, DOCX and UMAP libraries) cost tens of
 * milliseconds each to load. CommonJS packages only (loaded with require).
 */
export function lazyModule<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= createRequire(import.meta.url)(id) as T);
}
