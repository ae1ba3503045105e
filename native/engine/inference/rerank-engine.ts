import { TandemError } from '../common/errors.js';
import { lazyCatalog, VARIANTS, type Catalog, type Variant } from '../models/catalog.js';
import { resolveModel, variantFile, type ResolvedModel } from '../models/model-resolver.js';
import { LoadCache } from './load-cache.js';
import { GPU_BATCH, planBatches, runBatches } from './batching.js';
import { CrossEncoderPool } from './onnx-pool.js';
import { DEVICE_REQUESTS, GPU_PROVIDERS, physicalCores, type DeviceReport, type DeviceRequest } from './device.js';
import { TextTokenizer, type EncodedPair } from './tokenizer.js';

/** How a raw logit becomes a score: as it is, or squashed to (0, 1). Ordering is the same either way. */
export type RerankActivation = 'none' | 'sigmoid';
export const RERANK_ACTIVATIONS: readonly RerankActivation[] = ['none', 'sigmoid'];

/** Padded tokens (rows x longest row) per cross-encoder batch: small batches keep every runner busy (bench:rerank: 512 beat 1024 and 2048). */
export const DEFAULT_RERANK_BATCH_TOKENS = 512;

export interface RerankRequest {
  model: string;
  variant?: Variant;
  device?: DeviceRequest;
  /** Default true: an accelerator that fails to load falls back to CPU (the reason is reported). */
  allowFallback?: boolean;
  /** (query, document) pairs; the query is the first text of each pair, as cross-encoders are trained. */
  pairs: Array<[string, string]>;
  /** Default 'none' (raw logits, what sentence-transformers' CrossEncoder returns for these models). */
  activation?: RerankActivation;
  /** Max padded tokens per batch. */
  batchTokens?: number;
  threads?: number;
}

export interface RerankResult {
  model: string;
  variant: Variant;
  count: number;
  /** One score per pair, in input order. */
  scores: number[];
  activation: RerankActivation;
  /** Indices of pairs cut to the model's max length (longest_first). */
  truncated: number[];
  maxLength: number;
  tokens: number;
  batches: number;
  device: DeviceReport;
  /** True when the model was already loaded by an earlier job (loadMs is then 0). */
  modelCached: boolean;
  timings: { loadMs: number; tokenizeMs: number; inferenceMs: number; totalMs: number };
}

export interface RerankHooks {
  isCancelled?: () => boolean;
  onProgress?: (p: { done: number; total: number }) => void;
}

interface LoadedReranker {
  model: ResolvedModel;
  variant: Variant;
  tokenizer: TextTokenizer;
  encoder: CrossEncoderPool;
}

export function validateRerankRequest(req: RerankRequest): void {
  if (typeof req.model !== 'string' || !req.model) throw new TandemError('INVALID_ARGUMENT', 'rerank model is required');
  if (req.variant !== undefined && !VARIANTS.includes(req.variant)) throw new TandemError('INVALID_ARGUMENT', `unknown variant "${String(req.variant)}": expected one of ${VARIANTS.join(', ')}`);
  if (req.variant === 'static') throw new TandemError('INVALID_ARGUMENT', 'a reranker has no static variant: it runs as an ONNX cross-encoder');
  if (req.device !== undefined && !DEVICE_REQUESTS.includes(req.device)) throw new TandemError('INVALID_ARGUMENT', `unknown device "${String(req.device)}": expected one of ${DEVICE_REQUESTS.join(', ')}`);
  if (req.activation !== undefined && !RERANK_ACTIVATIONS.includes(req.activation)) throw new TandemError('INVALID_ARGUMENT', `unknown activation "${String(req.activation)}": expected none or sigmoid`);
  if (!Array.isArray(req.pairs)) throw new TandemError('INVALID_ARGUMENT', 'pairs must be an array of [query, document] pairs');
  req.pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') throw new TandemError('INVALID_INPUT', `pair ${i} is not a [query, document] pair of strings`, { data: { index: i } });
  });
  if (req.batchTokens !== undefined && !(Number.isInteger(req.batchTokens) && req.batchTokens >= 16)) throw new TandemError('INVALID_ARGUMENT', `batchTokens must be an integer >= 16, got ${req.batchTokens}`);
  if (req.threads !== undefined && !(Number.isInteger(req.threads) && req.threads >= 1 && req.threads <= 256)) throw new TandemError('INVALID_ARGUMENT', `threads must be an integer between 1 and 256, got ${req.threads}`);
}

