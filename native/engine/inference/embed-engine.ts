import { TandemError } from '../common/errors.js';
import { lazyCatalog, VARIANTS, type Catalog, type Variant } from '../models/catalog.js';
import { resolveModel, variantFile, type ResolvedModel } from '../models/model-resolver.js';
import { batchFor, planBatches, runBatches } from './batching.js';
import { DEVICE_REQUESTS, physicalCores, type DeviceReport, type DeviceRequest } from './device.js';
import type { Embedder } from './embedder.js';
import { OnnxPoolEmbedder } from './onnx-pool.js';
import { assertFinite } from './pooling.js';
import { StaticEmbedder } from './static-embedder.js';
import { TextTokenizer } from './tokenizer.js';
import { isWordSeparator, readTokenizerJson, wordCachedTokens, type Count, type WordTokens } from './word-cache.js';
import { chunkText, DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS } from '../ingest/chunk.js';
import type { PageRange } from '../ingest/extract-types.js';
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
 * Documents to chunk and embed in one request (the indexer): each text is cut by `chunkText` with
 * the model's own tokenizer (token-aware, paragraph and sentence boundaries, overlap), and every
 * chunk is embedded. Chunking runs next to the model, so each chunk is tokenized once: the ids
 * that measured it are the ids the model gets, wherever the tokenizer allows it.
 */
export interface EmbedDocumentsRequest extends Omit<EmbedRequest, 'texts'> {
  documents: Array<{ text: string; pages?: PageRange[] }>;
  /** Tokens per chunk, default 256, at most what the model takes with its special tokens. */
  maxTokens?: number;
  /** Tokens shared by consecutive chunks, default 32, at most a quarter of maxTokens. */
  overlapTokens?: number;
}

/** The chunks of an EmbedDocumentsRequest, in document order: chunk i is documents[doc[i]].text.slice(start[i], end[i]). */
export interface ChunkSpans {
  doc: Int32Array;
  start: Int32Array;
  end: Int32Array;
  /** The chunk's tokens as the chunker counted them (at most maxTokens). */
  tokens: Int32Array;
  /** 1-based page holding the chunk's start; 0 when the document has no pages. */
  page: Int32Array;
}

/** Vectors row i = chunk i of `chunks`. */
export interface EmbedDocumentsResult extends EmbedResult {
  chunks: ChunkSpans;
  maxTokens: number;
  overlapTokens: number;
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
  /** Word-cached counts and ids without specials (BERT-style tokenizers), or null. */
  words: WordTokens | null;
  /** Word-cached ids of a whole input, specials included, or null. */
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
export function fastEncoder(tokenizer: TextTokenizer, words: WordTokens | null, special: boolean): Loaded['fastIds'] {
  const wrap = special ? tokenizer.specialWrap : { before: [], after: [] };
  if (!wrap || !words) return null;
  const ids = words.idsUpTo;
  const extra = wrap.before.length + wrap.after.length;
  if (extra === 0) return ids;
  return (text, maxTokens) => {
    const core = ids(text, maxTokens - extra);
    return core ? tokenSeq(wrap.before, core, wrap.after) : null;
  };
}

/** The prefix a model puts before texts of this input type (e5 `passage: `...). */
export function inputPrefix(model: ResolvedModel, inputType: InputType | undefined): string {
  return inputType === 'query' ? model.prefixes.query : inputType === 'none' ? '' : model.prefixes.passage;
}

/** Texts longer than this are cut before tokenizing (the tokenizer only needs a prefix anyway). */
export const MAX_TEXT_CHARS = 1_000_000;

/** A text's ids as the model takes them (prefix, special tokens, cut to the model's length). */
function encodeText(loaded: Loaded, prefix: string, text: string): { ids: number[]; truncated: boolean } {
  const { model, tokenizer, embedder, fastIds } = loaded;
  const input = prefix + (text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text);
  const fast = fastIds ? fastIds(input, model.maxLength) : null;
  return fast ? { ids: fast, truncated: false } : tokenizer.encode(input, model.maxLength, embedder.addSpecialTokens);
}

/** head, then ids, then tail, as one sequence (`ids` itself when there is nothing to add). */
function tokenSeq(head: readonly number[], ids: number[], tail: readonly number[]): number[] {
  if (head.length === 0 && tail.length === 0) return ids;
  const seq: number[] = [];
  for (const id of head) seq.push(id);
  for (const id of ids) seq.push(id);
  for (const id of tail) seq.push(id);
  return seq;
}

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

/** Validate a documents request: texts, page ranges and chunk sizes. */
export function validateEmbedDocumentsRequest(req: EmbedDocumentsRequest): void {
  validateEmbedOptions(req);
  if (!Array.isArray(req.documents)) throw new TandemError('INVALID_ARGUMENT', 'documents must be an array of { text, pages? }');
  req.documents.forEach((d, i) => {
    if (typeof d?.text !== 'string') throw new TandemError('INVALID_INPUT', `document ${i} has no text (expected a string)`, { data: { index: i } });
    if (d.pages !== undefined && !(Array.isArray(d.pages) && d.pages.every((p) => Number.isInteger(p?.page) && Number.isInteger(p.start) && Number.isInteger(p.end)))) {
      throw new TandemError('INVALID_INPUT', `document ${i}: pages must be an array of { page, start, end } integers`, { data: { index: i } });
    }
  });
  for (const k of ['maxTokens', 'overlapTokens'] as const) {
    const v = req[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= (k === 'maxTokens' ? 1 : 0))) throw new TandemError('INVALID_ARGUMENT', `${k} must be an integer >= ${k === 'maxTokens' ? 1 : 0}, got ${v}`);
  }
}

