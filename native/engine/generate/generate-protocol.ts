import type { WireError } from '../common/errors.js';
import type { GenerateRequest, GenerateResult } from './generate-engine.js';

/** What a preload reports: the model is in memory, on this device. */
export interface PreloadResult {
  model: string;
  variant: GenerateResult['variant'];
  device: GenerateResult['device'];
  loadMs: number;
}

/** Messages from a host to the generation process (worker thread or Electron utilityProcess). */
export type GenerateHostMessage =
  | { type: 'generate'; jobId: number; request: GenerateRequest; stream: boolean }
  | { type: 'preload'; jobId: number; request: Omit<GenerateRequest, 'prompts'> }
  | { type: 'cancel'; jobId: number }
  /** Finish what runs, release the session, then exit (terminating a thread inside onnxruntime aborts the process). */
  | { type: 'shutdown' };

/** Messages from the generation process back to its host. */
export type GenerateWorkerMessage =
  | { type: 'text'; jobId: number; row: number; text: string }
  | { type: 'result'; jobId: number; result: GenerateResult }
  | { type: 'preloaded'; jobId: number; result: PreloadResult }
  | { type: 'error'; jobId: number; error: WireError };

/** The smallest port both worker_threads' parentPort and Electron's process.parentPort can be adapted to. */
export interface GeneratePort {
  post(msg: GenerateWorkerMessage): void;
  onMessage(cb: (msg: GenerateHostMessage) => void): void;
}
