/**
 * ExactIndex: brute-force top-k over L2-normalised vectors held in one contiguous
 * SharedArrayBuffer (cosine = dot product).
 *
 * - precision 'float32' (default): every vector is scored in float32 by the kernel (AVX2 addon,
 *   scalar addon, or JS), the best k + 8 are rescored in float64 and the best k returned. Exact.
 * - precision 'int8': a per-vector int8 copy (scale = max|x|/127 per vector; see quantizeI8) is
 *   scanned for the best k x R candidates (R = `rerank`, default 4), which are rescored exactly
 *   from the float32 vectors. A quarter of the memory traffic; recall@10 >= 0.99 vs float32 (tests).
 *
 * Why a per-vector scale rather than one global scale: normalised embeddings spread their energy
 * unevenly (max|x| of a 384-d unit vector ranges roughly 0.1-0.5 across a corpus), so a global
 * scale fixed by the largest component anywhere would leave most vectors using a fraction of the
 * 255 levels. A per-vector scale costs 4 bytes per vector (1% at 384 dims) and one multiply per
 * scored vector, and matches the store's `embeddings.scale` column (value = byte x scale).
 *
 * Scans are split into chunks shared between the calling thread and `threads - 1` worker threads
 * (ScanPool: SharedArrayBuffer + Atomics, synchronous for the caller). Scores returned are float64
 * dot products of the stored float32 vectors (the same whichever kernel ran); ties are broken by
 * insertion order. Close the index to stop its workers (they are unref'd and also stopped when
 * the index is garbage collected).
 */
import os from 'node:os';
import { TandemError } from '../common/errors.js';
import { TopK } from './js-kernel.js';
import { selectKernel, type KernelName, type ScanKernel } from './kernel.js';
import { ScanPool, sharedFloat32, sharedInt8, type ScanResult } from './scan-pool.js';
import { KIND_F32, KIND_I8 } from './scan-protocol.js';

export interface SearchHit {
  id: number;
  score: number;
}

export interface SearchOptions {
  /** Keep only ids for which this returns true (evaluated once per vector per search). */
  filter?: (id: number) => boolean;
  /** Keep only these ids: a Set, or a byte mask indexed by id (nonzero = allowed; ids past its end are excluded). */
  allowed?: Set<number> | Uint8Array;
  /** 'float32' (exact, default) or 'int8' (int8 scan of k x rerank candidates, rescored in float32). */
  precision?: 'float32' | 'int8';
  /** int8 only: candidates per result to rescore (R). Default 4. */
  rerank?: number;
}

export interface ExactIndexOptions {
  /** Scanning threads including the caller's; default min(available cores, 8); TANDEM_SEARCH_THREADS overrides. */
  threads?: number;
  /** Kernel; default 'auto' (native AVX2 > native scalar > JS). */
  kernel?: KernelName | 'auto';
  /** Build the int8 copy now rather than on the first int8 search. */
  int8?: boolean;
}

/** Queries per kernel call in searchMany (bounded by output slots too). */
const MAX_BATCH = 64;
/** Rows scanned directly (exact, no kernel) when a filter leaves at most this many. */
const SMALL_SUBSET = 2048;
/** Below this many vectors one thread scans everything (waking workers costs more than it saves). */
const MIN_ROWS_FOR_WORKERS = 16384;
/** Extra float32 candidates rescored in float64, so kernels' rounding never changes the top k. */
const F32_MARGIN = 8;
/** Output slots per job (4 bytes + 4 bytes each) before a batch is split. */
const MAX_SLOTS = 4 << 20;

const registry = new FinalizationRegistry<ScanPool>((pool) => pool.close());

function invalid(message: string): TandemError {
  return new TandemError('INVALID_ARGUMENT', message);
}

