/**
 * A scan worker: waits on the shared control block, takes chunk tickets and scans them with the
 * same kernel as the calling thread (see scan-protocol.ts). Started by ScanPool; never exits on its
 * own (the pool terminates it).
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { selectKernel } from './kernel.js';
import { CTRL, KIND_F32, type ScanBuffers, type ScanWorkerData } from './scan-protocol.js';

const data = workerData as ScanWorkerData;
const { ctrl, dims, rows, port } = data;
const kernel = selectKernel(data.kernel);
let buf: ScanBuffers = data.buffers;

function syncBuffers(): void {
  while (buf.ver !== Atomics.load(ctrl, CTRL.BUFVER)) {
    const m = receiveMessageOnPort(port);
    if (m) buf = m.message as ScanBuffers;
    else Atomics.wait(ctrl, CTRL.BUFVER, buf.ver, 1); // the message is on its way
  }
}

function scanChunk(c: number): void {
  const nq = Atomics.load(ctrl, CTRL.NQ);
  const k = Atomics.load(ctrl, CTRL.K);
  const chunkRows = Atomics.load(ctrl, CTRL.CHUNK_ROWS);
  const mask = Atomics.load(ctrl, CTRL.MASK) === 1 ? buf.mask : null;
  const start = c * chunkRows;
  const end = Math.min(rows, start + chunkRows);
  const off = c * nq * k;
  const outRows = buf.outRows.subarray(off, off + nq * k);
  const outScores = buf.outScores.subarray(off, off + nq * k);
  if (Atomics.load(ctrl, CTRL.KIND) === KIND_F32) kernel.scanF32(buf.f32, dims, buf.qF32, nq, start, end, k, outRows, outScores, mask);
  else kernel.scanI8(buf.i8!, buf.scales!, dims, buf.qI8, nq, start, end, k, outRows, outScores, mask);
}

Atomics.add(ctrl, CTRL.ONLINE, 1);
let seen = Atomics.load(ctrl, CTRL.GEN);
for (;;) {
  // Join a job already under way too: tickets tell whether anything is left.
  for (;;) {
    const c = Atomics.add(ctrl, CTRL.NEXT, 1);
    const n = Atomics.load(ctrl, CTRL.NCHUNKS);
    if (c >= n) break;
    try {
      syncBuffers();
      scanChunk(c);
    } catch {
      Atomics.store(ctrl, CTRL.ERROR, 1);
    }
    if (Atomics.add(ctrl, CTRL.DONE, 1) + 1 === n) Atomics.notify(ctrl, CTRL.DONE);
  }
  Atomics.wait(ctrl, CTRL.GEN, seen);
  seen = Atomics.load(ctrl, CTRL.GEN);
  if (Atomics.load(ctrl, CTRL.STOP) === 1) break;
}
port.close();
