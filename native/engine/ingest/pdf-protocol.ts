import type { ExtractResult } from './extract-types.js';

/** The PDF worker's methods (pdf-worker.ts), called through WorkerClient (extract-pdf.ts). */
export interface PdfWorkerApi {
  /** `data` is a copy of the file's bytes (copied, never transferred: see pdf-text.ts). */
  extract(input: { data: Uint8Array; file: string; key: string }): Promise<ExtractResult>;
}
