import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { WORKER_ENTRIES } from './worker-entries.mjs';

const root = path.resolve(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(p);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

test('every worker the engine spawns by name is in the one registry, and every entry exists', () => {
  for (const [name, src] of Object.entries(WORKER_ENTRIES)) {
    assert.ok(fs.existsSync(path.join(root, src)), `${name}: ${src} is missing`);
    assert.equal(path.basename(src, '.ts'), name, `${name}: the entry's file must be named after the worker (spawnWorker looks for ./${name}.js)`);
  }
  const spawned = new Set<string>();
  for (const file of sources(path.join(root, 'native'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/spawnWorker\('([\w-]+)'/g)) spawned.add(m[1]!);
    for (const m of text.matchAll(/entry: '([\w-]+-worker)'/g)) spawned.add(m[1]!);
  }
  assert.ok(spawned.size >= 5, `found only ${[...spawned].join(', ')}`);
  for (const name of spawned) assert.ok(name in WORKER_ENTRIES, `${name} is spawned but not in native/engine/node/worker-entries.mjs`);
});

test('both bundles read the registry instead of listing workers themselves', () => {
  for (const f of ['scripts/build-cli.mjs', 'electron.vite.config.ts']) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    assert.match(text, /WORKER_ENTRIES/, `${f} does not use WORKER_ENTRIES`);
    for (const name of Object.keys(WORKER_ENTRIES)) assert.doesNotMatch(text, new RegExp(`'${name}':`), `${f} lists ${name} by hand`);
  }
});
