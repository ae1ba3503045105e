import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EmbedClient } from '../inference/embed-client.js';
import { JobQueue, JobRunners } from '../jobs/job-queue.js';
import { JobStore } from '../jobs/job-store.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore } from '../store/library-store.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { indexJobRunner } from './index-job.js';
import { ChunkEstimate, MAX_FRACTION_BEFORE_DONE } from './index-report.js';
import { indexPath, type IndexProgress } from './indexer.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-progress-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
const client = new EmbedClient(env);
after(() => client.close());
const MODEL = 'minishlab/potion-base-2M';

/** Many small files, then (by name, read last) one huge file: reading them all ends long before its chunks are written. */
function folder(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 120; i++) fs.writeFileSync(path.join(dir, `small-${String(i).padStart(3, '0')}.txt`), `Note ${i} about enzyme ${i % 17} and assay ${i % 5}. It is short.`);
  const para = (i: number) => `Paragraph ${i} describes protein folding, ligand ${i % 97} binding and the kinetics of enzyme ${i % 31} in some detail. It has a second sentence about assays.`;
  fs.writeFileSync(path.join(dir, 'z-huge.txt'), Array.from({ length: 40_000 }, (_, i) => para(i)).join('\n\n'));
  return dir;
}

test('progress counts chunks: on one huge file and many small ones the fraction never reaches 1 before the last chunk is written', { skip }, async () => {
  const dir = folder('mixed');
  const lib = new LibraryStore(openDatabase(path.join(tmp, 'mixed.db')));
  const events: IndexProgress[] = [];
  const s = await indexPath(lib, client, { root: dir, collection: 'c', model: MODEL }, { onProgress: (p) => events.push({ ...p }) }, env);
  lib.db.close();
  assert.ok(s.chunksWritten > 2000, `the huge file makes many chunks (${s.chunksWritten})`);
  const last = events.at(-1)!;
  assert.deepEqual([last.phase, last.fraction, last.chunksEmbedded, last.chunksTotal], ['done', 1, s.chunksWritten, s.chunksWritten], 'done: 1, with the true total');
  const before = events.slice(0, -1).filter((e) => e.phase === 'indexing');
  // The scenario of the issue: every file was read while chunks were still being embedded, so a
  // file count said 100% early.
  assert.ok(before.some((e) => e.filesDone === e.filesTotal && e.chunksEmbedded < s.chunksWritten), 'all files were read before the last chunk was written');
  for (const e of before) {
    assert.ok(e.fraction < 1 && e.fraction <= MAX_FRACTION_BEFORE_DONE, `fraction ${e.fraction} at ${e.chunksEmbedded}/${e.chunksTotal} chunks, before the end`);
    assert.ok(e.chunksEmbedded < e.chunksTotal, `total ${e.chunksTotal} stays above the ${e.chunksEmbedded} chunks written until the end`);
    assert.ok(Math.abs(e.fraction - e.chunksEmbedded / e.chunksTotal) < 1e-9, 'the fraction is chunks written / estimated total');
  }
  assert.ok(before.some((e) => e.chunksEmbedded === s.chunksWritten), 'the last group is reported, still below 1');
  const fractions = before.map((e) => e.fraction);
  assert.ok(fractions.some((f) => f > 0.5), `the estimate moves along (max ${Math.max(...fractions)})`);
});

test('the job record counts chunks too: every progress row before the end is below its total', { skip }, async () => {
  const dir = folder('job');
  const db = openDatabase(path.join(tmp, 'job.db'));
  const lib = new LibraryStore(db);
  const store = new JobStore(db, { progressIntervalMs: 0 });
  const runners = new JobRunners();
  runners.register('index', indexJobRunner(lib, client, env));
  const queue = new JobQueue(store, { runners });
  const params = { root: dir, collection: 'j', model: MODEL };
  const job = await queue.submit({ kind: 'index', backend: 'local', params, input: params }).done;
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const chunks = (job.result as { chunksWritten: number }).chunksWritten;
  assert.deepEqual(job.progress, { done: chunks, total: chunks }, 'the final record: every chunk of the run');
  const progress = store.events(job.id).filter((e) => e.type === 'progress').map((e) => e.data as { done: number; total: number });
  assert.ok(progress.length >= 3, `progress events: ${JSON.stringify(progress)}`);
  for (const p of progress.slice(0, -1)) assert.ok(p.done < p.total, `progress ${p.done}/${p.total} before the end`);
  assert.deepEqual(progress.at(-1), { done: chunks, total: chunks });
  db.close();
});

test('ChunkEstimate: a prior from bytes, then the measured chunks per byte; dropped bytes leave the pool; below 1 until finished', () => {
  const e = new ChunkEstimate(90_000);
  assert.equal(e.total, 100, 'prior: one chunk per 900 bytes');
  assert.equal(e.fraction, 0);
  e.commit(10_000, 40); // denser than the prior: 4 per 1000 bytes
  assert.equal(e.total, 40 + 320);
  e.drop(40_000); // e.g. unchanged documents of a re-read file
  assert.equal(e.total, 40 + 160);
  e.commit(40_000, 10_000); // far denser than measured: the total is floored above the chunks written
  assert.ok(e.total > e.written && e.fraction <= MAX_FRACTION_BEFORE_DONE, `${e.written}/${e.total}`);
  e.finish();
  assert.deepEqual([e.total, e.fraction], [10_040, 1]);
});
