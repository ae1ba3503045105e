import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { fileType, isExpectedSkip, walkFiles } from './walk.js';

function tree(files: Record<string, string | Buffer>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-walk-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0, 0xff, 0xfe, 0, 0x10]);

test('nested ignore files: negation, folder-only patterns, subtree scope, re-inclusion by a deeper level', async () => {
  const root = tree({
    '.gitignore': '*.csv\n!keep.csv\nbuild/\nvendor/\n',
    'a.txt': 'a',
    'data.csv': 'x,y\n1,2\n',
    'keep.csv': 'x,y\n1,2\n',
    'build/out.txt': 'built',
    'other/build': 'a file named build, not a folder: "build/" must not match it',
    'vendor/z.md': 'root vendor stays excluded',
    'sub/.gitignore': '*.txt\n!important.txt\n!vendor/\n',
    'sub/.tandemignore': 'secret.md\n',
    'sub/x.txt': 'ignored by sub/.gitignore',
    'sub/important.txt': 'negated back in',
    'sub/deep/y.txt': 'the nested rules apply to the whole subtree',
    'sub/deep/ok.md': 'kept',
    'sub/secret.md': 'ignored by .tandemignore',
    'sub/vendor/lib.md': 're-included by sub/.gitignore',
    'sub/vendor/lib.txt': 'still *.txt in sub',
  });
  const r = await walkFiles(root);
  assert.deepEqual(
    r.files.map((f) => f.relPath),
    ['a.txt', 'keep.csv', 'other/build', 'sub/deep/ok.md', 'sub/important.txt', 'sub/vendor/lib.md'],
  );
  // Every path left out says which ignore file excluded it (an excluded folder is one entry).
  assert.deepEqual(
    r.skipped.map((s) => [s.relPath, s.label]),
    [
      ['build', 'ignored by .gitignore'],
      ['data.csv', 'ignored by .gitignore'],
      ['sub/deep/y.txt', 'ignored by .gitignore'],
      ['sub/secret.md', 'ignored by .tandemignore'],
      ['sub/vendor/lib.txt', 'ignored by .gitignore'],
      ['sub/x.txt', 'ignored by .gitignore'],
      ['vendor', 'ignored by .gitignore'],
    ],
  );
  assert.match(r.skipped.find((s) => s.relPath === 'sub/x.txt')!.message, /excluded by sub\/\.gitignore/);
  const a = r.files[0]!;
  assert.equal(a.path, path.join(root, 'a.txt'));
  assert.equal(a.size, 1);
  assert.equal(a.type, 'txt');
  assert.ok(a.mtimeMs > 0, `mtimeMs should be set, got ${a.mtimeMs}`);
});

test('hidden files and folders and node_modules are not entered, each reported once with its reason; extra patterns and gitignore:false work', async () => {
  const root = tree({
    '.hidden/h.md': 'h',
    '.secret.md': 's',
    'node_modules/pkg/index.js': 'x',
    'deep/node_modules/p.js': 'x',
    'deep/.cache/c.txt': 'x',
    '.gitignore': 'drafts/\n',
    'drafts/d.md': 'draft',
    'notes.md': 'n',
    'tmp/t.txt': 't',
  });
  const r = await walkFiles(root);
  assert.deepEqual(r.files.map((f) => f.relPath), ['notes.md', 'tmp/t.txt']);
  assert.deepEqual(
    r.skipped.map((s) => [s.relPath, s.reason, s.label]),
    [
      ['.hidden', 'hidden', 'hidden'],
      ['.secret.md', 'hidden', 'hidden'],
      ['deep/.cache', 'hidden', 'hidden'],
      ['deep/node_modules', 'ignored', 'ignored by built-in rule: node_modules'],
      ['drafts', 'ignored', 'ignored by .gitignore'],
      ['node_modules', 'ignored', 'ignored by built-in rule: node_modules'],
    ],
    'the .gitignore itself is read, not reported',
  );
  assert.ok(r.skipped.every((s) => isExpectedSkip(s.reason)), 'hidden and ignored are expected skips');
  const noGit = await walkFiles(root, { gitignore: false, ignore: ['tmp/'] });
  assert.deepEqual(noGit.files.map((f) => f.relPath), ['drafts/d.md', 'notes.md']);
});

