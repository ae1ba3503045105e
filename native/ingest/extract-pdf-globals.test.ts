import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { extractFile } from './extract.js';

test('extracting a PDF leaves the native JSON functions in place (pdf.js legacy polyfills replace them)', async () => {
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage().drawText('Polyfills must not leak.', { x: 50, y: 700, size: 14, font });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pdf-')), 'one.pdf');
  fs.writeFileSync(file, await doc.save());
  const r = await extractFile(file, 'pdf', { relPath: 'one.pdf' });
  assert.match(r.docs[0]!.text, /Polyfills must not leak/);
  assert.equal(JSON.stringify, stringify, 'JSON.stringify was replaced');
  assert.equal(JSON.parse, parse, 'JSON.parse was replaced');
});
