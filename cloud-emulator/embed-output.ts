import { rngFor } from './seeded-random.js';

export const EMBED_DIM = 768;

/** A deterministic unit vector (instructor-xl shape: 768-d) for `text` under `instruction`. */
export function unitVector(text: string, instruction: string): number[] {
  const rng = rngFor('embed', instruction, text);
  const v = new Array<number>(EMBED_DIM);
  let norm = 0;
  for (let i = 0; i < EMBED_DIM; i++) {
    // Box-Muller: a Gaussian direction is uniform on the sphere once normalised.
    const g = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    v[i] = g;
    norm += g * g;
  }
  const inv = 1 / Math.sqrt(norm);
  return v.map((x) => Math.round(x * inv * 1e7) / 1e7);
}
