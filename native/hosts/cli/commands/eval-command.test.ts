import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { evaluateRun, parseQrels, type RunHit } from '../../../engine/search/retrieval-metrics.js';
import { repoRoot } from '../../../testing/cli-run.js';
import { sharedOrSkip } from '../../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-eval-'));
const home = path.join(tmp, 'home');

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'native/hosts/cli/bin.ts'), ...args], {
    encoding: 'utf8',
    cwd: repoRoot,
    env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const filler = 'Ocean tides rise and fall twice a day as the moon pulls on the water of the seas. ';
const CORPUS = [
  { _id: 'd1', title: '', text: 'Cryo-electron microscopy won the Nobel prize in chemistry in 2017.' },
  { _id: 'd2', title: '', text: 'The guitar player tuned his instrument before the concert.' },
  // Several chunks at --max-tokens 16; only the last one mentions zebrafish.
  { _id: 'd3', title: '', text: filler.repeat(6) + 'Zebrafish regrow their fins after injury.' },
  { _id: 'd4', title: '', text: 'Slicing an onion makes people cry because of sulfur compounds.' },
  { _id: 'd5', title: '', text: 'Stock markets fell sharply today after the announcement.' },
];
const QUERIES = [
  { _id: 'q1', text: 'nobel prize cryo-electron microscopy' },
  { _id: 'q2', text: 'zebrafish fin regeneration' },
  { _id: 'q3', text: 'why do onions make you cry' },
  { _id: 'q4', text: 'quantum chromodynamics lattice' }, // no word in the corpus: lexical finds nothing
  { _id: 'q8', text: 'guitar concert' }, // not in the qrels: ignored
];
// CRLF, a header, graded labels; q7 has only a 0 (left out), q9 has no query line (scores 0).
const QRELS = ['query-id\tcorpus-id\tscore', 'q1\td1\t2', 'q2\td3\t1', 'q3\td4\t2', 'q3\td1\t0', 'q4\td5\t1', 'q7\td2\t0', 'q9\td2\t1'].join('\r\n') + '\r\n';

interface Report {
  job: string;
  modes: Record<string, Record<string, number>>;
  queries: number;
  perQuery: Record<string, Record<string, Record<string, number>>>;
  noRelevant: number;
  missingText: number;
  unjudged: number;
}

test('tandem eval: nDCG@10, Recall@100 and MRR@10 per mode on a tiny collection, equal to scoring the TREC runs of tandem search; recorded as an eval job', { skip, timeout: 600_000 }, () => {
  const corpus = path.join(tmp, 'corpus.jsonl');
  const queries = path.join(tmp, 'queries.jsonl');
  const qrels = path.join(tmp, 'qrels.tsv');
  fs.writeFileSync(corpus, CORPUS.map((d) => JSON.stringify(d)).join('\n') + '\n');
  fs.writeFileSync(queries, QUERIES.map((q) => JSON.stringify(q)).join('\r\n') + '\r\n');
  fs.writeFileSync(qrels, QRELS);
  const ix = tandem(['index', corpus, '--collection', 'tiny', '--model', 'minishlab/potion-base-2M', '--max-tokens', '16', '--overlap', '2', '--quiet']);
  assert.equal(ix.code, 0, ix.stderr);
  const show = JSON.parse(tandem(['collections', 'show', 'tiny', '--json']).stdout) as { documents: number; chunks: number };
  assert.equal(show.documents, 5);
  assert.ok(show.chunks >= 8, `d3 should be several chunks (chunks: ${show.chunks})`);

  const r = tandem(['eval', '--collection', 'tiny', '--queries', queries, '--qrels', qrels, '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  assert.deepEqual(Object.keys(rep.modes), ['lexical', 'vector', 'hybrid', 'default']);
  // Evaluated: q1 q2 q3 q4 q9 (q7 has no relevant document, q8 no judgement).
  assert.equal(rep.queries, 5);
  assert.deepEqual([rep.noRelevant, rep.missingText, rep.unjudged], [1, 1, 1]);
  assert.deepEqual(Object.keys(rep.perQuery).sort(), ['q1', 'q2', 'q3', 'q4', 'q9']);
  // Lexical by hand: q1, q2 (its one matching chunk is d3's last), q3 find their document first; q4 finds nothing; q9 has no text.
  for (const q of ['q1', 'q2', 'q3']) assert.deepEqual(rep.perQuery[q]!.lexical, { 'ndcg@10': 1, 'recall@100': 1, 'mrr@10': 1 }, q);
  for (const q of ['q4', 'q9']) assert.deepEqual(rep.perQuery[q]!.lexical, { 'ndcg@10': 0, 'recall@100': 0, 'mrr@10': 0 }, q);
  assert.deepEqual(rep.modes.lexical, { 'ndcg@10': 0.6, 'recall@100': 0.6, 'mrr@10': 0.6 });
  // Vector and hybrid retrieve all five documents (k 100): q4's d5 is found, so recall@100 is 4 of 5.
  for (const m of ['vector', 'hybrid']) assert.equal(rep.modes[m]!['recall@100'], 0.8, m);
  // Each mode equals its TREC run (tandem search --format trec --k 100) scored by the metrics module.
  const judged = parseQrels(QRELS);
  for (const mode of ['lexical', 'vector', 'hybrid']) {
    const s = tandem(['search', '--collection', 'tiny', '--queries', queries, '--format', 'trec', '--k', '100', '--mode', mode]);
    assert.equal(s.code, 0, s.stderr);
    const run = new Map<string, RunHit[]>();
    for (const line of s.stdout.trim().split('\n').filter(Boolean)) {
      const [qid, , docId, , score] = line.split(' ');
      (run.get(qid!) ?? run.set(qid!, []).get(qid!)!).push({ docId: docId!, score: Number(score) });
    }
    const want = evaluateRun(judged, run).mean;
    for (const [k, v] of Object.entries(want)) assert.ok(Math.abs(rep.modes[mode]![k]! - v) < 1e-9, `${mode} ${k}: eval ${rep.modes[mode]![k]} vs trec ${v}`);
  }
  // The text table, and the job record.
  const t = tandem(['eval', '--collection', 'tiny', '--queries', queries, '--qrels', qrels, '--mode', 'lexical', '--quiet']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^mode\s+nDCG@10\s+Recall@100\s+MRR@10\nlexical\s+0\.6000\s+0\.6000\s+0\.6000\n$/);
  assert.match(t.stderr, /tandem eval: tiny, 5 queries, k 100; 1 qrels queries without a relevant document left out; 1 qrels queries missing from .* scored 0; 1 queries not in the qrels ignored; \d+ ms, job \w+/);
  const jobs = JSON.parse(tandem(['jobs', 'list', '--kind', 'eval', '--json']).stdout) as Array<{ id: string; status: string; params: { collection: string; modes: string[] }; result: Report }>;
  assert.equal(jobs.length, 2);
  const job = jobs.find((j) => j.id === rep.job)!;
  assert.equal(job.status, 'succeeded');
  assert.deepEqual([job.params.collection, job.params.modes], ['tiny', ['lexical', 'vector', 'hybrid', 'default']]);
  assert.deepEqual(job.result.modes.lexical, rep.modes.lexical);
});

test('tandem eval: a bad mode is exit 2, a malformed qrels line names the file and line', { skip }, () => {
  const queries = path.join(tmp, 'q-bad.jsonl');
  const qrels = path.join(tmp, 'qrels-bad.tsv');
  fs.writeFileSync(queries, '{"_id":"q1","text":"a"}\n');
  fs.writeFileSync(qrels, 'query-id\tcorpus-id\tscore\nq1\td1\tyes\n');
  const bad = tandem(['eval', '--collection', 'tiny', '--queries', queries, '--qrels', qrels, '--mode', 'fuzzy']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /mode must be one of .*got "fuzzy"/);
  const r = tandem(['eval', '--collection', 'tiny', '--queries', queries, '--qrels', qrels]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /INVALID_INPUT: .*qrels-bad\.tsv line 2: the score must be an integer grade, got "yes"/);
});
