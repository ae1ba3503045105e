import path from 'node:path';
import { TandemError, describeError } from '../engine/common/errors.js';
import type { EmbedClient } from '../inference/embed-client.js';
import { chunkText } from '../ingest/chunk.js';
import { readTokenizerJson, wordCachedCounter, wordCachedTokens } from '../inference/word-cache.js';
import { inputPrefix, packTokenRows, prefixJoinsAtWord } from '../inference/embed-engine.js';
import { extractFile } from '../ingest/extract.js';
import type { ExtractResult } from '../ingest/extract-types.js';
import { walkFiles } from '../ingest/walk.js';
import { TextTokenizer } from '../inference/tokenizer.js';
import type { Variant } from '../models/catalog.js';
import { resolveModel } from '../models/model-resolver.js';
import { LibraryStore, modelKey, type NewChunk, type NewDocument } from '../store/library-store.js';
import { describeDevice } from '../inference/device.js';

export interface IndexOptions {
  root: string;
  collection: string;
  model: string;
  variant?: Variant;
  /** CSV/TSV columns forming the text (names or 0-based indices). */
  columns?: string[];
  maxTokens?: number;
  overlapTokens?: number;
}

export interface IndexProgress {
  phase: 'scanning' | 'indexing' | 'done';
  filesDone: number;
  filesTotal: number;
  chunksEmbedded: number;
}

export interface FileError {
  path: string;
  code: string;
  message: string;
}

export interface IndexSummary {
  collection: string;
  model: string;
  variant: Variant;
  filesSeen: number;
  filesUnchanged: number;
  filesIndexed: number;
  filesSkipped: number;
  documentsWritten: number;
  documentsDeleted: number;
  chunksWritten: number;
  errors: FileError[];
  device: string;
  embedMs: number;
  totalMs: number;
}

export interface IndexHooks {
  onProgress?: (p: IndexProgress) => void;
  signal?: AbortSignal;
  /** Called after each group of documents is durably written. */
  onCommitted?: (docKeys: string[]) => void;
}

interface PendingDoc {
  doc: NewDocument;
  chunks: NewChunk[];
  /** The chunks' token ids, when the engine takes them (see `tokenized` in indexPath). */
  ids?: number[][];
}

/** Files read ahead of the one being chunked. */
const READ_AHEAD = 4;

/** Chunk texts embedded per request: large enough for good batching, small enough to stream. */
const EMBED_GROUP = 1024;

/**
 * `tandem index`: walk, extract, chunk, embed (in the worker), and write each group of documents
 * in one transaction. Unchanged files are skipped (size + mtime, then sha256), changed ones are
 * replaced, files gone from the folder leave the index. Re-running after a kill resumes: what was
 * committed is unchanged and skipped, what was not is redone.
 */
