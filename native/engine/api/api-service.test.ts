import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ApiEvents } from '../common/api-contract.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { createApiService, parseApiInput, type ApiService } from './api-service.js';
import { rejects } from '../../testing/rejects.js';

const { shared, skip } = sharedOrSkip();

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function env(home: string): NodeJS.ProcessEnv {
  return { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' };
}

function docs(dir: string, n = 3): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'zebra.md'), 'The quick zebra named Archibald jumps over moonlit fences.');
  fs.writeFileSync(path.join(dir, 'pasta.txt'), 'Boil salted water, add the spaghetti and stir.');
  for (let i = 2; i < n; i++) fs.writeFileSync(path.join(dir, `f${i}.txt`), `Filler document number ${i} about rivers and deltas. `.repeat(20));
  return dir;
}

/** Resolves with the final job.updated event of `jobId`; `seen` gets every job's statuses as `id:status`. */
function waitFinished(svc: ApiService, jobId: () => string | undefined, seen: string[]): Promise<ApiEvents['job.updated']> {
  return new Promise((resolve) => {
    const off = svc.events.on('job.updated', (e) => {
      seen.push(`${e.job.id}:${e.job.status}`);
      if (e.job.id === jobId() && ['succeeded', 'failed', 'cancelled'].includes(e.job.status)) {
        off();
        resolve(e);
      }
    });
  });
}

test('inputs are validated against the contract: INVALID_ARGUMENT naming the field; unknown methods are NOT_FOUND', async (t) => {
  const svc = createApiService({ env: env(tempDir(t)), host: 'test' });
  t.after(() => svc.close());
  await rejects(svc.call('search.query', { query: 'x', collection: 'c', k: 0 }), 'INVALID_ARGUMENT', 'k below 1', /k: /);
  await rejects(svc.call('search.query', { query: '', collection: 3 }), 'INVALID_ARGUMENT', 'two bad fields', /query: .*collection: /);
  await rejects(svc.call('jobs.list', { nope: 1 }), 'INVALID_ARGUMENT', 'unknown field', /nope/);
  await rejects(svc.call('no.such', {}), 'NOT_FOUND', 'unknown method');
  await rejects(svc.call('collections.show', { name: 'missing' }), 'NOT_FOUND', 'missing collection');
  await rejects(svc.call('library.index', { paths: ['relative/dir'], collection: 'c' }), 'INVALID_ARGUMENT', 'relative path', /absolute/);
  assert.deepEqual(parseApiInput('search.query', { query: 'q', collection: 'c' }), { query: 'q', collection: 'c', mode: 'default', fusion: 'score', k: 10 }, 'defaults are filled in');
  const info = await svc.api['app.info']({});
  assert.equal(info.host, 'test', 'app.info names the host');
  assert.ok(['cpu', 'cuda', 'webgpu', 'dml', 'coreml'].includes(info.device.used) && info.device.reason.length > 0, 'app.info says which device and why');
  assert.deepEqual(await svc.api['collections.list']({}), { collections: [] }, 'a fresh home has no collections');
});

