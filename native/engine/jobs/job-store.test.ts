import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { isTandemError, TandemError, type ErrorCode } from '../common/errors.js';
import { openDatabase, type Db } from '../store/database.js';
import { canonicalJson, inputDigest } from './canonical-json.js';
import { JOB_ID_PATTERN } from './job-id.js';
import { JobStore, type JobStoreOptions } from './job-store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-jobstore-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function fresh(opts: JobStoreOptions = {}): { db: Db; store: JobStore; file: string } {
  const file = path.join(tmp, `j${n++}.db`);
  const db = openDatabase(file);
  return { db, store: new JobStore(db, opts), file };
}

/** A clock the test moves by hand. */
function fakeClock(start = Date.parse('2025-03-01T10:00:00.000Z')): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function code(c: ErrorCode, re?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isTandemError(e), `expected a TandemError, got ${String(e)}`);
    assert.equal((e as TandemError).code, c, (e as Error).message);
    if (re) assert.match((e as Error).message, re);
    return true;
  };
}

const embed = (input: unknown = ['a', 'b']) => ({ kind: 'embed', backend: 'local' as const, params: { model: 'x/y' }, input });

test('createJob writes the queued row and its event before anything runs (visible to another connection)', () => {
  const { db, store, file } = fresh();
  const job = store.createJob({ ...embed(), priority: 3 });
  const other = new Database(file, { readonly: true });
  try {
    const row = other.prepare('SELECT status, kind, backend, params, priority, input_digest FROM jobs WHERE id = ?').get(job.id);
    assert.deepEqual(row, { status: 'queued', kind: 'embed', backend: 'local', params: '{"model":"x/y"}', priority: 3, input_digest: inputDigest(['a', 'b']) });
    assert.deepEqual(other.prepare('SELECT type FROM job_events WHERE job_id = ?').all(job.id), [{ type: 'queued' }]);
  } finally {
    other.close();
    db.close();
  }
  assert.match(job.id, JOB_ID_PATTERN);
  assert.equal(job.status, 'queued');
  assert.deepEqual(job.progress, { done: 0, total: null });
});

test('every state change appends an event; the record carries timings, device, result and cost', () => {
  const clock = fakeClock();
  const { db, store } = fresh({ now: clock.now });
  const job = store.createJob(embed());
  clock.advance(40);
  store.start(job.id, { device: 'cpu' });
  clock.advance(300);
  store.progress(job.id, 5, 10);
  clock.advance(300);
  store.progress(job.id, 10, 10);
  clock.advance(10);
  const done = store.succeed(job.id, { result: { vectors: 10 }, loadMs: 120, inferenceMs: 500, costUsd: 0.25, device: 'cuda' });
  assert.deepEqual(store.events(job.id).map((e) => e.type), ['queued', 'started', 'progress', 'progress', 'succeeded']);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.device, 'cuda');
  assert.deepEqual(done.result, { vectors: 10 });
  assert.equal(done.costUsd, 0.25);
  assert.deepEqual(done.progress, { done: 10, total: 10 });
  assert.deepEqual(done.timings, {
    queuedAt: '2025-03-01T10:00:00.000Z',
    startedAt: '2025-03-01T10:00:00.040Z',
    finishedAt: '2025-03-01T10:00:00.650Z',
    loadMs: 120,
    inferenceMs: 500,
    queueMs: 40,
    transferMs: null,
  });
  assert.deepEqual(store.events(job.id).at(-1)!.data, { durationMs: 610 });
  const started = store.events(job.id)[1]!;
  assert.deepEqual(started.data, { owner: { pid: process.pid, host: os.hostname() }, device: 'cpu' });

  const f = store.createJob(embed());
  store.start(f.id);
  const failed = store.fail(f.id, new TandemError('INFERENCE_FAILED', 'onnxruntime said no'), { loadMs: 5 });
  assert.equal(failed.status, 'failed');
  assert.deepEqual(failed.error, { code: 'INFERENCE_FAILED', message: 'onnxruntime said no' });
  assert.deepEqual(store.events(f.id).map((e) => [e.type, e.data]), [
    ['queued', { kind: 'embed', backend: 'local', priority: 0 }],
    ['started', { owner: { pid: process.pid, host: os.hostname() } }],
    ['failed', { code: 'INFERENCE_FAILED', message: 'onnxruntime said no' }],
  ]);

  const plain = store.createJob(embed());
  store.start(plain.id);
  assert.deepEqual(store.fail(plain.id, new Error('kaboom')).error, { code: 'INTERNAL', message: 'kaboom' });

  const c = store.createJob(embed());
  const cancelled = store.cancel(c.id, 'changed my mind');
  assert.equal(cancelled.status, 'cancelled');
  assert.deepEqual(store.events(c.id).map((e) => [e.type, e.data]).at(-1), ['cancelled', { from: 'queued', reason: 'changed my mind' }]);
  db.close();
});

