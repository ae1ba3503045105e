import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { isTandemError, TandemError, type JsonValue } from '../common/errors.js';
import { openDatabase, type Db } from '../store/database.js';
import type { JobParamsInput } from '../common/job-kinds.js';
import { DEFAULT_CONCURRENCY, JobQueue, type JobQueueOptions, type JobRunFn, type JobSpec } from './job-queue.js';
import { JobStore } from './job-store.js';
import type { Backend } from './job-types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-jobqueue-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const T = { timeout: 15_000 };

function fresh(opts: JobQueueOptions = {}): { db: Db; store: JobStore; queue: JobQueue; file: string } {
  const file = path.join(tmp, `q${n++}.db`);
  const db = openDatabase(file);
  const store = new JobStore(db, { progressIntervalMs: 0 });
  return { db, store, queue: new JobQueue(store, opts), file };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Params that fit the embed and boltz2 kinds' schemas (common/job-kinds.ts): the queue checks them. */
const EMBED_PARAMS = { model: 'x/y' };
const BOLTZ2_PARAMS = { request: { kind: 'boltz2', name: 'b', proteins: [{ id: 'A', sequence: 'MKT' }], ligands: [] }, route: { policy: 'modal', reason: 'test', function: null, estimateUsd: null } } satisfies JobParamsInput<'boltz2'>;
/** A boltz2 result that fits its kind's schema (results are checked when a job finishes). */
const FOLDED = { answeredBy: { backend: 'modal', reason: 'test' }, timings: { totalMs: 1 }, files: { structure: 'b.cif', confidence: 'b.confidence.json', affinity: null }, confidence: {}, affinity: null };
/** An embed job (its result may be any JSON), or a boltz2 one. */
const spec = (backend: Backend = 'local', priority = 0, kind: 'embed' | 'boltz2' = 'embed'): JobSpec => (kind === 'embed' ? { kind, backend, params: EMBED_PARAMS, input: [n++], priority } : { kind, backend, params: BOLTZ2_PARAMS, input: [n++], priority });

test('the default concurrency is local 1, modal 10, cloud-run 5', () => {
  assert.deepEqual(DEFAULT_CONCURRENCY, { local: 1, modal: 10, 'cloud-run': 5 });
});

test('per-backend concurrency caps are observed; every job is recorded before it runs', T, async () => {
  const { db, store, queue } = fresh({ concurrency: { local: 2, modal: 3 } });
  const now: Record<string, number> = { local: 0, modal: 0 };
  const max: Record<string, number> = { local: 0, modal: 0 };
  const seen: string[] = [];
  const run =
    (backend: Backend): JobRunFn =>
    async (ctx) => {
      const rec = store.get(ctx.job.id);
      assert.equal(rec.status, 'running', 'the record says running while the code runs');
      seen.push(store.events(ctx.job.id).map((e) => e.type).join(','));
      now[backend]!++;
      max[backend] = Math.max(max[backend]!, now[backend]!);
      await sleep(15);
      now[backend]!--;
      return { backend };
    };
  const handles = [...Array.from({ length: 6 }, () => queue.submit(spec('local'), run('local'))), ...Array.from({ length: 7 }, () => queue.submit(spec('modal'), run('modal')))];
  assert.deepEqual(queue.counts(), { pending: 13 - 2 - 3, running: { local: 2, modal: 3, 'cloud-run': 0 } });
  for (const h of handles) assert.equal(store.get(h.id).status === 'queued' || store.get(h.id).status === 'running', true, `job ${h.id} is recorded at once`);
  const done = await Promise.all(handles.map((h) => h.done));
  await queue.onIdle();
  assert.deepEqual(max, { local: 2, modal: 3 });
  assert.deepEqual(new Set(done.map((j) => j.status)), new Set(['succeeded']));
  assert.deepEqual(done[0]!.result, { backend: 'local' });
  assert.deepEqual(new Set(seen), new Set(['queued,started']));
  db.close();
});

test('the default local limit runs one job at a time', T, async () => {
  const { db, queue } = fresh();
  let running = 0;
  let peak = 0;
  const run: JobRunFn = async () => {
    peak = Math.max(peak, ++running);
    await sleep(5);
    running--;
  };
  await Promise.all([1, 2, 3, 4].map(() => queue.submit(spec('local'), run).done));
  assert.equal(peak, 1);
  db.close();
});

test('higher priority first, FIFO within a priority', T, async () => {
  const { db, queue } = fresh();
  const gate = deferred();
  const order: string[] = [];
  const blocker = queue.submit(spec('local', 100), () => gate.promise);
  const job = (name: string): JobRunFn => () => void order.push(name);
  const hs = [queue.submit(spec('local', 0), job('a0')), queue.submit(spec('local', 5), job('b5')), queue.submit(spec('local', 1), job('c1')), queue.submit(spec('local', 5), job('d5')), queue.submit(spec('local', -1), job('e-1'))];
  await sleep(10);
  assert.deepEqual(order, [], 'nothing runs while the blocker holds the only local slot');
  gate.resolve();
  await Promise.all([blocker.done, ...hs.map((h) => h.done)]);
  assert.deepEqual(order, ['b5', 'd5', 'c1', 'a0', 'e-1']);
  db.close();
});

test('cancel a running job: its signal aborts, it is cancelled (never failed), the queue goes on', T, async () => {
  const { db, store, queue } = fresh();
  const started = deferred();
  const h = queue.submit(spec(), async ({ signal, progress }) => {
    progress(1, 10);
    started.resolve();
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
  });
  const next = queue.submit(spec(), () => 'next ran');
  await started.promise;
  const rec = queue.cancel(h.id);
  assert.equal(rec.status, 'cancelled', 'recorded as cancelled at once');
  const final = await h.done;
  assert.equal(final.status, 'cancelled');
  assert.equal(final.error, null);
  assert.deepEqual(final.progress, { done: 1, total: 10 });
  assert.deepEqual(store.events(h.id).map((e) => e.type), ['queued', 'started', 'progress', 'cancelled']);
  assert.equal((await next.done).result, 'next ran');
  db.close();
});

test('a cancelled job that ignores its signal keeps the slot until it returns; its result is dropped', T, async () => {
  const { db, queue } = fresh();
  const started = deferred();
  const release = deferred();
  let secondRan = false;
  const h = queue.submit(spec(), async () => {
    started.resolve();
    await release.promise;
    return 'late result';
  });
  const second = queue.submit(spec(), () => void (secondRan = true));
  await started.promise;
  queue.cancel(h.id);
  await sleep(10);
  assert.equal(secondRan, false, 'the slot is still taken by the stubborn job');
  release.resolve();
  const final = await h.done;
  assert.equal(final.status, 'cancelled');
  assert.equal(final.result, null);
  await second.done;
  assert.equal(secondRan, true);
  db.close();
});

test('cancel a queued job: it never runs', T, async () => {
  const { db, store, queue } = fresh();
  const gate = deferred();
  const blocker = queue.submit(spec(), () => gate.promise);
  let ran = false;
  const h = queue.submit(spec(), () => void (ran = true));
  assert.equal(queue.cancel(h.id).status, 'cancelled');
  assert.equal((await h.done).status, 'cancelled');
  gate.resolve();
  await blocker.done;
  await queue.onIdle();
  assert.equal(ran, false);
  assert.deepEqual(store.events(h.id).map((e) => e.type), ['queued', 'cancelled']);
  assert.throws(() => queue.cancel(h.id), (e: unknown) => isTandemError(e, 'CONFLICT') && /it is cancelled/.test((e as Error).message));
  db.close();
});

test('a job cancelled from another process stops at its next progress report', T, async () => {
  const { db, queue, file } = fresh();
  const started = deferred();
  const h = queue.submit(spec(), async ({ signal, progress }) => {
    progress(0, 100);
    started.resolve();
    for (let i = 1; i <= 100; i++) {
      await sleep(5);
      progress(i, 100);
      if (signal.aborted) throw signal.reason as Error;
    }
    return 'finished anyway';
  });
  await started.promise;
  const otherDb = openDatabase(file);
  new JobStore(otherDb).cancel(h.id, 'from the CLI');
  otherDb.close();
  const final = await h.done;
  assert.equal(final.status, 'cancelled');
  assert.ok(final.progress.done < 100, `the job stopped early (done ${final.progress.done})`);
  db.close();
});

test('a throwing job fails with its code and message; the queue keeps going', T, async () => {
  const { db, queue } = fresh();
  const hs = [
    queue.submit(spec(), () => {
      throw new Error('plain failure');
    }),
    queue.submit(spec(), async () => {
      await sleep(1);
      throw new TandemError('BACKEND_ERROR', 'modal returned 500');
    }),
    queue.submit(spec(), () => ({ notJson: (() => 1) as unknown as JsonValue })),
    queue.submit(spec(), () => {
      throw new TandemError('CANCELLED', 'the worker was stopped');
    }),
    queue.submit(spec(), () => 42),
  ];
  const finals = await Promise.all(hs.map((h) => h.done));
  assert.deepEqual(
    finals.map((j) => [j.status, j.error?.code ?? null]),
    [
      ['failed', 'INTERNAL'],
      ['failed', 'BACKEND_ERROR'],
      ['failed', 'INVALID_ARGUMENT'],
      ['cancelled', null],
      ['succeeded', null],
    ],
  );
  assert.equal(finals[0]!.error!.message, 'plain failure');
  assert.equal(finals[1]!.error!.message, 'modal returned 500');
  assert.match(finals[2]!.error!.message, /result of job .*is a function/);
  assert.equal(finals[4]!.result, 42);
  db.close();
});

test('timings, cost, device and remote id set by the job are recorded, also when it fails', T, async () => {
  const { db, store, queue } = fresh();
  const ok = queue.submit(spec('modal'), ({ setDevice, setTimings, setCostUsd, setRemoteId, job }) => {
    setDevice('A100');
    setRemoteId('fc-1');
    assert.equal(store.get(job.id).remoteId, 'fc-1', 'the remote id is written at once');
    setTimings({ loadMs: 900, transferMs: 30 });
    setTimings({ inferenceMs: 1200 });
    setCostUsd(0.042);
    return { ok: true };
  });
  const j = await ok.done;
  assert.deepEqual([j.device, j.remoteId, j.timings.loadMs, j.timings.inferenceMs, j.timings.transferMs, j.costUsd], ['A100', 'fc-1', 900, 1200, 30, 0.042]);
  const bad = queue.submit(spec('modal'), ({ setCostUsd }) => {
    setCostUsd(0.01);
    throw new TandemError('BACKEND_TIMEOUT', 'no answer in 600 s');
  });
  const b = await bad.done;
  assert.deepEqual([b.status, b.costUsd, b.error?.code], ['failed', 0.01, 'BACKEND_TIMEOUT']);
  db.close();
});

test('retry creates a new job linked to the old one and runs it with the registered runner', T, async () => {
  const { db, store, queue } = fresh();
  let attempt = 0;
  queue.registerJobRunner('embed', ({ job }) => {
    attempt++;
    if (attempt === 1) throw new TandemError('BACKEND_ERROR', 'flaky');
    return { attempt, params: { model: job.params.model } };
  });
  const first = await queue.submit({ kind: 'embed', backend: 'local', params: EMBED_PARAMS, input: { root: '/p' } }).done;
  assert.equal(first.status, 'failed');
  const { job, handle } = queue.retry(first.id);
  assert.ok(handle, 'a runner is registered, so the retry runs');
  assert.equal(job.retryOf, first.id);
  assert.notEqual(job.id, first.id);
  const second = await handle.done;
  assert.equal(second.status, 'succeeded');
  assert.deepEqual(second.result, { attempt: 2, params: EMBED_PARAMS });
  assert.deepEqual([second.params, second.inputDigest, second.retryOf], [first.params, first.inputDigest, first.id]);
  assert.equal(store.get(first.id).status, 'failed', 'the old record is unchanged');
  assert.throws(() => queue.retry(second.id), (e: unknown) => isTandemError(e, 'CONFLICT') && /cannot retry job .*: it is succeeded/.test((e as Error).message));
  // no runner for a kind: the retry is recorded, queued, and left for a host that knows the kind
  const lone = await queue.submit({ kind: 'boltz2', backend: 'modal', params: BOLTZ2_PARAMS, input: 'MKT' }, () => {
    throw new Error('x');
  }).done;
  const r = queue.retry(lone.id);
  assert.equal(r.handle, null);
  assert.equal(store.get(r.job.id).status, 'queued');
  assert.throws(() => queue.submit(spec('modal', 0, 'boltz2')), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /no runner for boltz2 jobs/.test((e as Error).message));
  // a host that knows the kind adopts it later
  const host = new JobQueue(store);
  host.registerJobRunner('boltz2', () => FOLDED);
  const adopted = host.adoptStored();
  assert.deepEqual(adopted.map((h) => h.id), [r.job.id]);
  assert.deepEqual((await adopted[0]!.done).result, FOLDED);
  db.close();
});

test('schedule resumes an interrupted job, which sees its checkpoints', T, async () => {
  const { db, store, queue } = fresh();
  const job = store.createJob({ kind: 'embed', backend: 'local', params: EMBED_PARAMS, input: 1 });
  store.start(job.id);
  store.checkpoint(job.id, 'a.txt');
  db.prepare("UPDATE jobs SET status = 'interrupted' WHERE id = ?").run(job.id);
  const h = queue.schedule(job.id, ({ job: j }) => {
    const done = store.checkpoints(j.id);
    for (const k of ['a.txt', 'b.txt']) if (!done.has(k)) store.checkpoint(j.id, k);
    return [...store.checkpoints(j.id)].sort();
  });
  const final = await h.done;
  assert.deepEqual(final.result, ['a.txt', 'b.txt']);
  assert.deepEqual(store.events(job.id).map((e) => e.type), ['queued', 'started', 'resumed', 'succeeded']);
  assert.throws(() => queue.schedule(job.id, () => null), (e: unknown) => isTandemError(e, 'CONFLICT'));
  db.close();
});
