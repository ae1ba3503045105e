/**
 * Parallel scans over shared memory, synchronous for the caller: the calling thread writes a job
 * into a SharedArrayBuffer control block, wakes the workers (Atomics.notify), scans chunks itself
 * alongside them and waits (Atomics.wait) for the stragglers. No postMessage per query, and no
 * event-loop turn: a search is a plain function call. Workers that are not running yet (start-up)
 * simply take no tickets, so the caller never waits on them; a worker that cannot start at all
 * leaves the caller scanning alone. See scan-protocol.ts for the protocol.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { ScanKernel } from './kernel.js';
import { spawnSearchWorker } from './spawn.js';
import { CLOSED, CTRL, KIND_F32, type ScanBuffers, type ScanWorkerData } from './scan-protocol.js';

export interface ScanJob {
  kind: 0 | 1; // KIND_F32 | KIND_I8
  nq: number;
  /** Slots per query per chunk (already capped to the chunk's row count by the caller). */
  k: number;
  mask: boolean;
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

function spawnScanWorker(workerData: ScanWorkerData): Worker {
  return spawnSearchWorker('scan-worker', { workerData, transferList: [workerData.port] });
}

export class ScanPool {
  readonly rows: number;
  readonly dims: number;
  readonly kernel: ScanKernel;
  /** Chunks per job: enough for dynamic balancing, few enough that merging stays cheap. */
  readonly chunkRows: number;
  readonly nChunks: number;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL.LENGTH * 4));
  private buf: ScanBuffers;
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly wanted: number;
  private broken = false;
  private closed = false;

  constructor(opts: { f32: Float32Array; dims: number; kernel: ScanKernel; threads: number; maxQueries: number }) {
    this.dims = opts.dims;
    this.rows = opts.f32.length / opts.dims;
    this.kernel = opts.kernel;
    this.wanted = Math.max(0, opts.threads - 1);
    const parts = this.wanted + 1;
    const target = Math.max(parts * 8, Math.ceil(this.rows / 65536));
    this.nChunks = Math.max(1, Math.min(target, Math.ceil(this.rows / 1024)));
    this.chunkRows = Math.ceil(this.rows / this.nChunks);
    this.nChunks = Math.ceil(this.rows / this.chunkRows) || 1;
    this.buf = {
      ver: 0,
      f32: opts.f32,
      i8: null,
      scales: null,
      mask: shared(Uint8Array, this.rows),
      qF32: sharedFloat32(opts.maxQueries * opts.dims),
      qI8: sharedInt8(opts.maxQueries * opts.dims),
      outRows: shared(Int32Array, 0),
      outScores: sharedFloat32(0),
    };
    Atomics.store(this.ctrl, CTRL.NEXT, CLOSED);
  }

  get mask(): Uint8Array {
    return this.buf.mask;
  }
  get queriesF32(): Float32Array {
    return this.buf.qF32;
  }
  get queriesI8(): Int8Array {
    return this.buf.qI8;
  }
  get outRows(): Int32Array {
    return this.buf.outRows;
  }
  get outScores(): Float32Array {
    return this.buf.outScores;
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
      let worker: Worker;
      try {
        worker = spawnScanWorker({ ctrl: this.ctrl, dims: this.dims, rows: this.rows, kernel: this.kernel.name, buffers: this.buf, port: port2 });
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

  /** Wait (asynchronously) until every worker runs; for benchmarks and tests. Gives up after `ms`. */
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

  /** Output slots for `slots` (= nChunks x nq x k) results; grows (and republishes) when short. */
  ensureOutput(slots: number): void {
    if (this.buf.outRows.length >= slots) return;
    const cap = Math.max(slots, this.buf.outRows.length * 2);
    this.publish({ outRows: shared(Int32Array, cap), outScores: sharedFloat32(cap) });
  }

  private scanChunk(c: number, job: ScanJob): void {
    const start = c * this.chunkRows;
    const end = Math.min(this.rows, start + this.chunkRows);
    const off = c * job.nq * job.k;
    const b = this.buf;
    const outRows = b.outRows.subarray(off, off + job.nq * job.k);
    const outScores = b.outScores.subarray(off, off + job.nq * job.k);
    const mask = job.mask ? b.mask : null;
    if (job.kind === KIND_F32) this.kernel.scanF32(b.f32, this.dims, b.qF32, job.nq, start, end, job.k, outRows, outScores, mask);
    else this.kernel.scanI8(b.i8!, b.scales!, this.dims, b.qI8, job.nq, start, end, job.k, outRows, outScores, mask);
  }

  /**
   * Run one job over all rows; results land in outRows/outScores at [chunk][query][slot]. The
   * queries must already be in queriesF32 / queriesI8, the mask in `mask`.
   */
  run(job: ScanJob): void {
    if (this.closed) throw new Error('scan pool is closed');
    this.ensureOutput(this.nChunks * job.nq * job.k);
    const useWorkers = !this.broken && Atomics.load(this.ctrl, CTRL.ONLINE) > 0;
    if (!useWorkers) {
      for (let c = 0; c < this.nChunks; c++) this.scanChunk(c, job);
      return;
    }
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CTRL.KIND, job.kind);
    Atomics.store(ctrl, CTRL.NQ, job.nq);
    Atomics.store(ctrl, CTRL.K, job.k);
    Atomics.store(ctrl, CTRL.NCHUNKS, this.nChunks);
    Atomics.store(ctrl, CTRL.CHUNK_ROWS, this.chunkRows);
    Atomics.store(ctrl, CTRL.MASK, job.mask ? 1 : 0);
    Atomics.store(ctrl, CTRL.ERROR, 0);
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.NEXT, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    let err: unknown;
    for (;;) {
      const c = Atomics.add(ctrl, CTRL.NEXT, 1);
      if (c >= this.nChunks) break;
      try {
        this.scanChunk(c, job);
      } catch (e) {
        err = e;
      }
      Atomics.add(ctrl, CTRL.DONE, 1);
      if (err !== undefined) break;
    }
    // Close the job: no ticket below nChunks can be taken from here on; wait for those handed out.
    const handed = Math.min(this.nChunks, Atomics.exchange(ctrl, CTRL.NEXT, CLOSED));
    for (;;) {
      const d = Atomics.load(ctrl, CTRL.DONE);
      if (d >= handed) break;
      Atomics.wait(ctrl, CTRL.DONE, d, 50);
    }
    if (err !== undefined) throw err;
    if (Atomics.load(ctrl, CTRL.ERROR) !== 0) {
      // A worker's chunk threw: stop using workers and redo the job here.
      this.broken = true;
      for (let c = 0; c < this.nChunks; c++) this.scanChunk(c, job);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.STOP, 1);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
    this.workers.length = 0;
    this.ports.length = 0;
  }
}