test('a CANCELLED error cancels instead of failing', () => {
  const { db, store } = fresh();
  const job = store.createJob(embed());
  store.start(job.id);
  const r = store.fail(job.id, new TandemError('CANCELLED', 'user pressed ctrl-c'));
  assert.equal(r.status, 'cancelled');
  assert.equal(r.error, null);
  assert.deepEqual(store.events(job.id).map((e) => e.type), ['queued', 'started', 'cancelled']);
  db.close();
});

test('illegal transitions throw CONFLICT naming the job; finished records never change through the API', () => {
  const { db, store } = fresh();
  const job = store.createJob(embed());
  assert.throws(() => store.succeed(job.id), code('CONFLICT', new RegExp(`cannot succeed job ${job.id}: it is queued \\(only running jobs can be succeeded\\)`)));
  assert.throws(() => store.resume(job.id), code('CONFLICT', /only interrupted jobs can be resumed/));
  assert.throws(() => store.progress(job.id, 1, 2), code('CONFLICT', /it is queued/));
  store.cancel(job.id);
  const before = store.get(job.id);
  const eventsBefore = store.events(job.id).length;
  for (const act of [() => store.start(job.id), () => store.succeed(job.id, { result: 1 }), () => store.fail(job.id, new Error('x')), () => store.cancel(job.id), () => store.resume(job.id), () => store.annotate(job.id, { device: 'cpu' }), () => store.checkpoint(job.id, 'a.txt')]) {
    assert.throws(act, code('CONFLICT', new RegExp(`job ${job.id}: it is cancelled \\(finished job records never change\\)`)));
  }
  assert.deepEqual(store.get(job.id), before);
  assert.equal(store.events(job.id).length, eventsBefore);
  assert.throws(() => store.get('01NOPE'), code('NOT_FOUND', /no job with id 01NOPE/));
  assert.throws(() => store.start('01NOPE'), code('NOT_FOUND', /no job with id 01NOPE/));
  db.close();
});

