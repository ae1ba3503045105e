/** Deterministic randomness: every emulator output is a function of its input (or of a configured seed). */
import { mulberry32, type Rng } from '../native/engine/common/mulberry32.js';

export type { Rng };

/** 32-bit FNV-1a over the UTF-16 code units of `s`. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast and good enough for test data. */
export const createRng: (seed: number) => Rng = mulberry32;

export function rngFor(...parts: string[]): Rng {
  return createRng(hashString(parts.join('\u0000')));
}

/** An integer in [lo, hi] (inclusive). */
export function intBetween(rng: Rng, lo: number, hi: number): number {
  return hi <= lo ? lo : lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/** A float in [lo, hi) rounded to 4 decimals. */
export function score(rng: Rng, lo = 0, hi = 1): number {
  return Math.round((lo + rng() * (hi - lo)) * 1e4) / 1e4;
}