test('library.index returns a job id at once; events go queued -> running -> succeeded; search and files.open work', { skip }, async (t) => {
  const dir = tempDir(t);
  const opened: string[] = [];
  const svc = createApiService({ env: env(path.join(dir, 'home')), host: 'test', progressIntervalMs: 0, openFile: async (f) => void opened.push(f) });
  t.after(() => svc.close());
  const root = docs(path.join(dir, 'docs'), 5);
  const seen: string[] = [];
  const ref: { id?: string } = {};
  const finished = waitFinished(svc, () => ref.id, seen);
  const jobEvents: Array<{ jobId: string; type: string; id: number }> = [];
  svc.events.on('job.event', (e) => void jobEvents.push(e));
  const r = await svc.api['library.index']({ paths: [root], collection: 'notes' });
  ref.id = r.jobIds[0];
  const id = ref.id;
  assert.equal(r.jobIds.length, 1, 'one job per path');
  const last = await finished;
  assert.equal(last.job.status, 'succeeded', 'the job succeeds');
  const statuses = seen.filter((s) => s.startsWith(`${id}:`)).map((s) => s.split(':')[1]);
  assert.ok(statuses.includes('running') && statuses.indexOf('running') < statuses.indexOf('succeeded'), `running comes before succeeded: ${statuses.join(',')}`);
  const types = jobEvents.filter((e) => e.jobId === id).map((e) => e.type);
  assert.deepEqual([types[0], types[1], types[types.length - 1]], ['queued', 'started', 'succeeded'], `job.event carries the whole history: ${types.join(',')}`);
  const evIds = jobEvents.filter((e) => e.jobId === id).map((e) => e.id);
  assert.equal(new Set(evIds).size, evIds.length, 'no event is sent twice');
  assert.deepEqual(last.job.progress, { done: 5, total: 5 }, 'final progress counts every file');

  const cols = await svc.api['collections.list']({});
  assert.equal(cols.collections[0]?.documents, 5, 'the collection holds the documents');
  const s = await svc.api['search.query']({ query: 'zebra Archibald', collection: 'notes', mode: 'lexical' });
  const top = s.hits[0]!;
  assert.equal(top.path, path.join(root, 'zebra.md'), 'the known passage is found');
  assert.ok(top.highlights.length > 0, 'highlights are ranges');
  assert.equal(top.snippet.slice(top.highlights[0]!.start, top.highlights[0]!.end).toLowerCase(), 'zebra', 'a range covers a matched word');
  assert.ok(!top.snippet.includes('['), 'the snippet is plain text');

  const o = await svc.api['files.open']({ path: top.path });
  assert.deepEqual(o, { path: top.path, opened: true }, 'a library file is opened');
  assert.deepEqual(opened, [top.path], 'through the host opener, once');
  await rejects(svc.api['files.open']({ path: '/etc/passwd' }), 'NOT_FOUND', 'a file outside the library is refused', /not a document/);

  const show = await svc.api['jobs.show']({ id: id! });
  assert.ok(show.events.length >= 3 && show.timings.runMs !== null, 'jobs.show has events and timings');
  const listed = await svc.api['jobs.list']({ text: 'NOTES' });
  assert.deepEqual(listed.jobs.map((j) => j.id), [id], 'the text filter matches params, case-insensitively');
  assert.deepEqual((await svc.api['jobs.list']({ text: 'nothing-like-this' })).jobs, [], 'a text filter can match nothing');
  const stats = await svc.api['jobs.stats']({});
  assert.equal(stats.counts.succeeded, 1, 'stats count the job');
});

test('jobs.list pages with a cursor, newest first', { skip }, async (t) => {
  const dir = tempDir(t);
  const svc = createApiService({ env: env(path.join(dir, 'home')), host: 'test' });
  t.after(() => svc.close());
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const root = docs(path.join(dir, `d${i}`), 2);
    ids.push(...(await svc.api['library.index']({ paths: [root], collection: `c${i}` })).jobIds);
  }
  const p1 = await svc.api['jobs.list']({ limit: 2 });
  assert.deepEqual(p1.jobs.map((j) => j.id), [ids[2], ids[1]], 'first page: the two newest');
  assert.equal(p1.nextCursor, ids[1], 'the cursor is the last id');
  const p2 = await svc.api['jobs.list']({ limit: 2, cursor: p1.nextCursor! });
  assert.deepEqual(p2.jobs.map((j) => j.id), [ids[0]], 'second page: the rest');
  assert.equal(p2.nextCursor, null, 'no more pages');
  await Promise.all(ids.map((id) => new Promise<void>((resolve) => {
    const check = async () => ((await svc.api['jobs.show']({ id })).job.status === 'succeeded' ? resolve() : setTimeout(check, 20));
    void check();
  })));
});

