import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { EmbedClient } from '../inference/embed-client.js';
import { openDatabase } from '../store/database.js';
import { LibraryStore, modelKey } from '../store/library-store.js';
import { repoRoot, runTandem } from '../../testing/cli-run.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { indexPath } from './indexer.js';
import type { ModeUsed } from './search-mode.js';
import { Searcher } from './searcher.js';
import { upgradeCollection, type UpgradeProgress } from './upgrade.js';

const { shared, skip } = sharedOrSkip();
const POTION = 'minishlab/potion-base-2M';
/** A real transformer (MiniLM-L6 architecture, random weights): slow on CPU, so the corpora are small. */
const MINILM = 'fixtures/minilm-l6-arch-random';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-upgrade-'));
const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '' };
const client = new EmbedClient(env);
after(() => client.close());

/** Short notes (one or two sentences each) so the transformer stays quick. */
function makeCorpus(dir: string, docs: number, seed: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const words = 'protein ligand binding affinity structure prediction sequence residue fold energy sample assay cell gene expression kinase'.split(' ');
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sentence = () => Array.from({ length: 6 + Math.floor(rnd() * 8) }, () => words[Math.floor(rnd() * words.length)]).join(' ') + '.';
  for (let i = 0; i < docs; i++) fs.writeFileSync(path.join(dir, `n${i}.txt`), `${sentence()} ${rnd() < 0.5 ? sentence() : ''}`);
  fs.writeFileSync(path.join(dir, 'marker.txt'), 'The zebrafish xylophone appears only in this note.');
}

function vectorsByKey(db: Database.Database): Array<{ model: string; n: number }> {
  return db.prepare('SELECT model, COUNT(*) AS n FROM embeddings GROUP BY model ORDER BY model').all() as Array<{ model: string; n: number }>;
}

function one(db: Database.Database, sql: string): number {
  return (db.prepare(sql).get() as { n: number }).n;
}

test('upgrade: search answers during it (lexically, then from the old vectors), then every chunk has exactly one vector, of the new model', { skip, timeout: 600_000 }, async () => {
  const corpus = path.join(tmp, 'corpus');
  makeCorpus(corpus, 120, 11);
  const lib = new LibraryStore(openDatabase(path.join(tmp, 'up.db')));
  await indexPath(lib, client, { root: corpus, collection: 'c', model: POTION, lexicalOnly: true }, {}, env);
  const chunks = one(lib.db, 'SELECT COUNT(*) AS n FROM chunks');
  const searcher = new Searcher(lib, client, env);
  try {
    // 1. lexical-only -> potion: while it runs, vector search answers lexically (and finds the marker).
    const during: Array<Promise<{ used: ModeUsed | undefined; top: string | undefined; p: UpgradeProgress }>> = [];
    const ask = (p: UpgradeProgress) => {
      let used: ModeUsed | undefined;
      // The mode is decided when the search starts (synchronously), i.e. at this progress point.
      const hits = searcher.search('c', 'zebrafish xylophone', { k: 3, mode: 'vector', onModeUsed: (m) => (used = m) });
      during.push(hits.then((h) => ({ used, top: h[0]?.docKey, p })));
    };
    const s1 = await upgradeCollection(lib, client, { collection: 'c', model: POTION }, { onProgress: ask }, env);
    const seen1 = await Promise.all(during);
    assert.ok(seen1.length >= 3, `progress events with searches: ${seen1.length}`);
    for (const r of seen1) {
      assert.equal(r.used?.used, 'lexical', `at ${r.p.done}/${r.p.total} the collection is still lexical-only`);
      assert.match(r.used?.reason ?? '', /an upgrade to minishlab\/potion-base-2M is under way/);
      assert.equal(r.top, 'marker.txt', 'and search answers');
    }
    assert.deepEqual({ embedded: s1.embedded, chunks: s1.chunks, from: s1.from, dims: s1.dims }, { embedded: chunks, chunks, from: null, dims: 64 });
    assert.deepEqual(vectorsByKey(lib.db), [{ model: modelKey(POTION, 'static'), n: chunks }]);
    let afterUsed: ModeUsed | undefined;
    await searcher.search('c', 'zebrafish', { k: 3, mode: 'vector', onModeUsed: (m) => (afterUsed = m) });
    assert.equal(afterUsed?.used, 'vector', 'vector search once the switch is done');

    // 2. potion -> the MiniLM fixture: search keeps answering from the potion vectors until the switch.
    during.length = 0;
    const s2 = await upgradeCollection(lib, client, { collection: 'c', model: MINILM, variant: 'int8' }, {
      onProgress: (p) => {
        const st = lib.stats(lib.requireCollection('c'));
        assert.equal(st.liveVectors, modelKey(POTION, 'static'), 'the old vectors are live during the upgrade');
        assert.deepEqual(st.upgradeProgress && { model: st.upgradeProgress.model, done: st.upgradeProgress.done, total: st.upgradeProgress.total }, { model: MINILM, done: p.done, total: p.total });
        ask(p);
      },
    }, env);
    const seen2 = await Promise.all(during);
    assert.ok(seen2.length >= 2, `progress events with searches: ${seen2.length}`);
    for (const r of seen2) {
      assert.deepEqual(r.used, { requested: 'vector', used: 'vector', reason: null }, `at ${r.p.done}/${r.p.total}`);
      assert.ok(r.top, 'vector search answers from the old vectors');
    }
    assert.deepEqual({ embedded: s2.embedded, chunks: s2.chunks, dims: s2.dims, from: s2.from }, { embedded: chunks, chunks, dims: 384, from: { model: POTION, variant: 'static' } });
    const c = lib.requireCollection('c');
    assert.deepEqual({ model: c.model, variant: c.variant, dims: c.dims, upgrade: c.upgrade }, { model: MINILM, variant: 'int8', dims: 384, upgrade: null });
    assert.deepEqual(vectorsByKey(lib.db), [{ model: modelKey(MINILM, 'int8'), n: chunks }], 'one vector per chunk, all of the new model');
    assert.equal(one(lib.db, 'SELECT COUNT(DISTINCT chunk_id) AS n FROM embeddings'), chunks);
    assert.equal(lib.stats(c).upgradeProgress, null);
    // The same command again: nothing to do.
    const again = await upgradeCollection(lib, client, { collection: 'c', model: MINILM, variant: 'int8' }, {}, env);
    assert.equal(again.alreadyLive, true);
    assert.equal(again.embedded, 0);
  } finally {
    searcher.close();
    lib.db.close();
  }
});

