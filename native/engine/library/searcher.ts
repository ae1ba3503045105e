import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { TandemError } from '../common/errors.js';
import { tandemHome } from '../node/paths.js';
import type { EmbedClient } from '../inference/embed-client.js';
import type { DeviceRequest } from '../inference/device.js';
import type { RerankActivation, RerankResult } from '../inference/rerank-engine.js';
import { findCatalogEntry, loadCatalog, type Variant } from '../models/catalog.js';
import { AnnIndex, shouldUseAnn } from '../search/ann-index.js';
import { FUSION_METHODS, fuse, fusionWeights, rrfWeights, scoreFuse, type FusionMethod, type FusionWeights } from '../search/fusion.js';
import { highlight, lexicalSearch, lexicalSnippets, type Snippet } from '../search/lexical.js';
import { linesAt, pageAt } from '../ingest/locations.js';
import { collapseToDocuments } from '../search/trec.js';
import { ExactIndex, type SearchHit } from '../search/vector-index.js';
import { LibraryStore, isLiveCollection, modelKey, type Collection, type LiveCollection } from '../store/library-store.js';
import { searchModeFor, type ModeUsed } from './search-mode.js';

/** `default` is the recommended mode: today hybrid with score fusion. */
export type SearchMode = 'vector' | 'lexical' | 'hybrid' | 'default';
export const SEARCH_MODES: readonly SearchMode[] = ['vector', 'lexical', 'hybrid', 'default'];
export const DEFAULT_SEARCH_MODE: SearchMode = 'default';
/** The mode `default` stands for. */
export function resolveMode(mode: SearchMode): Exclude<SearchMode, 'default'> {
  return mode === 'default' ? 'hybrid' : mode;
}

/**
 * What a hit's `score` is: BM25 (higher is better, unbounded), cosine similarity (-1..1), the fused
 * score (0..1, see native/engine/search/fusion.ts), reciprocal-rank fusion, or the cross-encoder's score.
 */
export type ScoreKind = 'bm25' | 'cosine' | 'fused' | 'rrf' | 'rerank';

export interface SearchFilters {
  /** Glob over the document path, absolute or relative to the collection root (e.g. `notes/**\/*.md`). */
  pathGlob?: string;
  fileTypes?: string[];
  modifiedAfter?: Date;
  modifiedBefore?: Date;
}

export interface SearchQuery {
  id: string;
  text: string;
}

export interface DocumentHit {
  docKey: string;
  path: string;
  fileType: string;
  title: string | null;
  score: number;
  /** What `score` is (a reranked hit keeps its first-stage score here, `rerankScore` beside it). */
  scoreKind: ScoreKind;
  /** Hybrid hits: the raw scores that went into the fusion, where the document was in that list. */
  bm25?: number;
  cosine?: number;
  /** The best chunk of the document: where it is, and a snippet (plain text) with its matched words as ranges. */
  chunkId: number;
  start: number;
  end: number;
  /** 1-based page of the matched passage (paged formats), else null. */
  page: number | null;
  /** 1-based lines of the matched passage (text, Markdown, code). */
  lines?: { start: number; end: number };
  snippet: string;
  highlights: Snippet['highlights'];
  /** The cross-encoder's score of (query, best chunk) when the hit was reranked; `score` stays the first stage's. */
  rerankScore?: number;
}

/** Second stage: a cross-encoder rescoring the first stage's top documents (their best chunks). */
export interface RerankOptions {
  /** Reranker model id (e.g. Xenova/ms-marco-MiniLM-L-6-v2). */
  model: string;
  /** How many of the first stage's top documents are rescored (default 50); the rest keep their order after them. */
  top?: number;
  variant?: Variant;
  device?: DeviceRequest;
  activation?: RerankActivation;
  /** Told what the rerank run did (device, timings, pairs), once per searchMany call. */
  onResult?: (r: RerankResult) => void;
}

export const DEFAULT_RERANK_TOP = 50;

export interface SearchOptions {
  k: number;
  mode: SearchMode;
  /** Hybrid only: score fusion (default) or reciprocal rank fusion. */
  fusion?: FusionMethod;
  /** false: no snippets (ranked runs, evaluation): `snippet` is '' and the search is several times faster. */
  snippets?: boolean;
  filters?: SearchFilters;
  /** Vector scan precision; default int8 for int8 collections, float32 otherwise. */
  precision?: 'float32' | 'int8';
  /** Rerank the top documents with a cross-encoder, whatever the mode. */
  rerank?: RerankOptions;
  /** Told which mode answered (a collection without live vectors answers every mode lexically) and why. */
  onModeUsed?: (m: ModeUsed) => void;
}

