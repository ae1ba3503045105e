import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { TandemError } from '../common/errors.js';
import { openDatabase, type Db } from '../store/database.js';
import { formatDuration, formatTable } from './job-format.js';
import { CSV_COLUMNS, csvField, jobStats, jobsToCsv, jobsToJson } from './job-stats.js';
import { JobStore } from './job-store.js';
import type { Backend, Job } from './job-types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-jobstats-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

/** A store on a hand-moved clock, and a helper that records one job run of a known duration. */
function fresh(): { db: Db; store: JobStore; at: (t: number) => void; run: (o: RunOpts) => Job } {
  const db = openDatabase(path.join(tmp, `s${n++}.db`));
  let t = NOW - 48 * 3_600_000;
  const store = new JobStore(db, { now: () => t });
  const run = (o: RunOpts): Job => {
    if (o.finishAt !== undefined) t = o.finishAt - (o.ms ?? 0) - 1;
    const kind = o.kind ?? 'embed';
    const params = kind === 'index' ? { collection: 'c' } : kind === 'embed' ? { model: 'x/y' } : {};
    const job = store.createJob({ kind, backend: o.backend ?? 'local', params, input: n++ });
    t += 1;
    store.start(job.id);
    t += o.ms ?? 0;
    if (o.status === 'failed') return store.fail(job.id, new TandemError('BACKEND_ERROR', o.message ?? 'failed'), { costUsd: o.cost ?? 0 });
    if (o.status === 'cancelled') return store.cancel(job.id, undefined, { costUsd: o.cost ?? 0 });
    return store.succeed(job.id, { costUsd: o.cost ?? 0 });
  };
  return { db, store, at: (x) => (t = x), run };
}

interface RunOpts {
  kind?: string;
  backend?: Backend;
  ms?: number;
  status?: 'succeeded' | 'failed' | 'cancelled';
  cost?: number;
  finishAt?: number;
  message?: string;
}

test('p50/p95 run time by kind and backend on known durations (nearest rank), succeeded jobs only', () => {
  const { db, run } = fresh();
  for (const ms of [700, 100, 1000, 300, 200, 900, 500, 400, 800, 600]) run({ ms });
  for (let i = 20; i >= 1; i--) run({ kind: 'index', backend: 'modal', ms: i * 10 });
  run({ ms: 99_999, status: 'failed' });
  run({ kind: 'boltz2', backend: 'cloud-run', ms: 1234 });
  const s = jobStats(db, { now: NOW });
  assert.deepEqual(s.durations, [
    { kind: 'boltz2', backend: 'cloud-run', count: 1, p50Ms: 1234, p95Ms: 1234, meanMs: 1234, minMs: 1234, maxMs: 1234 },
    { kind: 'embed', backend: 'local', count: 10, p50Ms: 500, p95Ms: 1000, meanMs: 550, minMs: 100, maxMs: 1000 },
    { kind: 'index', backend: 'modal', count: 20, p50Ms: 100, p95Ms: 190, meanMs: 105, minMs: 10, maxMs: 200 },
  ]);
  db.close();
});

test('counts by status and error rate = failed / finished (queued, running and interrupted excluded)', () => {
  const { db, store, run } = fresh();
  for (let i = 0; i < 7; i++) run({});
  run({ status: 'failed' });
  run({ status: 'failed', kind: 'index' });
  run({ status: 'cancelled' });
  store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y' }, input: 'q' });
  const r = store.createJob({ kind: 'embed', backend: 'local', params: { model: 'x/y' }, input: 'r' });
  store.start(r.id);
  const s = jobStats(db, { now: NOW });
  assert.deepEqual(s.counts, { queued: 1, running: 1, succeeded: 7, failed: 2, cancelled: 1, interrupted: 0, total: 12 });
  assert.deepEqual(s.errorRate.overall, { failed: 2, finished: 10, rate: 0.2 });
  assert.deepEqual(s.errorRate.byKindBackend, [
    { kind: 'embed', backend: 'local', failed: 1, finished: 9, rate: 1 / 9 },
    { kind: 'index', backend: 'local', failed: 1, finished: 1, rate: 1 },
  ]);
  db.close();
});

test('an empty history has zero counts, no rates and a flat throughput series', () => {
  const { db } = fresh();
  const s = jobStats(db, { now: NOW });
  assert.equal(s.counts.total, 0);
  assert.deepEqual(s.errorRate.overall, { failed: 0, finished: 0, rate: null });
  assert.deepEqual(s.durations, []);
  assert.equal(s.throughput.series.length, 24);
  assert.equal(s.throughput.perHourAvg, 0);
  assert.deepEqual(s.cost, { totalUsd: 0, byKindBackend: [] });
  db.close();
});

