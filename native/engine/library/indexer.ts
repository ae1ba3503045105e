import path from 'node:path';
import { chunkLocations } from '../ingest/locations.js';
import type { FileType } from '../ingest/file-types.js';
import { TandemError, describeError } from '../common/errors.js';
import type { EmbedClient } from '../inference/embed-client.js';
import { extractFile } from '../ingest/extract.js';
import type { ExtractResult } from '../ingest/extract-types.js';
import type { EmbedDocumentsRequest } from '../inference/embed-engine.js';
import { isExpectedSkip, walkFiles } from '../ingest/walk.js';
import { ChunkEstimate, countByReason, failureReason, type NotIndexed } from './index-report.js';
import type { Variant } from '../models/catalog.js';
import { resolveModel } from '../models/model-resolver.js';
import { LibraryStore, modelKey, type NewChunk, type NewDocument } from '../store/library-store.js';
import { describeDevice, type DeviceRequest } from '../inference/device.js';
import type { EmbedDocumentsResult } from '../inference/embed-engine.js';
import { chunkDocuments, lexicalChunker } from './lexical-chunker.js';

/** Chunk spans as arrays (the worker's typed arrays, or the lexical chunker's plain ones). */
interface ChunkSpanLists {
  doc: ArrayLike<number>;
  start: ArrayLike<number>;
  end: ArrayLike<number>;
  tokens: ArrayLike<number>;
  page: ArrayLike<number>;
}

/** Errors that mean "this model cannot run here" (not a bug, not a cancel): a default model may then give way to lexical-only. */
const MODEL_UNUSABLE = new Set(['MODEL_NOT_FOUND', 'MODEL_INVALID', 'DEVICE_UNAVAILABLE', 'INFERENCE_FAILED', 'NUMERIC_ERROR']);

/**
 * How this run indexes: with the model (its variant), or lexical-only (variant null). Lexical-only
 * when asked, when the collection already is (and no model was named), or when the host's default
 * model cannot load for a new collection (a notice says why and how to add vectors later).
 */
async function chooseIndexMode(store: LibraryStore, client: EmbedClient, opts: IndexOptions, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): Promise<{ variant: Variant | null; notice?: string }> {
  const existing = store.getCollection(opts.collection);
  const upgradeHint = `\`tandem collections upgrade "${opts.collection}" --model ID\` adds vectors later`;
  if (opts.lexicalOnly) {
    if (existing && existing.model !== null) throw new TandemError('CONFLICT', `collection "${opts.collection}" has vectors of ${existing.model} (${existing.variant}); index it without --lexical-only, or use another collection name`);
    return { variant: null };
  }
  if (existing && existing.model === null && opts.lexicalFallback) {
    return { variant: null, notice: `collection "${opts.collection}" is lexical-only (keyword search); new documents are indexed for keyword search too; ${upgradeHint}` };
  }
  let variant: Variant;
  try {
    const model = resolveModel(opts.model, { env });
    variant = opts.variant ?? model.defaultVariant;
    // A new collection whose default model might not load: load it now (the worker keeps it for the run).
    if (opts.lexicalFallback && !existing) await client.embed({ model: opts.model, variant, ...(opts.device ? { device: opts.device } : {}), inputType: 'passage', texts: ['tandem'] }, signal ? { signal } : {});
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!opts.lexicalFallback || existing || !MODEL_UNUSABLE.has(code)) throw e;
    return { variant: null, notice: `no embedding model could load (${describeError(e)}), so "${opts.collection}" is indexed for keyword (lexical) search only; ${upgradeHint}` };
  }
  return { variant };
}

export interface IndexOptions {
  root: string;
  collection: string;
  /** The embedding model; unused by a lexical-only run (its tokenizer still measures chunks when it loads). */
  model: string;
  variant?: Variant;
  /** Where the model runs (absent: auto; `webgpu` by name also takes a software adapter). Not part of the job's identity. */
  device?: DeviceRequest;
  /** Build (or add to) a lexical-only collection: chunks + FTS5, no vectors (`tandem collections upgrade` adds them later). */
  lexicalOnly?: boolean;
  /**
   * The model was not named by the user (a host default): when it cannot load and the collection
   * is new, index lexical-only with a notice instead of failing; a lexical-only collection stays so.
   */
  lexicalFallback?: boolean;
  /** CSV/TSV columns forming the text (names or 0-based indices). */
  columns?: string[];
  maxTokens?: number;
  overlapTokens?: number;
}

