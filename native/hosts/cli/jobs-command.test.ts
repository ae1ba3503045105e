import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { TandemError } from '../../engine/common/errors.js';
import { JobStore } from '../../engine/jobs/job-store.js';
import type { Job, JobEvent } from '../../engine/jobs/job-types.js';
import { openDatabase, storePath } from '../../engine/store/database.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-jobs-cli-'));
const home = path.join(tmp, 'home');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const T = { timeout: 60_000 };

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'native/hosts/cli/bin.ts'), 'jobs', ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, TANDEM_HOME: home },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Read the store directly (between CLI runs). */
function withStore<T>(fn: (s: JobStore) => T): T {
  const db = openDatabase(storePath(home));
  try {
    return fn(new JobStore(db));
  } finally {
    db.close();
  }
}

const ids = { ok: '', failed: '', queued: '', crashed: '', live: '' };

before(() => {
  const db = openDatabase(storePath(home));
  try {
    const store = new JobStore(db);
    const ok = store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y' }, input: ['a', 'b'] });
    store.start(ok.id, { device: 'cpu' });
    store.progress(ok.id, 2, 2);
    store.succeed(ok.id, { result: { vectors: 2 }, loadMs: 120, inferenceMs: 30, costUsd: 0 });
    const failed = store.createJob({ kind: 'figure-render', backend: 'cloud-run', params: { collection: 'papers' }, input: { root: '/papers' } });
    store.start(failed.id);
    store.fail(failed.id, new TandemError('BACKEND_ERROR', 'modal said "no", twice\nand again'), { costUsd: 0.02 });
    const queued = store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y' }, input: 'q', priority: 2 });
    // a job whose process is gone, and one whose process (this test) is alive
    const crashed = new JobStore(db, { owner: { pid: 2 ** 30, host: os.hostname() } }).createJob({ kind: 'figure-render', backend: 'modal', params: {}, input: 'MKT' });
    new JobStore(db, { owner: { pid: 2 ** 30, host: os.hostname() } }).start(crashed.id);
    const live = store.createJob({ kind: 'figure-render', backend: 'modal', params: {}, input: 'MKV' });
    store.start(live.id);
    Object.assign(ids, { ok: ok.id, failed: failed.id, queued: queued.id, crashed: crashed.id, live: live.id });
  } finally {
    db.close();
  }
});

