/**
 * A scan worker: waits for jobs on the shared control block, takes chunk tickets and scans them
 * with the same kernel as the calling thread (protocol: scan-protocol.ts). Started by ScanPool,
 * stopped by it (STOP, then terminate).
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { selectKernel } from './kernel.js';
import {
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
} from './scan-protocol.js';

const data = workerData as ScanWorkerData;
const { ctrl, states, dims, rows, nChunks, chunkRows, port } = data;
const kernel = selectKernel(data.kernel);
let buf: ScanBuffers = data.buffers;
/** Tests only: stall every claimed chunk this long, as if the thread were preempted. */
const testDelayMs = Number(process.env.TANDEM_SEARCH_TEST_WORKER_DELAY_MS ?? 0) || 0;

function syncBuffers(): void {
  while (buf.ver !== Atomics.load(ctrl, CTRL.BUFVER)) {
    const m = receiveMessageOnPort(port);
    if (m) buf = m.message as ScanBuffers;
    else Atomics.wait(ctrl, CTRL.STOP, 0, 1); // posted before BUFVER was bumped: arriving
  }
}

function scanChunk(s: number, c: number): void {
  const nq = Atomics.load(ctrl, slotWord(s, SLOT.NQ));
  const k = Atomics.load(ctrl, slotWord(s, SLOT.K));
  const sb = buf.slots[s as 0 | 1];
  const mask = Atomics.load(ctrl, slotWord(s, SLOT.MASK)) === 1 ? sb.mask : null;
  const [start, end] = chunkRange(c, chunkRows, rows);
  const off = c * nq * k;
  const outRows = sb.outRows.subarray(off, off + nq * k);
  const outScores = sb.outScores.subarray(off, off + nq * k);
  if (Atomics.load(ctrl, slotWord(s, SLOT.KIND)) === KIND_F32) kernel.scanF32(buf.f32, dims, sb.qF32, nq, start, end, k, outRows, outScores, mask);
  else kernel.scanI8(buf.i8!, buf.scales!, dims, sb.qI8, nq, start, end, k, outRows, outScores, mask);
}

function work(g: number): void {
  const s = g & 1;
  const busy = slotWord(s, SLOT.BUSY);
  Atomics.add(ctrl, busy, 1);
  try {
    if (Atomics.load(ctrl, CTRL.JOB) !== g) return; // the caller moved on: slot s may be rewritten
    syncBuffers();
    for (;;) {
      const c = Atomics.add(ctrl, slotWord(s, SLOT.NEXT), 1);
      if (c >= nChunks) return;
      const st = s * nChunks + c;
      // FREE -> CLAIMED; fails only if the caller already took this chunk over (we were slow)
      if (Atomics.compareExchange(states, st, CHUNK_FREE, CHUNK_CLAIMED) !== CHUNK_FREE) continue;
      try {
        if (testDelayMs > 0) Atomics.wait(ctrl, CTRL.STOP, 0, testDelayMs);
        scanChunk(s, c);
        Atomics.compareExchange(states, st, CHUNK_CLAIMED, CHUNK_DONE); // fails if taken over: ignored
      } catch {
        Atomics.store(ctrl, CTRL.ERROR, 1); // left CLAIMED: the caller takes it over
      }
      Atomics.add(ctrl, slotWord(s, SLOT.DONE), 1);
      Atomics.notify(ctrl, slotWord(s, SLOT.DONE));
    }
  } finally {
    Atomics.sub(ctrl, busy, 1);
    Atomics.notify(ctrl, busy);
  }
}

Atomics.add(ctrl, CTRL.ONLINE, 1);
let last = Atomics.load(ctrl, CTRL.JOB);
if (last > 0) work(last); // join a job already under way
for (;;) {
  Atomics.wait(ctrl, CTRL.JOB, last);
  if (Atomics.load(ctrl, CTRL.STOP) === 1) break;
  last = Atomics.load(ctrl, CTRL.JOB);
  work(last);
}
port.close();
