/**
 * Parallel scans over shared memory, synchronous for the caller: the calling thread writes a job
 * into a SharedArrayBuffer slot, wakes the workers (Atomics.notify), scans chunks itself alongside
 * them and collects the results. No postMessage per query and no event-loop turn: a search is a
 * plain function call.
 *
 * The caller never depends on a worker: workers still starting take no tickets, a worker that
 * cannot start leaves the caller scanning alone, and a chunk whose worker is preempted (a busy
 * machine) is rescanned by the caller after a short wait (see scan-protocol.ts).
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { ScanKernel } from './kernel.js';
import {
  CHUNK_BACKUP,
  CHUNK_CLAIMED,
  CHUNK_DONE,
  CHUNK_FREE,
  CTRL,
  KIND_F32,
  SLOT,
  chunkRange,
  slotWord,
  type ScanBuffers,
  type ScanWorkerData,
  type SlotBuffers,
} from './scan-protocol.js';
import { spawnWorker } from '../node/spawn-worker.js';

export interface ScanJob {
  kind: 0 | 1; // KIND_F32 | KIND_I8
  nq: number;
  /** Slots per query per chunk (at most chunkRows). */
  k: number;
  /** nq x dims queries, float32 (KIND_F32) or int8 (KIND_I8). */
  queries: Float32Array | Int8Array;
  /** Row mask (1 = scan), or null for all rows. */
  mask: Uint8Array | null;
}

/** Per-chunk results of a job: chunk c's best k rows per query at [q * k ...], best first. */
export interface ScanResult {
  rows(c: number): Int32Array;
  scores(c: number): Float32Array;
}

function shared<T extends Float32Array | Int8Array | Int32Array | Uint8Array>(
  Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Ctor(new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT));
}

export function sharedFloat32(length: number): Float32Array {
  return shared(Float32Array, length);
}
export function sharedInt8(length: number): Int8Array {
  return shared(Int8Array, length);
}

/** How long the caller waits for a worker's chunk before scanning it itself: 1.5 chunk-times. */
const STRAGGLER_FACTOR = 1.5;

