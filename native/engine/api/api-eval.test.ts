import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { rejects } from '../../testing/rejects.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { createApiService } from './api-service.js';

const { shared, skip } = sharedOrSkip();

test('search.eval: queries and qrels as text -> metrics per mode and per query, recorded as an eval job with live events; bad input fails before a job', { skip, timeout: 300_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-api-eval-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, TANDEM_HOME: path.join(dir, 'home'), TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const svc = createApiService({ env, host: 'test', progressIntervalMs: 0 });
  t.after(() => svc.close());
  const corpus = path.join(dir, 'corpus.jsonl');
  const docs = ['Zebras graze on the savanna grass.', 'Boil salted water for the spaghetti.', 'Telescopes observe distant galaxies.'];
  fs.writeFileSync(corpus, docs.map((text, i) => JSON.stringify({ _id: `d${i}`, title: '', text })).join('\n') + '\n');
  const indexed = new Promise<void>((resolve) => svc.events.on('job.updated', (e) => e.job.kind === 'index' && e.job.status === 'succeeded' && resolve()));
  await svc.api['library.index']({ paths: [corpus], collection: 'mini' });
  await indexed;

  const statuses: string[] = [];
  svc.events.on('job.updated', (e) => e.job.kind === 'eval' && statuses.push(e.job.status));
  const queries = ['{"_id":"a","text":"zebra savanna"}', '{"_id":"b","text":"spaghetti water"}', '{"_id":"c","text":"galaxies telescopes"}'].join('\r\n');
  const qrels = 'query-id\tcorpus-id\tscore\r\na\td0\t1\r\nb\td1\t2\r\nc\td0\t1\r\n';
  const r = await svc.api['search.eval']({ collection: 'mini', queries, qrels, modes: ['lexical', 'vector'], k: 10 });
  assert.deepEqual(Object.keys(r.modes), ['lexical', 'vector']);
  assert.equal(r.queries, 3);
  // Lexical: a and b find their document first; c's judged document (d0) does not match its words.
  assert.deepEqual(r.perQuery.a!.lexical, { 'ndcg@10': 1, 'recall@100': 1, 'mrr@10': 1 });
  assert.deepEqual(r.perQuery.c!.lexical, { 'ndcg@10': 0, 'recall@100': 0, 'mrr@10': 0 });
  assert.ok(Math.abs(r.modes.lexical!['ndcg@10'] - 2 / 3) < 1e-12, `lexical nDCG@10 ${r.modes.lexical!['ndcg@10']}`);
  assert.equal(r.modes.vector!['recall@100'], 1, 'vector retrieves all three documents');
  const job = (await svc.api['jobs.show']({ id: r.jobId })).job;
  assert.equal(job.kind, 'eval');
  assert.equal(job.status, 'succeeded');
  assert.deepEqual((job.result as { modes: unknown }).modes, r.modes);
  assert.ok(statuses.includes('running') && statuses.at(-1) === 'succeeded', `eval job events: ${statuses.join(',')}`);

  const before = (await svc.api['jobs.list']({ kind: 'eval' })).jobs.length;
  await rejects(svc.api['search.eval']({ collection: 'mini', queries, qrels: 'a\td0\n' }), 'INVALID_INPUT', 'a two-field qrels line', /qrels line 1: expected/);
  await rejects(svc.api['search.eval']({ collection: 'mini', queries: '{"_id":"a"}', qrels }), 'INVALID_INPUT', 'a query without text', /queries line 1: "text" is missing/);
  await rejects(svc.api['search.eval']({ collection: 'nope', queries, qrels }), 'NOT_FOUND', 'an unknown collection');
  await rejects(svc.call('search.eval', { collection: 'mini', queries, qrels, modes: ['fuzzy'] }), 'INVALID_ARGUMENT', 'an unknown mode', /modes/);
  assert.equal((await svc.api['jobs.list']({ kind: 'eval' })).jobs.length, before, 'no job is recorded for bad input');
});
