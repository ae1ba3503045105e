import fs from 'node:fs';
import { z } from 'zod';
import { TandemError } from '../common/errors.js';

/** Variants of one model's weights. `static` = Model2Vec table (model.safetensors), run without ORT. */
export const VARIANTS = ['fp32', 'int8', 'fp16', 'static'] as const;
export type Variant = (typeof VARIANTS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits');

export const catalogFileSchema = z.object({
  path: z.string().min(1),
  /** null only while a hash could not be pinned; the manager then records the hash it saw (and says so). */
  sha256: sha256.nullable(),
  size: z.number().int().positive().nullable(),
});

export const catalogEntrySchema = z.object({
  /** Path under a models directory, e.g. `Xenova/all-MiniLM-L6-v2`. */
  id: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'id must look like owner/name'),
  repo: z.string().min(1),
  revision: z.string().min(1),
  task: z.enum(['embedding', 'rerank', 'generate']),
  /**
   * How the weights run: `generator` = a decoder-only LM in the onnx-community layout (input_ids,
   * attention_mask, position_ids, past_key_values.N.key/value -> logits, present.N.key/value),
   * run by native/engine/generate. Absent for encoders (the embedding path).
   */
  kind: z.enum(['generator']).optional(),
  license: z.string().min(1),
  dims: z.number().int().positive().optional(),
  maxLength: z.number().int().positive(),
  pooling: z.enum(['mean', 'cls', 'sentence_embedding', 'none']).default('mean'),
  normalize: z.boolean().default(true),
  prefixes: z.object({ query: z.string().default(''), passage: z.string().default('') }).default({ query: '', passage: '' }),
  /** Published retrieval quality (BEIR nDCG@10 average), used to weight hybrid fusion. Never tuned on test data. */
  retrievalNdcg10: z.number().min(0).max(1).optional(),
  files: z.array(catalogFileSchema).min(1),
  /** variant -> the weights file (one of `files`). */
  variants: z.partialRecord(z.enum(VARIANTS), z.string()),
  defaultVariant: z.enum(VARIANTS),
  notes: z.string().optional(),
});

export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type CatalogFile = z.infer<typeof catalogFileSchema>;

export const catalogSchema = z.object({
  version: z.literal(1),
  models: z.array(catalogEntrySchema),
});
export type Catalog = z.infer<typeof catalogSchema>;

const DEFAULT_CATALOG_URL = new URL('../../../models/catalog.json', import.meta.url);

/** Candidate locations of `models/catalog.json`: from the sources, from the CLI bundle in dist/, or from the desktop bundle in out/main/. */
function defaultCatalogPath(): string {
  const candidates = [DEFAULT_CATALOG_URL, new URL('../models/catalog.json', import.meta.url), new URL('../../models/catalog.json', import.meta.url)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return c.pathname;
  }
  return DEFAULT_CATALOG_URL.pathname;
}

export function parseCatalog(json: unknown, where: string): Catalog {
  const r = catalogSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new TandemError('INVALID_INPUT', `catalog ${where}: ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  for (const m of r.data.models) {
    for (const [v, file] of Object.entries(m.variants)) {
      if (!m.files.some((f) => f.path === file)) {
        throw new TandemError('INVALID_INPUT', `catalog ${where}: model ${m.id} variant ${v} names ${file}, which is not in its files`);
      }
    }
  }
  return r.data;
}

export function loadCatalog(file: string = defaultCatalogPath()): Catalog {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `model catalog not found at ${file}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TandemError('INVALID_INPUT', `model catalog ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseCatalog(json, file);
}

/**
 * A catalog read on first use of its fields (`load`, by default the bundled catalog): an engine
 * that never looks a model up (keyword search, jobs, collections) skips reading and checking it.
 * A missing or invalid catalog fails that first use, with loadCatalog's error.
 */
export function lazyCatalog(load: () => Catalog = loadCatalog): Catalog {
  let loaded: Catalog | undefined;
  const get = (): Catalog => (loaded ??= load());
  return {
    get version() {
      return get().version;
    },
    get models() {
      return get().models;
    },
  };
}

export function findCatalogEntry(catalog: Catalog, id: string): CatalogEntry | undefined {
  return catalog.models.find((m) => m.id === id);
}