export class ScanPool {
  readonly rows: number;
  readonly dims: number;
  readonly kernel: ScanKernel;
  readonly chunkRows: number;
  readonly nChunks: number;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL.LENGTH * 4));
  private readonly states: Int32Array;
  private buf: ScanBuffers;
  private backupRows = new Int32Array(0);
  private backupScores = new Float32Array(0);
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly wanted: number;
  private gen = 0;
  private broken = false;
  private closed = false;
  /** Chunks taken over from preempted workers (for benchmarks / diagnostics). */
  takeovers = 0;

  constructor(opts: { f32: Float32Array; dims: number; kernel: ScanKernel; threads: number; maxQueries: number }) {
    this.dims = opts.dims;
    this.rows = opts.f32.length / opts.dims;
    this.kernel = opts.kernel;
    this.wanted = Math.max(0, opts.threads - 1);
    // Enough chunks for balancing and cheap take-overs, few enough that merging stays cheap.
    const parts = this.wanted + 1;
    const target = Math.max(parts * 8, Math.ceil(this.rows / 65536));
    const nChunks = Math.max(1, Math.min(target, Math.ceil(this.rows / 1024)));
    this.chunkRows = Math.max(1, Math.ceil(this.rows / nChunks));
    this.nChunks = Math.max(1, Math.ceil(this.rows / this.chunkRows));
    this.states = shared(Int32Array, 2 * this.nChunks);
    const slot = (): SlotBuffers => ({
      qF32: sharedFloat32(opts.maxQueries * opts.dims),
      qI8: sharedInt8(opts.maxQueries * opts.dims),
      mask: shared(Uint8Array, this.rows),
      outRows: shared(Int32Array, 0),
      outScores: sharedFloat32(0),
    });
    this.buf = { ver: 0, f32: opts.f32, i8: null, scales: null, slots: [slot(), slot()] };
  }

  get i8(): { i8: Int8Array; scales: Float32Array } | null {
    return this.buf.i8 && this.buf.scales ? { i8: this.buf.i8, scales: this.buf.scales } : null;
  }

  /** Threads that scan: the caller plus the workers running now. */
  get threads(): number {
    return 1 + (this.broken ? 0 : Math.min(this.workers.length, Atomics.load(this.ctrl, CTRL.ONLINE)));
  }

  /** Start the workers (idempotent). They come online in the background. */
  start(): void {
    if (this.closed || this.broken || this.workers.length > 0 || this.wanted === 0) return;
    for (let w = 0; w < this.wanted; w++) {
      const { port1, port2 } = new MessageChannel();
      const data: ScanWorkerData = {
        ctrl: this.ctrl,
        states: this.states,
        dims: this.dims,
        rows: this.rows,
        nChunks: this.nChunks,
        chunkRows: this.chunkRows,
        kernel: this.kernel.name,
        buffers: this.buf,
        port: port2,
      };
      let worker: Worker;
      try {
        worker = spawnWorker('scan-worker', import.meta.url, { workerData: data, transferList: [port2] });
      } catch {
        this.broken = true;
        return;
      }
      worker.on('error', () => {
        this.broken = true;
      });
      worker.unref();
      this.workers.push(worker);
      this.ports.push(port1);
    }
  }

  /** Resolves when every worker runs (or after `ms`); for benchmarks and tests. Returns threads. */
  async ready(ms = 10_000): Promise<number> {
    this.start();
    const t0 = Date.now();
    while (!this.broken && Atomics.load(this.ctrl, CTRL.ONLINE) < this.workers.length && Date.now() - t0 < ms) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.threads;
  }

  private publish(next: Partial<ScanBuffers>): void {
    this.buf = { ...this.buf, ...next, ver: this.buf.ver + 1 };
    for (const p of this.ports) p.postMessage(this.buf);
    Atomics.store(this.ctrl, CTRL.BUFVER, this.buf.ver);
  }

  setInt8(i8: Int8Array, scales: Float32Array): void {
    this.publish({ i8, scales });
  }

  private scanChunk(c: number, job: ScanJob, sb: SlotBuffers | null, outRows: Int32Array, outScores: Float32Array): void {
    const [start, end] = chunkRange(c, this.chunkRows, this.rows);
    const n = job.nq * job.k;
    const off = c * n;
    const r = outRows.subarray(off, off + n);
    const s = outScores.subarray(off, off + n);
    const mask = job.mask === null ? null : (sb?.mask ?? job.mask);
    if (job.kind === KIND_F32) this.kernel.scanF32(this.buf.f32, this.dims, (sb?.qF32 ?? job.queries) as Float32Array, job.nq, start, end, job.k, r, s, mask);
    else this.kernel.scanI8(this.buf.i8!, this.buf.scales!, this.dims, (sb?.qI8 ?? job.queries) as Int8Array, job.nq, start, end, job.k, r, s, mask);
  }

  /** Run one job over all rows. The returned views are valid until the next run. */
  run(job: ScanJob): ScanResult {
    if (this.closed) throw new Error('scan pool is closed');
    const need = this.nChunks * job.nq * job.k;
    if (this.broken || Atomics.load(this.ctrl, CTRL.ONLINE) === 0) {
      // alone: scan straight into the caller's own buffers
      if (this.backupRows.length < need) {
        this.backupRows = new Int32Array(need);
        this.backupScores = new Float32Array(need);
      }
      for (let c = 0; c < this.nChunks; c++) this.scanChunk(c, job, null, this.backupRows, this.backupScores);
      return this.view(job, () => true);
    }

    const ctrl = this.ctrl;
    const g = ++this.gen;
    const s = g & 1;
    // 1. wait until no worker is left inside job g - 2 (same slot)
    const busy = slotWord(s, SLOT.BUSY);
    for (let b = Atomics.load(ctrl, busy); b > 0; b = Atomics.load(ctrl, busy)) Atomics.wait(ctrl, busy, b, 5);
    // 2. write the slot
    let sb = this.buf.slots[s as 0 | 1];
    if (sb.outRows.length < need) {
      const cap = Math.max(need, sb.outRows.length * 2);
      const slots = [...this.buf.slots] as [SlotBuffers, SlotBuffers];
      slots[s] = { ...sb, outRows: shared(Int32Array, cap), outScores: sharedFloat32(cap) };
      this.publish({ slots });
      sb = slots[s]!;
    }
    if (job.kind === KIND_F32) sb.qF32.set(job.queries as Float32Array);
    else sb.qI8.set(job.queries as Int8Array);
    if (job.mask) sb.mask.set(job.mask);
    Atomics.store(ctrl, slotWord(s, SLOT.KIND), job.kind);
    Atomics.store(ctrl, slotWord(s, SLOT.NQ), job.nq);
    Atomics.store(ctrl, slotWord(s, SLOT.K), job.k);
    Atomics.store(ctrl, slotWord(s, SLOT.MASK), job.mask ? 1 : 0);
    const base = s * this.nChunks;
    for (let c = 0; c < this.nChunks; c++) Atomics.store(this.states, base + c, CHUNK_FREE);
    const done = slotWord(s, SLOT.DONE);
    Atomics.store(ctrl, done, 0);
    Atomics.store(ctrl, slotWord(s, SLOT.NEXT), 0);
    Atomics.store(ctrl, CTRL.JOB, g);
    Atomics.notify(ctrl, CTRL.JOB);

    // 3. scan alongside the workers
    let mine = 0;
    const t0 = performance.now();
    for (;;) {
      const c = Atomics.add(ctrl, slotWord(s, SLOT.NEXT), 1);
      if (c >= this.nChunks) break;
      if (Atomics.compareExchange(this.states, base + c, CHUNK_FREE, CHUNK_CLAIMED) !== CHUNK_FREE) continue;
      this.scanChunk(c, job, sb, sb.outRows, sb.outScores);
      Atomics.store(this.states, base + c, CHUNK_DONE);
      mine++;
    }
    // 4. wait a little for the workers' last chunks, then take over what is still out
    const perChunk = mine > 0 ? (performance.now() - t0) / mine : 1;
    const deadline = performance.now() + Math.max(0.05, STRAGGLER_FACTOR * perChunk);
    const pending = (): boolean => {
      for (let c = 0; c < this.nChunks; c++) if (Atomics.load(this.states, base + c) !== CHUNK_DONE) return true;
      return false;
    };
    for (;;) {
      if (!pending()) break;
      const left = deadline - performance.now();
      if (left <= 0) break;
      const d = Atomics.load(ctrl, done);
      if (pending()) Atomics.wait(ctrl, done, d, left);
    }
    let backedUp: Uint8Array | null = null;
    for (let c = 0; c < this.nChunks; c++) {
      let st = Atomics.load(this.states, base + c);
      while (st === CHUNK_FREE || st === CHUNK_CLAIMED) {
        const was = Atomics.compareExchange(this.states, base + c, st, CHUNK_BACKUP);
        if (was === st) break;
        st = was;
      }
      if (st === CHUNK_DONE) continue;
      // ours now (BACKUP): scan into the private backup buffer, same layout
      if (this.backupRows.length < need) {
        this.backupRows = new Int32Array(need);
        this.backupScores = new Float32Array(need);
      }
      this.scanChunk(c, job, sb, this.backupRows, this.backupScores);
      backedUp ??= new Uint8Array(this.nChunks);
      backedUp[c] = 1;
      this.takeovers++;
    }
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0) this.broken = true; // its chunks were taken over above
    const b = backedUp;
    return this.view(job, (c) => b !== null && b[c] === 1, sb);
  }

  private view(job: ScanJob, fromBackup: (c: number) => boolean, sb?: SlotBuffers): ScanResult {
    const n = job.nq * job.k;
    return {
      rows: (c) => (sb === undefined || fromBackup(c) ? this.backupRows : sb.outRows).subarray(c * n, c * n + n),
      scores: (c) => (sb === undefined || fromBackup(c) ? this.backupScores : sb.outScores).subarray(c * n, c * n + n),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.STOP, 1);
    Atomics.add(this.ctrl, CTRL.JOB, 1);
    Atomics.notify(this.ctrl, CTRL.JOB);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
    this.workers.length = 0;
    this.ports.length = 0;
  }
}
