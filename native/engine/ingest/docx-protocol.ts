import type { WireError } from '../common/errors.js';
import type { DocxLimits } from './docx-text.js';
import type { ExtractResult } from './extract-types.js';

/** Host -> DOCX worker. `data` is a copy of the file's bytes; `limits` bound what its XML parts may inflate to. */
export type DocxHostMessage =
  | { type: 'extract-docx'; jobId: number; data: Uint8Array; file: string; key: string; limits: DocxLimits }
  | { type: 'cancel'; jobId: number }
  | { type: 'shutdown' };

/** DOCX worker -> host: one reply per job. */
export type DocxWorkerMessage = { type: 'extracted'; jobId: number; result: ExtractResult } | { type: 'error'; jobId: number; error: WireError };