test('a finished record is immutable even through raw SQL; events are append-only', () => {
  const { db, store } = fresh();
  const job = store.createJob(embed());
  store.start(job.id);
  store.succeed(job.id, { result: 'ok' });
  assert.throws(() => db.prepare("UPDATE jobs SET status = 'failed' WHERE id = ?").run(job.id), /job record is final/);
  assert.throws(() => db.prepare('UPDATE jobs SET cost_usd = 99 WHERE id = ?').run(job.id), /job record is final/);
  assert.throws(() => db.prepare('DELETE FROM jobs WHERE id = ?').run(job.id), /job record is final/);
  assert.throws(() => db.prepare("UPDATE job_events SET type = 'note' WHERE job_id = ?").run(job.id), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM job_events WHERE job_id = ?').run(job.id), /append-only/);
  assert.equal(store.get(job.id).status, 'succeeded');
  assert.equal(store.get(job.id).costUsd, 0);
  assert.equal(store.events(job.id).length, 3);
  db.close();
});

test('a job running when the process died is interrupted at the next start-up, then resumes with its checkpoints', () => {
  const file = path.join(tmp, 'restart.db');
  let db = openDatabase(file);
  let store = new JobStore(db);
  const job = store.createJob({ kind: 'index', backend: 'local', params: { collection: 'papers' }, input: { root: '/papers' } });
  store.start(job.id);
  store.checkpoint(job.id, 'a.pdf');
  store.checkpoint(job.id, 'b.pdf');
  store.checkpoint(job.id, 'a.pdf'); // idempotent
  const idle = store.createJob(embed());
  db.close(); // the "crash": never finished

  db = openDatabase(file);
  store = new JobStore(db);
  const interrupted = store.markInterrupted();
  assert.deepEqual(interrupted.map((j) => [j.id, j.status]), [[job.id, 'interrupted']]);
  assert.equal(store.get(idle.id).status, 'queued', 'a queued job is not interrupted');
  assert.deepEqual(store.events(job.id).at(-1)!.type, 'interrupted');
  assert.deepEqual(store.markInterrupted(), [], 'nothing left running');
  assert.deepEqual(store.checkpoints(job.id), new Set(['a.pdf', 'b.pdf']));
  const resumed = store.resume(job.id);
  assert.equal(resumed.status, 'running');
  assert.equal(resumed.timings.startedAt, store.events(job.id)[1]!.at, 'started_at keeps the first start');
  store.checkpoint(job.id, 'c.pdf');
  store.succeed(job.id, { result: { documents: 3 } });
  assert.deepEqual(store.events(job.id).map((e) => e.type), ['queued', 'started', 'interrupted', 'resumed', 'succeeded']);
  assert.deepEqual(store.checkpoints(job.id), new Set(['a.pdf', 'b.pdf', 'c.pdf']));
  db.close();
});

test('markInterrupted leaves jobs of live processes alone', () => {
  const { db, store, file } = fresh();
  const mine = store.createJob(embed());
  store.start(mine.id);
  // another live process on this host started this one (the parent of this test process)
  const theirs = new JobStore(db, { owner: { pid: process.ppid, host: os.hostname() } });
  const other = theirs.createJob(embed());
  theirs.start(other.id);
  const gone = new JobStore(db, { owner: { pid: 2 ** 30, host: os.hostname() } });
  const dead = gone.createJob(embed());
  gone.start(dead.id);
  const later = new JobStore(openDatabase(file));
  const marked = later.markInterrupted().map((j) => j.id);
  later.db.close();
  assert.deepEqual(marked.sort(), [mine.id, dead.id].sort(), 'this process and the dead pid are interrupted, the live parent is not');
  assert.equal(store.get(other.id).status, 'running');
  db.close();
});

test('progress is throttled: few row writes, sparse events, the last value kept at the end', () => {
  const clock = fakeClock();
  const { db, store } = fresh({ now: clock.now });
  const job = store.createJob(embed());
  store.start(job.id);
  let writes = 0;
  for (let i = 1; i <= 10_000; i++) {
    store.progress(job.id, i, 10_000);
    clock.advance(1); // 10 s of batches, one per ms
    if (store.get(job.id).progress.done === i) writes++;
  }
  assert.ok(writes <= 10_000 / 250 + 2, `at most one write per 250 ms (+ first and last), got ${writes}`);
  assert.ok(writes >= 10_000 / 250 - 2, `about one write per 250 ms, got ${writes}`);
  const progressEvents = store.events(job.id).filter((e) => e.type === 'progress');
  assert.ok(progressEvents.length <= 11, `one progress event per 10% at most, got ${progressEvents.length}`);
  assert.deepEqual(progressEvents.at(-1)!.data, { done: 10_000, total: 10_000 });
  // a throttled call does no I/O: 100,000 of them are quick
  const j1 = store.createJob(embed());
  store.start(j1.id);
  store.progress(j1.id, 0, 200_000);
  const t0 = performance.now();
  for (let i = 1; i <= 100_000; i++) store.progress(j1.id, i, 200_000);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `100,000 throttled progress() calls took ${ms.toFixed(0)} ms`);
  assert.deepEqual(store.get(j1.id).progress, { done: 0, total: 200_000 }, 'throttled calls wrote nothing');
  // a total change is written at once
  store.progress(job.id, 3, 20_000);
  assert.deepEqual(store.get(job.id).progress, { done: 3, total: 20_000 });
  // an unwritten (throttled) value is kept when the job finishes
  clock.advance(300);
  store.progress(job.id, 4, 20_000);
  store.progress(job.id, 5, 20_000);
  assert.deepEqual(store.succeed(job.id).progress, { done: 5, total: 20_000 });
  assert.throws(() => store.progress(job.id, 6, 20_000), code('CONFLICT'));
  const j2 = store.createJob(embed());
  store.start(j2.id);
  assert.throws(() => store.progress(j2.id, 3, 2), code('INVALID_ARGUMENT', /0 <= done <= total/));
  assert.throws(() => store.progress(j2.id, 1.5, 2), code('INVALID_ARGUMENT'));
  db.close();
});

