import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppUrl, isForwardedEvent, MAX_INPUT_BYTES, validateInvoke } from './ipc-validate';

test('validateInvoke lets contract methods with valid inputs through, with defaults filled in', () => {
  const r = validateInvoke('search.query', { query: 'zebra', collection: 'notes' });
  assert.ok(r.ok, 'a valid search is allowed');
  assert.equal(r.ok && r.method, 'search.query', 'the method is kept');
  assert.deepEqual(r.ok && r.input, { query: 'zebra', collection: 'notes', mode: 'default', fusion: 'score', k: 10 }, 'defaults come from the contract');
  const info = validateInvoke('app.info', undefined);
  assert.ok(info.ok, 'no input means {} for methods without fields');
  const map = validateInvoke('map.compute', { collection: 'notes', method: 'umap' });
  assert.ok(map.ok, 'map.compute is part of the contract');
});

test('validateInvoke refuses unknown methods and bad inputs with INVALID_ARGUMENT naming the problem', () => {
  for (const m of ['nope', 'toString', '__proto__', 'constructor', '', 42, null, undefined, { method: 'app.info' }]) {
    const r = validateInvoke(m, {});
    assert.ok(!r.ok, `${String(m)} is refused`);
    assert.equal(!r.ok && r.error.code, 'INVALID_ARGUMENT', `${String(m)}: INVALID_ARGUMENT`);
    assert.match(!r.ok ? r.error.message : '', /unknown API method/, `${String(m)}: the message says why`);
  }
  const bad = validateInvoke('search.query', { query: '', collection: 3 });
  assert.ok(!bad.ok && bad.error.code === 'INVALID_ARGUMENT', 'a schema violation is INVALID_ARGUMENT');
  assert.match(!bad.ok ? bad.error.message : '', /search\.query: invalid input: query: .*collection: /, 'naming each field');
  const extra = validateInvoke('collections.show', { name: 'x', shell: 'rm -rf /' });
  assert.ok(!extra.ok, 'unknown keys are refused (strict schemas)');
  const wrongType = validateInvoke('files.open', 'path-as-string');
  assert.ok(!wrongType.ok, 'an input that is not an object is refused');
  const big = validateInvoke('search.query', { query: 'x'.repeat(MAX_INPUT_BYTES + 1), collection: 'c' });
  assert.ok(!big.ok && /larger than/.test(big.error.message), 'oversized inputs are refused before parsing');
  const cyclic: Record<string, unknown> = { name: 'x' };
  cyclic.self = cyclic;
  const cyc = validateInvoke('collections.show', cyclic);
  assert.ok(!cyc.ok && cyc.error.code === 'INVALID_ARGUMENT', 'a cyclic object is refused, not thrown');
  const long = validateInvoke('x'.repeat(500), {});
  assert.ok(!long.ok && long.error.message.length < 140, 'a long bogus name is cut in the message');
});

test('only the app page may call, and only contract events are forwarded', () => {
  assert.ok(isAppUrl('app://tandem/index.html#/library'), 'the app origin');
  assert.ok(!isAppUrl('app://evil/index.html'), 'another app:// host');
  assert.ok(!isAppUrl('https://example.com/'), 'remote content');
  assert.ok(!isAppUrl('file:///tmp/x.html'), 'a local file');
  assert.ok(!isAppUrl('not a url'), 'garbage');
  assert.ok(isAppUrl('http://localhost:5173/#/map', 'http://localhost:5173/'), 'the dev server in development');
  assert.ok(!isAppUrl('http://localhost:5174/', 'http://localhost:5173/'), 'another port is not the dev server');
  assert.ok(!isAppUrl('http://localhost:5173/'), 'no dev server in production');
  assert.ok(isForwardedEvent('job.updated') && isForwardedEvent('map.progress'), 'contract events');
  assert.ok(!isForwardedEvent('hasOwnProperty') && !isForwardedEvent('tandem:secret'), 'nothing else');
});
