import { TandemError } from '../engine/common/errors.js';
import { loadCatalog, VARIANTS, type Catalog, type Variant } from '../models/catalog.js';
import { resolveModel, variantFile, type ResolvedModel } from '../models/model-resolver.js';
import { DEFAULT_BATCH, planBatches, runBatches } from './batching.js';
import { DEVICE_REQUESTS, physicalCores, type DeviceReport, type DeviceRequest } from './device.js';
import type { Embedder } from './embedder.js';
import { OnnxPoolEmbedder } from './onnx-pool.js';
import { assertFinite } from './pooling.js';
import { StaticEmbedder } from './static-embedder.js';
import { TextTokenizer } from './tokenizer.js';
import { isWordSeparator, readTokenizerJson, wordCachedIds } from './word-cache.js';
import { LoadCache } from './load-cache.js';

export type InputType = 'query' | 'passage' | 'none';

export interface EmbedRequest {
  model: string;
  variant?: Variant;
  device?: DeviceRequest;
  /** Default true: an accelerator that fails to load falls back to CPU (the reason is reported). */
  allowFallback?: boolean;
  /** Which of the model's prefixes to prepend (e5 `query: ` / `passage: `, bge's query instruction). Default passage. */
  inputType?: InputType;
  texts: string[];
  /** Max padded tokens per batch (rows x longest). */
  batchTokens?: number;
  threads?: number;
}

/**
 * Texts already tokenized by the caller (the indexer's chunker, with the engine's own word-cached
 * ids): row i is ids[offsets[i] .. offsets[i + 1]), without the model's prefix and special tokens,
 * which the engine adds. Only for BERT-style tokenizers whose ids add up over words.
 */
export interface EmbedTokensRequest extends Omit<EmbedRequest, 'texts'> {
  ids: Int32Array;
  offsets: Int32Array;
}

/** Rows of ids as one array and row offsets (EmbedTokensRequest). */
export function packTokenRows(rows: readonly (readonly number[])[]): Pick<EmbedTokensRequest, 'ids' | 'offsets'> {
  const offsets = new Int32Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) offsets[i + 1] = offsets[i]! + rows[i]!.length;
  const ids = new Int32Array(offsets[rows.length]!);
  for (let i = 0; i < rows.length; i++) ids.set(rows[i]!, offsets[i]!);
  return { ids, offsets };
}

