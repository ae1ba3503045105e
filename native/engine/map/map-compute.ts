/**
 * One map computation, start to end, synchronously (it runs in the map worker, map-worker.ts):
 * resolve the collection's vectors, look for a cached map with the same vector fingerprint, else
 * sample up to `maxPoints` chunks, project them to 2D and cache the result under
 * `$TANDEM_HOME/maps/<collection>-<model>-<method>-<fingerprint>.json`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../common/errors.js';
import type { Db } from '../store/database.js';
import { LibraryStore, modelKey, type MapVectorRow } from '../store/library-store.js';
import { evenSample, project, type MapMethod } from './project.js';

export interface MapRequest {
  collection: string;
  /** Model id (`Xenova/all-MiniLM-L6-v2`) or embeddings key (`id@variant`); default the collection's. */
  model?: string | undefined;
  method: MapMethod;
  /** Default DEFAULT_MAX_POINTS[method]. */
  maxPoints?: number | undefined;
}

export interface MapPoint {
  x: number;
  y: number;
  chunkId: number;
  documentPath: string;
  page?: number;
  /** The document's folder relative to the common folder of all mapped documents ('.' = that folder). */
  folder: string;
  fileType: string;
  /** The chunk's first ~200 characters, whitespace collapsed. */
  preview: string;
}

export interface MapResult {
  collection: string;
  /** The embeddings key mapped (`model@variant`). */
  model: string;
  method: MapMethod;
  fingerprint: string;
  /** Chunks with vectors in the collection; `points.length` is at most maxPoints of them. */
  total: number;
  sampled: boolean;
  cached: boolean;
  /** Time the projection took when it was computed (a cached map keeps its original time). */
  computeMs: number;
  createdAt: string;
  points: MapPoint[];
}

export interface MapProgress {
  phase: 'loading' | 'projecting' | 'saving';
  done: number;
  total: number | null;
}

export const DEFAULT_MAX_POINTS: Readonly<Record<MapMethod, number>> = { pca: 50_000, umap: 5_000 };
export const MAX_POINTS_LIMIT = 50_000;
export const PREVIEW_CHARS = 200;
const CACHE_VERSION = 1;

interface CacheFile extends Omit<MapResult, 'cached'> {
  version: number;
  sampleSize: number;
}

/** File-name-safe and injective: letters, digits, '.', ' ' and '_' stay; anything else is ~XX (UTF-8 hex). */
export function cacheNamePart(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => (/[A-Za-z0-9._ ]/.test(String.fromCharCode(b)) && b < 0x80 ? String.fromCharCode(b) : `~${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

export function mapCacheDir(home: string): string {
  return path.join(home, 'maps');
}

export function mapCacheFile(home: string, collection: string, model: string, method: MapMethod, fingerprint: string): string {
  return path.join(mapCacheDir(home), `${[collection, model, method, fingerprint].map(cacheNamePart).join('-')}.json`);
}

/** The embeddings key to map: the collection's own model by default. */
function resolveModel(lib: LibraryStore, collection: { id: number; name: string; model: string | null; variant: string | null }, model: string | undefined): string {
  if (collection.model === null || collection.variant === null) {
    throw new TandemError('NOT_FOUND', `collection "${collection.name}" is lexical-only: it has no vectors to map; \`tandem collections upgrade "${collection.name}" --model ID\` adds them`);
  }
  if (!model || model === collection.model) return modelKey(collection.model, collection.variant);
  if (model.includes('@')) return model;
  const key = lib.embeddingKeyFor(collection.id, model);
  if (!key) throw new TandemError('NOT_FOUND', `collection "${collection.name}" has no vectors for model ${model} (it is indexed with ${collection.model})`);
  return key;
}

function commonDir(paths: string[]): string {
  if (paths.length === 0) return '';
  let parts = path.dirname(paths[0]!).split(/[\\/]/);
  for (const p of paths) {
    const q = path.dirname(p).split(/[\\/]/);
    let k = 0;
    while (k < parts.length && k < q.length && parts[k] === q[k]) k++;
    parts = parts.slice(0, k);
    if (parts.length === 0) break;
  }
  return parts.join('/');
}

function folderOf(file: string, root: string): string {
  const dir = path.dirname(file).split(/[\\/]/).join('/');
  if (!root) return dir;
  const rel = dir === root ? '' : dir.startsWith(`${root}/`) ? dir.slice(root.length + 1) : dir;
  return rel || '.';
}

export function previewOf(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > PREVIEW_CHARS ? `${t.slice(0, PREVIEW_CHARS).trimEnd()}…` : t;
}

