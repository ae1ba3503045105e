/**
 * The PDF worker: pdf.js text extraction in a thread of its own, so that pdf.js's polyfills and
 * detached buffers stay in this isolate (pdf-text.ts) and a long PDF never holds up the host's
 * event loop. Serves PdfWorkerApi; calls run one at a time, in order; a cancel stops a call between pages.
 */
import { TandemError } from '../common/errors.js';
import { oneAtATime, serveWorker, workerHostPort } from '../node/worker-serve.js';
import type { PdfWorkerApi } from './pdf-protocol.js';
import { readPdf } from './pdf-text.js';

const handlers = oneAtATime<PdfWorkerApi>({ extract: ({ data, file, key }, ctx) => readPdf(data, file, key, ctx.signal) }, () => new TandemError('CANCELLED', 'extraction cancelled'));
serveWorker<PdfWorkerApi>(workerHostPort('pdf-worker'), handlers, { drain: handlers.drain });
