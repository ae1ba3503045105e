import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTarget } from './open-target';

test('a PDF hit opens at its page where the opener takes one; anything else opens as a path', () => {
  assert.deepEqual(openTarget('/Users/ana/papers/cryo em.pdf', 3, 'darwin'), { kind: 'url', url: 'file:///Users/ana/papers/cryo%20em.pdf#page=3' });
  assert.deepEqual(openTarget('C:\\papers\\a&calc&.PDF', 12, 'win32'), { kind: 'url', url: 'file:///C:/papers/a&calc&.PDF#page=12' });
  assert.deepEqual(openTarget('/home/ana/p.pdf', 3, 'linux'), { kind: 'path', path: '/home/ana/p.pdf' }, 'xdg-open would hand a URL to a browser');
  assert.deepEqual(openTarget('/Users/ana/notes.md', 3, 'darwin'), { kind: 'path', path: '/Users/ana/notes.md' });
  assert.deepEqual(openTarget('/Users/ana/p.pdf', undefined, 'darwin'), { kind: 'path', path: '/Users/ana/p.pdf' });
  assert.deepEqual(openTarget('/Users/ana/p.pdf', 0, 'win32'), { kind: 'path', path: '/Users/ana/p.pdf' });
  assert.deepEqual(openTarget('/Users/ana/#1.pdf', 2, 'darwin'), { kind: 'url', url: 'file:///Users/ana/%231.pdf#page=2' }, 'a # in the name is escaped, not read as the fragment');
});
