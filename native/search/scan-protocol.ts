/**
 * Shared-memory protocol between ScanPool (calling thread) and its scan workers.
 *
 * One job at a time. The caller writes the job parameters into `ctrl`, resets DONE then NEXT, bumps
 * GEN and notifies. Every participant (the caller included) takes chunk tickets with
 * Atomics.add(NEXT); a ticket >= NCHUNKS means no work is left. After a chunk, DONE is incremented
 * and whoever completes the last chunk notifies DONE. When the job ends the caller parks NEXT at
 * CLOSED so a late worker's ticket can never name a chunk of the next job before its parameters
 * are written (parameters are always written before NEXT is reset to 0).
 *
 * Buffers that change after start (the int8 copy, bigger output slots) are sent on the worker's
 * MessagePort and BUFVER is bumped; a worker drains its port (receiveMessageOnPort) until it has
 * seen that version before touching a chunk.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KernelName } from './kernel.js';

export const CTRL = {
  GEN: 0,
  NEXT: 1,
  DONE: 2,
  STOP: 3,
  KIND: 4, // 0 = float32 scan, 1 = int8 scan
  NQ: 5,
  K: 6, // slots per query per chunk
  NCHUNKS: 7,
  CHUNK_ROWS: 8,
  MASK: 9, // 1 = apply the row mask
  BUFVER: 10,
  ERROR: 11, // set by a worker whose chunk threw (the caller then redoes the job alone)
  ONLINE: 12, // workers that have started their loop
  LENGTH: 16,
} as const;

export const CLOSED = 1 << 30;
export const KIND_F32 = 0;
export const KIND_I8 = 1;

export interface ScanBuffers {
  ver: number;
  f32: Float32Array;
  i8: Int8Array | null;
  scales: Float32Array | null;
  mask: Uint8Array;
  qF32: Float32Array;
  qI8: Int8Array;
  outRows: Int32Array;
  outScores: Float32Array;
}

export interface ScanWorkerData {
  ctrl: Int32Array;
  dims: number;
  rows: number;
  kernel: KernelName;
  buffers: ScanBuffers;
  port: MessagePort;
}
