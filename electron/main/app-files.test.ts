import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CSP } from '../../native/hosts/web/web-host';
import { collectionNameFor, contentType, cspFor, resolveAppFile } from './app-files';

test('app:// URLs map to files inside the built renderer only', () => {
  const root = path.resolve('/opt/tandem/out/renderer');
  assert.equal(resolveAppFile(root, 'app://tandem/'), path.join(root, 'index.html'), '/ is index.html');
  assert.equal(resolveAppFile(root, 'app://tandem/index.html#/map'), path.join(root, 'index.html'), 'the hash is not part of the file');
  assert.equal(resolveAppFile(root, 'app://tandem/assets/index-abc.js?v=1'), path.join(root, 'assets', 'index-abc.js'), 'assets, without the query');
  assert.equal(resolveAppFile(root, 'app://tandem/my%20file.css'), path.join(root, 'my file.css'), 'percent-decoded');
  assert.equal(resolveAppFile(root, 'app://tandem/../secrets.bin'), path.join(root, 'secrets.bin'), 'dot segments never climb out of the root');
  for (const tricky of ['app://tandem/%2e%2e/%2e%2e/etc/passwd', 'app://tandem/..%2f..%2fetc%2fpasswd', 'app://tandem/.%2e/x', 'app://tandem/..\\..\\x']) {
    const f = resolveAppFile(root, tricky);
    assert.ok(f === null || f.startsWith(root + path.sep), `${tricky} stays inside the renderer (${f})`);
  }
  for (const bad of ['app://tandem/..%2f..%2fetc%2fpasswd', 'app://tandem/a%00.js', 'app://other/index.html', 'file:///etc/passwd', 'app://tandem/%E0%A4%A', 'nope']) {
    assert.equal(resolveAppFile(root, bad), null, `${bad} is refused`);
  }
  assert.equal(contentType('a/b/index.HTML'), 'text/html; charset=utf-8', 'html');
  assert.equal(contentType('x.js'), 'text/javascript; charset=utf-8', 'scripts');
  assert.equal(contentType('x.bin'), 'application/octet-stream', 'unknown types are opaque');
});

test('the CSP is the web host one; only the dev server loosens it, for its own origin', () => {
  assert.equal(cspFor(), CSP, 'production: the same CSP as tandem serve');
  assert.match(CSP, /script-src 'self'(;|$)/, 'no inline scripts in production');
  const dev = cspFor('http://localhost:5173/');
  assert.match(dev, /script-src 'self' 'unsafe-inline' http:\/\/localhost:5173/, 'the dev server preamble');
  assert.match(dev, /connect-src 'self' http:\/\/localhost:5173 ws:\/\/localhost:5173/, 'and its HMR socket');
  assert.match(dev, /object-src 'none'/, 'the rest is kept');
});

test('a folder gives a valid collection name', () => {
  assert.equal(collectionNameFor('/home/me/papers'), 'papers', 'the folder name');
  assert.equal(collectionNameFor('/home/me/My Papers (2024)/'), 'My Papers -2024-', 'odd characters become dashes');
  assert.equal(collectionNameFor('/home/me/.notes'), 'notes', 'it starts with a letter or digit');
  assert.equal(collectionNameFor('/'), 'library', 'a fallback for the root');
  assert.ok(collectionNameFor(`/x/${'a'.repeat(100)}`).length <= 64, 'at most 64 characters');
});
