import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { EmbedClient } from '../inference/embed-client.js';
import { chunkLocations, linesAt, pageAt } from '../ingest/locations.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { indexPath } from './indexer.js';
import { Searcher } from './searcher.js';

// The built-in model (models/builtin): runs without ../shared.
const MODEL = 'minishlab/potion-base-2M';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-locations-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: '' };
const client = new EmbedClient(env);
let lib: LibraryStore;
let searcher: Searcher;

async function makePdf(pages: string[][]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([500, 700]);
    let y = 650;
    for (const line of lines) {
      page.drawText(line, { x: 40, y, size: 10, font });
      y -= 14;
    }
  }
  return doc.save();
}

const filler = (word: string, n: number): string[] => Array.from({ length: n }, (_, i) => `The ${word} sample number ${i} was measured again today.`);

before(async () => {
  const pdfDir = path.join(tmp, 'pdf');
  fs.mkdirSync(pdfDir, { recursive: true });
  // Page 1 fills the first chunk; page 2 holds the start of the second chunk; the query's words
  // appear only on page 3, inside that second chunk.
  fs.writeFileSync(path.join(pdfDir, 'report.pdf'), await makePdf([filler('copper', 12), filler('silver', 3), ['Zygomorphic orchids attract euglossine bees.']]));
  const mdDir = path.join(tmp, 'md');
  fs.mkdirSync(mdDir, { recursive: true });
  const md = ['# Notes', '', ...Array.from({ length: 40 }, (_, i) => `Line ${i + 3} talks about routine calibration.`), 'The spectrometer drifted after the', 'thermal shock on Tuesday.', 'Nothing else.'];
  fs.writeFileSync(path.join(mdDir, 'notes.md'), md.join('\n'));
  lib = new LibraryStore(openDatabase(path.join(env.TANDEM_HOME!, 'tandem.db')));
  await indexPath(lib, client, { root: pdfDir, collection: 'pdf', model: MODEL, maxTokens: 120, overlapTokens: 0 }, {}, env);
  await indexPath(lib, client, { root: mdDir, collection: 'md', model: MODEL }, {}, env);
  searcher = new Searcher(lib, client, env);
});
after(async () => {
  searcher?.close();
  await client.close();
  lib?.db.close();
});

test('a PDF hit reports the page of the matched passage, not the page its chunk starts on', async () => {
  for (const mode of ['lexical', 'vector', 'default'] as const) {
    const hits = await searcher.search('pdf', 'zygomorphic orchids', { k: 1, mode });
    const hit = hits[0]!;
    assert.ok(hit, `${mode}: a hit`);
    const row = lib.chunkInfo([hit.chunkId]).get(hit.chunkId)!;
    if (mode === 'lexical') {
      assert.equal(row.page, 2, `the matching chunk starts on page 2 (test set-up): ${JSON.stringify({ page: row.page, breaks: row.pageBreaks, text: row.text.slice(0, 80) })}`);
      assert.deepEqual(row.pageBreaks?.map(([, p]) => p), [3], 'and page 3 begins inside it');
    }
    if (row.text.includes('Zygomorphic')) assert.equal(hit.page, 3, `${mode}: reports page 3`);
  }
});

test('a Markdown hit reports the lines of the matched passage', async () => {
  const hits = await searcher.search('md', 'spectrometer thermal shock', { k: 1, mode: 'lexical' });
  assert.deepEqual(hits[0]!.lines, { start: 43, end: 44 });
  assert.equal(hits[0]!.page, null);
  assert.ok(hits[0]!.start >= 0 && hits[0]!.end > hits[0]!.start, 'character offsets are still there');
});

test('chunkLocations, pageAt and linesAt', () => {
  const text = 'a\nb\nc\nd\ne';
  const locs = chunkLocations(text, 'md', undefined, [{ start: 0, end: 3 }, { start: 4, end: 9 }, { start: 2, end: 5 }]);
  assert.deepEqual(locs.map((l) => l.line), [1, 3, 2], 'lines, including a chunk that starts before the previous one');
  assert.deepEqual(chunkLocations(text, 'pdf', [{ page: 1, start: 0, end: 3 }, { page: 2, start: 4, end: 9 }], [{ start: 2, end: 9 }]), [{ pageBreaks: [[2, 2]] }]);
  assert.equal(pageAt(1, [[2, 2]], 1), 1);
  assert.equal(pageAt(1, [[2, 2]], 2), 2);
  assert.equal(pageAt(null, null, 5), null);
  assert.deepEqual(linesAt(10, 'x\ny\nz', 2, 5), { start: 11, end: 12 });
  assert.deepEqual(linesAt(10, 'x\ny\nz', 0, 1), { start: 10, end: 10 });
});
