import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Document, Packer, Paragraph } from 'docx';
import { isTandemError, type TandemError } from '../common/errors.js';
import { indexWithRss } from '../../testing/rss-child.js';
import { documentXml, makeDocx } from '../../testing/zip-writer.js';
import { DEFAULT_DOCX_LIMITS, setDocxLimits } from './extract-docx.js';
import { extractFile } from './extract.js';
import { readZipDirectory } from './zip-directory.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-docx-bomb-'));
after(async () => {
  await setDocxLimits(DEFAULT_DOCX_LIMITS);
  fs.rmSync(tmp, { recursive: true, force: true });
});
const write = (name: string, data: Uint8Array) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, data);
  return p;
};
const MB = 1 << 20;
const PARA = 'The quick brown fox jumps over the lazy dog, in paragraph after paragraph of research notes. ';
/** Paragraphs of PARA (each about 150 bytes of XML) adding up to about `bytes` of word/document.xml. */
const paragraphsFor = (bytes: number) => Math.ceil(bytes / (PARA.length + 60));

async function rejectsWith(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<TandemError> {
  let err: TandemError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isTandemError(e), `expected a TandemError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const re of patterns) assert.match(e.message, re);
    err = e;
    return true;
  });
  return err!;
}

test('a DOCX bomb (300 KB inflating to 80 MB of paragraphs) is refused from its central directory, naming the expanded size', async () => {
  const xml = documentXml(paragraphsFor(80 * MB), PARA);
  const bomb = makeDocx(xml);
  assert.ok(bomb.length < 1 * MB, `the bomb is small: ${bomb.length} bytes`);
  const file = write('bomb.docx', bomb);
  const expanded = Math.round(xml.length / MB);
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  await rejectsWith(extractFile(file), 'INVALID_INPUT', new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), new RegExp(`docx expands to ${expanded} MB`), /word\/document\.xml/, /limit is 16 MB/);
  // Refused without inflating: fast, and no 80 MB of anything was allocated.
  assert.ok(performance.now() - t0 < 2000, 'refused before parsing');
  assert.ok(process.memoryUsage().rss - rss0 < 60 * MB, 'nothing inflated');
});

test('a 1 GiB part in a ZIP64 DOCX (sizes in the ZIP64 extra field) is refused; a small ZIP64 DOCX reads', async () => {
  // The claimed size is what the check reads: 1 GiB claimed by the ZIP64 extra field.
  const claimed = makeDocx(documentXml(3, 'Small text.'), { zip64: true, claimedSize: 1024 * MB + 5 });
  assert.equal(readZipDirectory(claimed).find((e) => e.name === 'word/document.xml')?.uncompressedSize, 1024 * MB + 5);
  await rejectsWith(extractFile(write('zip64-bomb.docx', claimed)), 'INVALID_INPUT', /docx expands to 1024 MB/);
  const ok = await extractFile(write('zip64-ok.docx', makeDocx(documentXml(2, 'Zip sixty-four works.'), { zip64: true })));
  assert.equal(ok.docs[0]!.text, 'Zip sixty-four works.\n\nZip sixty-four works.');
});

test('a part that inflates far more than its size (a small deflated bomb under the total cap) is refused by its ratio', async () => {
  const xml = documentXml(paragraphsFor(8 * MB), PARA);
  const file = write('ratio.docx', makeDocx(xml));
  const mb = (xml.length / MB).toFixed(1).replace('.', '\\.');
  await rejectsWith(extractFile(file), 'INVALID_INPUT', new RegExp(`docx expands to ${mb} MB of XML: word/document\\.xml inflates \\d+ times \\(\\d+ KB to ${mb} MB`), /limit is 200 times/);
});

test('a header that lies about its size is caught when the worker inflates: the part stops at the cap', async () => {
  // 20 MB of varied text claimed as 1 KB: the central directory looks harmless.
  const lines: string[] = [];
  for (let i = 0, n = 0; n < 20 * MB; i++) n += lines[lines.push(`Note ${i}: sample ${(i * 7919) % 100_003} measured ${(i * 104_729) % 99_991} units on day ${i % 365}. `) - 1]!.length;
  const xml = documentXml(1, lines.join(''));
  const file = write('liar.docx', makeDocx(xml, { claimedSize: 1024 }));
  await rejectsWith(extractFile(file), 'INVALID_INPUT', /docx expands to more than 16 MB of XML \(word\/document\.xml inflates past what its header says\)/);
});

test('a DOCX that exhausts the worker heap is a per-file error; the next DOCX extracts in a fresh worker', async () => {
  const d = new Document({ sections: [{ children: [new Paragraph('Still readable after a crash.')] }] });
  const small = write('small.docx', new Uint8Array(await Packer.toBuffer(d)));
  // 6 MB of paragraphs need a few hundred MB of mammoth's heap; the worker gets 24 MB.
  const big = write('big.docx', makeDocx(documentXml(paragraphsFor(6 * MB), PARA)));
  await setDocxLimits({ heapMb: 24, maxRatio: 1e9 });
  const rss0 = process.memoryUsage().rss;
  const [bigResult, smallResult] = await Promise.allSettled([extractFile(big), extractFile(small)]);
  assert.equal(bigResult.status, 'rejected');
  const e = (bigResult as PromiseRejectedResult).reason as TandemError;
  assert.equal(e.code, 'INVALID_INPUT', e.message);
  assert.match(e.message, /big\.docx: DOCX needs more than the 24 MB of memory its extraction may use/);
  assert.equal((e.cause as { cause?: { code?: string } }).cause?.code, 'ERR_WORKER_OUT_OF_MEMORY');
  // Queued behind it, the small one was not taken down with the dead worker.
  assert.equal(smallResult.status, 'fulfilled', String((smallResult as PromiseRejectedResult).reason));
  assert.equal((smallResult as PromiseFulfilledResult<Awaited<ReturnType<typeof extractFile>>>).value.docs[0]!.text, 'Still readable after a crash.');
  assert.ok(process.memoryUsage().rss - rss0 < 200 * MB, 'the host thread never held the document');
  await setDocxLimits(DEFAULT_DOCX_LIMITS);
  assert.equal((await extractFile(small)).docs[0]!.text, 'Still readable after a crash.');
});

test('tandem index: the bomb is a per-file error, the other files are indexed, the process stays small', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'lib-'));
  const xml = documentXml(paragraphsFor(80 * MB), PARA);
  fs.writeFileSync(path.join(dir, 'bomb.docx'), makeDocx(xml));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'Ordinary notes about enzyme kinetics and assay design.\n');
  const home = fs.mkdtempSync(path.join(tmp, 'home-'));
  const r = await indexWithRss(dir, home);
  assert.equal(r.status, 3, r.stderr);
  const summary = JSON.parse(r.stdout) as { filesIndexed: number; errors: Array<{ path: string; message: string }> };
  assert.equal(summary.filesIndexed, 1);
  assert.equal(summary.errors.length, 1, JSON.stringify(summary.errors));
  assert.equal(summary.errors[0]!.path, path.join(dir, 'bomb.docx'));
  assert.match(summary.errors[0]!.message, new RegExp(`docx expands to ${Math.round(xml.length / MB)} MB`));
  assert.ok(r.maxRssKb < 1.5 * 1024 * 1024, `peak RSS ${r.maxRssKb} kB`);
});