test('binary content is skipped unless the format is binary; unsupported, generated and large files are reported', async () => {
  const root = tree({
    'blob.txt': BINARY,
    'paper.pdf': Buffer.concat([Buffer.from('%PDF-1.4\n'), BINARY]),
    'photo.png': BINARY,
    'Makefile': 'all:\n\techo hi\n',
    'package-lock.json': '{}',
    'big.md': 'x'.repeat(2000),
    'ok.PY': 'print(1)\n',
  });
  const r = await walkFiles(root, { maxFileBytes: 1000 });
  assert.deepEqual(
    r.files.map((f) => [f.relPath, f.type]),
    [
      ['Makefile', 'code'],
      ['ok.PY', 'code'],
      ['paper.pdf', 'pdf'],
    ],
  );
  assert.deepEqual(
    r.skipped.map((s) => [s.relPath, s.reason]),
    [
      ['big.md', 'too-large'],
      ['blob.txt', 'binary'],
      ['package-lock.json', 'generated'],
      ['photo.png', 'unsupported'],
    ],
  );
  assert.match(r.skipped.find((s) => s.reason === 'unsupported')!.message, /photo\.png: unsupported file type \(\.png\)/);
  assert.deepEqual(
    r.skipped.map((s) => s.label.replace(/:.*/, '')),
    ['too large', 'binary', 'ignored by built-in rule', 'unsupported type .png'],
  );
});

test('a single file as the root; a missing root is NOT_FOUND', async () => {
  const root = tree({ 'only.md': '# One' });
  const r = await walkFiles(path.join(root, 'only.md'));
  assert.deepEqual(r.files.map((f) => [f.relPath, f.type, f.size]), [['only.md', 'md', 5]]);
  const bin = await walkFiles(path.join(tree({ 'x.txt': BINARY }), 'x.txt'));
  assert.deepEqual(bin.skipped.map((s) => s.reason), ['binary']);
  await assert.rejects(walkFiles(path.join(root, 'nope')), (e) => isTandemError(e, 'NOT_FOUND'));
});

test('symlinks are followed once: loops and duplicates are reported, not walked', { skip: process.platform === 'win32' ? 'symlinks need privileges on Windows' : false }, async () => {
  const root = tree({ 'docs/a.md': 'a', 'real.txt': 'r' });
  fs.symlinkSync('..', path.join(root, 'docs', 'up'));
  fs.symlinkSync(path.join(root, 'docs'), path.join(root, 'docs-link'));
  fs.symlinkSync(path.join(root, 'real.txt'), path.join(root, 'z-link.txt'));
  fs.symlinkSync(path.join(root, 'missing.txt'), path.join(root, 'broken.txt'));
  const r = await walkFiles(root);
  assert.deepEqual(r.files.map((f) => f.relPath), ['docs/a.md', 'real.txt']);
  assert.deepEqual(
    r.skipped.map((s) => [s.relPath, s.reason]),
    [
      ['broken.txt', 'broken-symlink'],
      ['docs-link', 'duplicate'],
      ['docs/up', 'symlink-loop'],
      ['z-link.txt', 'duplicate'],
    ],
  );
});

test('fileType maps extensions case-insensitively and knows a few names', () => {
  const cases: Array<[string, string | undefined]> = [
    ['a.TXT', 'txt'],
    ['r.markdown', 'md'],
    ['p.htm', 'html'],
    ['x.pdf', 'pdf'],
    ['x.docx', 'docx'],
    ['t.csv', 'csv'],
    ['t.tsv', 'tsv'],
    ['corpus.jsonl', 'jsonl'],
    ['m.rs', 'code'],
    ['c.yml', 'code'],
    ['Dockerfile', 'code'],
    ['README', 'txt'],
    ['x.doc', undefined],
    ['.bashrc', undefined],
    ['noext', undefined],
  ];
  for (const [name, want] of cases) assert.equal(fileType(name), want, name);
});