export interface EmbedTimings {
  loadMs: number;
  tokenizeMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface EmbedResult {
  model: string;
  variant: Variant;
  dims: number;
  count: number;
  /** count x dims, row i = texts[i], L2-normalised. */
  vectors: Float32Array;
  /** Indices of texts cut to the model's max length. */
  truncated: number[];
  maxLength: number;
  tokens: number;
  device: DeviceReport;
  /** True when the model was already loaded by an earlier job (loadMs is then 0). */
  modelCached: boolean;
  timings: EmbedTimings;
}

export interface EmbedProgress {
  done: number;
  total: number;
}

export interface JobHooks {
  onProgress?: (p: EmbedProgress) => void;
  isCancelled?: () => boolean;
}

interface Loaded {
  model: ResolvedModel;
  variant: Variant;
  tokenizer: TextTokenizer;
  /** Word-cached ids without specials (static BERT-style models), or null. */
  fastIds: ((text: string, maxTokens: number) => number[] | null) | null;
  embedder: Embedder;
}

/** Whether ids of `prefix + text` are the prefix's ids then the text's: an empty prefix, or one ending in a word separator. */
export function prefixJoinsAtWord(prefix: string): boolean {
  return prefix === '' || isWordSeparator(prefix.charCodeAt(prefix.length - 1));
}

/**
 * Ids of each distinct word are cached (exact for BERT-style tokenizers, inference/word-cache.ts),
 * which makes tokenization of natural text a split and a few map lookups. With special tokens the
 * cached ids are wrapped in the post-processor's fixed ids ([CLS] ... [SEP]). Returns null for a
 * text over the length limit (the caller truncates with the real tokenizer) and no encoder at all
 * for tokenizers where this is not exact.
 */
export function fastEncoder(tokenizer: TextTokenizer, dir: string, special: boolean): Loaded['fastIds'] {
  const wrap = special ? tokenizer.specialWrap : { before: [], after: [] };
  if (!wrap) return null;
  const ids = wordCachedIds((w) => tokenizer.rawEncode(w, false), readTokenizerJson(dir));
  if (!ids) return null;
  const extra = wrap.before.length + wrap.after.length;
  if (extra === 0) return ids;
  return (text, maxTokens) => {
    const core = ids(text, maxTokens - extra);
    return core ? [...wrap.before, ...core, ...wrap.after] : null;
  };
}

/** The prefix a model puts before texts of this input type (e5 `passage: `...). */
export function inputPrefix(model: ResolvedModel, inputType: InputType | undefined): string {
  return inputType === 'query' ? model.prefixes.query : inputType === 'none' ? '' : model.prefixes.passage;
}

/** Texts longer than this are cut before tokenizing (the tokenizer only needs a prefix anyway). */
export const MAX_TEXT_CHARS = 1_000_000;

/** Validate the options every embedding request shares. */
function validateEmbedOptions(req: Omit<EmbedRequest, 'texts'>): void {
  if (typeof req.model !== 'string' || !req.model) throw new TandemError('INVALID_ARGUMENT', 'model is required');
  if (req.variant !== undefined && !VARIANTS.includes(req.variant)) {
    throw new TandemError('INVALID_ARGUMENT', `unknown variant "${String(req.variant)}": expected one of ${VARIANTS.join(', ')}`);
  }
  if (req.device !== undefined && !DEVICE_REQUESTS.includes(req.device)) {
    throw new TandemError('INVALID_ARGUMENT', `unknown device "${String(req.device)}": expected one of ${DEVICE_REQUESTS.join(', ')}`);
  }
  if (req.inputType !== undefined && !['query', 'passage', 'none'].includes(req.inputType)) {
    throw new TandemError('INVALID_ARGUMENT', `unknown input type "${String(req.inputType)}": expected query, passage or none`);
  }
  if (req.batchTokens !== undefined && !(Number.isInteger(req.batchTokens) && req.batchTokens >= 16)) {
    throw new TandemError('INVALID_ARGUMENT', `batchTokens must be an integer >= 16, got ${req.batchTokens}`);
  }
  if (req.threads !== undefined && !(Number.isInteger(req.threads) && req.threads >= 1 && req.threads <= 256)) {
    throw new TandemError('INVALID_ARGUMENT', `threads must be an integer between 1 and 256, got ${req.threads}`);
  }
}

/** Validate a request at the door, with exact messages. */
export function validateEmbedRequest(req: EmbedRequest): void {
  validateEmbedOptions(req);
  if (!Array.isArray(req.texts)) throw new TandemError('INVALID_ARGUMENT', 'texts must be an array of strings');
  req.texts.forEach((t, i) => {
    if (typeof t !== 'string') throw new TandemError('INVALID_INPUT', `text ${i} is ${t === null ? 'null' : typeof t}, expected a string`, { data: { index: i } });
    if (t.trim() === '') throw new TandemError('INVALID_INPUT', `text ${i} is empty`, { data: { index: i } });
  });
}

/** Validate a pre-tokenized request: well-formed offsets, ids within the vocabulary. */
export function validateEmbedTokensRequest(req: EmbedTokensRequest, vocabSize: number): void {
  validateEmbedOptions(req);
  const { ids, offsets } = req;
  if (!(ids instanceof Int32Array) || !(offsets instanceof Int32Array)) throw new TandemError('INVALID_ARGUMENT', 'ids and offsets must be Int32Arrays');
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== ids.length) {
    throw new TandemError('INVALID_ARGUMENT', `offsets must start at 0 and end at ids.length (${ids.length})`);
  }
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! <= offsets[i - 1]!) throw new TandemError('INVALID_INPUT', `row ${i - 1} has no tokens (offsets must increase)`, { data: { index: i - 1 } });
  }
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j]!;
    if (id < 0 || id >= vocabSize) throw new TandemError('INVALID_INPUT', `token id ${id} at position ${j} is outside the vocabulary (0..${vocabSize - 1})`);
  }
}