/**
 * The embedding engine: keeps loaded models (never one load per request), tokenizes,
 * batches by length, runs, pools, checks for NaN/Inf, and returns rows in input order.
 * Plain Node: hosted in a worker thread or an Electron utilityProcess.
 */
export class EmbedEngine {
  private readonly loaded = new LoadCache<Loaded>();
  /** Read on first use: a worker that never loads a model never reads it. */
  private readonly catalog: Catalog;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    catalog?: Catalog,
  ) {
    this.catalog = catalog ?? lazyCatalog();
  }

  private async load(req: EmbedRequest): Promise<{ loaded: Loaded; cached: boolean }> {
    const model = resolveModel(req.model, { env: this.env, catalog: this.catalog });
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
      const words = wordCachedTokens((w) => tokenizer.rawEncode(w, false), readTokenizerJson(model.dir));
      return { model, variant, tokenizer, embedder, words, fastIds: fastEncoder(tokenizer, words, embedder.addSpecialTokens) };
    });
    return { loaded: value, cached };
  }

  async embed(req: EmbedRequest, hooks: JobHooks = {}): Promise<EmbedResult> {
    const t0 = performance.now();
    validateEmbedRequest(req);
    const { loaded, cached } = await this.load(req);
    const tLoaded = performance.now();
    const prefix = inputPrefix(loaded.model, req.inputType);
    const n = req.texts.length;
    const seqs: number[][] = new Array(n);
    const truncated: number[] = [];
    for (let i = 0; i < n; i++) {
      const enc = encodeText(loaded, prefix, req.texts[i]!);
      seqs[i] = enc.ids;
      if (enc.truncated) truncated.push(i);
    }
    return this.run(req, loaded, cached, seqs, truncated, { t0, tLoaded, tTok: performance.now() }, hooks);
  }

  /**
   * Chunk documents with the model's tokenizer and embed every chunk (EmbedDocumentsRequest): the
   * vectors are the ones `embed` gives for the chunk texts. Where ids add up over words and the
   * prefix ends a word, each chunk's ids are the ones the chunker measured it with (tokenized
   * once); otherwise chunks are measured by count and tokenized as texts.
   */
  async embedDocuments(req: EmbedDocumentsRequest, hooks: JobHooks = {}): Promise<EmbedDocumentsResult> {
    const t0 = performance.now();
    validateEmbedDocumentsRequest(req);
    const { loaded, cached } = await this.load({ ...req, texts: [] });
    const tLoaded = performance.now();
    const { model, tokenizer, embedder, words } = loaded;
    const prefix = inputPrefix(model, req.inputType);
    const maxTokens = Math.min(req.maxTokens ?? DEFAULT_MAX_TOKENS, model.maxLength - tokenizer.specialCount);
    const overlapTokens = Math.min(req.overlapTokens ?? DEFAULT_OVERLAP_TOKENS, Math.floor(maxTokens / 4));
    const wrap = embedder.addSpecialTokens ? tokenizer.specialWrap : { before: [], after: [] };
    // The chunker's ids go to the model as they are when the prefix and the wrap just add ids
    // around them, and a full chunk with them fits the model.
    const direct = wrap && words && prefixJoinsAtWord(prefix) ? { words, head: [...wrap.before, ...(prefix ? tokenizer.rawEncode(prefix, false) : [])], tail: wrap.after } : null;
    const tokenized = direct && direct.head.length + maxTokens + direct.tail.length <= model.maxLength ? direct : null;
    const countTokens: Count = words?.count ?? ((t: string) => tokenizer.countTokens(t));
    const spans: Array<[doc: number, start: number, end: number, tokens: number, page: number]> = [];
    const seqs: number[][] = [];
    const truncated: number[] = [];
    req.documents.forEach((d, doc) => {
      if (!d.text.trim()) return;
      for (const c of chunkText(d.text, { maxTokens, overlapTokens, countTokens, ...(tokenized ? { tokenIds: tokenized.words.ids } : {}), ...(d.pages ? { pages: d.pages } : {}) })) {
        if (tokenized) seqs.push(tokenSeq(tokenized.head, c.ids!, tokenized.tail));
        else {
          const enc = encodeText(loaded, prefix, c.text);
          if (enc.truncated) truncated.push(seqs.length);
          seqs.push(enc.ids);
        }
        spans.push([doc, c.start, c.end, c.tokens, c.page ?? 0]);
      }
    });
    const chunks: ChunkSpans = { doc: new Int32Array(spans.length), start: new Int32Array(spans.length), end: new Int32Array(spans.length), tokens: new Int32Array(spans.length), page: new Int32Array(spans.length) };
    spans.forEach(([doc, start, end, tokens, page], i) => {
      chunks.doc[i] = doc;
      chunks.start[i] = start;
      chunks.end[i] = end;
      chunks.tokens[i] = tokens;
      chunks.page[i] = page;
    });
    const result = await this.run(req, loaded, cached, seqs, truncated, { t0, tLoaded, tTok: performance.now() }, hooks);
    return { ...result, chunks, maxTokens, overlapTokens };
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
      batchFor(embedder.device.used, req.batchTokens),
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
