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
import { createEngine } from '../../engine/api/create-engine.js';
import { toWire } from '../../engine/common/errors.js';
import { JobStore } from '../../engine/jobs/job-store.js';
import { openDatabase, storePath } from '../../engine/store/database.js';
import { LibraryStore } from '../../engine/store/library-store.js';
import type { CliContext } from './cli-context.js';
import { buildProgram } from './main.js';
import { writeSmallCollection } from '../../testing/small-library.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { startEmulator } from '../../../cloud-emulator/index.js';
import { TEST_TOKEN } from '../../testing/cloud-rig.js';

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
  writeSmallCollection(lib, home);
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

/** A read-write engine as the CLI assembles it (host 'cli'); its answer or its error on the wire. */
async function apiWrite<T>(env: NodeJS.ProcessEnv, fn: (engine: ReturnType<typeof createEngine>) => Promise<T>): Promise<T | ReturnType<typeof toWire>> {
  const engine = createEngine({ env, host: 'cli' });
  try {
    return JSON.parse(JSON.stringify(await fn(engine).catch((e: unknown) => toWire(e)))) as T;
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

test('jobs cancel --json is the record jobs.cancel leaves; its refusals are the API\'s errors', async (t) => {
  const { env, ids } = seed(t);
  const r = await cli(env, ['jobs', 'cancel', ids.orphan, '--json']);
  assert.equal(r.error, undefined);
  const cancelled = JSON.parse(r.stdout) as { id: string; status: string };
  const shown = await api(env, (e) => e.api['jobs.show']({ id: ids.orphan }));
  assert.deepEqual(cancelled, shown.job);
  assert.equal(cancelled.status, 'cancelled');
  // The event names the CLI, as before the move (the web host and the app say "from the UI").
  assert.deepEqual(shown.events.at(-1)?.data, { from: 'interrupted', reason: 'cancelled from the command line' });
  for (const [id, code] of [[ids.orphan, 'CONFLICT'], [ids.done, 'CONFLICT'], ['nope', 'NOT_FOUND']] as const) {
    const again = await cli(env, ['jobs', 'cancel', id]);
    assert.equal(again.stdout, '');
    const fromApi = await apiWrite(env, (e) => e.api['jobs.cancel']({ id }));
    assert.deepEqual(toWire(again.error), fromApi, id);
    assert.equal(toWire(again.error).code, code, id);
  }
  // The same call through the API on a like store leaves the same record, but for its id and times.
  const other = seed(t);
  const viaApi = (await apiWrite(other.env, (e) => e.api['jobs.cancel']({ id: other.ids.orphan }))) as { job: Record<string, unknown> };
  const pick = (j: Record<string, unknown>) => ({ kind: j.kind, backend: j.backend, status: j.status, params: j.params, error: j.error, result: j.result, costUsd: j.costUsd });
  assert.deepEqual(pick(cancelled as unknown as Record<string, unknown>), pick(viaApi.job));
  // Without --json: the line it always printed.
  const third = seed(t);
  const plain = await cli(third.env, ['jobs', 'cancel', third.ids.orphan]);
  assert.equal(plain.error, undefined);
  assert.equal(plain.stdout, `cancelled ${third.ids.orphan} (it was interrupted)\n`);
});

test('collections remove: the CLI prints what collections.remove removed; a missing name is the API\'s NOT_FOUND', async (t) => {
  const { env } = seed(t);
  const r = await cli(env, ['collections', 'remove', 'keywords']);
  assert.equal(r.error, undefined);
  assert.equal(r.stdout, 'removed collection keywords\n');
  assert.deepEqual((await api(env, (e) => e.api['collections.list']({}))).collections.map((c) => c.name), ['papers']);
  const missing = await cli(env, ['collections', 'remove', 'keywords']);
  const fromApi = await apiWrite(env, (e) => e.api['collections.remove']({ name: 'keywords' }));
  assert.deepEqual(toWire(missing.error), fromApi);
  assert.equal(toWire(missing.error).code, 'NOT_FOUND');
  assert.deepEqual(await apiWrite(env, (e) => e.api['collections.remove']({ name: 'papers' })), { removed: 'papers' });
  assert.deepEqual((await cli(env, ['collections', 'list', '--json'])).stdout, '[]\n');
});

const { shared, skip: noShared } = sharedOrSkip();
const CHARRNN = (): string => path.join(shared, 'models', 'fixtures', 'charrnn-shakespeare');

test('models list/inspect/import/verify and doctor --json equal models.list/inspect/import/verify and app.doctor', { skip: noShared }, async (t) => {
  const { env: base } = seed(t);
  const env: NodeJS.ProcessEnv = { ...base, TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const list = await cli(env, ['models', 'list', '--json']);
  assert.equal(list.error, undefined);
  const fromApi = await api(env, (e) => e.api['models.list']({}));
  assert.deepEqual(JSON.parse(list.stdout), fromApi.models);
  assert.ok(fromApi.models.some((m) => m.inCatalog) && fromApi.models.some((m) => m.installed), 'catalog and installed models are listed');

  // inspect: a folder (resolved to its model.onnx), a relative path; a missing one is the API's NOT_FOUND.
  const rel = path.relative(process.cwd(), CHARRNN());
  for (const [arg, model] of [[CHARRNN(), CHARRNN()], [rel, CHARRNN()]] as const) {
    const r = await cli(env, ['models', 'inspect', arg, '--json']);
    assert.equal(r.error, undefined, arg);
    const info = await api(env, (e) => e.api['models.inspect']({ model }));
    assert.deepEqual(JSON.parse(r.stdout), info, arg);
    assert.equal(info.file, path.join(CHARRNN(), 'model.onnx'));
  }
  const missing = await cli(env, ['models', 'inspect', '/nonexistent/model.onnx', '--json']);
  assert.deepEqual(toWire(missing.error), await api(env, (e) => e.api['models.inspect']({ model: '/nonexistent/model.onnx' }).catch((err: unknown) => toWire(err))));
  assert.equal(toWire(missing.error).code, 'NOT_FOUND');

  // import then verify: the CLI's answer is the API's (verify of the same folder, imported twice under two ids).
  const src = path.join(env.TANDEM_HOME!, 'mine');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'tokenizer.json'), '{}');
  fs.writeFileSync(path.join(src, 'model.safetensors'), Buffer.alloc(512, 7));
  const imp = await cli(env, ['models', 'import', src, '--id', 'me/cli', '--json']);
  assert.equal(imp.error, undefined);
  const viaApi = await apiWrite(env, (e) => e.api['models.import']({ folder: src, id: 'me/api' }));
  const strip = (r: unknown) => ({ ...(r as Record<string, unknown>), id: null, dir: null });
  assert.deepEqual(strip(JSON.parse(imp.stdout)), strip(viaApi));
  const ver = await cli(env, ['models', 'verify', 'me/cli', '--json']);
  assert.equal(ver.error, undefined);
  assert.deepEqual(JSON.parse(ver.stdout), await api(env, (e) => e.api['models.verify']({ id: 'me/cli' })));

  const doc = await cli(env, ['doctor', '--json']);
  assert.equal(doc.error, undefined);
  const report = await api(env, (e) => e.api['app.doctor']({}));
  const noProbeTime = (r: { webgpu: { ms?: number } }) => ({ ...r, webgpu: { ...r.webgpu, ms: 0 } });
  assert.deepEqual(noProbeTime(JSON.parse(doc.stdout)), noProbeTime(report));
  assert.ok(report.models.some((m) => m.id === 'me/cli'), 'doctor lists the imported model');
});

test('search --json / --queries (json, trec) print search.batch\'s hits as they are; k past 200; errors are the API\'s', async (t) => {
  const { env } = seed(t);
  const one = await cli(env, ['search', 'heron marsh', '--collection', 'papers', '--mode', 'lexical', '--json']);
  assert.equal(one.error, undefined);
  const fromApi = await api(env, (e) => e.api['search.batch']({ collection: 'papers', queries: [{ id: 'q1', text: 'heron marsh' }], mode: 'lexical' }));
  assert.deepEqual(JSON.parse(one.stdout), fromApi.results.q1);
  assert.equal(fromApi.results.q1?.length, 1);
  assert.equal(typeof fromApi.results.q1?.[0]?.chunkId, 'number');
  assert.match(one.stderr, /^tandem search: 1 query, mode lexical, \d+ ms\n$/);

  const file = path.join(env.TANDEM_HOME!, 'queries.jsonl');
  fs.writeFileSync(file, '{"_id": "a", "text": "bread oven"}\n{"_id": "b", "text": "moon tides heron"}\n');
  const queries = [{ id: 'a', text: 'bread oven' }, { id: 'b', text: 'moon tides heron' }];
  const many = await cli(env, ['search', '--queries', file, '--collection', 'papers', '--mode', 'lexical', '--k', '300', '--format', 'json']);
  assert.equal(many.error, undefined);
  const batch = await api(env, (e) => e.api['search.batch']({ collection: 'papers', queries, mode: 'lexical', k: 300 }));
  assert.deepEqual(JSON.parse(many.stdout), batch.results);
  assert.deepEqual(Object.keys(batch.results), ['a', 'b']);

  // TREC: one line per hit, scored from the same answer (without snippets).
  const trec = await cli(env, ['search', '--queries', file, '--collection', 'papers', '--mode', 'lexical']);
  const noSnippets = await api(env, (e) => e.api['search.batch']({ collection: 'papers', queries, mode: 'lexical', snippets: false }));
  const { trecLines } = await import('../../engine/search/trec.js');
  const lines = queries.flatMap((q) => trecLines(q.id, (noSnippets.results[q.id] ?? []).map((h) => ({ docId: h.docKey, score: h.score }))));
  assert.equal(lines.length, 2);
  assert.equal(trec.stdout, lines.join('\n') + '\n');
  assert.equal(noSnippets.results.a?.[0]?.snippet, '');

  const missing = await cli(env, ['search', 'heron', '--collection', 'nope']);
  const apiError = await api(env, (e) => e.api['search.batch']({ collection: 'nope', queries: [{ id: 'q1', text: 'heron' }] }).then(() => null, (err: unknown) => toWire(err)));
  assert.deepEqual(toWire(missing.error), apiError);
  assert.equal(apiError?.code, 'NOT_FOUND');
});

test('jobs export (csv, json, filtered) prints jobs.export\'s text', async (t) => {
  const { env, ids } = seed(t);
  for (const args of [['--format', 'csv'], ['--format', 'json'], ['--format', 'csv', '--status', 'failed'], ['--format', 'json', '--backend', 'local', '--kind', 'parity']]) {
    const r = await cli(env, ['jobs', 'export', ...args]);
    assert.equal(r.error, undefined, args.join(' '));
    const input = { format: args[1] as 'csv' | 'json', ...(args[2] ? { [args[2].slice(2)]: args[3] } : {}), ...(args[4] ? { [args[4].slice(2)]: args[5] } : {}) };
    const fromApi = await api(env, (e) => e.api['jobs.export'](input));
    assert.equal(r.stdout, fromApi.text, args.join(' '));
  }
  const failed = await api(env, (e) => e.api['jobs.export']({ format: 'json', status: 'failed' }));
  assert.deepEqual((JSON.parse(failed.text) as Array<{ id: string }>).map((j) => j.id), [ids.failed]);
  const csv = await api(env, (e) => e.api['jobs.export']({ format: 'csv' }));
  assert.equal(csv.text.split('\r\n').length, 5, 'header, three jobs, and the final CRLF');
});

test('eval --json is search.eval\'s answer (the job id as `job`); the job records the files, so it can be retried', async (t) => {
  const { env } = seed(t);
  const queries = path.join(env.TANDEM_HOME!, 'queries.jsonl');
  const qrels = path.join(env.TANDEM_HOME!, 'qrels.tsv');
  fs.writeFileSync(queries, '{"_id": "a", "text": "bread oven"}\n{"_id": "b", "text": "violin"}\n');
  fs.writeFileSync(qrels, 'query-id\tcorpus-id\tscore\na\tnotes.md\t1\nb\tnotes.md\t1\n');
  const r = await cli(env, ['eval', '--collection', 'papers', '--queries', queries, '--qrels', qrels, '--mode', 'lexical', '--json', '--quiet']);
  assert.equal(r.error, undefined);
  const { job, ...report } = JSON.parse(r.stdout) as { job: string; ms: Record<string, number> };
  const fromApi = (await apiWrite(env, (e) => e.api['search.eval']({ collection: 'papers', queriesFile: queries, qrelsFile: qrels, modes: ['lexical'] }))) as { jobId: string; ms: Record<string, number> };
  const { jobId, ...apiReport } = fromApi;
  assert.deepEqual({ ...report, ms: null }, { ...apiReport, ms: null });
  assert.deepEqual(Object.keys(report.ms), ['lexical']);
  assert.equal((report as unknown as { perQuery: Record<string, { lexical: { 'mrr@10': number } }> }).perQuery.a?.lexical['mrr@10'], 1);
  const [cliJob, apiJob] = await api(env, (e) => Promise.all([e.api['jobs.show']({ id: job }), e.api['jobs.show']({ id: jobId })]));
  assert.deepEqual(cliJob.job.params, apiJob.job.params);
  assert.deepEqual(cliJob.job.params, { collection: 'papers', modes: ['lexical'], k: 100, queriesFile: queries, qrelsFile: qrels });
  assert.equal(cliJob.job.inputDigest, apiJob.job.inputDigest);
  // A relative path is the CLI's to resolve: the API takes absolute paths only.
  const rel = await apiWrite(env, (e) => e.api['search.eval']({ collection: 'papers', queriesFile: 'queries.jsonl', qrels: 'a\tnotes.md\t1' }));
  assert.equal((rel as { code: string }).code, 'INVALID_ARGUMENT');
});

test('collections upgrade --json is the result of the job collections.upgrade started; its errors are the API\'s', { skip: noShared }, async (t) => {
  const { env: base } = seed(t);
  const env: NodeJS.ProcessEnv = { ...base, TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const r = await cli(env, ['collections', 'upgrade', 'keywords', '--model', 'minishlab/potion-base-2M', '--json', '--quiet']);
  assert.equal(r.error, undefined);
  const { job, ...summary } = JSON.parse(r.stdout) as { job: string; to: { model: string } };
  const shown = await api(env, (e) => e.api['jobs.show']({ id: job }));
  assert.equal(shown.job.kind, 'upgrade');
  assert.deepEqual(summary, shown.job.result);
  assert.equal(summary.to.model, 'minishlab/potion-base-2M');
  assert.match(r.stderr, /^tandem collections upgrade: keywords: lexical-only -> minishlab\/potion-base-2M \(static\), 0 chunks/);
  // The same call through the API on a like store: the same kind of job, with the same params.
  const other = seed(t);
  const otherEnv = { ...other.env, TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const started = (await apiWrite(otherEnv, async (e) => {
    const succeeded = new Set<string>();
    let wake = (): void => {};
    e.events.on('job.updated', (u) => void (u.job.status === 'succeeded' && (succeeded.add(u.job.id), wake())));
    const a = await e.api['collections.upgrade']({ name: 'keywords', model: 'minishlab/potion-base-2M' });
    while (!succeeded.has(a.jobId)) await new Promise<void>((resolve) => (wake = resolve));
    return { ...a, job: (await e.api['jobs.show']({ id: a.jobId })).job };
  })) as { resumed: boolean; job: { params: unknown } };
  assert.equal(started.resumed, false);
  assert.deepEqual(started.job.params, shown.job.params);
  for (const args of [['nope', '--model', 'minishlab/potion-base-2M'], ['keywords', '--model', 'nobody/nothing']]) {
    const bad = await cli(env, ['collections', 'upgrade', ...args]);
    const fromApi = await apiWrite(env, (e) => e.api['collections.upgrade']({ name: args[0]!, model: args[2]! }));
    assert.deepEqual(toWire(bad.error), fromApi, args.join(' '));
  }
});

test('jobs retry --json is jobs.retry\'s new record, run here to its end (an eval from files); resume: the API\'s answers and errors', async (t) => {
  const { env, ids } = seed(t);
  const queries = path.join(env.TANDEM_HOME!, 'queries.jsonl');
  const qrels = path.join(env.TANDEM_HOME!, 'qrels.tsv');
  fs.writeFileSync(queries, '{"_id": "a", "text": "bread oven"}\n');
  fs.writeFileSync(qrels, 'a\tnotes.md\t1\n');
  // An eval from these files that failed (as one does when the machine stops mid-way).
  const db = openDatabase(storePath(env.TANDEM_HOME!));
  const store = new JobStore(db);
  const first = store.createJob({ kind: 'eval', backend: 'local', params: { collection: 'papers', modes: ['lexical'], k: 100, queriesFile: queries, qrelsFile: qrels }, input: { queries: '', qrels: '' } }).id;
  store.start(first);
  store.fail(first, { code: 'INTERNAL', message: 'the machine stopped' });
  db.close();
  const r = await cli(env, ['jobs', 'retry', first, '--json']);
  assert.equal(r.error, undefined);
  const retried = JSON.parse(r.stdout) as { id: string; retryOf: string; status: string; kind: string };
  assert.deepEqual([retried.retryOf, retried.status, retried.kind], [first, 'queued', 'eval']);
  assert.match(r.stderr, new RegExp(`^tandem jobs: ${retried.id} succeeded\\n$`));
  const { job: done } = await api(env, (e) => e.api['jobs.show']({ id: retried.id }));
  assert.equal(done.status, 'succeeded');
  assert.deepEqual((done.result as { modes: unknown }).modes, { lexical: { 'ndcg@10': 1, 'recall@100': 1, 'mrr@10': 1 } });
  // The API's retry of the same job: a record like the one the CLI printed.
  const viaApi = (await apiWrite(env, (e) => e.api['jobs.retry']({ id: first }))) as { job: typeof retried; scheduled: boolean };
  const pick = (j: Record<string, unknown>) => ({ kind: j.kind, params: j.params, retryOf: j.retryOf, status: j.status, inputDigest: j.inputDigest });
  assert.deepEqual(pick(viaApi.job), pick(retried));
  assert.equal(viaApi.scheduled, true);
  // A kind this host cannot run stays queued: printed, not waited for.
  const failed = await cli(env, ['jobs', 'retry', ids.failed]);
  assert.match(failed.stderr, /and is queued; this command cannot run parity jobs itself/);
  for (const args of [['resume', ids.orphan], ['resume', ids.done], ['retry', ids.done], ['retry', 'nope']]) {
    const bad = await cli(env, ['jobs', ...args]);
    const id = args[1]!;
    const fromApi = await apiWrite(env, (e) => (args[0] === 'resume' ? e.api['jobs.resume']({ id }) : e.api['jobs.retry']({ id })));
    assert.deepEqual(toWire(bad.error), fromApi, args.join(' '));
  }
  // The API's retry was left unfinished when its engine closed: resume --all runs it here (the dead process's orphan has no runner).
  const all = await cli(env, ['jobs', 'resume', '--all', '--json']);
  assert.equal(all.error, undefined);
  const finals = JSON.parse(all.stdout) as Array<{ id: string; status: string }>;
  assert.deepEqual(finals.map((j) => [j.id, j.status]), [[viaApi.job.id, 'succeeded']]);
  assert.deepEqual(finals[0], (await api(env, (e) => e.api['jobs.show']({ id: viaApi.job.id }))).job);
  assert.equal(all.stderr, `tandem jobs: ${viaApi.job.id} eval succeeded\n`);
  assert.deepEqual(await apiWrite(env, (e) => e.api['jobs.resumeAll']({})), { jobs: [] });
  const none = await cli(env, ['jobs', 'resume', '--all']);
  assert.equal(none.stderr, 'tandem jobs: nothing to resume\n');
});

test('index --json is library.index\'s job and its library.indexReport summary; errors are the API\'s', async (t) => {
  const make = (home: string): string => {
    const dir = path.join(home, 'docs');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a.md'), '# Herons\n\nThe heron stands in the marsh at dawn.\n');
    fs.writeFileSync(path.join(dir, 'sub', 'b.txt'), 'Bread rises in a warm oven.\n');
    fs.writeFileSync(path.join(dir, 'c.bin'), Buffer.from([0, 1, 2, 3, 0, 255, 0, 7]));
    return dir;
  };
  const { env } = seed(t);
  const r = await cli(env, ['index', make(env.TANDEM_HOME!), '--collection', 'notes', '--lexical-only', '--json', '--quiet']);
  assert.equal(r.error, undefined);
  const { job, ...summary } = JSON.parse(r.stdout) as { job: string; totalMs: number; filesIndexed: number };
  assert.equal(summary.filesIndexed, 2);
  const other = seed(t);
  const viaApi = (await apiWrite(other.env, async (e) => {
    const ended = new Set<string>();
    let wake = (): void => {};
    e.events.on('job.updated', (u) => void (u.job.status !== 'running' && u.job.status !== 'queued' && (ended.add(u.job.id), wake())));
    const a = await e.api['library.index']({ paths: [make(other.env.TANDEM_HOME!)], collection: 'notes', lexicalOnly: true });
    while (!ended.has(a.jobIds[0]!)) await new Promise<void>((resolve) => (wake = resolve));
    return { answer: a, report: await e.api['library.indexReport']({ jobId: a.jobIds[0]! }) };
  })) as { answer: { jobIds: string[]; resumed: string[]; modelReason: string | null }; report: { summary: Record<string, unknown>; complete: boolean } };
  assert.deepEqual([viaApi.answer.resumed, viaApi.answer.modelReason, viaApi.report.complete], [[], null, true]);
  // The same summary, but for times and where each home is.
  const like = (s: Record<string, unknown>, home: string) => JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, /Ms$/.test(k) ? 0 : v]))).replaceAll(home, '~')) as unknown;
  assert.deepEqual(like(summary, env.TANDEM_HOME!), like(viaApi.report.summary, other.env.TANDEM_HOME!));
  // After the engine that ran it closed: the record's copy.
  const later = await apiWrite(env, (e) => e.api['library.indexReport']({ jobId: job }));
  assert.equal((later as { complete: boolean }).complete, false);
  for (const args of [[path.join(env.TANDEM_HOME!, 'nothing'), '--collection', 'x'], [env.TANDEM_HOME!, '--collection', 'papers', '--lexical-only']]) {
    const bad = await cli(env, ['index', ...args, '--quiet']);
    const fromApi = await apiWrite(env, (e) => e.api['library.index']({ paths: [args[0]!], collection: args[2]!, ...(args[3] ? { lexicalOnly: true } : {}) }));
    assert.deepEqual(toWire(bad.error), fromApi, args.join(' '));
  }
});

