/**
 * The DOCX worker: mammoth in a thread of its own under a heap cap (extract-docx.ts), so a
 * document that needs more memory than that kills this thread alone, and the host records a
 * per-file error instead of aborting. Jobs run one at a time, in order.
 */
import { parentPort } from 'node:worker_threads';
import { TandemError, toWire } from '../common/errors.js';
import type { DocxHostMessage, DocxWorkerMessage } from './docx-protocol.js';
import { readDocx } from './docx-text.js';

const port = parentPort!;
const post = (m: DocxWorkerMessage): void => port.postMessage(m);
const cancelled = new Set<number>();
let chain: Promise<void> = Promise.resolve();

port.on('message', (msg: DocxHostMessage) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.jobId);
    return;
  }
  if (msg.type === 'shutdown') {
    chain = chain.then(() => port.close());
    return;
  }
  chain = chain.then(async () => {
    try {
      if (cancelled.has(msg.jobId)) throw new TandemError('CANCELLED', 'extraction cancelled');
      post({ type: 'extracted', jobId: msg.jobId, result: await readDocx(msg.data, msg.file, msg.key, msg.limits) });
    } catch (e) {
      post({ type: 'error', jobId: msg.jobId, error: toWire(e) });
    } finally {
      cancelled.delete(msg.jobId);
    }
  });
});
