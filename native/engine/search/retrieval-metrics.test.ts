import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sharedDir } from '../../testing/shared.js';
import { evaluateRun, parseQrels, parseQueries, rankDocuments, type RunHit } from './retrieval-metrics.js';

/**
 * A small BEIR qrels file (header, CRLF) with graded labels: q1 has grades 2/1/0 and a relevant
 * document never retrieved; q3 has only a 0 judgement; q4 is missing from the run; q6's only
 * relevant document is at rank 11.
 */
const QRELS = [
  'query-id\tcorpus-id\tscore',
  'q1\td1\t2',
  'q1\td2\t1',
  'q1\td3\t0',
  'q1\td9\t1',
  'q2\td5\t1',
  'q3\td7\t0',
  'q4\td8\t2',
  'q6\tx11\t1',
].join('\r\n') + '\r\n';

/** Chunk-level run: documents appear several times (best chunk counts); q1 and q2 have score ties. */
const RUN = new Map<string, RunHit[]>([
  ['q1', [
    { docId: 'd3', score: 0.9 },
    { docId: 'd1', score: 0.5 },
    { docId: 'd2', score: 0.8 },
    { docId: 'd1', score: 0.8 }, // d1's best chunk ties d2: d1 first (docid ascending)
    { docId: 'd4', score: 0.7 },
    { docId: 'd2', score: 0.1 },
  ]],
  ['q2', [{ docId: 'd6', score: 0.9 }, { docId: 'd5', score: 0.9 }]], // tie: d5 first
  ['q3', [{ docId: 'd7', score: 1 }]],
  ['q5', [{ docId: 'd1', score: 1 }]], // not in the qrels
  // q6: twelve documents, the only relevant one (x11) at rank 11
  ['q6', Array.from({ length: 12 }, (_, i) => ({ docId: i === 10 ? 'x11' : `y${String(i + 1).padStart(2, '0')}`, score: 1 - i / 100 }))],
]);

// Hand computation (gain = grade, discount log2(rank + 1)):
// q1 ranked d3 (0), d1 (2), d2 (1), d4 (-): DCG = 2/log2(3) + 1/log2(4); IDCG over grades 2,1,1 = 2/1 + 1/log2(3) + 1/log2(4)
//    recall@100 = 2 of 3 relevant (d9 never retrieved); MRR@10 = 1/2
// q2 ranked d5 (1), d6: nDCG 1, recall 1, MRR 1
// q3 only a 0 grade: left out; q4 not in the run: 0, 0, 0; q5 not judged: ignored
// q6 relevant at rank 11: nDCG@10 0, recall@100 1, MRR@10 0
const Q1_NDCG = (2 / Math.log2(3) + 1 / 2) / (2 + 1 / Math.log2(3) + 1 / 2); // 0.5627272554
const EXPECTED = {
  q1: { 'ndcg@10': Q1_NDCG, 'recall@100': 2 / 3, 'mrr@10': 0.5 },
  q2: { 'ndcg@10': 1, 'recall@100': 1, 'mrr@10': 1 },
  q4: { 'ndcg@10': 0, 'recall@100': 0, 'mrr@10': 0 },
  q6: { 'ndcg@10': 0, 'recall@100': 1, 'mrr@10': 0 },
};

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
}

test('metrics equal the hand-computed reference: graded labels, ties, chunks, missing and unjudged queries', () => {
  const r = evaluateRun(parseQrels(QRELS), RUN);
  assert.deepEqual([...r.perQuery.keys()].sort(), ['q1', 'q2', 'q4', 'q6']);
  for (const [q, m] of Object.entries(EXPECTED)) for (const [k, v] of Object.entries(m)) close(r.perQuery.get(q)![k as keyof typeof m], v, `${q} ${k}`);
  close(Q1_NDCG, 0.5627272554209044, 'hand value of q1 nDCG@10');
  close(r.mean['ndcg@10'], (Q1_NDCG + 1) / 4, 'mean nDCG@10');
  close(r.mean['ndcg@10'], 0.3906818138552261, 'mean nDCG@10 (number)');
  close(r.mean['recall@100'], (2 / 3 + 1 + 0 + 1) / 4, 'mean Recall@100');
  close(r.mean['mrr@10'], 0.375, 'mean MRR@10');
  assert.deepEqual(r.noRelevant, ['q3']);
  assert.deepEqual(r.unjudged, ['q5']);
});

