import { TandemError } from '../common/errors.js';
import { WorkerClient } from '../node/worker-client.js';
import type { ExtractResult } from './extract-types.js';
import type { PdfWorkerApi } from './pdf-protocol.js';

/** The PDF worker of this process: started on the first PDF, unref'd while idle, restarted if it dies. */
let worker: WorkerClient<PdfWorkerApi> | undefined;

function pdfWorker(): WorkerClient<PdfWorkerApi> {
  worker ??= new WorkerClient<PdfWorkerApi>({ entry: 'pdf-worker', from: import.meta.url, noun: 'PDF extraction', cancelled: () => new TandemError('CANCELLED', 'extraction cancelled') });
  return worker;
}

/**
 * PDF: the text layer of every page, with each page's character range (see pdf-text.ts for the
 * layout rules), read by pdf.js in the PDF worker. The bytes go to the worker as a copy.
 */
export function extractPdf(buf: Buffer, file: string, key: string, signal?: AbortSignal): Promise<ExtractResult> {
  return pdfWorker().call('extract', { data: new Uint8Array(buf), file, key }, signal ? { signal } : {});
}
