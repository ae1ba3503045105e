import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppUrl } from './ipc-validate';

test('only the app page gets a channel to the engine', () => {
  assert.ok(isAppUrl('app://tandem/index.html#/library'), 'the app origin');
  assert.ok(!isAppUrl('app://evil/index.html'), 'another app:// host');
  assert.ok(!isAppUrl('https://example.com/'), 'remote content');
  assert.ok(!isAppUrl('file:///tmp/x.html'), 'a local file');
  assert.ok(!isAppUrl('not a url'), 'garbage');
  assert.ok(isAppUrl('http://localhost:5173/#/map', 'http://localhost:5173/'), 'the dev server in development');
  assert.ok(!isAppUrl('http://localhost:5174/', 'http://localhost:5173/'), 'another port is not the dev server');
  assert.ok(!isAppUrl('http://localhost:5173/'), 'no dev server in production');
});