test('params are validated per kind; any kind needs a JSON object', () => {
  const { db, store } = fresh();
  assert.throws(() => store.createJob({ kind: 'embed', backend: 'local', params: { variant: 'fp32' }, input: 1 }), code('INVALID_ARGUMENT', /embed job params are invalid: model: /));
  assert.throws(() => store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y', variant: 'fp64' }, input: 1 }), code('INVALID_ARGUMENT', /variant/));
  assert.throws(() => store.createJob({ kind: 'index', backend: 'local', params: { model: 'x/y' }, input: 1 }), code('INVALID_ARGUMENT', /collection/));
  assert.throws(() => store.createJob({ kind: 'boltz2', backend: 'modal', params: [1, 2], input: 1 }), code('INVALID_ARGUMENT', /must be a JSON object, got an array/));
  assert.throws(() => store.createJob({ kind: 'boltz2', backend: 'modal', params: { x: NaN }, input: 1 }), code('INVALID_ARGUMENT', /\$\.x is NaN/));
  assert.throws(() => store.createJob({ kind: 'boltz2', backend: 'modal', params: { when: new Date() }, input: 1 }), code('INVALID_ARGUMENT', /not a plain object/));
  assert.throws(() => store.createJob({ kind: 'Bad Kind', backend: 'local', params: {}, input: 1 }), code('INVALID_ARGUMENT', /job kind/));
  assert.throws(() => store.createJob({ kind: 'embed', backend: 'aws' as 'local', params: { model: 'x/y' }, input: 1 }), code('INVALID_ARGUMENT', /backend must be one of local, modal, cloud-run/));
  assert.throws(() => store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y' } }), code('INVALID_ARGUMENT', /exactly one of input or inputDigest/));
  const extra = store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y', mine: { a: [1, null] } }, input: 1 });
  assert.deepEqual(extra.params, { model: 'x/y', mine: { a: [1, null] } });
  const free = store.createJob({ kind: 'boltz2', backend: 'modal', params: { anything: true }, inputDigest: 'a'.repeat(64) });
  assert.equal(free.inputDigest, 'a'.repeat(64));
  assert.equal(db.prepare('SELECT COUNT(*) AS n FROM jobs').pluck().get(), 2, 'nothing written for invalid jobs');
  db.close();
});

test('the input digest is sha256 of canonical JSON: key order does not matter', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x', { d: 2, c: 1.5 }] }), '{"a":[true,null,"x",{"c":1.5,"d":2}],"b":1}');
  assert.equal(inputDigest({ b: 1, a: 2 }), inputDigest({ a: 2, b: 1 }));
  assert.equal(inputDigest({ a: 2, b: 1 }), createHash('sha256').update('{"a":2,"b":1}').digest('hex'));
  assert.notEqual(inputDigest(['a', 'b']), inputDigest(['b', 'a']));
});

test('ids sort by creation; list filters, limits and pages newest first', () => {
  const clock = fakeClock();
  const { db, store } = fresh({ now: clock.now });
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const kind = i % 3 === 0 ? 'index' : 'embed';
    const params = kind === 'index' ? { collection: 'c' } : { model: 'x/y' };
    ids.push(store.createJob({ kind, backend: i % 2 ? 'modal' : 'local', params, input: i }).id);
    if (i % 10 === 9) clock.advance(1); // many ids within one millisecond
  }
  assert.deepEqual([...ids].sort(), ids, 'ids are in creation order');
  assert.equal(new Set(ids).size, 30);
  store.start(ids[4]!);
  assert.deepEqual(store.list({ limit: 5 }).map((j) => j.id), ids.slice(-5).reverse());
  assert.deepEqual(store.list({ limit: 5, before: ids[10] }).map((j) => j.id), ids.slice(5, 10).reverse());
  assert.deepEqual(store.list({ status: 'running' }).map((j) => j.id), [ids[4]]);
  assert.equal(store.list({ kind: 'index', limit: 100 }).length, 10);
  assert.equal(store.list({ kind: 'index', backend: 'modal', limit: 100 }).length, 5);
  assert.equal(store.list({ status: ['queued', 'running'], limit: 100 }).length, 30);
  assert.equal([...store.iterate()].length, 30);
  assert.throws(() => store.list({ limit: 0 }), code('INVALID_ARGUMENT'));
  assert.throws(() => store.list({ status: 'done' as 'queued' }), code('INVALID_ARGUMENT', /unknown job status "done"/));
  db.close();
});