test('throughput: jobs finished per hour over the last 24 h, oldest hour first, and the average', () => {
  const { db, run } = fresh();
  const H = 3_600_000;
  run({ finishAt: NOW - 30 * H }); // outside the window
  for (let i = 0; i < 2; i++) run({ finishAt: NOW - 5.5 * H, ms: 10 });
  run({ finishAt: NOW - 0.5 * H, status: 'failed' });
  for (let i = 0; i < 2; i++) run({ finishAt: NOW - 0.25 * H });
  const t = jobStats(db, { now: NOW }).throughput;
  assert.equal(t.windowHours, 24);
  assert.equal(t.series.length, 24);
  assert.equal(t.series[0]!.hourStart, new Date(NOW - 24 * H).toISOString());
  assert.equal(t.series[23]!.hourStart, new Date(NOW - H).toISOString());
  const expected = new Array(24).fill(0);
  expected[18] = 2;
  expected[23] = 3;
  assert.deepEqual(t.series.map((x) => x.finished), expected);
  assert.equal(t.total, 5);
  assert.equal(t.perHourAvg, 5 / 24);
  db.close();
});

test('cost per job: average and total by kind and backend', () => {
  const { db, run } = fresh();
  run({ backend: 'modal', kind: 'boltz2', cost: 0.5 });
  run({ backend: 'modal', kind: 'boltz2', cost: 1.5, status: 'failed' });
  run({ backend: 'cloud-run', kind: 'generate', cost: 0.25 });
  run({});
  const c = jobStats(db, { now: NOW }).cost;
  assert.deepEqual(c.byKindBackend, [
    { kind: 'boltz2', backend: 'modal', jobs: 2, totalUsd: 2, avgUsd: 1 },
    { kind: 'embed', backend: 'local', jobs: 1, totalUsd: 0, avgUsd: 0 },
    { kind: 'generate', backend: 'cloud-run', jobs: 1, totalUsd: 0.25, avgUsd: 0.25 },
  ]);
  assert.equal(c.totalUsd, 2.25);
  db.close();
});

test('CSV fields are quoted per RFC 4180: commas, quotes, CR and LF', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('line 1\nline 2'), '"line 1\nline 2"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  assert.equal(csvField(''), '');
  assert.equal(csvField(null), '');
  assert.equal(csvField(0.5), '0.5');
});

test('CSV export has a header row, CRLF records, and round-trips awkward text; JSON export parses back', () => {
  const { db, store, run } = fresh();
  run({ status: 'failed', message: 'bad, "very" bad\nsecond line' });
  const j = store.createJob({ kind: 'custom', backend: 'local', params: { note: 'x,"y"\r\nz' }, input: 1 });
  run({ cost: 0.125 });
  const jobs = store.list({ limit: 10 });
  const csv = jobsToCsv(jobs);
  assert.ok(csv.endsWith('\r\n'), 'records end with CRLF');
  assert.equal(csv.split('\r\n')[0], CSV_COLUMNS.map((c) => c.name).join(','));
  const rows = parse(csv, { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 3);
  const failed = rows.find((r) => r.status === 'failed')!;
  assert.equal(failed.error_message, 'bad, "very" bad\nsecond line');
  assert.equal(failed.error_code, 'BACKEND_ERROR');
  const custom = rows.find((r) => r.id === j.id)!;
  assert.deepEqual(JSON.parse(custom.params!), { note: 'x,"y"\r\nz' });
  assert.equal(custom.started_at, '');
  assert.equal(rows.find((r) => r.cost_usd === '0.125')?.status, 'succeeded');
  assert.deepEqual(JSON.parse(jobsToJson(jobs)), jobs);
  assert.equal(jobsToCsv([]), CSV_COLUMNS.map((c) => c.name).join(',') + '\r\n');
  db.close();
});

test('human formatting: durations and aligned tables', () => {
  assert.deepEqual([0, 850, 1000, 12_345, 59_999, 65_000, 3_599_000, 7_380_000, 90_000_000].map(formatDuration), ['0 ms', '850 ms', '1.0 s', '12.3 s', '1m 00s', '1m 05s', '59m 59s', '2h 03m', '1d 01h']);
  assert.equal(formatDuration(null), '-');
  assert.equal(formatTable(['A', 'NUM', 'C'], [['xx', '1', 'last'], ['y', '100', '']], [1]), 'A   NUM  C\nxx    1  last\ny   100\n');
});
