/**
 * The PDF worker: pdf.js text extraction in a thread of its own, so that pdf.js's polyfills and
 * detached buffers stay in this isolate (pdf-text.ts) and a long PDF never holds up the host's
 * event loop. Jobs run one at a time, in order; a cancel stops a job between pages.
 */
import { parentPort } from 'node:worker_threads';
import { TandemError, toWire } from '../common/errors.js';
import type { PdfHostMessage, PdfWorkerMessage } from './pdf-protocol.js';
import { readPdf } from './pdf-text.js';

const port = parentPort!;
const post = (m: PdfWorkerMessage): void => port.postMessage(m);
const running = new Map<number, AbortController>();
let chain: Promise<void> = Promise.resolve();

port.on('message', (msg: PdfHostMessage) => {
  if (msg.type === 'cancel') {
    running.get(msg.jobId)?.abort();
    return;
  }
  if (msg.type === 'shutdown') {
    chain = chain.then(() => port.close());
    return;
  }
  const abort = new AbortController();
  running.set(msg.jobId, abort);
  chain = chain.then(async () => {
    try {
      if (abort.signal.aborted) throw new TandemError('CANCELLED', 'extraction cancelled');
      post({ type: 'extracted', jobId: msg.jobId, result: await readPdf(msg.data, msg.file, msg.key, abort.signal) });
    } catch (e) {
      post({ type: 'error', jobId: msg.jobId, error: toWire(e) });
    } finally {
      running.delete(msg.jobId);
    }
  });
});
