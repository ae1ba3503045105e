/**
 * AnnIndex: approximate top-k through HNSW (hnswlib-node, inner-product space: score = dot =
 * 1 - hnswlib distance) over L2-normalised vectors.
 *
 * Build: the vectors are split into `threads` shards (one per core, for n >= 50k) built in
 * parallel in worker threads; each shard is written to a file (hnswlib graphs cannot be handed
 * between threads) and loaded here. A search queries every shard and merges. On 2 cores this
 * halves the build time; searching two half-size graphs costs well under 1 ms more.
 *
 * Files (save/load): `path` is a small JSON header { format, version, dims, count, modelId,
 * fingerprint, params, shards: [{ file, count, bytes, sha1 }] }; each shard sits beside it as
 * `<path>.shard-<i>.hnsw`. Shards are written first and the header renamed into place last, so a
 * crash leaves the old header (whose sizes then no longer match: detected as stale). `load`
 * returns { stale: reason } instead of an index when the header is missing, damaged or does not
 * match what the caller expects (dims, count, model id, fingerprint) or a shard does not match
 * its recorded size: the caller rebuilds.
 *
 * Labels are the caller's ids: non-negative 32-bit integers, unique.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import hnswlib, { type HierarchicalNSW } from 'hnswlib-node';
import { TandemError } from '../common/errors.js';
import type { AnnShardJob, AnnWorkerApi } from './ann-worker.js';
import { createClient } from '../common/rpc.js';
import { workerPort } from '../node/worker-client.js';
import { sha1File } from './file-hash.js';
import { spawnWorker } from '../node/spawn-worker.js';
import type { SearchHit } from './vector-index.js';

export interface AnnParams {
  /** Graph degree (hnswlib M). */
  m: number;
  efConstruction: number;
  /** Candidate list size at query time (raised to k when smaller). */
  efSearch: number;
}

/**
 * Chosen from bench/search-bench.ts on clustered 384-d data, 2 shards (2 cores): M 16 and
 * efConstruction 100 reach recall@10 0.99 at 200k and 0.97 at 1M with efSearch 96; efSearch 128
 * leaves margin at 1M for < 1 ms p50. efConstruction 64 builds ~30% faster but needs efSearch ~200
 * at 1M for the same recall.
 */
export const DEFAULT_ANN_PARAMS: AnnParams = { m: 16, efConstruction: 100, efSearch: 128 };

/**
 * Exact search below this many vectors, ANN above. Measured on 2 cores (bench/search-bench.ts,
 * 1M x 384): the exact scan takes ~10 ms (int8 + rescore) or ~41 ms (float32) per query and needs
 * no build; HNSW answers in ~0.8 ms at recall@10 0.975 but costs 4-10 minutes of build on 2 cores
 * and +1.7 GB of memory (and disk). Below 1M the exact scan is fast enough to keep its perfect
 * recall and zero build time; the scan grows linearly, so above it HNSW pays off.
 */
export const ANN_THRESHOLD = 1_000_000;
/** A filter keeping less than this fraction of vectors is searched exactly (HNSW would wander). */
export const ANN_MIN_FILTER_FRACTION = 0.1;

/** Exact below ANN_THRESHOLD vectors or when a filter keeps under 10% of them; ANN otherwise. */
export function shouldUseAnn(count: number, opts: { allowedCount?: number; threshold?: number } = {}): boolean {
  if (count < (opts.threshold ?? ANN_THRESHOLD)) return false;
  if (opts.allowedCount !== undefined && opts.allowedCount < count * ANN_MIN_FILTER_FRACTION) return false;
  return true;
}

export interface AnnHeader {
  format: 'tandem-hnsw';
  version: 1;
  space: 'ip';
  dims: number;
  count: number;
  modelId: string;
  fingerprint: string;
  params: AnnParams;
  shards: Array<{ file: string; count: number; bytes: number; sha1: string }>;
  createdAt: string;
}

export interface AnnBuildOptions extends Partial<AnnParams> {
  /** Model id + variant the vectors came from; stored in the header, checked by load. */
  modelId: string;
  /** Default vectorFingerprint(ids, vectors, dims); pass your own (e.g. from the store) to skip hashing. */
  fingerprint?: string;
  /** Build threads = shards (n >= 50k); default min(available cores, 8). */
  threads?: number;
  seed?: number;
  /** Called about every 250 ms with vectors inserted so far. */
  onProgress?: (done: number, total: number) => void;
  /** Save here as part of the build (saves writing the graph twice). */
  path?: string;
}

