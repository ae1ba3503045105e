/** Deterministic randomness: every emulator output is a function of its input (or of a configured seed). */

/** A PRNG returning floats in [0, 1). */
export type Rng = () => number;

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
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