interface VectorState {
  index: ExactIndex | AnnIndex;
  kind: 'exact' | 'ann';
  kernel: string;
}

/** Chunks fetched per wanted document before collapsing to documents (a document = its best chunk). */
const CHUNKS_PER_DOC = 4;
const MIN_CANDIDATES = 100;

/**
 * Search over one collection: exact cosine (SIMD/int8 kernels) or HNSW above a size threshold,
 * BM25 over FTS5, and weighted reciprocal-rank fusion of both, at document level. Vector indexes
 * are built once per process and reused; HNSW indexes are saved under TANDEM_HOME/indexes.
 */
export class Searcher {
  private readonly vectorStates = new Map<string, VectorState>();

  constructor(
    private readonly lib: LibraryStore,
    private readonly client: EmbedClient,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private async vectorState(c: LiveCollection): Promise<VectorState> {
    const key = modelKey(c.model, c.variant);
    const fingerprint = this.lib.vectorFingerprint(c.id, key);
    const cacheKey = `${c.id}|${key}|${fingerprint}`;
    const cached = this.vectorStates.get(cacheKey);
    if (cached) return cached;
    const { chunkIds, vectors, dims } = this.lib.loadVectors(c.id, key);
    let state: VectorState;
    if (shouldUseAnn(chunkIds.length)) {
      const dir = path.join(tandemHome(this.env), 'indexes');
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `collection-${c.id}.hnsw`);
      const loaded = AnnIndex.load(file, { dims, count: chunkIds.length, modelId: key, fingerprint });
      let index: AnnIndex;
      if ('index' in loaded) index = loaded.index;
      else {
        index = await AnnIndex.build(chunkIds, vectors, dims, { modelId: key, fingerprint, path: file });
      }
      state = { index, kind: 'ann', kernel: 'hnsw' };
    } else {
      const index = ExactIndex.fromFloat32(chunkIds, vectors, Math.max(dims, 1), { int8: c.variant === 'int8' });
      state = { index, kind: 'exact', kernel: index.kernel };
    }
    this.vectorStates.set(cacheKey, state);
    return state;
  }

  /** Chunk ids allowed by the filters (undefined = no filter). */
  private allowedChunks(c: Collection, f: SearchFilters | undefined): Set<number> | undefined {
    if (!f || (!f.pathGlob && !f.fileTypes?.length && !f.modifiedAfter && !f.modifiedBefore)) return undefined;
    const rows = this.lib.chunksWhere(c.id, {
      fileTypes: f.fileTypes,
      modifiedAfterMs: f.modifiedAfter?.getTime(),
      modifiedBeforeMs: f.modifiedBefore?.getTime(),
    });
    let keep = rows;
    if (f.pathGlob) {
      const isMatch = picomatch(f.pathGlob, { dot: true });
      const root = c.root && fs.existsSync(c.root) && fs.statSync(c.root).isDirectory() ? c.root : c.root ? path.dirname(c.root) : '';
      keep = rows.filter((r) => isMatch(r.path) || (root !== '' && isMatch(path.relative(root, r.path).split(path.sep).join('/'))));
    }
    return new Set(keep.map((r) => r.id));
  }

  private lexicalChunks(c: Collection, text: string, n: number, allowed: Set<number> | undefined): SearchHit[] {
    const hits = lexicalSearch(this.lib, text, { k: allowed ? Math.max(n * 4, 1000) : n, collectionId: c.id, snippets: false });
    return hits.filter((h) => !allowed || allowed.has(h.chunkId)).slice(0, n).map((h) => ({ id: h.chunkId, score: h.score }));
  }

  /** Collapse chunk hits to documents (best chunk wins), keeping the winning chunk. */
  private toDocs(hits: ReadonlyArray<SearchHit>): Array<{ docKey: string; chunkId: number; score: number }> {
    const info = this.lib.chunkInfo(hits.map((h) => h.id));
    const byDoc = new Map<string, { docKey: string; chunkId: number; score: number }>();
    for (const h of hits) {
      const i = info.get(h.id);
      if (!i) continue;
      const prev = byDoc.get(i.docKey);
      if (!prev || h.score > prev.score) byDoc.set(i.docKey, { docKey: i.docKey, chunkId: h.id, score: h.score });
    }
    const order = collapseToDocuments([...byDoc.values()].map((d) => ({ docId: d.docKey, score: d.score })));
    return order.map((o) => byDoc.get(o.docId)!);
  }