export interface AnnSearchOptions {
  filter?: (id: number) => boolean;
  allowed?: Set<number> | Uint8Array;
  efSearch?: number;
}

const MIN_ROWS_PER_SHARD = 50_000;

function invalid(message: string): TandemError {
  return new TandemError('INVALID_ARGUMENT', message);
}

/**
 * A cheap identity for a set of vectors: SHA-1 over every id and the first 16 values of every
 * vector (~70 MB at 1M x 384, tens of ms); a changed id set or re-embedded vectors change it.
 */
export function vectorFingerprint(ids: Int32Array | readonly number[], vectors: Float32Array, dims: number): string {
  const h = crypto.createHash('sha1');
  const idArr = ids instanceof Int32Array ? ids : Int32Array.from(ids);
  h.update(new Uint8Array(idArr.buffer, idArr.byteOffset, idArr.byteLength));
  const take = Math.min(16, dims);
  const rowsPerBlock = 4096;
  const block = new Float32Array(rowsPerBlock * take);
  for (let r0 = 0; r0 < idArr.length; r0 += rowsPerBlock) {
    const r1 = Math.min(idArr.length, r0 + rowsPerBlock);
    for (let r = r0; r < r1; r++) block.set(vectors.subarray(r * dims, r * dims + take), (r - r0) * take);
    h.update(new Uint8Array(block.buffer, 0, (r1 - r0) * take * 4));
  }
  return `sha1:${h.digest('hex')}:${idArr.length}x${dims}`;
}

function shardFile(base: string, i: number): string {
  return `${base}.shard-${i}.hnsw`;
}

