import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isTandemError } from '../engine/common/errors.js';
import { fileType, walkFiles } from './walk.js';

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
    ['a.txt', 'keep.csv', 'sub/deep/ok.md', 'sub/important.txt', 'sub/vendor/lib.md'],
  );
  assert.deepEqual(
    r.skipped.map((s) => [s.relPath, s.reason]),
    [['other/build', 'unsupported']],
  );
  const a = r.files[0]!;
  assert.equal(a.path, path.join(root, 'a.txt'));
  assert.equal(a.size, 1);
  assert.equal(a.type, 'txt');
  assert.ok(a.mtimeMs > 0, `mtimeMs should be set, got ${a.mtimeMs}`);
});

test('hidden files and folders and node_modules are skipped silently; extra patterns and gitignore:false work', async () => {
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
  assert.deepEqual(r.skipped, []);
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