test('close() leaves a running index job interrupted; the next service resumes it to success', { skip }, async (t) => {
  const dir = tempDir(t);
  const home = path.join(dir, 'home');
  const root = docs(path.join(dir, 'docs'), 400);
  const svc = createApiService({ env: env(home), host: 'test', progressIntervalMs: 0 });
  const ref: { id?: string } = {};
  const runningWithProgress = new Promise<void>((resolve) => {
    svc.events.on('job.updated', (e) => {
      if (e.job.id === ref.id && e.job.status === 'running' && e.job.progress.done > 0) resolve();
    });
  });
  ref.id = (await svc.api['library.index']({ paths: [root], collection: 'big' })).jobIds[0];
  await runningWithProgress;
  await svc.close();

  const again = createApiService({ env: env(home), host: 'test', progressIntervalMs: 0 });
  t.after(() => again.close());
  const before = await again.api['jobs.show']({ id: ref.id! });
  if (before.job.status === 'succeeded') return t.skip('the job finished before close() landed');
  assert.equal(before.job.status, 'interrupted', 'a job running at close is interrupted');
  const finished = waitFinished(again, () => ref.id, []);
  const resumed = await again.api['jobs.resume']({ id: ref.id! });
  assert.ok(['running', 'queued'].includes(resumed.job.status), `resume schedules it (${resumed.job.status})`);
  assert.equal((await finished).job.status, 'succeeded', 'the resumed job succeeds');
  const c = await again.api['collections.show']({ name: 'big' });
  assert.equal(c.documents, 400, 'every document is indexed exactly once');
  await rejects(again.api['jobs.resume']({ id: ref.id! }), 'CONFLICT', 'a finished job cannot be resumed');
});

test('extra runners (e.g. cloud kinds) run in the service queue with live events, and retry re-runs them', async (t) => {
  const dir = tempDir(t);
  let calls = 0;
  // a host's own runner of a known kind (here warmup, in place of the cloud service's)
  const run = async (ctx: { progress(d: number, t: number): void }) => {
    calls++;
    ctx.progress(1, 2);
    if (calls === 1) throw new Error('first try fails');
    ctx.progress(2, 2);
    return { backend: 'modal', function: 'warmup', modelLoadMs: 0, totalMs: 1, coldStart: false };
  };
  const svc = createApiService({ env: env(path.join(dir, 'home')), host: 'test', progressIntervalMs: 0, runners: { warmup: run } });
  t.after(() => svc.close());
  // a job of that kind recorded by another host, then retried here
  const { JobStore } = await import('../jobs/job-store.js');
  const { openDatabase, storePath } = await import('../store/database.js');
  const db = openDatabase(storePath(path.join(dir, 'home')));
  const store = new JobStore(db);
  const job = store.createJob({ kind: 'warmup', backend: 'modal', params: { backend: 'modal', function: null }, input: {} });
  db.close();
  const seen: string[] = [];
  const all: string[] = [];
  svc.events.on('job.updated', (e) => void all.push(`${e.job.id}:${e.job.status}`));
  const resumed = await svc.api['jobs.resume']({ id: job.id });
  assert.equal(resumed.job.kind, 'warmup', 'a queued job of an extra kind can be scheduled here');
  const failed = waitFinished(svc, () => job.id, seen);
  assert.equal((await failed).job.status, 'failed', 'its failure is recorded');
  const r = await svc.api['jobs.retry']({ id: job.id });
  assert.equal(r.scheduled, true, 'retry runs it here');
  const ok = await waitFinished(svc, () => r.job.id, seen);
  assert.equal(ok.job.status, 'succeeded', 'the retry succeeds');
  assert.equal(calls, 2, 'the runner ran twice');
  assert.ok(all.includes(`${r.job.id}:running`), `running was published: ${all.join(' ')}`);
});
