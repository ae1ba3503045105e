/**
 * Shared-memory protocol between ScanPool (the calling thread) and its scan workers.
 *
 * Jobs are numbered g = 1, 2, ... and alternate between two slots (s = g & 1), each with its own
 * parameters, queries, mask, output buffers, chunk ticket counter and chunk states. Per job:
 *
 * 1. The caller waits until BUSY[s] = 0 (no worker is still inside job g - 2, which used slot s),
 *    writes slot s, sets every chunk state to FREE, DONE[s] = 0, NEXT[s] = 0, then JOB = g and
 *    notifies JOB.
 * 2. A worker that sees JOB = g increments BUSY[s] and re-reads JOB: if it moved on, it leaves
 *    (decrement) and joins the newer job. Otherwise it takes tickets (Atomics.add(NEXT[s])), marks
 *    the chunk CLAIMED, scans it into slot s, then CAS CLAIMED -> DONE and bumps/notifies DONE[s].
 *    When the tickets run out it decrements BUSY[s] and waits for the next JOB.
 * 3. The caller takes tickets too. When none are left it waits briefly for chunks still CLAIMED by
 *    workers; a chunk still CLAIMED after ~1.5 chunk-times (its worker was preempted, e.g. by
 *    another process on a busy machine) is taken over: CAS CLAIMED -> BACKUP and the caller scans
 *    it into its private backup buffer. The worker's late result is ignored, and because slot s is
 *    not reused before BUSY[s] = 0, its late writes can never land in a later job.
 *
 * Buffers that change after start (the int8 copy, bigger output buffers) are sent on each worker's
 * MessagePort and BUFVER is bumped before JOB; a worker drains its port (receiveMessageOnPort)
 * until it has seen that version before touching a slot.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KernelName } from './kernel.js';

export const CTRL = {
  JOB: 0,
  STOP: 1,
  BUFVER: 2,
  ONLINE: 3, // workers that have started their loop
  ERROR: 4, // set by a worker whose chunk threw (the caller takes the chunk over, then stops using workers)
  SLOT0: 8, // per-slot words start here, SLOT_WORDS each
  SLOT_WORDS: 8,
  LENGTH: 32,
} as const;

/** Offsets inside a slot's block of control words. */
export const SLOT = { NEXT: 0, BUSY: 1, DONE: 2, KIND: 3, NQ: 4, K: 5, MASK: 6 } as const;

export function slotWord(slot: number, word: number): number {
  return CTRL.SLOT0 + slot * CTRL.SLOT_WORDS + word;
}

export const CHUNK_FREE = 0;
export const CHUNK_CLAIMED = 1;
export const CHUNK_DONE = 2;
export const CHUNK_BACKUP = 3;

export const KIND_F32 = 0;
export const KIND_I8 = 1;

export interface SlotBuffers {
  qF32: Float32Array;
  qI8: Int8Array;
  mask: Uint8Array;
  outRows: Int32Array;
  outScores: Float32Array;
}

export interface ScanBuffers {
  ver: number;
  f32: Float32Array;
  i8: Int8Array | null;
  scales: Float32Array | null;
  slots: [SlotBuffers, SlotBuffers];
}

export interface ScanWorkerData {
  ctrl: Int32Array;
  /** Chunk states, slot-major: [slot * nChunks + chunk]. */
  states: Int32Array;
  dims: number;
  rows: number;
  nChunks: number;
  chunkRows: number;
  kernel: KernelName;
  buffers: ScanBuffers;
  port: MessagePort;
}

/** Scan chunk `c` of slot `sb` with `kernel` into `outRows/outScores` (nq x k per chunk). */
export function chunkRange(c: number, chunkRows: number, rows: number): [number, number] {
  const start = c * chunkRows;
  return [start, Math.min(rows, start + chunkRows)];
}
