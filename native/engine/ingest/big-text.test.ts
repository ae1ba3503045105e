import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { indexWithRss } from '../../testing/rss-child.js';
import { extractFile, MAX_FILE_BYTES } from './extract.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-big-text-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MB = 1 << 20;

test('a 50 MB one-line text file is indexed with the whole process under 1.5 GB RSS', { timeout: 600_000 }, async (t) => {
  // Before: 8.7 million word pieces held at once by the chunker, a 3.2 GB peak.
  const file = path.join(tmp, 'one-line.txt');
  const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon ';
  const block = Buffer.from(words.repeat(Math.ceil(MB / words.length)).slice(0, MB));
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < 50; i++) fs.writeSync(fd, block);
  fs.closeSync(fd);
  const home = fs.mkdtempSync(path.join(tmp, 'home-'));
  const r = await indexWithRss(file, home, 590_000);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const summary = JSON.parse(r.stdout) as { filesIndexed: number; chunksWritten: number; errors: unknown[] };
  assert.deepEqual(summary.errors, []);
  assert.equal(summary.filesIndexed, 1);
  // About 54 chunks per MB of these words (256-token chunks, 32 overlap).
  assert.ok(summary.chunksWritten > 50 * 40, `${summary.chunksWritten} chunks`);
  t.diagnostic(`peak RSS ${r.maxRssKb} kB, ${summary.chunksWritten} chunks`);
  assert.ok(r.maxRssKb < 1.5 * 1024 * 1024, `peak RSS ${r.maxRssKb} kB`);
});

test('a text file over the size limit is a per-file "too large" error, refused before it is read', async () => {
  const file = path.join(tmp, 'huge.txt');
  const fd = fs.openSync(file, 'w');
  fs.ftruncateSync(fd, MAX_FILE_BYTES.txt! + 1); // sparse: nothing is written
  fs.closeSync(fd);
  const rss0 = process.memoryUsage().rss;
  await assert.rejects(extractFile(file), (e: unknown) => {
    assert.ok(isTandemError(e, 'INVALID_INPUT'), String(e));
    assert.match(e.message, /huge\.txt: too large to index: 96 MB \(the limit for this type is 96 MB\)/);
    return true;
  });
  assert.ok(process.memoryUsage().rss - rss0 < 32 * MB, 'the file was not read');
});