function fsync(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function buildShardInWorker(job: AnnShardJob): Promise<string> {
  return new Promise((resolve, reject) => {
    const w = spawnWorker('ann-worker', import.meta.url);
    const client = createClient<AnnWorkerApi>(workerPort(w));
    let settled = false;
    // the vectors and the progress counter are SharedArrayBuffer views: shared, not copied
    client.call('build', job).then(
      (r) => {
        settled = true;
        void w.terminate();
        resolve(r.sha1);
      },
      (e: unknown) => {
        settled = true;
        void w.terminate();
        reject(e);
      },
    );
    w.on('error', (e) => {
      if (!settled) reject(new TandemError('INTERNAL', `HNSW build worker failed: ${e.message}`, { cause: e }));
      settled = true;
    });
    w.on('exit', (code) => {
      if (!settled) reject(new TandemError('INTERNAL', `HNSW build worker exited with code ${code}`));
      settled = true;
    });
  });
}

function toShared<T extends Int32Array | Float32Array>(a: T, Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Ctor(new SharedArrayBuffer(Math.max(1, a.length) * Ctor.BYTES_PER_ELEMENT)).subarray(0, a.length) as T;
  s.set(a);
  return s;
}

export class AnnIndex {
  readonly header: AnnHeader;
  private readonly shards: HierarchicalNSW[];
  private ef = -1;

  private constructor(header: AnnHeader, shards: HierarchicalNSW[]) {
    this.header = header;
    this.shards = shards;
  }

  get dims(): number {
    return this.header.dims;
  }
  get size(): number {
    return this.header.count;
  }

  /** Build from the same typed arrays as ExactIndex (ids unique, >= 0). */
  static async build(ids: Int32Array | readonly number[], vectors: Float32Array, dims: number, opts: AnnBuildOptions): Promise<AnnIndex> {
    if (!Number.isInteger(dims) || dims <= 0) throw invalid(`dims must be a positive integer, got ${dims}`);
    if (vectors.length !== ids.length * dims) throw invalid(`vectors hold ${vectors.length} values, expected ${ids.length} x ${dims}`);
    if (typeof opts.modelId !== 'string' || opts.modelId === '') throw invalid('modelId is required');
    const params: AnnParams = {
      m: opts.m ?? DEFAULT_ANN_PARAMS.m,
      efConstruction: opts.efConstruction ?? DEFAULT_ANN_PARAMS.efConstruction,
      efSearch: opts.efSearch ?? DEFAULT_ANN_PARAMS.efSearch,
    };
    for (const [k, v] of Object.entries(params)) if (!Number.isInteger(v) || v < 2) throw invalid(`${k} must be an integer >= 2`);
    const idArr = toShared(ids instanceof Int32Array ? ids : Int32Array.from(ids), Int32Array);
    for (let i = 0; i < idArr.length; i++) if (idArr[i]! < 0) throw invalid(`ids[${i}] = ${idArr[i]} is negative (HNSW labels are unsigned)`);
    const n = idArr.length;
    const threads = opts.threads ?? Math.max(1, Math.min(os.availableParallelism(), 8));
    const nShards = Math.max(1, Math.min(threads, Math.floor(n / MIN_ROWS_PER_SHARD)));
    const fingerprint = opts.fingerprint ?? vectorFingerprint(idArr, vectors, dims);
    const vec = toShared(vectors, Float32Array);

    const tmpDir = opts.path === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-hnsw-')) : undefined;
    const base = opts.path ?? path.join(tmpDir!, 'index');
    if (opts.path !== undefined) fs.mkdirSync(path.dirname(opts.path), { recursive: true });
    const progress = new Int32Array(new SharedArrayBuffer(4 * nShards));
    const per = Math.ceil(n / nShards);
    const jobs: AnnShardJob[] = [];
    for (let i = 0; i < nShards; i++) {
      const start = i * per;
      jobs.push({
        ids: idArr,
        vectors: vec,
        dims,
        start,
        end: Math.min(n, start + per),
        m: params.m,
        efConstruction: params.efConstruction,
        seed: (opts.seed ?? 100) + i,
        file: `${shardFile(base, i)}.tmp`,
        progress,
        slot: i,
      });
    }
    const timer = opts.onProgress
      ? setInterval(() => opts.onProgress!(progress.reduce((a, b) => a + b, 0), n), 250)
      : undefined;
    try {
      const hashes = await Promise.all(jobs.map((j) => buildShardInWorker(j)));
      opts.onProgress?.(n, n);
      const shards: AnnHeader['shards'] = [];
      for (let i = 0; i < nShards; i++) {
        const file = shardFile(base, i);
        fs.renameSync(jobs[i]!.file, file);
        shards.push({ file: path.basename(file), count: jobs[i]!.end - jobs[i]!.start, bytes: fs.statSync(file).size, sha1: hashes[i]! });
      }
      const header: AnnHeader = {
        format: 'tandem-hnsw',
        version: 1,
        space: 'ip',
        dims,
        count: n,
        modelId: opts.modelId,
        fingerprint,
        params,
        shards,
        createdAt: new Date().toISOString(),
      };
      if (opts.path !== undefined) AnnIndex.writeHeader(opts.path, header, true);
      const loaded = shards.map((s) => AnnIndex.readShard(path.join(path.dirname(base), s.file), dims));
      return new AnnIndex(header, loaded);
    } finally {
      if (timer) clearInterval(timer);
      if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
      else for (const j of jobs) fs.rmSync(j.file, { force: true });
    }
  }

  private static readShard(file: string, dims: number): HierarchicalNSW {
    const h = new hnswlib.HierarchicalNSW('ip', dims);
    h.readIndexSync(file);
    return h;
  }

  private static writeHeader(file: string, header: AnnHeader, sync: boolean): void {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(header, null, 2)}\n`);
    if (sync) {
      for (const s of header.shards) fsync(path.join(path.dirname(file), s.file));
      fsync(tmp);
    }
    fs.renameSync(tmp, file);
    // shards of an older, bigger save
    for (let i = header.shards.length; fs.existsSync(shardFile(file, i)); i++) fs.rmSync(shardFile(file, i), { force: true });
  }

  /** Write the header at `file` and the shards beside it (atomic per file, header last). */
  save(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const shards: AnnHeader['shards'] = [];
    this.shards.forEach((h, i) => {
      const target = shardFile(file, i);
      h.writeIndexSync(`${target}.tmp`);
      fs.renameSync(`${target}.tmp`, target);
      shards.push({ file: path.basename(target), count: h.getCurrentCount(), bytes: fs.statSync(target).size, sha1: sha1File(target) });
    });
    AnnIndex.writeHeader(file, { ...this.header, shards }, true);
  }

  /** Read the header at `file` without loading the graphs; null when absent or unreadable. */
  static readHeader(file: string): AnnHeader | null {
    try {
      const h = JSON.parse(fs.readFileSync(file, 'utf8')) as AnnHeader;
      if (h.format !== 'tandem-hnsw' || h.version !== 1 || !Array.isArray(h.shards)) return null;
      return h;
    } catch {
      return null;
    }
  }

  /**
   * Load a saved index if it matches `expect`; otherwise { stale: why } (absent, damaged, other
   * model/dims/count/fingerprint, shard missing or of the wrong size, or with `verify` a shard
   * whose SHA-1 differs: ~0.7 s per GB): rebuild it then.
   */
  static load(
    file: string,
    expect: { dims: number; count: number; modelId: string; fingerprint?: string },
    opts: { verify?: boolean } = {},
  ): { index: AnnIndex } | { stale: string } {
    if (!fs.existsSync(file)) return { stale: 'no saved index' };
    const h = AnnIndex.readHeader(file);
    if (!h) return { stale: 'the header is damaged or of another format' };
    if (h.dims !== expect.dims) return { stale: `dims ${h.dims} != ${expect.dims}` };
    if (h.modelId !== expect.modelId) return { stale: `built for model ${h.modelId}, not ${expect.modelId}` };
    if (h.count !== expect.count) return { stale: `holds ${h.count} vectors, the collection ${expect.count}` };
    if (expect.fingerprint !== undefined && h.fingerprint !== expect.fingerprint) return { stale: 'the vectors changed (fingerprint differs)' };
    let total = 0;
    for (const s of h.shards) {
      const f = path.join(path.dirname(file), s.file);
      if (!fs.existsSync(f)) return { stale: `shard ${s.file} is missing` };
      if (fs.statSync(f).size !== s.bytes) return { stale: `shard ${s.file} has the wrong size` };
      if (opts.verify && sha1File(f) !== s.sha1) return { stale: `shard ${s.file} is damaged (checksum differs)` };
      total += s.count;
    }
    if (total !== h.count) return { stale: 'shard counts do not add up' };
    try {
      const shards = h.shards.map((s) => AnnIndex.readShard(path.join(path.dirname(file), s.file), h.dims));
      if (shards.reduce((a, s) => a + s.getCurrentCount(), 0) !== h.count) return { stale: 'shards hold a different number of vectors' };
      return { index: new AnnIndex(h, shards) };
    } catch (e) {
      return { stale: `a shard cannot be read: ${(e as Error).message}` };
    }
  }

  /** Best k by dot product (approximate). Filtered searches pass hnswlib a label filter. */
  search(query: Float32Array | readonly number[], k: number, opts: AnnSearchOptions = {}): SearchHit[] {
    if (query.length !== this.dims) throw invalid(`query has ${query.length} dims, the index ${this.dims}`);
    if (!Number.isInteger(k) || k < 1) throw invalid(`k must be a positive integer, got ${k}`);
    const ef = Math.max(k, opts.efSearch ?? this.header.params.efSearch);
    if (ef !== this.ef) {
      for (const s of this.shards) s.setEf(ef);
      this.ef = ef;
    }
    let filter: ((id: number) => boolean) | undefined;
    const { allowed, filter: f } = opts;
    if (allowed instanceof Set) filter = f ? (id) => allowed.has(id) && f(id) === true : (id) => allowed.has(id);
    else if (allowed instanceof Uint8Array) filter = f ? (id) => allowed[id] !== undefined && allowed[id] !== 0 && f(id) === true : (id) => allowed[id] !== undefined && allowed[id] !== 0;
    else if (f) filter = (id) => f(id) === true;
    const q = Array.from(query);
    const hits: SearchHit[] = [];
    for (const s of this.shards) {
      const count = s.getCurrentCount();
      if (count === 0) continue;
      const r = filter ? s.searchKnn(q, Math.min(k, count), filter) : s.searchKnn(q, Math.min(k, count));
      for (let i = 0; i < r.neighbors.length; i++) hits.push({ id: r.neighbors[i]!, score: 1 - r.distances[i]! });
    }
    hits.sort((a, b) => b.score - a.score || a.id - b.id);
    return hits.slice(0, k);
  }

  /** Several queries (nq x dims row-major), one after another. */
  searchMany(queries: Float32Array, nq: number, k: number, opts: AnnSearchOptions = {}): SearchHit[][] {
    if (queries.length !== nq * this.dims) throw invalid(`queries hold ${queries.length} values, expected ${nq} x ${this.dims}`);
    const out: SearchHit[][] = [];
    for (let i = 0; i < nq; i++) out.push(this.search(queries.subarray(i * this.dims, (i + 1) * this.dims), k, opts));
    return out;
  }
}
