import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../common/errors.js';
import { modelSearchDirs } from '../node/paths.js';
import { physicalCores, type DeviceRequest } from '../inference/device.js';
import { findCatalogEntry, loadCatalog, type Catalog, type Variant } from '../models/catalog.js';
import { validateModelId } from '../models/model-resolver.js';
import { RecurrentLm } from './charrnn.js';
import { ChatTemplate } from './chat-template.js';
import { TokenIndex } from './json-grammar.js';
import { warmUpGrammar } from './json-warmup.js';
import type { CausalLm } from './lm.js';
import { OnnxDecoder } from './onnx-decoder.js';
import { CharVocab, HfVocab, type TokenVocab } from './vocab.js';

/** Weight files tried per variant when the catalog does not name one (onnx-community layout). */
export const GENERATOR_VARIANT_FILES: Record<Exclude<Variant, 'static'>, string[]> = {
  fp32: ['onnx/model.onnx', 'model.onnx'],
  int8: ['onnx/model_quantized.onnx', 'onnx/model_int8.onnx'],
  fp16: ['onnx/model_fp16.onnx'],
};

export type GeneratorKind = 'decoder' | 'recurrent';

export interface GeneratorModelDir {
  id: string;
  dir: string;
  kind: GeneratorKind;
  /** Variants on disk with their absolute weight files. */
  variants: Partial<Record<Variant, string>>;
  defaultVariant: Variant;
}

/**
 * Find a generative model by id under the model directories: a decoder (tokenizer.json + an
 * onnx-community weight file) or a one-step recurrent model (model.onnx + a char vocabulary).
 */
export function findGenerator(id: string, env: NodeJS.ProcessEnv = process.env, catalog: Catalog = loadCatalog()): GeneratorModelDir {
  validateModelId(id);
  const entry = findCatalogEntry(catalog, id);
  const roots = modelSearchDirs(env);
  for (const root of roots) {
    const dir = path.join(root, id);
    if (!fs.existsSync(dir)) continue;
    if (fs.existsSync(path.join(dir, 'tokenizer.json'))) {
      const variants: Partial<Record<Variant, string>> = {};
      for (const [v, files] of Object.entries(GENERATOR_VARIANT_FILES) as [Exclude<Variant, 'static'>, string[]][]) {
        const candidates = entry?.variants[v] ? [entry.variants[v]] : files;
        const hit = candidates.find((f) => fs.existsSync(path.join(dir, f)));
        if (hit) variants[v] = path.join(dir, hit);
      }
      if (Object.keys(variants).length === 0) {
        throw new TandemError('MODEL_INVALID', `model ${id} at ${dir} has a tokenizer but no decoder weights (looked for ${Object.values(GENERATOR_VARIANT_FILES).flat().join(', ')})`, { data: { id } });
      }
      const order: Variant[] = ['fp32', 'int8', 'fp16'];
      const defaultVariant = entry && variants[entry.defaultVariant] ? entry.defaultVariant : order.find((v) => variants[v])!;
      return { id, dir, kind: 'decoder', variants, defaultVariant };
    }
    const vocab = ['vocab.fixed.json', 'vocab.json'].find((f) => fs.existsSync(path.join(dir, f)));
    if (vocab && fs.existsSync(path.join(dir, 'model.onnx'))) return { id, dir, kind: 'recurrent', variants: { fp32: path.join(dir, 'model.onnx') }, defaultVariant: 'fp32' };
  }
  const hint = entry ? `run \`tandem models pull ${id}\`` : `it is not in the catalog either (see \`tandem models list\`); \`tandem models import FOLDER --id ${id}\` adds a local copy`;
  throw new TandemError('MODEL_NOT_FOUND', `generative model ${id} not found in ${roots.join(', ')}: ${hint}`, { data: { id } });
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function ids(v: unknown): number[] {
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x));
  return [];
}

/** Below this weight size a decode step is too small to gain from intra-op threads (their sync costs more). */
export const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/** Default intra-op threads for a model file: one for small models, the physical cores otherwise. */
export function defaultThreads(file: string): number {
  let bytes = 0;
  for (const f of [file, `${file}_data`, `${file}.data`]) {
    try {
      bytes += fs.statSync(f).size;
    } catch {
      // no such companion file
    }
  }
  return bytes < SMALL_MODEL_BYTES ? 1 : physicalCores();
}

export interface LoadOptions {
  variant?: Variant;
  device?: DeviceRequest;
  allowFallback?: boolean;
  threads?: number;
}

/** A generative model loaded for use: weights in a session, its tokenizer, chat template and stop ids. */
export class LoadedGenerator {
  private index: TokenIndex | undefined;

  private constructor(
    readonly id: string,
    readonly variant: Variant,
    readonly lm: CausalLm,
    readonly vocab: TokenVocab,
    readonly chat: ChatTemplate | undefined,
    /** generation_config.json's eos_token_id plus the tokenizer's eos token. */
    readonly eosIds: readonly number[],
  ) {}

  static async load(found: GeneratorModelDir, opts: LoadOptions = {}): Promise<LoadedGenerator> {
    const variant = opts.variant ?? found.defaultVariant;
    const file = found.variants[variant];
    if (!file) {
      throw new TandemError('MODEL_NOT_FOUND', `model ${found.id} has no ${variant} weights on disk (available: ${Object.keys(found.variants).join(', ')})`, { data: { id: found.id, variant } });
    }
    const device = opts.device ?? 'auto';
    const allowFallback = opts.allowFallback ?? true;
    const threads = opts.threads ?? defaultThreads(file);
    if (found.kind === 'recurrent') {
      const vocabFile = ['vocab.fixed.json', 'vocab.json'].map((f) => path.join(found.dir, f)).find((f) => fs.existsSync(f))!;
      const vocab = CharVocab.load(vocabFile);
      const lm = await RecurrentLm.load({ file, device, allowFallback, threads });
      return new LoadedGenerator(found.id, variant, lm, vocab, undefined, []);
    }
    const vocab = HfVocab.load(found.dir);
    const gen = readJson(path.join(found.dir, 'generation_config.json'));
    const eos = [...new Set([...ids(gen.eos_token_id), ...vocab.eosIds])];
    const lm = await OnnxDecoder.load({ file, device, allowFallback, padId: vocab.padId, threads });
    return new LoadedGenerator(found.id, variant, lm, vocab, ChatTemplate.fromConfig(vocab.config), eos);
  }

  /**
   * The vocabulary index constrained decoding uses (built on first use, then kept), and with
   * `warmUp` the grammar code warmed up over it (json-warmup.ts): the first constrained request pays
   * both, so that its tokens and every later request's do not (a long-lived host's choice).
   */
  tokenIndex(warmUp = false): TokenIndex {
    if (!this.index) {
      const index = new TokenIndex(this.vocab.bytes);
      if (warmUp) {
        try {
          warmUpGrammar(index);
        } catch {
          // Only a speed-up: a grammar bug it meets is json-warmup.test.ts's to report, not this request's.
        }
      }
      this.index = index;
    }
    return this.index;
  }

  async dispose(): Promise<void> {
    await this.lm.dispose();
  }
}