export async function indexPath(store: LibraryStore, client: EmbedClient, opts: IndexOptions, hooks: IndexHooks = {}, env: NodeJS.ProcessEnv = process.env): Promise<IndexSummary> {
  const t0 = performance.now();
  const root = path.resolve(opts.root);
  const model = resolveModel(opts.model, { env });
  const variant = opts.variant ?? model.defaultVariant;
  const key = modelKey(opts.model, variant);
  const collection = store.ensureCollection({ name: opts.collection, model: opts.model, variant, root, options: { columns: opts.columns ?? null } });
  const tokenizer = TextTokenizer.load(model.dir);
  const maxTokens = Math.min(opts.maxTokens ?? 256, model.maxLength - tokenizer.specialCount);
  const overlapTokens = Math.min(opts.overlapTokens ?? 32, Math.floor(maxTokens / 4));
  // Exact counts, each distinct word tokenized once for BERT-style tokenizers (inference/word-cache.ts).
  // Where ids add up over words (and the passage prefix ends a word), the chunker's ids go to the
  // engine as they are: each text is tokenized once, here, and the worker only runs the model.
  const tokenizerJson = readTokenizerJson(model.dir);
  const prefix = inputPrefix(model, 'passage');
  const words = prefixJoinsAtWord(prefix) && tokenizer.specialWrap ? wordCachedTokens((w) => tokenizer.rawEncode(w, false), tokenizerJson) : null;
  const tokenized = words && maxTokens + words.count(prefix) + tokenizer.specialCount <= model.maxLength ? words : null;
  const countTokens = words?.count ?? wordCachedCounter((t: string) => tokenizer.countTokens(t), tokenizerJson);

  hooks.onProgress?.({ phase: 'scanning', filesDone: 0, filesTotal: 0, chunksEmbedded: 0 });
  const walk = await walkFiles(root, hooks.signal ? { signal: hooks.signal } : {});
  const files = walk.files;
  const existing = store.documents(collection.id);
  const byPath = new Map<string, string[]>();
  for (const d of existing.values()) {
    const list = byPath.get(d.path) ?? [];
    list.push(d.key);
    byPath.set(d.path, list);
  }

  const summary: IndexSummary = {
    collection: opts.collection, model: opts.model, variant, filesSeen: files.length, filesUnchanged: 0, filesIndexed: 0,
    filesSkipped: walk.skipped.length, documentsWritten: 0, documentsDeleted: 0, chunksWritten: 0, errors: [], device: '', embedMs: 0, totalMs: 0,
  };
  const seenKeys = new Set<string>();
  let group: PendingDoc[] = [];
  let groupChunks = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let chunksEmbedded = 0;
  let filesDone = 0;

  const flush = async (): Promise<void> => {
    if (group.length === 0) return;
    const docs = group;
    group = [];
    groupChunks = 0;
    const texts = docs.flatMap((d) => d.chunks.map((c) => c.text));
    const call = hooks.signal ? { signal: hooks.signal } : {};
    const embedded = !texts.length
      ? Promise.resolve(undefined)
      : tokenized
        ? client.embedTokens({ model: opts.model, variant, inputType: 'passage', ...packTokenRows(docs.flatMap((d) => d.ids!)) }, call)
        : client.embed({ model: opts.model, variant, texts, inputType: 'passage' }, call);
    // Keep one request in flight: extraction of the next group overlaps with this one's inference.
    const prev = inFlight;
    inFlight = (async () => {
      const r = await embedded;
      await prev;
      if (r) {
        summary.device = describeDevice(r.device);
        summary.embedMs += r.timings.inferenceMs;
        store.setDims(collection.id, r.dims);
      }
      let offset = 0;
      const items = docs.map((d) => {
        const n = d.chunks.length;
        const dims = r?.dims ?? 0;
        const vectors = r ? r.vectors.subarray(offset * dims, (offset + n) * dims) : new Float32Array(0);
        offset += n;
        return { doc: d.doc, chunks: d.chunks, vectors, dims };
      });
      store.writeDocuments(collection.id, key, items);
      summary.documentsWritten += items.length;
      summary.chunksWritten += texts.length;
      chunksEmbedded += texts.length;
      hooks.onCommitted?.(items.map((i) => i.doc.key));
      hooks.onProgress?.({ phase: 'indexing', filesDone, filesTotal: files.length, chunksEmbedded });
    })();
    // Never let more than one write wait: backpressure on extraction.
    await prev;
  };

  // A file holding many documents (BEIR .jsonl, CSV rows) may have been cut mid-way by a kill:
  // it is always re-read and compared document by document (cheap: no embedding when unchanged).
  const unchanged = files.map((f) => {
    const priorKeys = byPath.get(f.path) ?? [];
    const multiDoc = f.type === 'jsonl' || f.type === 'csv' || f.type === 'tsv';
    return !multiDoc && priorKeys.length > 0 && priorKeys.every((k) => {
      const d = existing.get(k)!;
      return d.size === f.size && d.mtimeMs === Math.trunc(f.mtimeMs);
    });
  });
  // Files are read a few ahead of the one being chunked, so the waits on the disk overlap.
  const extracting = new Map<number, Promise<ExtractResult>>();
  const extractAt = (i: number): Promise<ExtractResult> => {
    let p = extracting.get(i);
    if (!p) {
      const f = files[i]!;
      p = extractFile(f.path, f.type, { relPath: f.relPath, sizeHint: f.size, ...(hooks.signal ? { signal: hooks.signal } : {}), ...(opts.columns ? { columns: opts.columns.map((c) => (/^\d+$/.test(c) ? Number(c) : c)) } : {}) });
      p.catch(() => undefined); // observed when its turn comes
      extracting.set(i, p);
    }
    return p;
  };

  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    if (hooks.signal?.aborted) break;
    const type = f.type;
    if (unchanged[i]) {
      (byPath.get(f.path) ?? []).forEach((k) => seenKeys.add(k));
      summary.filesUnchanged++;
      filesDone++;
      continue;
    }
    for (let j = i + 1; j < files.length && j <= i + READ_AHEAD; j++) if (!unchanged[j]) extractAt(j);
    try {
      const pending = extractAt(i);
      extracting.delete(i);
      const docs = await pending;
      for (const e of docs.errors) summary.errors.push({ path: f.path, code: 'INVALID_INPUT', message: `line ${e.line}: ${e.message}` });
      for (const d of docs.docs) {
        seenKeys.add(d.key);
        const prior = existing.get(d.key);
        if (prior && prior.sha256 === d.sha256 && prior.path === f.path) {
          // Same content (a touched file, or an unchanged record of a multi-document file): no re-embedding.
          if (prior.mtimeMs !== Math.trunc(f.mtimeMs) || prior.size !== f.size) store.updateFileStat(collection.id, d.key, f.size, Math.trunc(f.mtimeMs));
          continue;
        }
        const chunks = d.text.trim() ? chunkText(d.text, { maxTokens, overlapTokens, countTokens, ...(tokenized ? { tokenIds: tokenized.ids } : {}), ...(d.pages ? { pages: d.pages } : {}) }) : [];
        group.push({
          doc: { key: d.key, path: f.path, fileType: type, title: d.title, size: f.size, mtimeMs: Math.trunc(f.mtimeMs), sha256: d.sha256 },
          chunks: chunks.map((c) => ({ ord: c.ord, text: c.text, start: c.start, end: c.end, page: c.page, tokens: c.tokens })),
          ...(tokenized ? { ids: chunks.map((c) => c.ids!) } : {}),
        });
        groupChunks += chunks.length;
        if (groupChunks >= EMBED_GROUP) await flush();
      }
      summary.filesIndexed++;
    } catch (e) {
      if ((e as { code?: string }).code === 'CANCELLED') throw e;
      summary.errors.push({ path: f.path, code: (e as TandemError).code ?? 'INTERNAL', message: describeError(e) });
    }
    filesDone++;
    hooks.onProgress?.({ phase: 'indexing', filesDone, filesTotal: files.length, chunksEmbedded });
  }
  await flush();
  await inFlight;
  if (hooks.signal?.aborted) throw new TandemError('CANCELLED', 'indexing cancelled; run the same command again to continue');

  // Files that left the folder leave the index (only documents under this root).
  const gone = [...existing.values()].filter((d) => !seenKeys.has(d.key) && (d.path === root || d.path.startsWith(root + path.sep)));
  if (gone.length) store.deleteDocuments(collection.id, gone.map((d) => d.key));
  summary.documentsDeleted = gone.length;
  summary.totalMs = performance.now() - t0;
  hooks.onProgress?.({ phase: 'done', filesDone, filesTotal: files.length, chunksEmbedded });
  return summary;
}