test('run-onnx prints inference.runOnnx\'s outputs; generate --json is generate.run\'s job result, --stream its generate.token events', { skip: noShared }, async (t) => {
  const { env: base } = seed(t);
  const env: NodeJS.ProcessEnv = { ...base, TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const vocab = JSON.parse(fs.readFileSync(path.join(CHARRNN(), 'vocab.fixed.json'), 'utf8')) as Record<string, number>;
  const zeros = [[new Array<number>(128).fill(0)], [new Array<number>(128).fill(0)]];
  const inputs = path.join(env.TANDEM_HOME!, 'step.json');
  fs.writeFileSync(inputs, JSON.stringify({ input_ids: [vocab['R']!], h_in: { dtype: 'float32', data: zeros }, c_in: { dtype: 'float32', data: zeros } }));
  const run = await cli(env, ['run-onnx', '--model', CHARRNN(), '--inputs', inputs, '--device', 'cpu', '--fetch', 'logits']);
  assert.equal(run.error, undefined);
  const viaApi = await apiWrite(env, (e) => e.api['inference.runOnnx']({ model: CHARRNN(), inputs, device: 'cpu', fetch: ['logits'] }));
  const { job, outputs } = viaApi as { job: { kind: string; status: string; params: Record<string, unknown> }; outputs: Record<string, unknown> };
  assert.deepEqual(JSON.parse(run.stdout), outputs);
  assert.deepEqual(Object.keys(outputs), ['logits']);
  assert.deepEqual([job.kind, job.status, job.params.model], ['run-onnx', 'succeeded', path.join(CHARRNN(), 'model.onnx')]);
  // A bad inputs file: the API's error, and no job recorded.
  fs.writeFileSync(inputs, '{"input_ids": [1]}');
  const bad = await cli(env, ['run-onnx', '--model', CHARRNN(), '--inputs', inputs]);
  assert.deepEqual(toWire(bad.error), await apiWrite(env, (e) => e.api['inference.runOnnx']({ model: CHARRNN(), inputs })));
  assert.equal((await api(env, (e) => e.api['jobs.list']({ kind: 'run-onnx' }))).jobs.length, 2, 'the two runs, not the refused ones');

  const args = ['--model', 'fixtures/tiny-decoder-random', '--prompt', 'Hello', '--max-tokens', '8', '--temperature', '1', '--seed', '3', '--threads', '1'];
  const input = { model: 'fixtures/tiny-decoder-random', prompt: 'Hello', maxTokens: 8, temperature: 1, seed: 3, threads: 1 };
  const gen = await cli(env, ['generate', ...args, '--json']);
  assert.equal(gen.error, undefined);
  const printed = JSON.parse(gen.stdout) as { job: string; text: string; timings: unknown };
  const shown = await api(env, (e) => e.api['jobs.show']({ id: printed.job }));
  assert.deepEqual(printed, { job: shown.job.id, ...(shown.job.result as object) });
  const tokens: string[] = [];
  const answer = await apiWrite(env, async (e) => {
    e.events.on('generate.token', (tok) => tokens.push(tok.text));
    return e.api['generate.run'](input);
  });
  const result = (answer as { job: { result: { text: string; timings: unknown } } }).job.result;
  assert.deepEqual({ ...printed, job: null, timings: null }, { ...result, job: null, timings: null }, 'the same seed: the same answer');
  assert.equal(tokens.join(''), result.text, 'generate.token events carry the text');
  const streamed = await cli(env, ['generate', ...args, '--stream']);
  assert.equal(streamed.error, undefined);
  assert.equal(streamed.stdout, result.text + '\n');
});

test('embed: each JSONL row is inference.embed\'s vector for that text (float32), truncation flagged as the API reports it', { skip: noShared }, async (t) => {
  const { env: base } = seed(t);
  const env: NodeJS.ProcessEnv = { ...base, TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const texts = ['hello world', 'semantic search of papers', 'x '.repeat(3000)];
  const r = await cli(env, ['embed', '--model', 'fixtures/minilm-l6-arch-random', '--variant', 'int8', '--device', 'cpu', '--text', ...texts, '--quiet']);
  assert.equal(r.error, undefined);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; embedding: number[]; truncated?: true });
  const page = await api(env, (e) => e.api['inference.embed']({ model: 'fixtures/minilm-l6-arch-random', variant: 'int8', device: 'cpu', texts }));
  const buf = Buffer.from(page.vectors, 'base64');
  const vectors = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  assert.equal(vectors.length, page.count * page.dims);
  assert.deepEqual(rows.map((row) => row.id), [1, 2, 3]);
  for (const [i, row] of rows.entries()) {
    assert.deepEqual(row.embedding.map((x) => Math.fround(x)), Array.from(vectors.subarray(i * page.dims, (i + 1) * page.dims)), `row ${i + 1}`);
    assert.equal(row.truncated === true, page.truncated.includes(i), `row ${i + 1} truncated`);
  }
  assert.deepEqual(page.truncated, [2]);
  // An unknown model: the API's error, as is.
  const missing = await cli(env, ['embed', '--model', 'nobody/nothing', '--text', 'a', '--quiet']);
  assert.deepEqual(toWire(missing.error), await api(env, (e) => e.api['inference.embed']({ model: 'nobody/nothing', texts: ['a'] }).catch((err: unknown) => toWire(err))));
  assert.equal(toWire(missing.error).code, 'MODEL_NOT_FOUND');
});