  /** Search many queries at once (batched query embedding and vector scans). */
  async searchMany(collection: string, queries: SearchQuery[], opts: SearchOptions): Promise<Map<string, DocumentHit[]>> {
    if (!Number.isInteger(opts.k) || opts.k < 1) throw new TandemError('INVALID_ARGUMENT', `k must be a positive integer, got ${opts.k}`);
    if (!SEARCH_MODES.includes(opts.mode)) throw new TandemError('INVALID_ARGUMENT', `mode must be one of ${SEARCH_MODES.join(', ')}`);
    const fusion = opts.fusion ?? 'score';
    if (!FUSION_METHODS.includes(fusion)) throw new TandemError('INVALID_ARGUMENT', `fusion must be one of ${FUSION_METHODS.join(', ')}`);
    let mode = resolveMode(opts.mode);
    const rerankTop = opts.rerank ? (opts.rerank.top ?? DEFAULT_RERANK_TOP) : 0;
    if (opts.rerank && !(Number.isInteger(rerankTop) && rerankTop >= 1)) throw new TandemError('INVALID_ARGUMENT', `rerank top must be a positive integer, got ${rerankTop}`);
    if (opts.rerank && (typeof opts.rerank.model !== 'string' || !opts.rerank.model)) throw new TandemError('INVALID_ARGUMENT', 'rerank model is required');
    /** Documents the first stage returns: k, or the rerank candidates when there are more. */
    const want = Math.max(opts.k, rerankTop);
    const found = this.lib.requireCollection(collection);
    // No live vectors (a lexical-only collection): vector and hybrid answer lexically, saying so.
    const used = searchModeFor(this.lib, found, mode);
    opts.onModeUsed?.(used);
    mode = used.used;
    const c = found as LiveCollection; // the model is read only by the vector modes, which have one here
    const allowed = this.allowedChunks(c, opts.filters);
    const n = Math.max(want * CHUNKS_PER_DOC, MIN_CANDIDATES);
    const out = new Map<string, DocumentHit[]>();
    let vectorLists: SearchHit[][] | undefined;
    if (mode !== 'lexical' && queries.length > 0) {
      const st = await this.vectorState(c);
      if (st.index.size > 0) {
        const r = await this.client.embed({ model: c.model, variant: c.variant as Variant, inputType: 'query', texts: queries.map((q) => q.text) });
        const precision = opts.precision ?? (c.variant === 'int8' ? 'int8' : 'float32');
        vectorLists = st.index instanceof ExactIndex
          ? st.index.searchMany(r.vectors, queries.length, Math.min(n, st.index.size), { ...(allowed ? { allowed } : {}), precision })
          : st.index.searchMany(r.vectors, queries.length, Math.min(n, st.index.size), allowed ? { filter: (id: number) => allowed.has(id) } : {});
      } else vectorLists = queries.map(() => []);
    }
    // Hybrid: the weights come from the model's published quality, looked up once per call.
    const entry = mode === 'hybrid' ? findCatalogEntry(loadCatalog(), c.model) : undefined;
    const weights = mode === 'hybrid' ? (fusion === 'rrf' ? rrfWeights(entry) : fusionWeights(entry)) : undefined;
    const kind: ScoreKind = mode === 'vector' ? 'cosine' : mode === 'lexical' ? 'bm25' : fusion === 'rrf' ? 'rrf' : 'fused';
    const chunkTexts = new Map<number, string>();
    queries.forEach((q, qi) => {
      const lexIds = new Set<number>();
      let docs: Array<{ docKey: string; chunkId: number; score: number; bm25?: number; cosine?: number }>;
      if (mode === 'vector') docs = this.toDocs(vectorLists![qi]!);
      else {
        const lex = this.lexicalChunks(c, q.text, n, allowed);
        for (const h of lex) lexIds.add(h.id);
        const lexDocs = this.toDocs(lex);
        if (mode === 'lexical') docs = lexDocs;
        else {
          const vecDocs = this.toDocs(vectorLists![qi]!);
          const best = new Map<string, number>();
          for (const d of [...lexDocs, ...vecDocs]) if (!best.has(d.docKey)) best.set(d.docKey, d.chunkId);
          const vecHits = vecDocs.map((d) => ({ id: d.docKey, score: d.score }));
          const lexHits = lexDocs.map((d) => ({ id: d.docKey, score: d.score }));
          if (fusion === 'rrf') {
            const fused = fuse([{ hits: vecHits, weight: weights!.vector }, { hits: lexHits, weight: weights!.lexical }], { limit: want });
            docs = fused.map((f) => ({ docKey: f.id, chunkId: best.get(f.id)!, score: f.score }));
          } else {
            docs = scoreFuse(vecHits, lexHits, weights!.vector, { limit: want }).map((f) => ({
              docKey: f.id, chunkId: best.get(f.id)!, score: f.score,
              ...(f.bm25 !== undefined ? { bm25: f.bm25 } : {}), ...(f.cosine !== undefined ? { cosine: f.cosine } : {}),
            }));
          }
        }
      }
      docs = docs.slice(0, want);
      const info = this.lib.chunkInfo(docs.map((d) => d.chunkId));
      // FTS5 snippets for the kept hits that BM25 matched (only for them: a snippet costs more than the ranking).
      const snippets = opts.snippets === false ? new Map<number, Snippet>() : lexicalSnippets(this.lib, q.text, docs.map((d) => d.chunkId).filter((id) => lexIds.has(id)));
      out.set(
        q.id,
        docs.map((d) => {
          const i = info.get(d.chunkId)!;
          if (opts.rerank) chunkTexts.set(d.chunkId, i.text);
          const lexSnippet = snippets.get(d.chunkId);
          // The matched passage: the best window of query words in the chunk. Its page and lines
          // are the hit's, not those of the chunk's start.
          const hl = (lexSnippet === undefined && opts.snippets !== false) || i.pageBreaks || i.line !== null ? highlight(i.text, q.text) : undefined;
          return {
            docKey: d.docKey, path: i.path, fileType: i.fileType, title: i.title, score: d.score, scoreKind: kind, chunkId: d.chunkId,
            ...(d.bm25 !== undefined ? { bm25: d.bm25 } : {}), ...(d.cosine !== undefined ? { cosine: d.cosine } : {}),
            start: i.start, end: i.end,
            page: hl ? pageAt(i.page, i.pageBreaks, hl.matchStart) : i.page,
            ...(hl && i.line !== null ? { lines: linesAt(i.line, i.text, hl.matchStart, hl.matchEnd) } : {}),
            snippet: (lexSnippet ?? hl)?.text ?? '',
            highlights: (lexSnippet ?? hl)?.highlights ?? [],
          };
        }),
      );
    });
    if (opts.rerank) await this.rerankInPlace(queries, out, chunkTexts, opts.rerank, rerankTop);
    if (want > opts.k) for (const [id, hits] of out) out.set(id, hits.slice(0, opts.k));
    return out;
  }

