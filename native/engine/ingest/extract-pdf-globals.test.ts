import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { extractFile } from './extract.js';
import { extractPdf } from './extract-pdf.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pdf-'));

async function writePdf(name: string, pages: number, line: string): Promise<string> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) doc.addPage().drawText(`${line} (page ${p + 1})`, { x: 50, y: 700, size: 14, font });
  const file = path.join(dir, name);
  fs.writeFileSync(file, await doc.save());
  return file;
}

test("extracting a PDF leaves this thread's globals as they were: pdf.js and its polyfills run in the PDF worker", async () => {
  const file = await writePdf('one.pdf', 1, 'Polyfills must not leak.');
  const before = {
    stringify: JSON.stringify,
    parse: JSON.parse,
    arrayBuffer: Object.getOwnPropertyNames(ArrayBuffer.prototype).sort(),
    promise: Object.getOwnPropertyNames(Promise).sort(),
  };
  const r = await extractFile(file, 'pdf', { relPath: 'one.pdf' });
  assert.match(r.docs[0]!.text, /Polyfills must not leak/);
  assert.equal(JSON.stringify, before.stringify, 'JSON.stringify was replaced');
  assert.equal(JSON.parse, before.parse, 'JSON.parse was replaced');
  // pdf.js's legacy build adds core-js polyfills (ArrayBuffer.prototype.transfer,
  // Promise.withResolvers on Node 20) to the realm it loads in.
  assert.deepEqual(Object.getOwnPropertyNames(ArrayBuffer.prototype).sort(), before.arrayBuffer);
  assert.deepEqual(Object.getOwnPropertyNames(Promise).sort(), before.promise);
});

test('a PDF extraction can be cancelled, and the worker then reads the next PDF', async () => {
  const long = await writePdf('long.pdf', 200, 'A long document.');
  const abort = new AbortController();
  // extractPdf posts the job before it returns, so this cancel reaches the worker after the job.
  const running = extractPdf(fs.readFileSync(long), long, 'long.pdf', abort.signal);
  abort.abort();
  await assert.rejects(running, (e: Error & { code?: string }) => e.code === 'CANCELLED');
  const next = await extractFile(await writePdf('next.pdf', 2, 'After the cancel.'), 'pdf', { relPath: 'next.pdf' });
  assert.equal(next.docs[0]!.pages!.length, 2);
  assert.match(next.docs[0]!.text, /After the cancel\. \(page 2\)/);
});
