import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'native/hosts/cli/bin.ts');

function makeCorpus(dir: string): void {
  fs.mkdirSync(path.join(dir, 'notes', 'deep'), { recursive: true });
  const words = 'protein ligand binding affinity structure prediction model sequence residue fold energy sample assay cell gene expression'.split(' ');
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sentence = () => Array.from({ length: 8 + Math.floor(rnd() * 12) }, () => words[Math.floor(rnd() * words.length)]).join(' ') + '.';
  for (let i = 0; i < 120; i++) {
    const paras = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => Array.from({ length: 3 + Math.floor(rnd() * 6) }, sentence).join(' ')).join('\n\n');
    fs.writeFileSync(path.join(dir, i % 3 === 0 ? 'notes/deep' : 'notes', `note-${i}.md`), `# Note ${i}\n\n${paras}\n`);
  }
  const lines = Array.from({ length: 40000 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: `doc ${i}`, text: sentence() + ' ' + sentence() }));
  fs.writeFileSync(path.join(dir, 'corpus.jsonl'), lines.join('\n') + '\n');
}

function env(home: string): NodeJS.ProcessEnv {
  return { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(shared, 'models') };
}

function indexArgs(dir: string): string[] {
  return ['--import', 'tsx', bin, 'index', dir, '--collection', 'c', '--model', 'minishlab/potion-base-2M', '--quiet'];
}

interface Snapshot {
  documents: number;
  chunks: number;
  embeddings: number;
  fts: number;
  orphanChunks: number;
  orphanEmbeddings: number;
  duplicateKeys: number;
  perDoc: Map<string, string>;
}

function snapshot(home: string): Snapshot {
  const db = new Database(path.join(home, 'tandem.db'), { readonly: true });
  const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const perDoc = new Map<string, string>();
  for (const r of db.prepare("SELECT d.doc_key AS k, group_concat(c.ord || ':' || length(c.text), ',') AS sig FROM documents d LEFT JOIN (SELECT * FROM chunks ORDER BY ord) c ON c.document_id = d.id GROUP BY d.id").all() as Array<{ k: string; sig: string }>) perDoc.set(r.k, r.sig);
  const s: Snapshot = {
    documents: one('SELECT COUNT(*) AS n FROM documents'),
    chunks: one('SELECT COUNT(*) AS n FROM chunks'),
    embeddings: one('SELECT COUNT(*) AS n FROM embeddings'),
    fts: one('SELECT COUNT(*) AS n FROM chunks_fts'),
    orphanChunks: one('SELECT COUNT(*) AS n FROM chunks c LEFT JOIN documents d ON d.id = c.document_id WHERE d.id IS NULL'),
    orphanEmbeddings: one('SELECT COUNT(*) AS n FROM embeddings e LEFT JOIN chunks c ON c.id = e.chunk_id WHERE c.id IS NULL'),
    duplicateKeys: one('SELECT COUNT(*) AS n FROM (SELECT doc_key FROM documents GROUP BY collection_id, doc_key HAVING COUNT(*) > 1)'),
    perDoc,
  };
  db.close();
  return s;
}

test('SIGKILL at random points while indexing, then re-run: same documents and chunks as a fresh index, no duplicates, no orphans', { skip, timeout: 300_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-crash-'));
  const corpus = path.join(tmp, 'corpus');
  makeCorpus(corpus);
  const fresh = path.join(tmp, 'fresh');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, indexArgs(corpus), { cwd: root, env: env(fresh), encoding: 'utf8', timeout: 240_000 });
  const freshMs = performance.now() - t0;
  assert.equal(r.status, 0, r.stderr);
  const want = snapshot(fresh);
  assert.ok(want.documents > 40000, `fresh index has ${want.documents} documents`);

  const crashed = path.join(tmp, 'crashed');
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let killedMidway = 0;
  for (let round = 0; round < 5; round++) {
    const child = spawn(process.execPath, indexArgs(corpus), { cwd: root, env: env(crashed), stdio: 'ignore' });
    // Kill points spread over the run, whatever this machine's speed: 30-90% of a fresh run's time.
    const delay = Math.floor(freshMs * (0.3 + rnd() * 0.6));
    const exited = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(false);
      }, delay);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!exited) {
      killedMidway++;
      await new Promise((res) => child.on('exit', res));
    }
    if (fs.existsSync(path.join(crashed, 'tandem.db'))) {
      const mid = snapshot(crashed);
      assert.equal(mid.orphanChunks, 0, `round ${round}: orphan chunks after a kill`);
      assert.equal(mid.orphanEmbeddings, 0, `round ${round}: orphan embeddings after a kill`);
      assert.equal(mid.duplicateKeys, 0, `round ${round}: duplicate documents after a kill`);
      assert.equal(mid.fts, mid.chunks, `round ${round}: FTS rows differ from chunks`);
      assert.equal(mid.embeddings, mid.chunks, `round ${round}: embeddings differ from chunks`);
    }
  }
  assert.ok(killedMidway >= 2, `only ${killedMidway} kills landed mid-run; the test did not exercise crashes`);
  const fin = spawnSync(process.execPath, indexArgs(corpus), { cwd: root, env: env(crashed), encoding: 'utf8', timeout: 240_000 });
  assert.equal(fin.status, 0, fin.stderr);
  const got = snapshot(crashed);
  assert.equal(got.documents, want.documents, 'documents');
  assert.equal(got.chunks, want.chunks, 'chunks');
  assert.equal(got.embeddings, want.embeddings, 'embeddings');
  assert.equal(got.fts, want.fts, 'fts rows');
  assert.equal(got.orphanChunks + got.orphanEmbeddings + got.duplicateKeys, 0, 'orphans or duplicates');
  assert.deepEqual(got.perDoc, want.perDoc, 'per-document chunk layout');
  // The job history tells the same story: killed jobs were resumed (a run that finished before
  // its kill leaves a succeeded job, and the next run starts a new one); none is left running.
  const db = new Database(path.join(crashed, 'tandem.db'), { readonly: true });
  const jobs = db.prepare("SELECT id, status FROM jobs WHERE kind = 'index'").all() as Array<{ id: string; status: string }>;
  const resumed = (db.prepare("SELECT COUNT(*) AS n FROM job_events WHERE type = 'resumed'").get() as { n: number }).n;
  db.close();
  assert.ok(jobs.length >= 1 && jobs.length <= 6, `index jobs: ${JSON.stringify(jobs)}`);
  assert.ok(jobs.every((j) => j.status === 'succeeded'), `every index job finished: ${JSON.stringify(jobs)}`);
  assert.ok(resumed >= 1, `resumed events: ${resumed}`);
});