/**
 * How far a run is. Its unit is the chunk (embedded and written): `fraction` is chunksEmbedded /
 * chunksTotal, never 1 before the last chunk is written; files read are shown beside it.
 */
export interface IndexProgress {
  phase: 'scanning' | 'indexing' | 'done';
  /** Files read (extracted, or found unchanged) of the files the walk took. */
  filesDone: number;
  filesTotal: number;
  /** Chunks embedded and written by this run. */
  chunksEmbedded: number;
  /** Estimated chunks of this run (ChunkEstimate: from bytes), above chunksEmbedded until done; 0 while scanning. */
  chunksTotal: number;
  /** chunksEmbedded / chunksTotal, at most 0.99 until done, then 1. */
  fraction: number;
}

export interface FileError {
  path: string;
  code: string;
  message: string;
  /** As shown to the user: `corrupt PDF: ...`, `unreadable: ...`, `binary`, `bad record: line 3: ...`. */
  reason: string;
}

export interface IndexSummary {
  collection: string;
  /** The model of the vectors written; null for a lexical-only collection. */
  model: string | null;
  variant: Variant | null;
  lexicalOnly: boolean;
  /** Why this run indexed lexical-only when it did not ask to, and how to add vectors (the CLI prints it). */
  notice?: string;
  filesSeen: number;
  filesUnchanged: number;
  filesIndexed: number;
  /** Files (and folders) the walk did not take, for any reason. */
  filesSkipped: number;
  /** Each of them with its reason (see SkippedFile.label): `hidden`, `ignored by .gitignore`, `binary`... */
  skipped: NotIndexed[];
  /** Skipped and failed files by reason category (`unsupported type .png`, `corrupt PDF`...), largest first. */
  byReason: Record<string, number>;
  /**
   * Files skipped for a reason other than hidden, ignored (or a second link to the same file), plus
   * files that failed or lost records: input that was asked for and is not (all) in the index. The
   * CLI exits 3 when this is not 0.
   */
  filesNotIndexed: number;
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
  /** What the worker chunks and embeds. */
  source: EmbedDocumentsRequest['documents'][number];
  /** Source bytes it stands for (its share of its file), for the chunk estimate. */
  bytes: number;
}

/**
 * Groups sent to the worker and not yet written. Two keep both threads busy when their loads are
 * close (static model, bench:ingest: 13.0k -> 14.9k chunks/s vs one; three gave no more in scratch
 * runs). A kill loses at most these uncommitted groups, which the next run redoes.
 */
const GROUPS_IN_FLIGHT = 2;

/** Files read ahead of the one being chunked. */
const READ_AHEAD = 4;

/** Characters of documents chunked and embedded per request (about 250 full chunks): small enough that reading, embedding and writing overlap well, large enough for good batching (measured with 0.25, 0.5 and 1 M). */
const GROUP_CHARS = 250_000;

/**
 * `tandem index`: walk, extract, chunk, embed (in the worker), and write each group of documents
 * in one transaction. Unchanged files are skipped (size + mtime, then sha256), changed ones are
 * replaced, files gone from the folder leave the index. Re-running after a kill resumes: what was
 * committed is unchanged and skipped, what was not is redone.
 */