/**
 * The embedding engine: keeps loaded models (never one load per request), tokenizes,
 * batches by length, runs, pools, checks for NaN/Inf, and returns rows in input order.
 * Plain Node: hosted in a worker thread or an Electron utilityProcess.
 */
export class EmbedEngine {
  private readonly loaded = new LoadCache<Loaded>();
  private catalog: Catalog | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    catalog?: Catalog,
  ) {
    this.catalog = catalog;
  }

  private getCatalog(): Catalog {
    this.catalog ??= loadCatalog();
    return this.catalog;
  }

  private async load(req: EmbedRequest): Promise<{ loaded: Loaded; cached: boolean }> {
    const model = resolveModel(req.model, { env: this.env, catalog: this.getCatalog() });
    const variant = req.variant ?? model.defaultVariant;
    const file = variantFile(model, req.model, variant);
    const device = req.device ?? 'auto';
    const allowFallback = req.allowFallback ?? true;
    const key = [model.dir, variant, device, allowFallback, req.threads ?? ''].join('|');
    const { value, cached } = await this.loaded.get(key, async (): Promise<Loaded> => {
      const tokenizer = TextTokenizer.load(model.dir);
      const embedder: Embedder =
        variant === 'static'
          ? StaticEmbedder.load(file, { device, normalize: model.normalize, skipIds: tokenizer.unkId !== undefined ? [tokenizer.unkId] : [] })
          : await OnnxPoolEmbedder.load({ file, device, allowFallback, pooling: model.pooling, normalize: model.normalize, padId: tokenizer.padId, threads: req.threads ?? physicalCores() });
      return { model, variant, tokenizer, embedder, fastIds: fastEncoder(tokenizer, model.dir, embedder.addSpecialTokens) };
    });
    return { loaded: value, cached };
  }

  async embed(req: EmbedRequest, hooks: JobHooks = {}): Promise<EmbedResult> {
    const t0 = performance.now();
    validateEmbedRequest(req);
    const { loaded, cached } = await this.load(req);
    const tLoaded = performance.now();
    const { model, tokenizer, embedder, fastIds } = loaded;
    const prefix = inputPrefix(model, req.inputType);
    const n = req.texts.length;
    const seqs: number[][] = new Array(n);
    const truncated: number[] = [];
    for (let i = 0; i < n; i++) {
      let text = req.texts[i]!;
      if (text.length > MAX_TEXT_CHARS) text = text.slice(0, MAX_TEXT_CHARS);
      const fast = fastIds ? fastIds(prefix + text, model.maxLength) : null;
      const enc = fast ? { ids: fast, truncated: false } : tokenizer.encode(prefix + text, model.maxLength, embedder.addSpecialTokens);
      seqs[i] = enc.ids;
      if (enc.truncated) truncated.push(i);
    }
    return this.run(req, loaded, cached, seqs, truncated, { t0, tLoaded, tTok: performance.now() }, hooks);
  }

  /**
   * Embed rows the caller already tokenized (EmbedTokensRequest): the result is the one `embed`
   * gives for the texts those ids came from. A row that would need truncation is refused.
   */
  async embedTokens(req: EmbedTokensRequest, hooks: JobHooks = {}): Promise<EmbedResult> {
    const t0 = performance.now();
    const { loaded, cached } = await this.load({ ...req, texts: [] });
    const tLoaded = performance.now();
    const { model, tokenizer, embedder } = loaded;
    validateEmbedTokensRequest(req, tokenizer.vocabSize);
    const prefix = inputPrefix(model, req.inputType);
    const wrap = embedder.addSpecialTokens ? tokenizer.specialWrap : { before: [], after: [] };
    if (!wrap || !loaded.fastIds || !prefixJoinsAtWord(prefix)) {
      throw new TandemError('INVALID_ARGUMENT', `${req.model} takes texts, not token ids (its tokenizer's ids do not add up over words, or its prefix ${JSON.stringify(prefix)} does not end a word)`);
    }
    const head = [...wrap.before, ...(prefix ? tokenizer.rawEncode(prefix, false) : [])];
    const n = req.offsets.length - 1;
    const seqs: number[][] = new Array(n);
    for (let i = 0; i < n; i++) {
      const from = req.offsets[i]!;
      const to = req.offsets[i + 1]!;
      const len = head.length + (to - from) + wrap.after.length;
      if (len > model.maxLength) {
        throw new TandemError('INVALID_INPUT', `row ${i} has ${len} tokens with the prefix and special tokens, over ${req.model}'s maximum of ${model.maxLength}: send it as text to have it truncated`, { data: { index: i } });
      }
      const seq = new Array<number>(len);
      let k = 0;
      for (const id of head) seq[k++] = id;
      for (let j = from; j < to; j++) seq[k++] = req.ids[j]!;
      for (const id of wrap.after) seq[k++] = id;
      seqs[i] = seq;
    }
    return this.run(req, loaded, cached, seqs, [], { t0, tLoaded, tTok: performance.now() }, hooks);
  }

  /** Batch by length, run, check for NaN/Inf, and place the rows in input order. */
  private async run(req: Omit<EmbedRequest, 'texts'>, loaded: Loaded, cached: boolean, seqs: number[][], truncated: number[], t: { t0: number; tLoaded: number; tTok: number }, hooks: JobHooks): Promise<EmbedResult> {
    const { model, embedder } = loaded;
    const n = seqs.length;
    let tokens = 0;
    for (const s of seqs) tokens += s.length;
    const dims = embedder.dims;
    const vectors = new Float32Array(n * dims);
    const plan = planBatches(
      seqs.map((s) => s.length),
      { tokenBudget: req.batchTokens ?? DEFAULT_BATCH.tokenBudget, maxRows: DEFAULT_BATCH.maxRows },
    );
    // Keep every runner busy: up to `concurrency` batches in flight, results placed by index.
    await runBatches(
      plan,
      embedder.concurrency ?? 1,
      async (batch) => {
        const out = await embedder.embed(batch.map((i) => seqs[i]!));
        assertFinite(out, dims, (row) => `text ${batch[row]}`);
        for (let r = 0; r < batch.length; r++) vectors.set(out.subarray(r * dims, (r + 1) * dims), batch[r]! * dims);
      },
      { cancelled: () => (hooks.isCancelled?.() ? new TandemError('CANCELLED', 'embedding job cancelled') : undefined), progress: (done) => hooks.onProgress?.({ done, total: n }) },
    );
    const tEnd = performance.now();
    return {
      model: req.model,
      variant: loaded.variant,
      dims,
      count: n,
      vectors,
      truncated,
      maxLength: model.maxLength,
      tokens,
      device: embedder.device,
      modelCached: cached,
      timings: {
        loadMs: cached ? 0 : t.tLoaded - t.t0,
        tokenizeMs: t.tTok - t.tLoaded,
        inferenceMs: tEnd - t.tTok,
        totalMs: tEnd - t.t0,
      },
    };
  }

  /** Load (and warm up) a model ahead of the first job. */
  async preload(req: Omit<EmbedRequest, 'texts'>): Promise<{ device: DeviceReport; dims: number; loadMs: number }> {
    const { loaded } = await this.load({ ...req, texts: [] });
    return { device: loaded.embedder.device, dims: loaded.embedder.dims, loadMs: loaded.embedder.loadMs };
  }

  async dispose(): Promise<void> {
    await this.loaded.clear((l) => l.embedder.dispose());
  }
}
