/**
 * The DOCX worker: mammoth in a thread of its own under a heap cap (extract-docx.ts), so a
 * document that needs more memory than that kills this thread alone, and the host records a
 * per-file error instead of aborting. Serves DocxWorkerApi; calls run one at a time, in order (a
 * cancel stops a call that has not started).
 */
import { TandemError } from '../common/errors.js';
import { oneAtATime, serveWorker, workerHostPort } from '../node/worker-serve.js';
import type { DocxWorkerApi } from './docx-protocol.js';
import { readDocx } from './docx-text.js';

const handlers = oneAtATime<DocxWorkerApi>({ extract: ({ data, file, key, limits }) => readDocx(data, file, key, limits) }, () => new TandemError('CANCELLED', 'extraction cancelled'));
serveWorker<DocxWorkerApi>(workerHostPort('docx-worker'), handlers, { drain: handlers.drain });
