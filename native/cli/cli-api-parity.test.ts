/**
 * The CLI is a client of the engine's API: a moved command's `--json` output is the API's answer
 * for the same call on the same store (issue 19). Runs the CLI in-process (buildProgram) and the
 * engine (createEngine) over one real SQLite store.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { CommanderError } from 'commander';
import { createEngine } from '../api/create-engine.js';
import { toWire } from '../engine/common/errors.js';
import { JobStore } from '../jobs/job-store.js';
import { openDatabase, storePath } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import type { CliContext } from './cli-context.js';
import { buildProgram } from './main.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** `tandem ARGS` in this process: stdout, stderr and what it threw. */
async function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const ctx: CliContext = { env, stdout, stderr, setExitCode: () => {} };
  const program = buildProgram(ctx);
  program.configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  try {
    await program.parseAsync(['node', 'tandem', ...args]);
    return { stdout: stdout.text, stderr: stderr.text };
  } catch (e) {
    if (e instanceof CommanderError) throw e;
    return { stdout: stdout.text, stderr: stderr.text, error: e };
  }
}

/** A home with one collection (3 chunks), a finished job, a failed one and one left running by a dead process. */
function seed(t: TestContext): { env: NodeJS.ProcessEnv; ids: { done: string; failed: string; orphan: string } } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-parity-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const db = openDatabase(storePath(home));
  const lib = new LibraryStore(db);
  const c = lib.ensureCollection({ name: 'papers', model: 'm/x', variant: 'static', root: home });
  const texts = ['the heron stands in the marsh', 'bread rises in a warm oven', 'tides follow the moon'];
  lib.writeDocuments(c.id, 'm/x@static', [
    {
      doc: { key: 'notes.md', path: path.join(home, 'notes.md'), fileType: 'md', size: 100, mtimeMs: 1, sha256: 'x' },
      chunks: texts.map((text, ord) => ({ ord, text, start: ord * 40, end: ord * 40 + text.length, tokens: 6 })),
      vectors: Float32Array.from({ length: texts.length * 4 }, (_, i) => Math.sin(i + 1)),
      dims: 4,
    },
  ]);
  lib.ensureCollection({ name: 'keywords', model: null, variant: null, root: home });
  const store = new JobStore(db);
  const done = store.createJob({ kind: 'parity', backend: 'local', params: { n: 1 }, input: { n: 1 } });
  store.start(done.id);
  store.succeed(done.id, { result: { ok: true } });
  const failed = store.createJob({ kind: 'parity', backend: 'modal', params: { n: 2 }, input: { n: 2 } });
  store.start(failed.id);
  store.fail(failed.id, { code: 'BACKEND_UNAVAILABLE', message: 'modal is down' });
  const dead = new JobStore(db, { owner: { host: os.hostname(), pid: 2 ** 22 + 17 } });
  const orphan = dead.createJob({ kind: 'orphaned', backend: 'local', params: { n: 3 }, input: { n: 3 } });
  dead.start(orphan.id);
  db.close();
  return { env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '' }, ids: { done: done.id, failed: failed.id, orphan: orphan.id } };
}

async function api<T>(env: NodeJS.ProcessEnv, fn: (engine: ReturnType<typeof createEngine>) => Promise<T>): Promise<T> {
  const engine = createEngine({ env, host: 'test', readOnly: true });
  try {
    return JSON.parse(JSON.stringify(await fn(engine))) as T;
  } finally {
    await engine.close();
  }
}

test('collections list/show --json equal collections.list/show', async (t) => {
  const { env } = seed(t);
  const list = await cli(env, ['collections', 'list', '--json']);
  assert.equal(list.error, undefined);
  const fromApi = await api(env, (e) => e.api['collections.list']({}));
  assert.deepEqual(JSON.parse(list.stdout), fromApi.collections);
  assert.deepEqual(fromApi.collections.map((c) => [c.name, c.documents, c.chunks]).sort(), [['keywords', 0, 0], ['papers', 1, 3]]);

  for (const name of ['papers', 'keywords']) {
    const show = await cli(env, ['collections', 'show', name, '--json']);
    assert.equal(show.error, undefined);
    assert.deepEqual(JSON.parse(show.stdout), await api(env, (e) => e.api['collections.show']({ name })));
  }
  // A missing collection: the API's error, as is.
  const missing = await cli(env, ['collections', 'show', 'nope', '--json']);
  const apiError = await api(env, (e) => e.api['collections.show']({ name: 'nope' }).then(() => null, (err: unknown) => toWire(err)));
  assert.deepEqual(toWire(missing.error), apiError);
  assert.equal(apiError?.code, 'NOT_FOUND');
});

test('jobs list/show/stats --json equal jobs.list/show/stats; a dead process\'s job is marked interrupted through the engine', async (t) => {
  const { env, ids } = seed(t);
  const list = await cli(env, ['jobs', 'list', '--json']);
  assert.equal(list.error, undefined);
  const cliJobs = JSON.parse(list.stdout) as Array<{ id: string; status: string }>;
  const fromApi = await api(env, (e) => e.api['jobs.list']({ limit: 20 }));
  assert.deepEqual(cliJobs, fromApi.jobs);
  assert.deepEqual(cliJobs.map((j) => [j.id, j.status]).sort(), [[ids.done, 'succeeded'], [ids.failed, 'failed'], [ids.orphan, 'interrupted']].sort());

  for (const [args, input] of [
    [['--status', 'failed'], { status: 'failed' }],
    [['--backend', 'local', '--limit', '1'], { backend: 'local', limit: 1 }],
    [['--kind', 'orphaned'], { kind: 'orphaned' }],
  ] as const) {
    const r = await cli(env, ['jobs', 'list', ...args, '--json']);
    assert.deepEqual(JSON.parse(r.stdout), (await api(env, (e) => e.api['jobs.list']({ limit: 20, ...input }))).jobs, args.join(' '));
  }

  const stats = await cli(env, ['jobs', 'stats', '--json']);
  assert.equal(stats.error, undefined);
  const apiStats = await api(env, (e) => e.api['jobs.stats']({}));
  assert.deepEqual(JSON.parse(stats.stdout).counts, apiStats.counts);
  assert.deepEqual(JSON.parse(stats.stdout).errorRate, apiStats.errorRate);
  assert.equal(apiStats.counts.total, 3);

  for (const id of [ids.done, ids.failed, ids.orphan]) {
    const show = await cli(env, ['jobs', 'show', id, '--json']);
    assert.equal(show.error, undefined);
    assert.deepEqual(JSON.parse(show.stdout), await api(env, (e) => e.api['jobs.show']({ id })));
  }
});