export async function indexPath(store: LibraryStore, client: EmbedClient, opts: IndexOptions, hooks: IndexHooks = {}, env: NodeJS.ProcessEnv = process.env): Promise<IndexSummary> {
  const t0 = performance.now();
  const root = path.resolve(opts.root);
  const chunking = { ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}), ...(opts.overlapTokens !== undefined ? { overlapTokens: opts.overlapTokens } : {}) };
  const mode = await chooseIndexMode(store, client, opts, env, hooks.signal);
  const { variant, notice } = mode;
  const lexical = mode.variant === null ? lexicalChunker(opts.model, chunking, env) : null;
  const key = variant === null ? null : modelKey(opts.model, variant);
  const collection = store.ensureCollection({ name: opts.collection, model: variant === null ? null : opts.model, variant, root, options: { columns: opts.columns ?? null } });
  hooks.onProgress?.({ phase: 'scanning', filesDone: 0, filesTotal: 0, chunksEmbedded: 0, chunksTotal: 0, fraction: 0 });
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
    collection: opts.collection, model: key === null ? null : opts.model, variant, lexicalOnly: key === null, ...(notice ? { notice } : {}), filesSeen: files.length, filesUnchanged: 0, filesIndexed: 0,
    filesSkipped: walk.skipped.length, skipped: walk.skipped.map((k) => ({ path: k.path, reason: k.label })), byReason: {},
    filesNotIndexed: walk.skipped.filter((k) => !isExpectedSkip(k.reason)).length, documentsWritten: 0, documentsDeleted: 0, chunksWritten: 0, errors: [], device: '', embedMs: 0, totalMs: 0,
  };
  const seenKeys = new Set<string>();
  let group: PendingDoc[] = [];
  let groupChars = 0;
  let inFlight: Promise<void> = Promise.resolve();
  /** The writes of the groups sent and not yet awaited, oldest first. */
  const writes: Array<Promise<void>> = [];
  let chunksEmbedded = 0;
  let filesDone = 0;

  const flush = async (): Promise<void> => {
    if (group.length === 0) return;
    const docs = group;
    group = [];
    groupChars = 0;
    const call = hooks.signal ? { signal: hooks.signal } : {};
    // Chunking and embedding run in the worker, next to the model (each chunk tokenized once);
    // this thread reads the next files and writes the previous group meanwhile. Lexical-only:
    // chunked here, no vectors.
    const embedded: Promise<Partial<Pick<EmbedDocumentsResult, 'device' | 'timings' | 'vectors'>> & { count: number; dims: number; chunks: ChunkSpanLists }> = lexical
      ? Promise.resolve().then(() => ({ ...chunkDocuments(docs.map((d) => d.source), lexical), dims: 0 }))
      : client.embedDocuments({ model: opts.model, variant: variant!, ...(opts.device ? { device: opts.device } : {}), inputType: 'passage', documents: docs.map((d) => d.source), ...chunking }, call);
    // Extraction of the next groups overlaps with this one's chunking and inference; the writes stay in order.
    const prev = inFlight;
    inFlight = (async () => {
      // Settle in order: the earlier group's write (and its error) first, so a run never ends
      // while an earlier write is still pending.
      const got = await embedded.then(
        (r) => ({ r }),
        (e: unknown) => ({ e }),
      );
      await prev;
      if ('e' in got) throw got.e;
      const { r } = got;
      if (r.count && r.device && r.timings) {
        summary.device = describeDevice(r.device);
        summary.embedMs += r.timings.inferenceMs;
        store.setDims(collection.id, r.dims);
      }
      const perDoc: NewChunk[][] = docs.map(() => []);
      const { doc, start, end, tokens, page } = r.chunks;
      for (let i = 0; i < r.count; i++) {
        const d = doc[i]!;
        const c = perDoc[d]!;
        c.push({ ord: c.length, text: docs[d]!.source.text.slice(start[i]!, end[i]!), start: start[i]!, end: end[i]!, page: page[i]! || undefined, tokens: tokens[i]! });
      }
      // Start lines and page breaks inside chunks: search reports where the matched passage lies.
      docs.forEach((d, k) => {
        const locs = chunkLocations(d.source.text, d.doc.fileType as FileType, d.source.pages, perDoc[k]!);
        perDoc[k]!.forEach((c, j) => Object.assign(c, locs[j]));
      });
      let offset = 0;
      const items = docs.map((d, k) => {
        const chunks = perDoc[k]!;
        const vectors = r.vectors?.subarray(offset * r.dims, (offset + chunks.length) * r.dims);
        offset += chunks.length;
        return { doc: d.doc, chunks, vectors, dims: r.dims };
      });
      store.writeDocuments(collection.id, key, items);
      summary.documentsWritten += items.length;
      summary.chunksWritten += r.count;
      chunksEmbedded += r.count;
      estimate.commit(docs.reduce((n, d) => n + d.bytes, 0), r.count);
      hooks.onCommitted?.(items.map((i) => i.doc.key));
      report('indexing');
    })();
    // Backpressure on extraction: at most GROUPS_IN_FLIGHT groups sent and not yet written. A
    // failed write is seen when its turn comes (marked handled meanwhile, not an unhandled rejection).
    inFlight.catch(() => undefined);
    writes.push(inFlight);
    if (writes.length > GROUPS_IN_FLIGHT) await writes.shift();
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
  // Progress counts chunks; their total is estimated from the bytes of the files to read.
  const estimate = new ChunkEstimate(files.reduce((n, f, i) => (unchanged[i] ? n : n + f.size), 0));
  const report = (phase: IndexProgress['phase']): void =>
    hooks.onProgress?.({ phase, filesDone, filesTotal: files.length, chunksEmbedded, chunksTotal: estimate.total, fraction: estimate.fraction });
  report('indexing');
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
    // A file that cannot be read is a per-file error; a failed embedding or write (earlier groups
    // included) ends the run at once, with what was committed kept for the next run.
    let docs: ExtractResult | undefined;
    try {
      const pending = extractAt(i);
      extracting.delete(i);
      docs = await pending;
    } catch (e) {
      if ((e as { code?: string }).code === 'CANCELLED') throw e;
      summary.errors.push({ path: f.path, code: (e as TandemError).code ?? 'INTERNAL', message: describeError(e), reason: failureReason(f.path, type, e) });
      estimate.drop(f.size);
    }
    if (docs) {
      for (const e of docs.errors) summary.errors.push({ path: f.path, code: 'INVALID_INPUT', message: `line ${e.line}: ${e.message}`, reason: `bad record: line ${e.line}: ${e.message}` });
      // Each document stands for its share of the file's bytes (by text length).
      const textChars = docs.docs.reduce((n, d) => n + d.text.length, 0);
      const bytesOf = (d: { text: string }): number => (textChars > 0 ? (f.size * d.text.length) / textChars : f.size / Math.max(1, docs!.docs.length));
      if (docs.docs.length === 0) estimate.drop(f.size);
      for (const d of docs.docs) {
        seenKeys.add(d.key);
        const prior = existing.get(d.key);
        if (prior && prior.sha256 === d.sha256 && prior.path === f.path) {
          estimate.drop(bytesOf(d));
          // Same content (a touched file, or an unchanged record of a multi-document file): no re-embedding.
          if (prior.mtimeMs !== Math.trunc(f.mtimeMs) || prior.size !== f.size) store.updateFileStat(collection.id, d.key, f.size, Math.trunc(f.mtimeMs));
          continue;
        }
        group.push({
          doc: { key: d.key, path: f.path, fileType: type, title: d.title, size: f.size, mtimeMs: Math.trunc(f.mtimeMs), sha256: d.sha256 },
          source: d.pages ? { text: d.text, pages: d.pages } : { text: d.text },
          bytes: bytesOf(d),
        });
        groupChars += d.text.length;
        if (groupChars >= GROUP_CHARS) await flush();
      }
      summary.filesIndexed++;
    }
    filesDone++;
    report('indexing');
  }
  await flush();
  await inFlight;
  if (hooks.signal?.aborted) throw new TandemError('CANCELLED', 'indexing cancelled; run the same command again to continue');

  // Files that left the folder leave the index (only documents under this root).
  const gone = [...existing.values()].filter((d) => !seenKeys.has(d.key) && (d.path === root || d.path.startsWith(root + path.sep)));
  if (gone.length) store.deleteDocuments(collection.id, gone.map((d) => d.key));
  summary.documentsDeleted = gone.length;
  summary.totalMs = performance.now() - t0;
  // Files with bad records were indexed in part: they count as not (all) indexed too.
  const failed = new Set(summary.errors.map((e) => e.path));
  summary.filesNotIndexed += failed.size;
  summary.byReason = countByReason([...summary.skipped, ...summary.errors]);
  estimate.finish();
  report('done');
  return summary;
}
