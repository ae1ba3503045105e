import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { JOB_KIND_NAMES, parseJobParams, parseJobResult } from '../common/job-kinds.js';
import { openDatabase } from '../store/database.js';
import { JobQueue, JobRunners, kindRunner } from './job-queue.js';
import type { JobKind } from '../common/job-kinds.js';
import { JobStore } from './job-store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-jobkinds-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const db = openDatabase(path.join(tmp, `k${n++}.db`));
  return { db, store: new JobStore(db, { progressIntervalMs: 0 }) };
};

test('every kind has a params and a result schema; a bad field is named with its kind', () => {
  assert.deepEqual([...JOB_KIND_NAMES].sort(), ['boltz2', 'boltz2-batch', 'embed', 'embed-remote', 'eval', 'generate', 'generate-local', 'index', 'model-pull', 'run-onnx', 'upgrade', 'warmup']);
  assert.throws(() => parseJobParams('index', { collection: 'c', model: 'm' }, 'J1'), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /index job J1 has invalid params: root:/.test(e.message));
  assert.throws(() => parseJobParams('eval', { collection: 'c', modes: ['fuzzy'], k: 10 }), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /eval job has invalid params: modes\.0:/.test(e.message));
  assert.throws(() => parseJobParams('nope', {}), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /unknown job kind "nope"/.test(e.message));
  // loose: fields the schema does not name are kept
  assert.deepEqual(parseJobParams('model-pull', { id: 'a/b', extra: 1 }), { id: 'a/b', extra: 1 });
  assert.throws(() => parseJobResult('upgrade', { collection: 'c' }, 'J2'), (e: unknown) => isTandemError(e, 'INTERNAL') && /upgrade job J2 has an unexpected result: /.test(e.message));
});

test('a stored job whose params no longer fit its kind fails with an error naming the kind and field; its runner never runs', async () => {
  const { db, store } = fresh();
  // the store itself only checks index params loosely (collection): an old or corrupt row
  const job = store.createJob({ kind: 'index', backend: 'local', params: { collection: 'papers' }, input: 1 });
  db.prepare('UPDATE jobs SET params = ? WHERE id = ?').run(JSON.stringify({ collection: 'papers', model: 42 }), job.id);
  let ran = false;
  const runners = new JobRunners();
  runners.register('index', kindRunner('index', async () => {
    ran = true;
    throw new Error('unreachable');
  }));
  const queue = new JobQueue(store, { runners });
  const done = await queue.schedule(job.id).done;
  assert.equal(done.status, 'failed');
  assert.equal(done.error?.code, 'INVALID_ARGUMENT');
  assert.match(done.error?.message ?? '', new RegExp(`index job ${done.id} has invalid params: root: .*; model: `));
  assert.equal(ran, false);
  // submitting such params is refused before anything is recorded
  const before = store.list().length;
  // @ts-expect-error -- root and model missing: a type error, and refused at run time too
  assert.throws(() => queue.submit({ kind: 'index', backend: 'local', params: { collection: 'papers' }, input: 2 }), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /index job has invalid params: root:/.test(e.message));
  assert.equal(store.list().length, before);
  db.close();
});

test('a job of a kind this version does not know still lists and shows, and is not run', () => {
  const { db, store } = fresh();
  const old = store.createJob({ kind: 'legacy-fold', backend: 'modal', params: { anything: [1, 2] }, input: 1 });
  assert.equal(store.get(old.id).kind, 'legacy-fold');
  assert.deepEqual(store.get(old.id).params, { anything: [1, 2] });
  assert.deepEqual(store.list().map((j) => j.id), [old.id]);
  const queue = new JobQueue(store, { runners: new JobRunners() });
  assert.deepEqual(queue.adoptStored(), [], 'no runner: left queued');
  assert.throws(() => queue.schedule(old.id), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /no runner for legacy-fold jobs/.test(e.message));
  assert.equal(store.get(old.id).status, 'queued');
  db.close();
});

test('a result that does not fit its kind fails the job (INTERNAL, naming the field); a fitting one is recorded as returned', async () => {
  const { db, store } = fresh();
  const queue = new JobQueue(store);
  const pulled = { id: 'a/b', dir: '/m/a', variant: 'int8', downloaded: ['model.onnx'], reused: [], unpinned: [], extra: 'kept' };
  const ok = await queue.submit({ kind: 'model-pull', backend: 'local', params: { id: 'a/b' }, input: 1 }, () => pulled).done;
  assert.equal(ok.status, 'succeeded');
  assert.deepEqual(ok.result, pulled);
  // a count where the kind has a list: what a runner typed by its kind cannot return (the cast stands for a drifted runner)
  const bad = await queue.submit({ kind: 'model-pull', backend: 'local', params: { id: 'a/b' }, input: 2 }, (() => ({ ...pulled, reused: 3 })) as never).done;
  assert.deepEqual([bad.status, bad.error?.code], ['failed', 'INTERNAL']);
  assert.match(bad.error?.message ?? '', new RegExp(`model-pull job ${bad.id} has an unexpected result: reused: `));
  db.close();
});

test('only known kinds have runners: a stored job of an unknown kind lists and shows, but never runs here', async () => {
  const { db, store } = fresh();
  const runners = new JobRunners();
  assert.throws(() => runners.register('echo' as JobKind, () => null), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /unknown job kind "echo"/.test(e.message));
  const queue = new JobQueue(store, { runners });
  const old = store.createJob({ kind: 'echo', backend: 'local', params: {}, input: 1 });
  assert.equal(store.get(old.id).kind, 'echo');
  assert.equal(runners.has('echo'), false);
  assert.deepEqual(queue.adoptStored(), []);
  assert.throws(() => queue.schedule(old.id), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /no runner for echo jobs/.test(e.message));
  // a runner passed for it is refused when the job is read back to run
  const done = await queue.schedule(old.id, () => null).done;
  assert.deepEqual([done.status, done.error?.code], ['failed', 'INVALID_ARGUMENT']);
  assert.match(done.error?.message ?? '', /unknown job kind "echo"/);
  db.close();
});
