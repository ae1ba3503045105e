import { TandemError } from '../common/errors.js';
import { WorkerClient } from '../node/worker-client.js';
import type { DocxWorkerApi } from './docx-protocol.js';
import { checkDocxArchive, type DocxLimits } from './docx-text.js';
import type { ExtractResult } from './extract-types.js';
import { invalidFile } from './source.js';

const MB = 1 << 20;

export interface DocxExtractionLimits extends DocxLimits {
  /** The DOCX worker's old-generation heap, in MB. */
  heapMb: number;
}

/**
 * mammoth holds about 50 bytes of memory per byte of XML (measured in one thread: 10 MB of
 * document.xml, RSS 589 MB; 20 MB, 1,044 MB; 80 MB, a 4.4 GB heap and an abort). The worker gets a
 * 512 MB heap, in which 16 MB of paragraphs extract and 20 MB run out, so XML parts may expand to
 * 16 MB in all (several hundred pages of Word's markup). Real XML deflates 5-20 times; a part over
 * 1 MB that inflates more than 200 times is a zip bomb.
 */
export const DEFAULT_DOCX_LIMITS: Readonly<DocxExtractionLimits> = { heapMb: 512, maxXmlBytes: 16 * MB, maxRatio: 200, ratioFloorBytes: MB };

let limits: DocxExtractionLimits = { ...DEFAULT_DOCX_LIMITS };

/** The DOCX worker of this process: started on the first DOCX, unref'd while idle, restarted if it dies. */
let worker: WorkerClient<DocxWorkerApi> | undefined;

function docxWorker(): WorkerClient<DocxWorkerApi> {
  worker ??= new WorkerClient<DocxWorkerApi>({
    entry: 'docx-worker',
    from: import.meta.url,
    noun: 'DOCX extraction',
    cancelled: () => new TandemError('CANCELLED', 'extraction cancelled'),
    resourceLimits: { maxOldGenerationSizeMb: limits.heapMb },
  });
  return worker;
}

/** Change the limits (tests force a tiny heap); the next DOCX starts a worker with them. */
export async function setDocxLimits(next: Partial<DocxExtractionLimits>): Promise<void> {
  limits = { ...limits, ...next };
  const w = worker;
  worker = undefined;
  await w?.close();
}

/** One DOCX in the worker at a time: when a document exhausts the heap, only its own extraction fails. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * DOCX: the ZIP central directory is checked here first (checkDocxArchive: a zip bomb is refused
 * without inflating anything, "docx expands to N MB"), then mammoth reads the text in the DOCX
 * worker under a heap cap; a document that exhausts it is a per-file error, and the worker is
 * restarted for the next file. The bytes go to the worker as a copy.
 */
export function extractDocx(buf: Buffer, file: string, key: string, signal?: AbortSignal): Promise<ExtractResult> {
  try {
    checkDocxArchive(buf, file, limits);
  } catch (e) {
    return Promise.reject(e);
  }
  const run = async (): Promise<ExtractResult> => {
    const { heapMb, maxXmlBytes, maxRatio, ratioFloorBytes } = limits;
    try {
      return await docxWorker().call('extract', { data: new Uint8Array(buf), file, key, limits: { maxXmlBytes, maxRatio, ratioFloorBytes } }, signal ? { signal } : {});
    } catch (e) {
      if ((e as { cause?: { code?: string } }).cause?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw invalidFile(file, `DOCX needs more than the ${heapMb} MB of memory its extraction may use (too much text or markup)`, e);
      }
      throw e;
    }
  };
  const p = queue.then(run, run);
  queue = p.catch(() => undefined);
  return p;
}
