import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Document, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { isTandemError, type TandemError } from '../common/errors.js';
import { extractFile, iterateJsonl } from './extract.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-extract-'));
const write = (name: string, data: string | Uint8Array) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, data);
  return p;
};
const hash = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

async function makePdf(pages: string[][], opts: { title?: string } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  if (opts.title) doc.setTitle(opts.title);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([500, 700]);
    let y = 650;
    for (const line of lines) {
      if (line !== '') page.drawText(line, { x: 50, y, size: 12, font });
      y -= line === '' ? 30 : 16;
    }
  }
  return doc.save();
}

/** Asserts a promise rejects with a TandemError of `code` whose message matches each pattern. */
async function rejectsWith(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isTandemError(e), `expected a TandemError, got ${String(e)}`);
    assert.equal((e as TandemError).code, code, (e as Error).message);
    for (const re of patterns) assert.match((e as Error).message, re);
    return true;
  });
}

test('PDF: two pages of text with exact page ranges, title from metadata', async () => {
  const bytes = await makePdf([['Alpha page one first line.', 'Second line of page one.', '', 'A new paragraph on page one.'], ['Beta page two.']], { title: 'Two Pages' });
  const file = write('two.pdf', bytes);
  const r = await extractFile(file, 'pdf', { relPath: 'docs/two.pdf' });
  assert.equal(r.docs.length, 1);
  const doc = r.docs[0]!;
  assert.equal(doc.key, 'docs/two.pdf');
  assert.equal(doc.title, 'Two Pages');
  assert.equal(doc.sha256, hash(bytes));
  assert.deepEqual(r.errors, []);
  assert.equal(doc.pages?.length, 2);
  const [p1, p2] = doc.pages!;
  assert.equal(doc.text.slice(p1!.start, p1!.end), 'Alpha page one first line.\nSecond line of page one.\n\nA new paragraph on page one.');
  assert.equal(doc.text.slice(p2!.start, p2!.end), 'Beta page two.');
  assert.deepEqual([p1!.page, p2!.page], [1, 2]);
  assert.equal(p1!.start, 0);
  assert.equal(p2!.end, doc.text.length);
  assert.equal(doc.text.slice(p1!.end, p2!.start), '\n\n');
});

test('PDF without a text layer: an empty document and a warning, not an error', async () => {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawRectangle({ x: 10, y: 10, width: 50, height: 50 });
  const r = await extractFile(write('scan.pdf', await doc.save()));
  assert.equal(r.docs.length, 1);
  assert.equal(r.docs[0]!.text, '');
  assert.deepEqual(r.docs[0]!.pages, [{ page: 1, start: 0, end: 0 }]);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /no text layer/);
});

test('DOCX made by the docx package: paragraphs separated by blank lines', async () => {
  const d = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Quarterly report', heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ children: [new TextRun('Revenue grew by '), new TextRun({ text: '12%', bold: true }), new TextRun(' this quarter.')] }),
          new Paragraph('Costs were flat.'),
        ],
      },
    ],
  });
  const bytes = await Packer.toBuffer(d);
  const r = await extractFile(write('report.docx', bytes));
  assert.equal(r.docs.length, 1);
  assert.equal(r.docs[0]!.key, 'report.docx');
  assert.equal(r.docs[0]!.text, 'Quarterly report\n\nRevenue grew by 12% this quarter.\n\nCosts were flat.');
  assert.equal(r.docs[0]!.sha256, hash(bytes));
});

test('HTML: script, style and nav dropped, paragraphs kept, title from <title>, entities decoded', async () => {
  const html = `<!doctype html><html><head><title>Cells &amp; Genes</title><style>p { color: red }</style>
    <script>var secret = "do not index";</script></head>
    <body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
    <h1>Mitochondria</h1><p>The powerhouse of the <a href="/cell">cell</a>.</p>
    <p>Second   paragraph&nbsp;here.</p><script>trackVisit()</script><footer>© 2024 site</footer></body></html>`;
  const r = await extractFile(write('page.html', html));
  const doc = r.docs[0]!;
  assert.equal(doc.title, 'Cells & Genes');
  assert.equal(doc.text, 'Mitochondria\n\nThe powerhouse of the cell.\n\nSecond paragraph here.');
  for (const bad of ['secret', 'trackVisit', 'color', 'Home', '2024']) assert.ok(!doc.text.includes(bad), `${bad} should be stripped from: ${doc.text}`);
});

test('CSV: one document per row, columns chosen by name or index, quoted commas and newlines', async () => {
  const csv = 'id,title,abstract,year\n1,"Deep nets, revisited","Line one\nline two",2020\n2,Plain title,"He said ""hi""",2021\n3,,,2022\n';
  const file = write('papers.csv', csv);
  const byName = await extractFile(file, 'csv', { relPath: 'data/papers.csv', columns: ['abstract'] });
  assert.deepEqual(
    byName.docs.map((d) => [d.key, d.text, d.title]),
    [
      ['data/papers.csv#row1', 'Line one\nline two', 'Deep nets, revisited'],
      ['data/papers.csv#row2', 'He said "hi"', 'Plain title'],
    ],
  );
  assert.match(byName.warnings.join('\n'), /1 row\(s\) have no text/);
  assert.equal(byName.docs[0]!.sha256, hash('1,"Deep nets, revisited","Line one\nline two",2020'));
  const byIndex = await extractFile(file, 'csv', { columns: [1] });
  assert.deepEqual(byIndex.docs.map((d) => d.text), ['Deep nets, revisited', 'Plain title']);
  const both = await extractFile(file, 'csv', { columns: ['title', 2] });
  assert.equal(both.docs[0]!.text, 'title: Deep nets, revisited\nabstract: Line one\nline two');
  const auto = await extractFile(file);
  assert.equal(auto.docs[0]!.text, 'title: Deep nets, revisited\nabstract: Line one\nline two', 'numeric id/year columns are left out by default');
  await rejectsWith(extractFile(file, 'csv', { columns: ['nope'] }), 'INVALID_ARGUMENT', /no column "nope"/, /"abstract"/);
  await rejectsWith(extractFile(file, 'csv', { columns: [9] }), 'INVALID_ARGUMENT', /out of range/);
});