/** The model's folder and entry, failing clearly when it is no reranker (an embedding model given by mistake). */
export function resolveReranker(id: string, env: NodeJS.ProcessEnv, catalog: Catalog): ResolvedModel {
  const model = resolveModel(id, { env, catalog });
  if (model.entry && model.entry.task !== 'rerank') {
    throw new TandemError('MODEL_INVALID', `model ${id} is a ${model.entry.task} model, not a reranker (cross-encoder); see \`tandem models list\` for the rerank models`, { data: { id } });
  }
  return model;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/**
 * Cross-encoder reranking: keeps loaded models, tokenizes (query, document) pairs exactly like
 * Hugging Face (longest_first truncation), batches by padded-token budget, runs, checks for
 * NaN/Inf, and returns one score per pair in input order. Hosted next to the EmbedEngine.
 */
export class RerankEngine {
  private readonly loaded = new LoadCache<LoadedReranker>();
  /** Read on first use: a worker that never loads a model never reads it. */
  private readonly catalog: Catalog;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    catalog?: Catalog,
  ) {
    this.catalog = catalog ?? lazyCatalog();
  }

  private async load(req: RerankRequest): Promise<{ loaded: LoadedReranker; cached: boolean }> {
    const model = resolveReranker(req.model, this.env, this.catalog);
    const variant = req.variant ?? (model.defaultVariant === 'static' ? 'fp32' : model.defaultVariant);
    const file = variantFile(model, req.model, variant, { noun: 'reranker', data: { id: req.model } });
    const device = req.device ?? 'auto';
    const allowFallback = req.allowFallback ?? true;
    const threads = req.threads ?? physicalCores();
    const key = [model.dir, variant, device, allowFallback, threads].join('|');
    const { value, cached } = await this.loaded.get(key, async (): Promise<LoadedReranker> => {
      const tokenizer = TextTokenizer.load(model.dir);
      const encoder = await CrossEncoderPool.load({ file, device, allowFallback, padId: tokenizer.padId, threads });
      return { model, variant, tokenizer, encoder };
    });
    return { loaded: value, cached };
  }

  async rerank(req: RerankRequest, hooks: RerankHooks = {}): Promise<RerankResult> {
    const t0 = performance.now();
    validateRerankRequest(req);
    const { loaded, cached } = await this.load(req);
    const tLoaded = performance.now();
    const { model, tokenizer, encoder } = loaded;
    const n = req.pairs.length;
    const encoded: EncodedPair[] = new Array(n);
    const truncated: number[] = [];
    let tokens = 0;
    for (let i = 0; i < n; i++) {
      const [q, d] = req.pairs[i]!;
      const e = tokenizer.encodePair(q, d, model.maxLength);
      encoded[i] = e;
      tokens += e.ids.length;
      if (e.truncated) truncated.push(i);
    }
    const tTok = performance.now();
    const plan = planBatches(
      encoded.map((e) => e.ids.length),
      { tokenBudget: req.batchTokens ?? (GPU_PROVIDERS.includes(encoder.device.used) ? GPU_BATCH.tokenBudget : DEFAULT_RERANK_BATCH_TOKENS), maxRows: 256 },
    );
    const activation = req.activation ?? 'none';
    const scores: number[] = new Array(n);
    // Every runner busy: up to `concurrency` batches in flight, scores placed by index.
    await runBatches(
      plan,
      encoder.concurrency,
      async (batch) => {
        const logits = await encoder.score(batch.map((i) => encoded[i]!));
        for (let r = 0; r < batch.length; r++) {
          const x = logits[r]!;
          if (!Number.isFinite(x)) {
            throw new TandemError('NUMERIC_ERROR', `the reranker produced ${Number.isNaN(x) ? 'NaN' : 'Inf'} for pair ${batch[r]}; no scores are returned rather than a broken order`, { data: { index: batch[r]! } });
          }
          scores[batch[r]!] = activation === 'sigmoid' ? sigmoid(x) : x;
        }
      },
      { cancelled: () => (hooks.isCancelled?.() ? new TandemError('CANCELLED', 'rerank job cancelled') : undefined), progress: (done) => hooks.onProgress?.({ done, total: n }) },
    );
    const tEnd = performance.now();
    return {
      model: req.model,
      variant: loaded.variant,
      count: n,
      scores,
      activation,
      truncated,
      maxLength: model.maxLength,
      tokens,
      batches: plan.batches.length,
      device: encoder.device,
      modelCached: cached,
      timings: { loadMs: cached ? 0 : tLoaded - t0, tokenizeMs: tTok - tLoaded, inferenceMs: tEnd - tTok, totalMs: tEnd - t0 },
    };
  }

  async dispose(): Promise<void> {
    await this.loaded.clear((l) => l.encoder.dispose());
  }
}