const utf16 = (text: string, be = false): Buffer => {
  const le = Buffer.from(text, 'utf16le');
  return be ? Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]) : Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
};

test('files without a known extension are sniffed: UTF-8 or UTF-16 (BOM) text is taken as text, binary is refused with its reason', async () => {
  const gpl = 'GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n\nEveryone is permitted to copy and distribute verbatim copies — naïve café.\n';
  const root = tree({
    'GPL-3': gpl,
    'LGPL-2.1': gpl.repeat(300), // over the 8 KiB sniff window, a version-like "extension"
    'copyright': 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nFiles: *\n',
    'NOTES-UTF16': utf16('Notes written on Windows, in UTF-16 little endian.\r\n'),
    'notes-be.log': utf16('Big-endian UTF-16 with a byte-order mark.', true),
    'run.log': 'plain text under an extension no extractor knows\n',
    'core': BINARY, // an extension-less binary
    'blob.xyz': BINARY, // binary under an unknown extension
    'latin1': Buffer.from('caf\xe9 na\xefve r\xe9sum\xe9, a Latin-1 text\n', 'latin1'),
    'archive.zip': 'not even read: a known binary format',
    'empty': '',
  });
  const r = await walkFiles(root);
  assert.deepEqual(
    r.files.map((f) => [f.relPath, f.type]),
    [
      ['GPL-3', 'txt'],
      ['LGPL-2.1', 'txt'],
      ['NOTES-UTF16', 'txt'],
      ['copyright', 'txt'],
      ['empty', 'txt'],
      ['notes-be.log', 'txt'],
      ['run.log', 'txt'],
    ],
  );
  assert.deepEqual(
    r.skipped.map((s) => [s.relPath, s.reason, s.label]),
    [
      ['archive.zip', 'unsupported', 'unsupported type .zip'],
      ['blob.xyz', 'unsupported', 'unsupported type .xyz'],
      ['core', 'binary', 'binary'],
      ['latin1', 'binary', 'binary'],
    ],
  );
  assert.ok(r.skipped.every((s) => !isExpectedSkip(s.reason)), 'refused input is not an expected skip');
});

test('a file named explicitly is taken or refused with a reason: never dropped', async () => {
  const root = tree({ 'LICENSE-MIT': 'Permission is hereby granted, free of charge...\n', core: BINARY, 'package-lock.json': '{"lockfileVersion": 3}', '.bashrc': 'export PATH=$HOME/bin:$PATH\n', 'big.txt': 'x'.repeat(50), 'photo.png': BINARY });
  const taken = async (name: string, opts = {}) => {
    const r = await walkFiles(path.join(root, name), opts);
    return { files: r.files.map((f) => [f.relPath, f.type]), skipped: r.skipped.map((s) => [s.relPath, s.label.replace(/:.*/, '')]) };
  };
  assert.deepEqual(await taken('LICENSE-MIT'), { files: [['LICENSE-MIT', 'txt']], skipped: [] });
  assert.deepEqual(await taken('core'), { files: [], skipped: [['core', 'binary']] });
  assert.deepEqual(await taken('package-lock.json'), { files: [['package-lock.json', 'code']], skipped: [] }, 'asked for by name: not dropped as generated');
  assert.deepEqual(await taken('.bashrc'), { files: [['.bashrc', 'txt']], skipped: [] }, 'asked for by name: not hidden');
  assert.deepEqual(await taken('big.txt', { maxFileBytes: 10 }), { files: [], skipped: [['big.txt', 'too large']] });
  assert.deepEqual(await taken('photo.png'), { files: [], skipped: [['photo.png', 'unsupported type .png']] });
});