test('CSV without a header: the whole file is one document, one line per row', async () => {
  const file = write('nums.csv', '1,apple,0.5\n2,pear,0.7\n');
  const r = await extractFile(file);
  assert.deepEqual(r.docs.map((d) => [d.key, d.text]), [['nums.csv', 'apple\npear']]);
  const forced = await extractFile(file, 'csv', { tableMode: 'rows', columns: [1] });
  assert.deepEqual(forced.docs.map((d) => [d.key, d.text]), [
    ['nums.csv#row1', 'apple'],
    ['nums.csv#row2', 'pear'],
  ]);
  await rejectsWith(extractFile(file, 'csv', { columns: ['fruit'] }), 'INVALID_ARGUMENT', /no header row/);
});

test('TSV: tab-separated with a header; a stray quote does not swallow the file', async () => {
  const file = write('pairs.tsv', 'question\tanswer\nWhat is 6"?\tSix inches\nWhy?\tBecause.\n');
  const r = await extractFile(file, undefined, { columns: ['question', 'answer'] });
  assert.deepEqual(r.docs.map((d) => d.text), ['question: What is 6"?\nanswer: Six inches', 'question: Why?\nanswer: Because.']);
  assert.deepEqual(r.errors, []);
});

test('BEIR JSONL: each line a document keyed by _id; malformed lines reported, the rest kept', async () => {
  const lines = [
    '{"_id": "d1", "title": "Aspirin", "text": "Aspirin reduces fever."}',
    '{"_id": "d2", "title": "", "text": "No title here."}',
    '{"_id": "d3", "text": ',
    '',
    '{"title": "no id", "text": "x"}',
    '{"_id": 4, "title": "Numeric id", "text": "Body four."}',
    '{"_id": "d1", "text": "duplicate"}',
  ];
  const file = write('corpus.jsonl', lines.join('\r\n') + '\n');
  const r = await extractFile(file);
  assert.deepEqual(
    r.docs.map((d) => [d.key, d.title, d.text]),
    [
      ['d1', 'Aspirin', 'Aspirin\nAspirin reduces fever.'],
      ['d2', undefined, 'No title here.'],
      ['4', 'Numeric id', 'Numeric id\nBody four.'],
    ],
  );
  assert.equal(r.docs[0]!.sha256, hash(lines[0]!));
  assert.deepEqual(r.errors.map((e) => e.line), [3, 5, 7]);
  assert.match(r.errors[0]!.message, /malformed JSON/);
  assert.match(r.errors[1]!.message, /missing "_id"/);
  assert.match(r.errors[2]!.message, /duplicate _id "d1"/);
  let streamed = 0;
  for await (const item of iterateJsonl(file)) if ('doc' in item) streamed++;
  assert.equal(streamed, 3);
});

test('plain text, Markdown and code: UTF-8, CRLF normalised, Markdown title; NUL-ridden text is binary', async () => {
  const md = await extractFile(write('notes.md', '\ufeff# Lab notes\r\n\r\nCafé run.\r\n'));
  assert.deepEqual([md.docs[0]!.title, md.docs[0]!.text], ['Lab notes', '# Lab notes\n\nCafé run.\n']);
  const bad = await extractFile(write('bad.txt', Buffer.from([0x61, 0xff, 0x62])));
  assert.equal(bad.docs[0]!.text, 'a\ufffdb');
  const code = await extractFile(write('main.py', 'def f():\n    return 1\n'));
  assert.equal(code.docs[0]!.text, 'def f():\n    return 1\n');
  await rejectsWith(extractFile(write('nul.txt', Buffer.from('a\0b\0c\0d\0'))), 'INVALID_INPUT', /nul\.txt/, /binary/);
});

test('corrupt PDF and DOCX are INVALID_INPUT naming the file; a missing file is NOT_FOUND', async () => {
  const pdf = await makePdf([['Some text.']]);
  await rejectsWith(extractFile(write('broken.pdf', pdf.subarray(0, 40))), 'INVALID_INPUT', /broken\.pdf/, /not a readable PDF/);
  await rejectsWith(extractFile(write('junk.pdf', 'this is not a pdf at all')), 'INVALID_INPUT', /junk\.pdf/);
  const docx = await Packer.toBuffer(new Document({ sections: [{ children: [new Paragraph('x')] }] }));
  await rejectsWith(extractFile(write('cut.docx', docx.subarray(0, docx.length >> 1))), 'INVALID_INPUT', /cut\.docx/, /corrupt or unsupported DOCX/);
  await rejectsWith(extractFile(write('text.docx', 'plain text')), 'INVALID_INPUT', /text\.docx/, /no ZIP signature/);
  await rejectsWith(extractFile(path.join(tmp, 'absent.txt')), 'NOT_FOUND', /absent\.txt/);
  await rejectsWith(extractFile(path.join(tmp, 'absent.jsonl')), 'NOT_FOUND', /absent\.jsonl/);
  await rejectsWith(extractFile(write('x.bin', 'x')), 'INVALID_INPUT', /unsupported file type/);
});
