import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeOpenPage } from './serve-command.js';

test('--open hands the browser its code through a private file: the path (what goes in argv) holds no code', { skip: process.platform === 'win32' ? 'skipped: POSIX modes' : false }, (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-open-page-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const code = 'ab'.repeat(32);
  const url = `http://127.0.0.1:4321/#code=${code}`;
  const page = writeOpenPage(url, root);
  assert.ok(!page.file.includes(code), 'the file path carries no code');
  assert.equal(fs.statSync(page.file).mode & 0o777, 0o600, 'the file is 0600');
  assert.equal(fs.statSync(path.dirname(page.file)).mode & 0o777, 0o700, 'in a 0700 folder');
  const html = fs.readFileSync(page.file, 'utf8');
  assert.match(html, new RegExp(`<meta http-equiv="refresh" content="0;url=http://127\\.0\\.0\\.1:4321/#code=${code}">`), 'it forwards to the sign-in URL');
  page.remove();
  assert.ok(!fs.existsSync(path.dirname(page.file)), 'removed after use');
});