interface Snap {
  chunks: number;
  byKey: Array<{ model: string; n: number }>;
  live: string | null;
  upgrade: string | null;
  liveMissing: number;
  dupes: number;
  orphans: number;
}

function snap(home: string): Snap {
  const db = new Database(path.join(home, 'tandem.db'), { readonly: true });
  try {
    const c = db.prepare("SELECT model, variant, upgrade_model AS um FROM collections WHERE name = 'c'").get() as { model: string | null; variant: string | null; um: string | null };
    const live = c.model ? modelKey(c.model, c.variant!) : null;
    return {
      chunks: one(db, 'SELECT COUNT(*) AS n FROM chunks'),
      byKey: vectorsByKey(db),
      live,
      upgrade: c.um,
      liveMissing: live ? (db.prepare('SELECT COUNT(*) AS n FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id AND e.model = ?)').get(live) as { n: number }).n : -1,
      dupes: one(db, 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM embeddings GROUP BY chunk_id, model HAVING COUNT(*) > 1)'),
      orphans: one(db, 'SELECT COUNT(*) AS n FROM embeddings e LEFT JOIN chunks c ON c.id = e.chunk_id WHERE c.id IS NULL'),
    };
  } finally {
    db.close();
  }
}

test('upgrade: SIGKILL at random points, then the same command completes with the same counts as an uninterrupted upgrade', { skip, timeout: 900_000 }, async (t) => {
  const corpus = path.join(tmp, 'kill-corpus');
  makeCorpus(corpus, 260, 5);
  const base = path.join(tmp, 'kill-base');
  const cli = (home: string) => ({ ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(shared, 'models') });
  const idx = await runTandem(['index', corpus, '--collection', 'c', '--model', POTION, '--quiet'], cli(base), { timeoutMs: 120_000 });
  assert.equal(idx.status, 0, idx.stderr);
  // Two copies of the same indexed store (same chunk ids): one upgraded straight, one killed again and again.
  const fresh = path.join(tmp, 'kill-fresh');
  const crashed = path.join(tmp, 'kill-crashed');
  for (const h of [fresh, crashed]) fs.cpSync(base, h, { recursive: true });
  const args = ['--import', 'tsx', path.join(repoRoot, 'native/hosts/cli/bin.ts'), 'collections', 'upgrade', 'c', '--model', MINILM, '--variant', 'int8', '--quiet'];
  const t0 = performance.now();
  const straight = await runTandem(args.slice(3), cli(fresh), { timeoutMs: 400_000 });
  const freshMs = performance.now() - t0;
  assert.equal(straight.status, 0, straight.stderr);
  const want = snap(fresh);
  const newKey = modelKey(MINILM, 'int8');
  assert.deepEqual(want.byKey, [{ model: newKey, n: want.chunks }]);

  let seed = 99;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const killedAt: number[] = [];
  for (let round = 0; round < 5; round++) {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: cli(crashed), stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    // Round 0: a random moment (start-up, model load or the first batches); then: once a random
    // share of the chunks has its new vector (read from the store while the child writes it).
    const before = snap(crashed).byKey.find((k) => k.model === newKey)?.n ?? 0;
    // (at most 40% of what is left, so the kill lands before the last batch and the switch)
    const threshold = round === 0 ? Infinity : before + Math.max(1, Math.floor((want.chunks - before) * rnd() * 0.4));
    const deadline = performance.now() + (round === 0 ? freshMs * (0.2 + rnd() * 0.5) : freshMs * 3);
    let done = false;
    void exited.then(() => (done = true));
    let at = -1;
    while (!done) {
      await new Promise((r) => setTimeout(r, 20));
      let n = 0;
      try {
        const db = new Database(path.join(crashed, 'tandem.db'), { readonly: true });
        n = (db.prepare('SELECT COUNT(*) AS n FROM embeddings WHERE model = ?').get(newKey) as { n: number }).n;
        db.close();
      } catch {
        // busy or mid-checkpoint: try again
      }
      if (n >= threshold || performance.now() > deadline) {
        at = n;
        child.kill('SIGKILL');
        break;
      }
    }
    await exited;
    const mid = snap(crashed);
    if (at >= 0 && mid.live !== newKey) killedAt.push(at);
    assert.equal(mid.dupes, 0, `round ${round}: duplicate vectors after a kill`);
    assert.equal(mid.orphans, 0, `round ${round}: orphan vectors after a kill`);
    assert.equal(mid.liveMissing, 0, `round ${round}: every chunk keeps a vector of the live model (search works): ${JSON.stringify(mid)}`);
    if (mid.live === newKey) assert.deepEqual(mid.byKey, [{ model: newKey, n: mid.chunks }], `round ${round}: switched, old vectors gone`);
  }
  assert.ok(killedAt.filter((n) => n > 0).length >= 3, `kills landed mid-upgrade at ${JSON.stringify(killedAt)} new vectors (of ${want.chunks})`);
  const fin = await runTandem(args.slice(3), cli(crashed), { timeoutMs: 400_000 });
  assert.equal(fin.status, 0, fin.stderr);
  const got = snap(crashed);
  assert.deepEqual(got, want, 'same chunks and vectors as the uninterrupted upgrade');

  // The vectors match the straight run's (int8 activations vary with batch-mates at ~1e-3).
  const a = new Database(path.join(fresh, 'tandem.db'), { readonly: true });
  const b = new Database(path.join(crashed, 'tandem.db'), { readonly: true });
  const rows = (db: Database.Database) => new Map((db.prepare('SELECT chunk_id AS id, vector AS v FROM embeddings').all() as Array<{ id: number; v: Buffer }>).map((r) => [r.id, new Float32Array(r.v.buffer, r.v.byteOffset, r.v.byteLength / 4)]));
  const va = rows(a);
  const vb = rows(b);
  let worst = 1;
  for (const [id, x] of va) {
    const y = vb.get(id)!;
    let dot = 0;
    for (let i = 0; i < x.length; i++) dot += x[i]! * y[i]!;
    worst = Math.min(worst, dot);
  }
  assert.ok(worst > 0.999, `worst cosine to the straight run ${worst}`);
  const jobs = b.prepare("SELECT status FROM jobs WHERE kind = 'upgrade'").all() as Array<{ status: string }>;
  const resumed = one(b, "SELECT COUNT(*) AS n FROM job_events WHERE type = 'resumed'");
  a.close();
  b.close();
  assert.ok(jobs.every((j) => j.status === 'succeeded'), `every upgrade job finished: ${JSON.stringify(jobs)}`);
  assert.ok(resumed >= 1, `killed jobs were resumed: ${resumed}`);
  t.diagnostic(`${want.chunks} chunks; straight upgrade ${(freshMs / 1000).toFixed(1)} s; killed at ${JSON.stringify(killedAt)} new vectors; ${jobs.length} upgrade jobs, ${resumed} resumed; worst cosine ${worst.toFixed(6)}`);
});
