import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../common/errors.js';
import { modelSearchDirs } from '../node/paths.js';
import { findCatalogEntry, loadCatalog, type Catalog, type CatalogEntry, type Variant } from './catalog.js';

/** Conventional weight file per variant (onnx-community / Xenova layout, Model2Vec layout). */
export const VARIANT_FILES: Record<Variant, string> = {
  fp32: 'onnx/model.onnx',
  int8: 'onnx/model_quantized.onnx',
  fp16: 'onnx/model_fp16.onnx',
  static: 'model.safetensors',
};

export type Pooling = 'mean' | 'cls' | 'sentence_embedding' | 'none';

/** Everything the inference layer needs to know about one model on disk. */
export interface ResolvedModel {
  id: string;
  dir: string;
  /** The catalog entry when the id is in the catalog. */
  entry: CatalogEntry | undefined;
  /** Variants whose weights are present on disk, with their absolute file paths. */
  variants: Partial<Record<Variant, string>>;
  defaultVariant: Variant;
  maxLength: number;
  pooling: Pooling;
  normalize: boolean;
  prefixes: { query: string; passage: string };
  dims: number | undefined;
}

const MODEL_ID_RE = /^[\w.-]+(\/[\w.-]+)*$/;

export function validateModelId(id: string): void {
  if (!MODEL_ID_RE.test(id) || id.split('/').some((p) => p === '..' || p === '.')) {
    throw new TandemError('INVALID_ARGUMENT', `invalid model id "${id}": expected a path like owner/name (letters, digits, . _ -)`);
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Find the directory of a model id in the search path; undefined when absent everywhere. */
export function findModelDir(id: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  validateModelId(id);
  for (const root of modelSearchDirs(env)) {
    const dir = path.join(root, id);
    if (fs.existsSync(path.join(dir, 'tokenizer.json'))) return dir;
  }
  return undefined;
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** Describe a model folder: from its catalog entry when it has one, else from its own config files. */
export function describeModelDir(id: string, dir: string, entry: CatalogEntry | undefined): ResolvedModel {
  const variants: Partial<Record<Variant, string>> = {};
  for (const [v, rel] of Object.entries(VARIANT_FILES) as [Variant, string][]) {
    const file = path.join(dir, entry?.variants[v] ?? rel);
    if (fs.existsSync(file)) variants[v] = file;
  }
  const config = readJson(path.join(dir, 'config.json')) ?? {};
  const tokConfig = readJson(path.join(dir, 'tokenizer_config.json')) ?? {};
  const isStatic = variants.static !== undefined && (Array.isArray(config.architectures) ? config.architectures.includes('StaticModel') : true);
  if (!isStatic) delete variants.static;
  if (Object.keys(variants).length === 0) {
    throw new TandemError('MODEL_INVALID', `model ${id} at ${dir} has no weights (looked for ${Object.values(VARIANT_FILES).join(', ')})`);
  }
  let maxLength = entry?.maxLength;
  if (maxLength === undefined) {
    const tokMax = num(tokConfig.model_max_length);
    const posMax = num(config.max_position_embeddings);
    const candidates = [tokMax !== undefined && tokMax < 100_000 ? tokMax : undefined, posMax].filter((x): x is number => x !== undefined);
    maxLength = candidates.length ? Math.min(...candidates) : 512;
  }
  const order: Variant[] = ['static', 'fp32', 'int8', 'fp16'];
  const defaultVariant = entry && variants[entry.defaultVariant] ? entry.defaultVariant : order.find((v) => variants[v])!;
  return {
    id,
    dir,
    entry,
    variants,
    defaultVariant,
    maxLength,
    pooling: entry?.pooling ?? 'mean',
    normalize: entry?.normalize ?? (typeof config.normalize === 'boolean' ? config.normalize : true),
    prefixes: entry?.prefixes ?? { query: '', passage: '' },
    dims: entry?.dims ?? num(config.hidden_size),
  };
}

/**
 * Resolve a model id to a folder on disk. Fails with MODEL_NOT_FOUND naming where it looked
 * and what can be done (pull from the catalog, import a folder).
 */
export function resolveModel(id: string, opts: { env?: NodeJS.ProcessEnv; catalog?: Catalog } = {}): ResolvedModel {
  const env = opts.env ?? process.env;
  const catalog = opts.catalog ?? loadCatalog();
  const entry = findCatalogEntry(catalog, id);
  const dir = findModelDir(id, env);
  if (!dir) {
    const where = modelSearchDirs(env).join(', ');
    const hint = entry ? `run \`tandem models pull ${id}\`` : `it is not in the catalog either (see \`tandem models list\`); \`tandem models import FOLDER --id ${id}\` adds a local copy`;
    throw new TandemError('MODEL_NOT_FOUND', `model ${id} not found in ${where}: ${hint}`, { data: { id } });
  }
  return describeModelDir(id, dir, entry);
}

/**
 * The weights file of one variant of a resolved model, or MODEL_NOT_FOUND saying which variants
 * are on disk and, for catalog models, the command that fetches the missing one.
 */
export function variantFile(model: ResolvedModel, id: string, variant: string, opts: { noun?: string; data?: Record<string, string> } = {}): string {
  const file = (model.variants as Record<string, string | undefined>)[variant];
  if (file) return file;
  const have = Object.keys(model.variants).join(', ');
  throw new TandemError('MODEL_NOT_FOUND', `${opts.noun ?? 'model'} ${id} has no ${variant} weights on disk (has: ${have})${model.entry ? `; \`tandem models pull ${id} --variant ${variant}\` fetches them` : ''}`, opts.data ? { data: opts.data } : {});
}