test('two stores (think: two processes) writing in the same millisecond keep creation order', () => {
  const clock = fakeClock();
  const { db, store } = fresh({ now: clock.now });
  const twin = new JobStore(db, { now: clock.now });
  const ids = Array.from({ length: 40 }, (_, i) => (i % 2 ? twin : store).createJob({ kind: 'x', backend: 'local', params: {}, input: i }).id);
  assert.deepEqual([...ids].sort(), ids, 'ids from two stores are in creation order');
  assert.equal(new Set(ids).size, 40);
  clock.advance(-5_000); // the clock steps back
  const later = store.createJob({ kind: 'x', backend: 'local', params: {}, input: 'late' }).id;
  assert.ok(later > ids.at(-1)!, 'an id made after a clock step back still sorts last');
  db.close();
});

test('createRetry links a new queued job; an interrupted original is superseded', () => {
  const { db, store } = fresh();
  const ok = store.createJob(embed());
  assert.throws(() => store.createRetry(ok.id), code('CONFLICT', /cannot retry job .*: it is queued/));
  store.start(ok.id);
  store.fail(ok.id, new TandemError('BACKEND_ERROR', 'down'));
  const r = store.createRetry(ok.id);
  assert.equal(r.retryOf, ok.id);
  assert.equal(r.status, 'queued');
  assert.deepEqual([r.kind, r.backend, r.params, r.inputDigest, r.priority], [ok.kind, ok.backend, ok.params, ok.inputDigest, ok.priority]);
  assert.deepEqual(store.events(ok.id).at(-1), { ...store.events(ok.id).at(-1)!, type: 'retried', data: { newJobId: r.id } });
  assert.deepEqual(store.events(r.id)[0]!.data, { kind: 'embed', backend: 'local', priority: 0, retryOf: ok.id });

  const i = store.createJob(embed());
  store.start(i.id);
  db.prepare("UPDATE jobs SET status = 'interrupted' WHERE id = ?").run(i.id);
  const r2 = store.createRetry(i.id);
  assert.equal(store.get(i.id).status, 'cancelled');
  assert.deepEqual(store.events(i.id).at(-1)!.data, { from: 'interrupted', reason: `superseded by retry ${r2.id}` });
  db.close();
});

test('annotate records device and remote id while running; checkpoints need a running job', () => {
  const { db, store } = fresh();
  const job = store.createJob({ kind: 'boltz2', backend: 'modal', params: {}, input: 'MKT' });
  assert.throws(() => store.checkpoint(job.id, 'x'), code('CONFLICT', /only running jobs/));
  assert.throws(() => store.checkpoint('nope', 'x'), code('NOT_FOUND'));
  store.start(job.id);
  const a = store.annotate(job.id, { remoteId: 'fc-123', device: 'A100' });
  assert.deepEqual([a.remoteId, a.device], ['fc-123', 'A100']);
  assert.deepEqual(store.events(job.id).at(-1)!.data, { device: 'A100', remoteId: 'fc-123' });
  assert.throws(() => store.checkpoint(job.id, ''), code('INVALID_ARGUMENT'));
  db.close();
});