function readCache(file: string, expect: { collection: string; model: string; method: MapMethod; fingerprint: string; sampleSize: number }): MapResult | undefined {
  let c: CacheFile;
  try {
    c = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheFile;
  } catch {
    return undefined; // absent or damaged: computed again (and rewritten)
  }
  if (c.version !== CACHE_VERSION || c.collection !== expect.collection || c.model !== expect.model || c.method !== expect.method || c.fingerprint !== expect.fingerprint || c.sampleSize !== expect.sampleSize || !Array.isArray(c.points)) return undefined;
  const { version: _v, sampleSize: _s, ...rest } = c;
  return { ...rest, cached: true };
}

/** Write atomically, then drop this map's older files (other fingerprints). */
function writeCache(file: string, prefix: string, data: CacheFile): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(data));
  fs.renameSync(tmp, file);
  for (const name of fs.readdirSync(dir)) {
    if (name !== path.basename(file) && name.startsWith(prefix) && name.endsWith('.json') && !name.slice(prefix.length, -5).includes('-')) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

/** Compute (or read from the cache) the 2D map of a collection. */
export function computeMap(db: Db, home: string, req: MapRequest, onProgress: (p: MapProgress) => void = () => {}, seed = 42): MapResult {
  const lib = new LibraryStore(db);
  const c = lib.requireCollection(req.collection);
  const model = resolveModel(lib, c, req.model);
  const maxPoints = Math.min(req.maxPoints ?? DEFAULT_MAX_POINTS[req.method], MAX_POINTS_LIMIT);
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new TandemError('INVALID_ARGUMENT', `maxPoints must be a whole number from 1 to ${MAX_POINTS_LIMIT}`);
  const fingerprint = lib.vectorFingerprint(c.id, model);
  const ids = lib.vectorChunkIds(c.id, model);
  const total = ids.length;
  const pick = evenSample(total, maxPoints);
  const file = mapCacheFile(home, c.name, model, req.method, fingerprint);
  const expect = { collection: c.name, model, method: req.method, fingerprint, sampleSize: pick.length };
  const hit = readCache(file, expect);
  if (hit) return hit;

  const t0 = performance.now();
  const get = lib.vectorRowReader(model);
  const n = pick.length;
  let dims = 0;
  let vectors = new Float32Array(0);
  const info: Array<Omit<MapVectorRow, 'vector' | 'dtype' | 'scale'> & { chunkId: number }> = [];
  onProgress({ phase: 'loading', done: 0, total: n });
  for (let k = 0; k < n; k++) {
    const id = ids[pick[k]!]!;
    const r = get(id);
    if (!r) throw new TandemError('CONFLICT', `the collection "${c.name}" changed while its map was being computed; try again`);
    const rowDims = r.dtype === 'i8' ? r.vector.byteLength : r.vector.byteLength / 4;
    if (k === 0) {
      dims = rowDims;
      vectors = new Float32Array(n * dims);
    } else if (rowDims !== dims) throw new TandemError('INTERNAL', `chunk ${id} has a ${rowDims}-dimension vector, others have ${dims}`);
    if (r.dtype === 'i8') {
      const q = new Int8Array(r.vector.buffer, r.vector.byteOffset, dims);
      const s = r.scale ?? 1;
      for (let j = 0; j < dims; j++) vectors[k * dims + j] = q[j]! * s;
    } else {
      vectors.set(new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + dims * 4)), k * dims);
    }
    info.push({ chunkId: id, path: r.path, fileType: r.fileType, page: r.page, text: r.text });
    if ((k + 1) % 2000 === 0) onProgress({ phase: 'loading', done: k + 1, total: n });
  }
  onProgress({ phase: 'projecting', done: 0, total: null });
  const xy = project(vectors, n, dims, req.method, { seed, onProgress: (done, tot) => onProgress({ phase: 'projecting', done, total: tot }) });
  const root = commonDir(info.map((p) => p.path));
  const points: MapPoint[] = info.map((p, k) => ({
    x: Math.round(xy[k * 2]! * 1e5) / 1e5,
    y: Math.round(xy[k * 2 + 1]! * 1e5) / 1e5,
    chunkId: p.chunkId,
    documentPath: p.path,
    ...(p.page !== null ? { page: p.page } : {}),
    folder: folderOf(p.path, root),
    fileType: p.fileType,
    preview: previewOf(p.text),
  }));
  const result: MapResult = { collection: c.name, model, method: req.method, fingerprint, total, sampled: n < total, cached: false, computeMs: Math.round(performance.now() - t0), createdAt: new Date().toISOString(), points };
  onProgress({ phase: 'saving', done: 0, total: null });
  const { cached: _c, ...stored } = result;
  const prefix = `${[c.name, model, req.method].map(cacheNamePart).join('-')}-`;
  writeCache(file, prefix, { version: CACHE_VERSION, sampleSize: n, ...stored });
  return result;
}
