/**
 * Seeded synthetic data for search tests and benchmarks: clustered unit vectors (two levels,
 * topics and sub-topics, so nearest neighbours are structured like real embeddings rather than
 * uniform noise) and a Zipfian pseudo-word text corpus.
 */
import { mulberry32 } from '../engine/common/mulberry32.js';

/** Seeded floats in [0, 1) (mulberry32). */
export const rng = mulberry32;

/** Standard normal samples (Box-Muller, both outputs used). */
export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = rand();
    while (u <= 1e-12) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function normalizeRows(v: Float32Array, dims: number): Float32Array {
  for (let o = 0; o < v.length; o += dims) {
    let s = 0;
    for (let i = 0; i < dims; i++) s += v[o + i]! * v[o + i]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < dims; i++) v[o + i] = v[o + i]! * inv;
  }
  return v;
}

export interface ClusterOptions {
  seed?: number;
  /** Top-level topics; default max(8, n / 1000). */
  topics?: number;
  /** Sub-topics per topic; default 8. */
  subtopics?: number;
  /** Noise scale of a sub-topic around its topic, and of a point around its sub-topic. */
  subSpread?: number;
  pointSpread?: number;
}

/**
 * A clustered generator: the same seed gives the same centroids, so `points(n)` called twice gives a
 * corpus and then queries from the same distribution (queries are fresh points, not corpus copies).
 */
export class ClusteredVectors {
  readonly dims: number;
  private readonly centres: Float32Array;
  private readonly nCentres: number;
  private readonly pointSpread: number;
  private readonly g: () => number;
  private readonly u: () => number;

  constructor(dims: number, opts: ClusterOptions & { expectedRows?: number } = {}) {
    this.dims = dims;
    this.u = rng(opts.seed ?? 1);
    this.g = gaussian(this.u);
    const topics = opts.topics ?? Math.max(8, Math.round((opts.expectedRows ?? 100_000) / 1000));
    const subtopics = opts.subtopics ?? 8;
    const subSpread = opts.subSpread ?? 0.8;
    this.pointSpread = opts.pointSpread ?? 0.9;
    this.nCentres = topics * subtopics;
    this.centres = new Float32Array(this.nCentres * dims);
    const topic = new Float32Array(dims);
    for (let t = 0; t < topics; t++) {
      for (let i = 0; i < dims; i++) topic[i] = this.g();
      for (let s = 0; s < subtopics; s++) {
        const o = (t * subtopics + s) * dims;
        for (let i = 0; i < dims; i++) this.centres[o + i] = topic[i]! + subSpread * this.g();
      }
    }
  }

  /** n new unit vectors (n x dims). Centres are picked with a skew (some topics are bigger). */
  points(n: number): Float32Array {
    const d = this.dims;
    const out = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      const u = this.u();
      const c = Math.min(this.nCentres - 1, Math.floor(u * u * this.nCentres));
      const co = c * d;
      const o = r * d;
      for (let i = 0; i < d; i++) out[o + i] = this.centres[co + i]! + this.pointSpread * this.g();
    }
    return normalizeRows(out, d);
  }
}

/** n clustered unit vectors plus nq queries from the same distribution. */
export function clusteredDataset(n: number, nq: number, dims: number, seed = 1): { vectors: Float32Array; queries: Float32Array } {
  const gen = new ClusteredVectors(dims, { seed, expectedRows: n });
  return { vectors: gen.points(n), queries: gen.points(nq) };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qu', 'di', 'fo', 'gu', 'ha', 'je', 'bo', 'cy', 'wi', 'xo'];

/** A deterministic vocabulary of distinct pseudo-words (2-4 syllables; no English stopwords). */
export function pseudoVocabulary(size: number, seed = 7): string[] {
  const rand = rng(seed);
  const seen = new Set<string>();
  const words: string[] = [];
  while (words.length < size) {
    const len = 2 + Math.floor(rand() * 3);
    let w = '';
    for (let i = 0; i < len; i++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)]!;
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

/** Samples ranks 0..size-1 with P(r) proportional to 1 / (r + 1)^s (Zipf). */
export function zipfSampler(size: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(size);
  let acc = 0;
  for (let r = 0; r < size; r++) {
    acc += 1 / Math.pow(r + 1, s);
    cdf[r] = acc;
  }
  for (let r = 0; r < size; r++) cdf[r] = cdf[r]! / acc;
  return () => {
    const x = rand();
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** A Zipfian pseudo-text generator: texts of `words` words over a `vocab`-word vocabulary. */
export function zipfTexts(opts: { vocab?: number; exponent?: number; seed?: number } = {}): {
  vocabulary: string[];
  text(words: number): string;
} {
  const vocabulary = pseudoVocabulary(opts.vocab ?? 50_000, (opts.seed ?? 7) + 1);
  const rand = rng(opts.seed ?? 7);
  const next = zipfSampler(vocabulary.length, opts.exponent ?? 1.07, rand);
  return {
    vocabulary,
    text(words: number): string {
      const out = new Array<string>(words);
      for (let i = 0; i < words; i++) out[i] = vocabulary[next()]!;
      return out.join(' ');
    },
  };
}