test('jobs list: aligned table, newest first; --json parses; filters and --limit', T, () => {
  const r = tandem(['list']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+KIND\s+LABEL\s+BACKEND\s+STATUS\s+PROGRESS\s+QUEUED\s+DURATION\s+COST\s+ERROR$/);
  assert.equal(lines.length, 6);
  assert.ok(lines[1]!.startsWith(ids.live), `newest first: ${lines[1]}`);
  const statusCol = lines[0]!.indexOf('STATUS');
  assert.deepEqual(lines.slice(1).map((l) => l.slice(statusCol).split(/\s+/)[0]), ['running', 'interrupted', 'queued', 'failed', 'succeeded']);
  assert.match(r.stdout, /BACKEND_ERROR: modal said "no", twice and again/);

  const j = tandem(['list', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const all = JSON.parse(j.stdout) as Job[];
  assert.deepEqual(all.map((x) => x.id), [ids.live, ids.crashed, ids.queued, ids.failed, ids.ok]);
  assert.equal(all.find((x) => x.id === ids.crashed)!.status, 'interrupted', 'a job of a dead process is marked interrupted');
  assert.equal(all.find((x) => x.id === ids.live)!.status, 'running', 'a job of a live process is left running');

  const f = JSON.parse(tandem(['list', '--status', 'failed', '--json']).stdout) as Job[];
  assert.deepEqual(f.map((x) => x.id), [ids.failed]);
  const k = JSON.parse(tandem(['list', '--kind', 'embed', '--limit', '1', '--json']).stdout) as Job[];
  assert.deepEqual(k.map((x) => x.id), [ids.queued]);
  const bad = tandem(['list', '--status', 'done']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected one of queued, running, succeeded, failed, cancelled, interrupted, got "done"/);
});

test('jobs show: record, timing breakdown and events; --json; an unknown id is NOT_FOUND, exit 1', T, () => {
  const r = tandem(['show', ids.ok]);
  assert.equal(r.code, 0, r.stderr);
  for (const re of [new RegExp(`^job\\s+${ids.ok}$`, 'm'), /^status\s+succeeded$/m, /^device\s+cpu$/m, /^\s+model load\s+120 ms$/m, /^\s+inference\s+30 ms$/m, /^events$/m, /\bqueued\b.*\n.*\bstarted\b.*\n.*\bprogress\b.*\n.*\bsucceeded\b/]) {
    assert.match(r.stdout, re);
  }
  const j = tandem(['show', ids.failed, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { job: Job; timings: { runMs: number | null }; events: JobEvent[] };
  assert.equal(parsed.job.id, ids.failed);
  assert.deepEqual(parsed.job.error, { code: 'BACKEND_ERROR', message: 'modal said "no", twice\nand again' });
  assert.equal(typeof parsed.timings.runMs, 'number');
  assert.deepEqual(parsed.events.map((e) => e.type), ['queued', 'started', 'failed']);

  const missing = tandem(['show', '01NOSUCHJOB']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^tandem: NOT_FOUND: no job with id 01NOSUCHJOB$/m);
  const missingJson = tandem(['show', '01NOSUCHJOB', '--json']);
  assert.equal(missingJson.code, 1);
  assert.equal((JSON.parse(missingJson.stdout) as { error: { code: string } }).error.code, 'NOT_FOUND');
});

test('jobs stats: human summary and --json', T, () => {
  const r = tandem(['stats']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^error rate: 50\.0% \(1 failed of 2 finished\)$/m);
  assert.match(r.stdout, /^KIND\s+BACKEND\s+FINISHED\s+SUCCEEDED\s+P50\s+P95\s+ERRORS\s+COST\/JOB\s+COST$/m);
  const j = tandem(['stats', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout) as { counts: Record<string, number>; throughput: { series: unknown[] }; cost: { totalUsd: number } };
  assert.equal(s.counts.succeeded, 1);
  assert.equal(s.counts.failed, 1);
  assert.equal(s.throughput.series.length, 24);
  assert.equal(s.cost.totalUsd, 0.02);
});

test('jobs export: CSV with a header to stdout, JSON to a file; a bad format exits 2', T, () => {
  const r = tandem(['export', '--format', 'csv']);
  assert.equal(r.code, 0, r.stderr);
  const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 5);
  assert.equal(rows.find((x) => x.id === ids.failed)!.error_message, 'modal said "no", twice\nand again');
  const out = path.join(tmp, 'jobs.json');
  const j = tandem(['export', '--format', 'json', '--status', 'succeeded', '--output', out]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout, '');
  assert.deepEqual((JSON.parse(fs.readFileSync(out, 'utf8')) as Job[]).map((x) => x.id), [ids.ok]);
  const bad = tandem(['export', '--format', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected one of csv, json, got "xml"/);
});

test('jobs cancel: a queued job is cancelled; a finished one is a CONFLICT (exit 1)', T, () => {
  const r = tandem(['cancel', ids.queued]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `cancelled ${ids.queued} (it was queued)\n`);
  assert.equal(withStore((s) => s.get(ids.queued).status), 'cancelled');
  const again = tandem(['cancel', ids.queued]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`CONFLICT: cannot cancel job ${ids.queued}: it is cancelled`));
  const missing = tandem(['cancel', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NOT_FOUND: no job with id nope/);
});

test('jobs retry: records a new queued job linked to the failed one and prints its id (a kind this host cannot run stays queued)', T, () => {
  const r = tandem(['retry', ids.failed]);
  assert.equal(r.code, 0, r.stderr);
  const newId = r.stdout.trim();
  assert.match(newId, /^[0-9A-Z]{26}$/);
  assert.match(r.stderr, /is queued/);
  const job = withStore((s) => s.get(newId));
  assert.deepEqual([job.status, job.retryOf, job.kind, job.backend, job.params], ['queued', ids.failed, 'figure-render', 'cloud-run', { collection: 'papers' }]);
  const j = tandem(['retry', ids.crashed, '--json']);
  assert.equal(j.code, 0, j.stderr);
  assert.equal((JSON.parse(j.stdout) as Job).retryOf, ids.crashed);
  assert.equal(withStore((s) => s.get(ids.crashed).status), 'cancelled', 'the interrupted original is superseded');
  const done = tandem(['retry', ids.ok]);
  assert.equal(done.code, 1);
  assert.match(done.stderr, new RegExp(`CONFLICT: cannot retry job ${ids.ok}: it is succeeded`));
});