function defaultThreads(): number {
  const env = Number(process.env.TANDEM_SEARCH_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

/** float64 dot of a query (at qo) and stored row; the plain sequential order (tests mirror it). */
function dot64(q: Float32Array, qo: number, db: Float32Array, row: number, dims: number): number {
  const o = row * dims;
  let s = 0;
  for (let i = 0; i < dims; i++) s += q[qo + i]! * db[o + i]!;
  return s;
}

/**
 * A zeroed Float32Array of count x dims in shared memory. Fill it (e.g. straight from the store's
 * BLOBs) and hand it to ExactIndex.fromFloat32 / AnnIndex.build: both then use it in place instead
 * of copying (at 1M x 384 the copy costs ~1.5 GB and several seconds of page faults).
 */
export function allocateSharedVectors(count: number, dims: number): Float32Array {
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(dims) || dims <= 0) throw invalid(`bad shape ${count} x ${dims}`);
  return sharedFloat32(count * dims).subarray(0, count * dims);
}

export class ExactIndex {
  readonly dims: number;
  readonly size: number;
  readonly kernel: KernelName;
  private readonly ids: Int32Array;
  private readonly vectors: Float32Array;
  private readonly scan: ScanKernel;
  private readonly pool: ScanPool;
  private readonly qScales = new Float32Array(MAX_BATCH);
  private readonly qI8: Int8Array;
  private mask: Uint8Array | undefined;
  private rowOfId: Map<number, number> | undefined;
  private closed = false;

  private constructor(ids: Int32Array, vectors: Float32Array, dims: number, opts: ExactIndexOptions) {
    this.ids = ids;
    this.vectors = vectors;
    this.dims = dims;
    this.size = ids.length;
    this.scan = selectKernel(opts.kernel ?? 'auto');
    this.kernel = this.scan.name;
    this.qI8 = new Int8Array(MAX_BATCH * dims);
    const threads = this.size >= MIN_ROWS_FOR_WORKERS ? (opts.threads ?? defaultThreads()) : 1;
    this.pool = new ScanPool({ f32: vectors, dims, kernel: this.scan, threads, maxQueries: MAX_BATCH });
    registry.register(this, this.pool, this);
    if (opts.int8) this.ensureInt8();
    this.pool.start();
  }

  /**
   * Build from ids (one per vector) and row-major vectors (ids.length x dims), L2-normalised.
   * The vectors are copied into shared memory unless they already live in a SharedArrayBuffer
   * (then they are used in place and must not change).
   */
  static fromFloat32(ids: Int32Array | readonly number[], vectors: Float32Array, dims: number, opts: ExactIndexOptions = {}): ExactIndex {
    if (!Number.isInteger(dims) || dims <= 0) throw invalid(`dims must be a positive integer, got ${dims}`);
    if (!(vectors instanceof Float32Array)) throw invalid('vectors must be a Float32Array');
    if (vectors.length !== ids.length * dims) {
      throw invalid(`vectors hold ${vectors.length} values, expected ids.length x dims = ${ids.length} x ${dims}`);
    }
    if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) throw invalid('threads must be a positive integer');
    let idArr: Int32Array;
    if (ids instanceof Int32Array) idArr = ids.slice();
    else {
      idArr = new Int32Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const v = ids[i]!;
        if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw invalid(`ids[${i}] = ${v} is not a 32-bit integer`);
        idArr[i] = v;
      }
    }
    let vec = vectors;
    if (!(vectors.buffer instanceof SharedArrayBuffer)) {
      vec = sharedFloat32(vectors.length).subarray(0, vectors.length);
      vec.set(vectors);
    }
    return new ExactIndex(idArr, vec, dims, opts);
  }

  /** Threads scanning right now (workers start in the background after construction). */
  get threads(): number {
    return this.pool.threads;
  }

  /** Kernel, scanning threads, and chunks the caller rescanned because a worker was preempted. */
  stats(): { kernel: KernelName; threads: number; takeovers: number } {
    return { kernel: this.kernel, threads: this.pool.threads, takeovers: this.pool.takeovers };
  }

  /** Resolves when the worker threads are running (searches work before that, on fewer threads). */
  async ready(): Promise<this> {
    await this.pool.ready();
    return this;
  }

  /** Bytes held: float32 vectors, the int8 copy and scales when built, ids, row masks (3 x n). */
  memoryBytes(): number {
    const q = this.pool.i8;
    return this.vectors.byteLength + this.ids.byteLength + 3 * this.size + (q ? q.i8.byteLength + q.scales.byteLength : 0);
  }

  /** Build the int8 copy (idempotent). */
  ensureInt8(): void {
    if (this.pool.i8) return;
    const i8 = sharedInt8(this.size * this.dims);
    const scales = sharedFloat32(this.size);
    this.scan.quantizeI8(this.vectors, this.dims, 0, this.size, i8, scales);
    this.pool.setInt8(i8, scales);
  }

  search(query: Float32Array | readonly number[], k: number, opts: SearchOptions = {}): SearchHit[] {
    const q = query instanceof Float32Array ? query : Float32Array.from(query);
    if (q.length !== this.dims) throw invalid(`query has ${q.length} dims, the index ${this.dims}`);
    return this.searchMany(q, 1, k, opts)[0]!;
  }

  /** Several queries (nq x dims, row-major) in one pass over the vectors per batch of 64. */
  searchMany(queries: Float32Array, nq: number, k: number, opts: SearchOptions = {}): SearchHit[][] {
    if (this.closed) throw new TandemError('INTERNAL', 'the index is closed');
    if (!(queries instanceof Float32Array)) throw invalid('queries must be a Float32Array');
    if (!Number.isInteger(nq) || nq < 0 || queries.length !== nq * this.dims) {
      throw invalid(`queries hold ${queries.length} values, expected nq x dims = ${nq} x ${this.dims}`);
    }
    if (!Number.isInteger(k) || k < 1) throw invalid(`k must be a positive integer, got ${k}`);
    for (let i = 0; i < queries.length; i++) {
      if (!Number.isFinite(queries[i]!)) throw new TandemError('INVALID_INPUT', `query ${Math.floor(i / this.dims)} holds a non-finite value`);
    }
    const precision = opts.precision ?? 'float32';
    if (precision !== 'float32' && precision !== 'int8') throw invalid(`precision must be 'float32' or 'int8', got ${String(precision)}`);
    const rerank = opts.rerank ?? 4;
    if (!Number.isInteger(rerank) || rerank < 1) throw invalid('rerank must be a positive integer');
    if (nq === 0 || this.size === 0) return Array.from({ length: nq }, () => []);

    let masked = false;
    if (opts.filter || opts.allowed) {
      const subset = this.buildMask(opts);
      if (subset !== null) return this.searchSubset(queries, nq, k, subset);
      masked = true;
    }
    const want = Math.min(this.size, precision === 'int8' ? k * rerank : k + F32_MARGIN);
    const slots = Math.min(want, this.pool.chunkRows);
    if (precision === 'int8') this.ensureInt8();
    const batch = Math.max(1, Math.min(MAX_BATCH, Math.floor(Math.max(MAX_SLOTS, this.size) / (slots * this.pool.nChunks))));
    const out: SearchHit[][] = [];
    for (let b = 0; b < nq; b += batch) {
      const bn = Math.min(batch, nq - b);
      const qs = queries.subarray(b * this.dims, (b + bn) * this.dims);
      let q8: Int8Array | undefined;
      if (precision === 'int8') {
        q8 = this.qI8.subarray(0, bn * this.dims);
        this.scan.quantizeI8(qs, this.dims, 0, bn, q8, this.qScales);
      }
      const res = this.pool.run({ kind: q8 ? KIND_I8 : KIND_F32, nq: bn, k: slots, queries: q8 ?? qs, mask: masked ? this.mask! : null });
      for (let i = 0; i < bn; i++) out.push(this.collect(res, qs, i, slots, want, k));
    }
    return out;
  }

  /** Merge query i's per-chunk candidates, rescore the best `want` in float64, return the best k. */
  private collect(res: ScanResult, qs: Float32Array, i: number, slots: number, want: number, k: number): SearchHit[] {
    const heap = new TopK(want);
    for (let c = 0; c < this.pool.nChunks; c++) {
      const rows = res.rows(c);
      const scores = res.scores(c);
      const off = i * slots;
      for (let j = 0; j < slots; j++) {
        const r = rows[off + j]!;
        if (r < 0) break;
        const s = scores[off + j]!;
        if (!heap.accepts(s, r)) break; // chunk lists are sorted best first
        heap.push(s, r);
      }
    }
    const cand: Array<{ row: number; score: number }> = [];
    for (let j = 0; j < heap.size; j++) {
      const row = heap.r[j]!;
      cand.push({ row, score: dot64(qs, i * this.dims, this.vectors, row, this.dims) });
    }
    return this.best(cand, k);
  }

  private best(cand: Array<{ row: number; score: number }>, k: number): SearchHit[] {
    cand.sort((a, b) => b.score - a.score || a.row - b.row);
    const n = Math.min(k, cand.length);
    const hits: SearchHit[] = new Array(n);
    for (let j = 0; j < n; j++) hits[j] = { id: this.ids[cand[j]!.row]!, score: cand[j]!.score };
    return hits;
  }

  /**
   * Fill the pool's row mask from the filter. Returns the allowed rows when there are few enough to
   * score directly, else null (the mask is then used by the scan).
   */
  private buildMask(opts: SearchOptions): Int32Array | null {
    this.mask ??= new Uint8Array(this.size);
    const mask = this.mask;
    const ids = this.ids;
    const n = this.size;
    const { allowed, filter } = opts;
    if (allowed instanceof Set && filter === undefined && allowed.size <= n / 16) {
      // few ids: look their rows up instead of testing every row
      this.rowOfId ??= new Map(Array.from(ids, (id, row) => [id, row] as const).reverse());
      const rows: number[] = [];
      for (const id of allowed) {
        const r = this.rowOfId.get(id);
        if (r !== undefined) rows.push(r);
      }
      if (rows.length <= SMALL_SUBSET) return Int32Array.from(rows).sort();
      // duplicate ids are rare; the mask pass below handles them like everything else
    }
    // one tight loop per filter shape (this runs over every vector on every filtered search)
    if (allowed instanceof Set) for (let r = 0; r < n; r++) mask[r] = allowed.has(ids[r]!) ? 1 : 0;
    else if (allowed instanceof Uint8Array) {
      const len = allowed.length;
      for (let r = 0; r < n; r++) {
        const id = ids[r]!;
        mask[r] = id >= 0 && id < len && allowed[id] !== 0 ? 1 : 0;
      }
    } else mask.fill(1);
    if (filter !== undefined) for (let r = 0; r < n; r++) if (mask[r] === 1 && filter(ids[r]!) !== true) mask[r] = 0;
    let count = 0;
    for (let r = 0; r < n; r++) count += mask[r]!;
    if (count > SMALL_SUBSET) return null;
    const rows = new Int32Array(count);
    for (let r = 0, j = 0; r < n; r++) if (mask[r] !== 0) rows[j++] = r;
    return rows;
  }

  /** Exact float64 scores over a small set of allowed rows. */
  private searchSubset(queries: Float32Array, nq: number, k: number, rows: Int32Array): SearchHit[][] {
    const out: SearchHit[][] = [];
    for (let i = 0; i < nq; i++) {
      const cand: Array<{ row: number; score: number }> = [];
      for (const row of rows) cand.push({ row, score: dot64(queries, i * this.dims, this.vectors, row, this.dims) });
      out.push(this.best(cand, k));
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    registry.unregister(this);
    this.pool.close();
  }
}
