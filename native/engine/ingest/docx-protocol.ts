import type { DocxLimits } from './docx-text.js';
import type { ExtractResult } from './extract-types.js';

/** The DOCX worker's methods (docx-worker.ts), called through WorkerClient (extract-docx.ts). */
export interface DocxWorkerApi {
  /** `data` is a copy of the file's bytes; `limits` bound what its XML parts may inflate to. */
  extract(input: { data: Uint8Array; file: string; key: string; limits: DocxLimits }): Promise<ExtractResult>;
}