  /**
   * Rescore the first `top` hits of every query with the cross-encoder (one batched run for all
   * queries) and move them in front in the reranker's order; hits past `top` keep theirs.
   */
  private async rerankInPlace(queries: SearchQuery[], out: Map<string, DocumentHit[]>, texts: Map<number, string>, ro: RerankOptions, top: number): Promise<void> {
    const pairs: Array<[string, string]> = [];
    const slots: Array<{ qid: string; hit: DocumentHit }> = [];
    for (const q of queries) {
      for (const hit of (out.get(q.id) ?? []).slice(0, top)) {
        pairs.push([q.text, texts.get(hit.chunkId) ?? hit.snippet]);
        slots.push({ qid: q.id, hit });
      }
    }
    if (pairs.length === 0) return;
    const r = await this.client.rerank({
      model: ro.model,
      pairs,
      ...(ro.variant ? { variant: ro.variant } : {}),
      ...(ro.device ? { device: ro.device } : {}),
      ...(ro.activation ? { activation: ro.activation } : {}),
    });
    slots.forEach((s, i) => (s.hit.rerankScore = r.scores[i]!));
    for (const q of queries) {
      const hits = out.get(q.id) ?? [];
      const head = hits.slice(0, top).map((h, i) => ({ h, i }));
      head.sort((a, b) => b.h.rerankScore! - a.h.rerankScore! || a.i - b.i);
      out.set(q.id, [...head.map((x) => x.h), ...hits.slice(top)]);
    }
    ro.onResult?.(r);
  }

  /** The model of a collection's live vectors, or null (lexical-only, or no such collection). */
  collectionModel(collection: string): string | null {
    const c = this.lib.getCollection(collection);
    return c && isLiveCollection(c) ? c.model : null;
  }

  /** The fusion weights for a collection's model, from the catalog's published nDCG@10. */
  weightsFor(model: string): FusionWeights {
    return fusionWeights(findCatalogEntry(loadCatalog(), model));
  }

  async search(collection: string, text: string, opts: SearchOptions): Promise<DocumentHit[]> {
    return (await this.searchMany(collection, [{ id: 'q', text }], opts)).get('q') ?? [];
  }

  close(): void {
    for (const s of this.vectorStates.values()) if (s.index instanceof ExactIndex) s.index.close();
    this.vectorStates.clear();
  }
}