test('ranking: a document scores as its best chunk, ties by document id ascending', () => {
  assert.deepEqual(rankDocuments(RUN.get('q1')!), ['d3', 'd1', 'd2', 'd4']);
  assert.deepEqual(rankDocuments([{ docId: 'b', score: 1 }, { docId: 'a', score: 1 }, { docId: 'c', score: 2 }]), ['c', 'a', 'b']);
});

test('qrels: header optional, CRLF, TREC four-column lines; a bad grade names its line', () => {
  const a = parseQrels('q1\td1\t1\nq1\td2\t2\n');
  const b = parseQrels('q1 0 d1 1\r\nq1 0 d2 2\r\n');
  assert.deepEqual([...a.get('q1')!], [['d1', 1], ['d2', 2]]);
  assert.deepEqual([...b.get('q1')!], [['d1', 1], ['d2', 2]]);
  assert.throws(() => parseQrels('query-id\tcorpus-id\tscore\nq1\td1\thigh\n', 'x.tsv'), { code: 'INVALID_INPUT', message: /x\.tsv line 2: the score must be an integer grade, got "high"/ });
  assert.throws(() => parseQrels('q1\td1\n', 'x.tsv'), { code: 'INVALID_INPUT', message: /x\.tsv line 1: expected/ });
  assert.throws(() => parseQrels('\n\n'), { code: 'INVALID_INPUT', message: /no judgements/ });
});

test('queries: BEIR JSONL with CRLF; a line without text names its line', () => {
  assert.deepEqual(parseQueries('{"_id":"q1","text":"a b","metadata":{}}\r\n\r\n{"_id":2,"text":"c"}\r\n'), [{ id: 'q1', text: 'a b' }, { id: '2', text: 'c' }]);
  assert.throws(() => parseQueries('{"_id":"q1"}\n', 'q.jsonl'), { code: 'INVALID_INPUT', message: /q\.jsonl line 1: "text" is missing/ });
  assert.throws(() => parseQueries('{"_id":"q1","text":"a"}\n{"_id":"q1","text":"b"}\n'), { code: 'INVALID_INPUT', message: /line 2: query id "q1" appears twice/ });
});

const shared = sharedDir();
const python = spawnSync('python3', ['--version']).status === 0;
test('nDCG@10 equals the project yardstick (../shared/acceptance/ndcg.py) on the same run', { skip: !shared ? 'skipped: ../shared (acceptance/ndcg.py) is absent on this machine' : !python ? 'skipped: python3 is absent' : false }, () => {
  // ndcg.py averages over all qrels queries, so leave out q3 (only a 0 grade), which it would count as a 0.
  const qrels = QRELS.split('\r\n').filter((l) => !l.startsWith('q3')).join('\r\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-metrics-'));
  fs.writeFileSync(path.join(dir, 'qrels.tsv'), qrels);
  const lines = [...RUN].flatMap(([q, hits]) => hits.map((h, i) => `${q} Q0 ${h.docId} ${i + 1} ${h.score} t`));
  fs.writeFileSync(path.join(dir, 'run.trec'), lines.join('\n') + '\n');
  const r = spawnSync('python3', [path.join(shared!, 'acceptance', 'ndcg.py'), path.join(dir, 'qrels.tsv'), path.join(dir, 'run.trec')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ours = evaluateRun(parseQrels(qrels), RUN).mean['ndcg@10'];
  assert.equal(r.stdout.trim(), ours.toFixed(4));
});