test('cloud config/health/costs/route/budget/prices/warmup --json are the cloud.* answers (against the emulator)', async (t) => {
  const { env: base } = seed(t);
  const emu = await startEmulator({ port: 0, timeScale: 0.001, retryAfterS: 0, token: TEST_TOKEN, coldStartMs: { 'qwen-32b': 300 }, idleMs: 600_000 });
  t.after(() => emu.close());
  const env: NodeJS.ProcessEnv = { ...base, TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_CLOUDRUN_URL: emu.cloudRunUrl, TANDEM_MODAL_TOKEN: TEST_TOKEN, TANDEM_CLOUDRUN_TOKEN: TEST_TOKEN, TANDEM_CLOUD_POLL_MS: '20' };
  const json = async (args: string[]): Promise<unknown> => {
    const r = await cli(env, [...args, '--json']);
    assert.equal(r.error, undefined, args.join(' '));
    return JSON.parse(r.stdout);
  };
  const config = await api(env, (e) => e.api['cloud.config']({}));
  const noWarmth = (c: typeof config) => ({ ...c, functions: c.functions.map((f) => ({ ...f, warm: null })) });
  assert.deepEqual(noWarmth((await json(['cloud', 'config'])) as typeof config), noWarmth(config));
  assert.equal(config.modal.hasToken, true);
  // --profile: the flag over the environment, as the API's engine with the same flag answers.
  const staging = (await json(['cloud', 'config', '--profile', 'staging'])) as typeof config;
  assert.equal(staging.profile, 'staging');
  assert.equal(staging.sources.profile, '--profile');

  const health = (await json(['cloud', 'health'])) as Array<{ backend: string; ok: boolean; latencyMs: number | null }>;
  const apiHealth = await api(env, (e) => e.api['cloud.health']({}));
  const noLatency = (rows: Array<{ latencyMs: number | null }>) => rows.map((r) => ({ ...r, latencyMs: null }));
  assert.deepEqual(noLatency(health), noLatency(apiHealth.backends));
  assert.deepEqual(health.map((h) => [h.backend, h.ok]), [['modal', true], ['cloud-run', true]]);

  const warm = (await json(['cloud', 'warmup', '--backend', 'modal'])) as { id: string; kind: string; status: string };
  assert.deepEqual([warm.kind, warm.status], ['warmup', 'succeeded']);
  assert.deepEqual(warm, (await api(env, (e) => e.api['jobs.show']({ id: warm.id }))).job);

  // submit --wait: the job cloud.submit started, to its end; without --wait: the record cloud.submit {detached} left (queued).
  const schema = path.join(env.TANDEM_HOME!, 'schema.json');
  fs.writeFileSync(schema, JSON.stringify({ type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }));
  const sub = (await json(['submit', 'generate', '--prompt', 'Name a protein', '--schema', schema, '--backend', 'modal', '--wait'])) as { id: string; kind: string; status: string };
  assert.deepEqual([sub.kind, sub.status], ['generate', 'succeeded']);
  assert.deepEqual(sub, (await api(env, (e) => e.api['jobs.show']({ id: sub.id }))).job);
  const queued = (await json(['submit', 'generate', '--prompt', 'Name a protein', '--schema', schema, '--backend', 'modal'])) as { id: string; status: string; params: { route: { policy: string } } };
  assert.deepEqual([queued.status, queued.params.route.policy], ['queued', 'modal']);
  assert.deepEqual(queued, (await api(env, (e) => e.api['jobs.show']({ id: queued.id }))).job);

  assert.deepEqual(await json(['cloud', 'route', 'boltz2', 'modal']), (await api(env, (e) => e.api['cloud.config']({}))).routing);
  assert.equal(((await json(['cloud', 'route'])) as Record<string, string>).boltz2, 'modal');
  const budget = await json(['cloud', 'budget', '--monthly', '100', '--action', 'block']);
  assert.deepEqual(budget, (await api(env, (e) => e.api['cloud.config']({}))).budget);
  assert.deepEqual(budget, { monthlyUsd: 100, action: 'block' });
  assert.deepEqual(await json(['cloud', 'prices', '--backend', 'modal', '--gpu', 'L4', '--rate', '0.9']), (await api(env, (e) => e.api['cloud.config']({}))).prices);
  const costs = (await json(['cloud', 'costs'])) as { month: { spentUsd: number } };
  // The month's projection moves with the clock between the two calls.
  const noClock = (c: { month: object }) => ({ ...c, month: { ...c.month, daysElapsed: null, projectedUsd: null } });
  assert.deepEqual(noClock(costs), noClock(await api(env, (e) => e.api['cloud.costs']({}))));
  assert.ok(costs.month.spentUsd > 0, 'the warmup cost');
  assert.equal(await json(['cloud', 'budget', '--clear']), null);
});
