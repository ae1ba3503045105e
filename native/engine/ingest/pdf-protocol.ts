import type { WireError } from '../common/errors.js';
import type { ExtractResult } from './extract-types.js';

/** Host -> PDF worker. `data` is a copy of the file's bytes (copied, never transferred: see pdf-text.ts). */
export type PdfHostMessage =
  | { type: 'extract-pdf'; jobId: number; data: Uint8Array; file: string; key: string }
  | { type: 'cancel'; jobId: number }
  | { type: 'shutdown' };

/** PDF worker -> host: one reply per job. */
export type PdfWorkerMessage = { type: 'extracted'; jobId: number; result: ExtractResult } | { type: 'error'; jobId: number; error: WireError };
