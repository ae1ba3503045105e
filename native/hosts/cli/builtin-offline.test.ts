import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runTandem } from '../../testing/cli-run.js';

/**
 * A fresh offline machine: no TANDEM_MODELS_DIR, an empty TANDEM_HOME, no ../shared needed, a
 * download server that refuses connections. The built-in model indexes and searches a folder.
 */
test('with TANDEM_MODELS_DIR unset and an empty TANDEM_HOME, tandem index and search (vector and lexical) work on the built-in model', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-offline-'));
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  const docs = path.join(tmp, 'notes');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'volcano.md'), '# Volcanoes\n\nMagma rises through the crust and erupts as lava from the volcano.\n');
  fs.writeFileSync(path.join(docs, 'bread.txt'), 'A baker kneads the dough, lets it rise and bakes a loaf of bread in the oven.\n');
  fs.writeFileSync(path.join(docs, 'stocks.txt'), 'Stock markets fell sharply today as investors sold shares of banks.\n');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, TANDEM_HOME: home, TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' };

  const ix = await runTandem(['index', docs, '--collection', 'notes'], env);
  assert.equal(ix.status, 0, ix.stderr);
  assert.match(ix.stderr, /tandem index: model minishlab\/potion-base-2M: the built-in model/, 'it says which model it chose and why');
  assert.match(ix.stderr, /3 documents written/);

  const show = await runTandem(['collections', 'show', 'notes', '--json'], env);
  assert.equal(show.status, 0, show.stderr);
  assert.deepEqual((JSON.parse(show.stdout) as { models: string[] }).models, ['minishlab/potion-base-2M@static']);

  const top = async (mode: string, query: string): Promise<string> => {
    const r = await runTandem(['search', query, '--collection', 'notes', '--mode', mode, '--k', '3', '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const hits = JSON.parse(r.stdout) as Array<{ path: string; score: number }>;
    assert.ok(hits.length > 0, `${mode}: no hits`);
    return path.basename(hits[0]!.path);
  };
  assert.equal(await top('vector', 'baking bread in an oven'), 'bread.txt');
  assert.equal(await top('vector', 'lava eruption'), 'volcano.md');
  assert.equal(await top('lexical', 'investors shares'), 'stocks.txt');

  const list = await runTandem(['models', 'list', '--json'], env);
  assert.equal(list.status, 0, list.stderr);
  const potion = (JSON.parse(list.stdout) as Array<{ id: string; builtin: boolean; installed: boolean }>).find((m) => m.id === 'minishlab/potion-base-2M');
  assert.deepEqual([potion?.installed, potion?.builtin], [true, true]);
  const text = await runTandem(['models', 'list'], env);
  assert.match(text.stdout, /minishlab\/potion-base-2M\s+embedding, 64-d, mit, built in\s+installed \[static\]/);
  const doctor = await runTandem(['doctor'], env);
  assert.equal(doctor.status, 0, doctor.stderr);
  assert.match(doctor.stdout, /minishlab\/potion-base-2M \[static\] \(built in: works offline\)/);
});
