import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { itemsFromTexts, readInputFile } from './input.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-input-'));
const write = (name: string, data: string | Buffer) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, data);
  return p;
};

test('JSONL: a malformed line is a problem naming the line; every other line is kept', () => {
  const f = write('a.jsonl', '{"id":"x","text":"one"}\n{"id":"y","text":"two"\n{"id":3,"text":"three"}\n');
  const r = readInputFile(f);
  assert.equal(r.format, 'jsonl');
  assert.deepEqual(r.items.map((i) => i.id), ['x', 3]);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.line, 2);
  assert.match(r.problems[0]!.message, /malformed JSON/);
});

test('JSONL: wrong fields, empty text and bad ids are specific problems', () => {
  const f = write('b.jsonl', ['{"id":1,"txt":"typo"}', '{"id":2,"text":"  "}', '{"id":{"a":1},"text":"x"}', '[1,2]', '{"text":"no id"}'].join('\n'));
  const r = readInputFile(f);
  assert.deepEqual(
    r.problems.map((p) => [p.line, p.message.split(' (')[0]]),
    [
      [1, 'missing "text" string field'],
      [2, 'empty text'],
      [3, '"id" must be a string or a number, got object'],
      [4, 'expected a JSON object {"id": ..., "text": ...}'],
    ],
  );
  assert.deepEqual(r.items, [{ id: 5, text: 'no id', line: 5 }]);
});

test('invalid UTF-8 is reported for its line only', () => {
  const f = write('c.txt', Buffer.concat([Buffer.from('good line\n'), Buffer.from([0x62, 0x61, 0xff, 0xfe, 0x64, 0x0a]), Buffer.from('café ok\r\n')]));
  const r = readInputFile(f);
  assert.equal(r.format, 'text');
  assert.deepEqual(r.items.map((i) => [i.id, i.text]), [[1, 'good line'], [3, 'café ok']]);
  assert.deepEqual(r.problems, [{ line: 2, message: 'invalid UTF-8 at byte 2 of the line' }]);
});

test('plain text: id is the line number; blank lines are skipped and counted', () => {
  const f = write('d.txt', 'first\n\nthird\n');
  const r = readInputFile(f);
  assert.deepEqual(r.items.map((i) => i.id), [1, 3]);
  assert.equal(r.blankLines, 1);
});

test('format is sniffed when the extension says nothing', () => {
  assert.equal(readInputFile(write('e.data', '{"id":1,"text":"a"}\n')).format, 'jsonl');
  assert.equal(readInputFile(write('f.data', 'just text\n')).format, 'text');
});

test('a missing file is NOT_FOUND; --text with an empty value is a problem', () => {
  assert.throws(() => readInputFile(path.join(tmp, 'nope.jsonl')), { code: 'NOT_FOUND' });
  const r = itemsFromTexts(['a', '', 'c']);
  assert.deepEqual(r.items.map((i) => i.id), [1, 3]);
  assert.deepEqual(r.problems, [{ line: 2, message: 'empty text' }]);
});
