/**
 * npm run bench:search [-- --json] [-- --sizes 100000,1000000] [-- --queries 100] [-- --repeat 3]
 *                      [-- --skip ann,lexical,sqlite-vec,js] [-- --ef-construction 100]
 *                      [-- --ef-search 64,128,200] [-- --ann-cache DIR]
 *
 * Synthetic clustered 384-d unit vectors (seeded; queries are fresh points from the same
 * distribution) and a Zipfian pseudo-word corpus of the same size. Per collection size:
 *   exact-f32    ExactIndex float32 scan (native kernel; 1 thread and all threads)
 *   exact-f32-js the pure-JS fallback kernel (fewer queries: it is slow)
 *   exact-i8     int8 scan of k x 4 candidates + float32 rescore; recall@10 vs exact-f32
 *   *-batch      searchMany over all queries at once: amortised ms per query
 *   ann-hnsw     hnswlib-node HNSW (parallel shard build), recall@10 vs exact-f32, at several
 *                efSearch values. --ann-cache DIR keeps the built index (keyed by size and
 *                fingerprint) so later runs load it instead of rebuilding (1M: ~10 min on 2 cores).
 *   lexical-fts5 FTS5 BM25 over the store schema (chunks_fts), OR-query of 3 mid-frequency words
 *   sqlite-vec   vec0 brute force (the peer), cosine, in-memory database
 * Latencies are per single query (top-10), p50/p95 over queries x repeat passes after a warm-up.
 * Memory: for in-process arrays their bytes; for native structures (HNSW, SQLite) the RSS delta.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { AnnIndex, DEFAULT_ANN_PARAMS, vectorFingerprint } from '../native/engine/search/ann-index.js';
import { addonStatus } from '../native/engine/search/kernel.js';
import { lexicalSearch } from '../native/engine/search/lexical.js';
import { ClusteredVectors, rng, zipfTexts } from '../native/testing/synthetic.js';
import { allocateSharedVectors, ExactIndex, type SearchHit, type SearchOptions } from '../native/engine/search/vector-index.js';
import { openDatabase } from '../native/engine/store/database.js';
import { LibraryStore } from '../native/engine/store/library-store.js';

interface Row {
  size: number;
  system: string;
  threads: number;
  buildMs: number | null;
  memMiB: number | null;
  p50Ms: number;
  p95Ms: number;
  recallAt10: number | null;
  queries: number;
  note: string;
}

const DIMS = 384;
const K = 10;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const json = process.argv.includes('--json');
const sizes = (arg('sizes') ?? '100000,1000000').split(',').map((s) => Number(s.trim()));
const nq = Number(arg('queries') ?? 100);
const repeat = Number(arg('repeat') ?? 3);
const skip = new Set((arg('skip') ?? '').split(',').filter(Boolean));
const efConstruction = Number(arg('ef-construction') ?? DEFAULT_ANN_PARAMS.efConstruction);
const efSearches = [...new Set([DEFAULT_ANN_PARAMS.efSearch, ...(arg('ef-search') ?? '64,200').split(',').map(Number)])].sort((a, b) => a - b);
const annCache = arg('ann-cache');
for (const n of sizes) if (!Number.isInteger(n) || n < 1000) throw new Error(`--sizes: ${n} is not an integer >= 1000`);

const log = (msg: string): void => {
  if (!json) process.stderr.write(`${msg}\n`);
};
const rss = (): number => process.memoryUsage().rss;
const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Time `fn(i)` for each query, `passes` times, after `warm` warm-up calls. */
function latencies(count: number, passes: number, fn: (i: number) => void, warm = 3): number[] {
  for (let i = 0; i < Math.min(warm, count); i++) fn(i);
  const out: number[] = [];
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      fn(i);
      out.push(performance.now() - t);
    }
  }
  return out;
}

function recall(truth: SearchHit[][], got: Array<Array<{ id: number }>>): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < got.length; i++) {
    const t = new Set(truth[i]!.map((h) => h.id));
    total += t.size;
    for (const h of got[i]!) if (t.has(h.id)) hit++;
  }
  return hit / total;
}

function row(r: Omit<Row, 'p50Ms' | 'p95Ms'>, lat: number[]): Row {
  const out = { ...r, p50Ms: quantile(lat, 0.5), p95Ms: quantile(lat, 0.95) };
  log(
    `  ${r.system.padEnd(16)} thr ${String(r.threads).padStart(2)}  build ${r.buildMs === null ? '-' : (r.buildMs / 1000).toFixed(1) + ' s'}  mem ${r.memMiB ?? '-'} MiB  p50 ${out.p50Ms.toFixed(2)} ms  p95 ${out.p95Ms.toFixed(2)} ms  recall ${r.recallAt10?.toFixed(4) ?? '-'}  ${r.note}`,
  );
  return out;
}

async function benchSize(n: number): Promise<Row[]> {
  const rows: Row[] = [];
  log(`\n== ${n.toLocaleString('en')} vectors x ${DIMS} dims, ${nq} queries x ${repeat} passes ==`);
  let t = performance.now();
  const gen = new ClusteredVectors(DIMS, { seed: 1, expectedRows: n });
  const vectors = allocateSharedVectors(n, DIMS);
  for (let r0 = 0; r0 < n; r0 += 50_000) vectors.set(gen.points(Math.min(50_000, n - r0)), r0 * DIMS);
  const queries = gen.points(nq);
  const ids = Int32Array.from({ length: n }, (_, i) => i + 1);
  log(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const q = (i: number): Float32Array => queries.subarray(i * DIMS, (i + 1) * DIMS);

  // ---------------------------------------------------------------- exact
  // As the store hands them over: a plain (non-shared) array, so the build includes the copy into
  // shared memory. The other systems get the shared array (no copy needed for HNSW's workers).
  let plain: Float32Array | undefined = new Float32Array(vectors);
  t = performance.now();
  const exact = ExactIndex.fromFloat32(ids, plain, DIMS);
  await exact.ready();
  const exactBuild = performance.now() - t;
  plain = undefined;
  const threads = exact.threads;
  const f32Mem = mib(exact.memoryBytes());
  const truth = exact.searchMany(queries, nq, K);
  const one = ExactIndex.fromFloat32(ids, vectors, DIMS, { threads: 1 });
  rows.push(
    row(
      { size: n, system: 'exact-f32', threads: 1, buildMs: null, memMiB: f32Mem, recallAt10: 1, queries: nq, note: one.kernel },
      latencies(nq, repeat, (i) => one.search(q(i), K)),
    ),
  );
  rows.push(
    row(
      { size: n, system: 'exact-f32', threads, buildMs: exactBuild, memMiB: f32Mem, recallAt10: 1, queries: nq, note: `${exact.kernel}; build = copy to shared memory + workers up` },
      latencies(nq, repeat, (i) => exact.search(q(i), K)),
    ),
  );
  t = performance.now();
  exact.ensureInt8();
  const i8Build = performance.now() - t;
  const i8Mem = mib(exact.memoryBytes());
  one.ensureInt8();
  const i8: SearchOptions = { precision: 'int8' };
  const i8Recall = recall(truth, exact.searchMany(queries, nq, K, i8));
  rows.push(
    row(
      { size: n, system: 'exact-i8', threads: 1, buildMs: null, memMiB: i8Mem, recallAt10: i8Recall, queries: nq, note: 'rerank 4' },
      latencies(nq, repeat, (i) => one.search(q(i), K, i8)),
    ),
  );
  rows.push(
    row(
      { size: n, system: 'exact-i8', threads, buildMs: i8Build, memMiB: i8Mem, recallAt10: i8Recall, queries: nq, note: 'rerank 4; build = quantise' },
      latencies(nq, repeat, (i) => exact.search(q(i), K, i8)),
    ),
  );
  one.close();
  for (const [name, opts] of [
    ['exact-f32-batch', {}],
    ['exact-i8-batch', i8],
  ] as const) {
    const lat = latencies(1, repeat, () => exact.searchMany(queries, nq, K, opts), 1).map((ms) => ms / nq);
    rows.push(row({ size: n, system: name, threads, buildMs: null, memMiB: null, recallAt10: null, queries: nq, note: `searchMany(${nq}): ms per query` }, lat));
  }
  exact.close();

  if (!skip.has('js')) {
    const jsIdx = ExactIndex.fromFloat32(ids, vectors, DIMS, { kernel: 'js' });
    await jsIdx.ready();
    const jq = Math.max(3, Math.min(nq, Math.round(2e6 / n) * 5));
    rows.push(
      row(
        { size: n, system: 'exact-f32-js', threads: jsIdx.threads, buildMs: null, memMiB: f32Mem, recallAt10: 1, queries: jq, note: 'pure-JS fallback kernel' },
        latencies(jq, 1, (i) => jsIdx.search(q(i), K), 1),
      ),
    );
    jsIdx.close();
  }

  // ---------------------------------------------------------------- ANN
  if (!skip.has('ann')) {
    const dir = annCache ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-hnsw-'));
    const fingerprint = vectorFingerprint(ids, vectors, DIMS);
    const file = path.join(dir, `ann-${n}-efc${efConstruction}-${fingerprint.slice(5, 17)}.json`);
    const r0 = rss();
    t = performance.now();
    let ann: AnnIndex;
    let buildMs: number | null = null;
    let how: string;
    let annMem = 0;
    const cached = annCache ? AnnIndex.load(file, { dims: DIMS, count: n, modelId: 'bench', fingerprint }) : { stale: 'no cache' };
    if ('index' in cached) {
      ann = cached.index;
      how = `loaded from --ann-cache in ${((performance.now() - t) / 1000).toFixed(1)} s (build not re-measured)`;
      annMem = mib(rss() - r0);
    } else {
      let lastLog = 0;
      ann = await AnnIndex.build(ids, vectors, DIMS, {
        modelId: 'bench',
        fingerprint,
        efConstruction,
        path: file,
        onProgress: (done, total) => {
          if (performance.now() - lastLog > 30_000) {
            lastLog = performance.now();
            log(`  hnsw build ${done}/${total} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
          }
        },
      });
      buildMs = performance.now() - t;
      annMem = mib(rss() - r0);
      t = performance.now();
      const again = AnnIndex.load(file, { dims: DIMS, count: n, modelId: 'bench', fingerprint });
      how = `reload from file ${((performance.now() - t) / 1000).toFixed(1)} s${'index' in again ? '' : ` FAILED: ${again.stale}`}`;
    }
    const p = ann.header.params;
    const fileMiB = mib(ann.header.shards.reduce((a, s) => a + s.bytes, 0));
    for (const ef of efSearches) {
      const annRecall = recall(truth, ann.searchMany(queries, nq, K, { efSearch: ef }));
      rows.push(
        row(
          {
            size: n,
            system: 'ann-hnsw',
            threads: 1,
            buildMs,
            memMiB: annMem,
            recallAt10: annRecall,
            queries: nq,
            note: `ef ${ef}${ef === p.efSearch ? ' (default)' : ''}; M ${p.m}, efC ${p.efConstruction}, ${ann.header.shards.length} shards built on ${ann.header.shards.length} threads; files ${fileMiB} MiB; ${how}`,
          },
          latencies(nq, repeat, (i) => ann.search(q(i), K, { efSearch: ef })),
        ),
      );
    }
    if (!annCache) fs.rmSync(dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- sqlite-vec (peer)
  if (!skip.has('sqlite-vec')) {
    const r0 = rss();
    const db = new Database(':memory:');
    sqliteVec.load(db);
    db.exec(`CREATE VIRTUAL TABLE vec_items USING vec0(embedding float[${DIMS}] distance_metric=cosine)`);
    t = performance.now();
    const ins = db.prepare('INSERT INTO vec_items(rowid, embedding) VALUES (?, ?)');
    const insertAll = db.transaction((from: number, to: number) => {
      for (let r = from; r < to; r++) ins.run(BigInt(ids[r]!), Buffer.from(vectors.buffer, r * DIMS * 4, DIMS * 4));
    });
    for (let r = 0; r < n; r += 100_000) insertAll(r, Math.min(n, r + 100_000));
    const vecBuild = performance.now() - t;
    const vecMem = mib(rss() - r0);
    const sel = db.prepare('SELECT rowid AS id, distance FROM vec_items WHERE embedding MATCH ? AND k = ?');
    const vq = Math.min(nq, Math.max(10, Math.round(5e6 / n)));
    const search = (i: number): Array<{ id: number }> =>
      (sel.all(Buffer.from(queries.buffer, queries.byteOffset + i * DIMS * 4, DIMS * 4), K) as Array<{ id: number | bigint }>).map((x) => ({ id: Number(x.id) }));
    const got = Array.from({ length: vq }, (_, i) => search(i));
    rows.push(
      row(
        { size: n, system: 'sqlite-vec', threads: 1, buildMs: vecBuild, memMiB: vecMem, recallAt10: recall(truth.slice(0, vq), got), queries: vq, note: 'vec0 brute force, cosine, in-memory db' },
        latencies(vq, 1, (i) => search(i), 1),
      ),
    );
    db.close();
  }

  // ---------------------------------------------------------------- lexical (FTS5 BM25)
  if (!skip.has('lexical')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-fts-'));
    const file = path.join(dir, 'store.db');
    const db = openDatabase(file);
    const corpus = zipfTexts({ vocab: 50_000, seed: 3 });
    const now = new Date().toISOString();
    db.prepare("INSERT INTO collections (id, name, model, variant, created_at) VALUES (1, 'bench', 'm', 'fp32', ?)").run(now);
    const doc = db.prepare("INSERT INTO documents (id, collection_id, doc_key, path, file_type, size, mtime_ms, sha256, indexed_at) VALUES (?, 1, ?, ?, 'txt', 0, 0, '', ?)");
    const chunk = db.prepare('INSERT INTO chunks (id, document_id, ord, text, start, end, tokens) VALUES (?, ?, ?, ?, 0, 0, 40)');
    t = performance.now();
    const fill = db.transaction((from: number, to: number) => {
      for (let r = from; r < to; r++) {
        const d = Math.floor(r / 10) + 1;
        if (r % 10 === 0) doc.run(d, `doc-${d}`, `/bench/doc-${d}.txt`, now);
        chunk.run(r + 1, d, r % 10, corpus.text(40));
      }
    });
    for (let r = 0; r < n; r += 50_000) fill(r, Math.min(n, r + 50_000));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const ftsBuild = performance.now() - t;
    const dbMiB = mib(fs.statSync(file).size);
    // queries: 3 words from ranks 100-5000 (neither stopword-like nor unseen)
    const lib = new LibraryStore(db);
    const pick = rng(99);
    const texts = Array.from({ length: nq }, () =>
      Array.from({ length: 3 }, () => corpus.vocabulary[100 + Math.floor(pick() * 4900)]!).join(' '),
    );
    rows.push(
      row(
        { size: n, system: 'lexical-fts5', threads: 1, buildMs: ftsBuild, memMiB: dbMiB, recallAt10: null, queries: nq, note: `BM25, 40-word chunks, 3-word OR queries; mem = db file (chunks + FTS)` },
        latencies(nq, repeat, (i) => lexicalSearch(lib, texts[i]!, { k: K, collectionId: 1 })),
      ),
    );
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const started = performance.now();
const load0 = os.loadavg();
const all: Row[] = [];
const addon = addonStatus();
log(`search bench: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, addon ${addon.loaded ? 'loaded' : `absent (${addon.error})`}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
for (const n of sizes) all.push(...(await benchSize(n)));
const totalS = (performance.now() - started) / 1000;
const result = {
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version, loadAvgStart: load0, loadAvgEnd: os.loadavg() },
  dims: DIMS,
  k: K,
  queries: nq,
  repeat,
  totalSeconds: Math.round(totalS),
  rows: all,
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const fmt = (x: number | null, d = 2): string => (x === null ? '-' : x.toFixed(d));
  const head = ['size', 'system', 'thr', 'build s', 'mem MiB', 'p50 ms', 'p95 ms', 'recall@10', 'note'];
  const lines = all.map((r) => [r.size.toLocaleString('en'), r.system, String(r.threads), r.buildMs === null ? '-' : fmt(r.buildMs / 1000, 1), fmt(r.memMiB, 0), fmt(r.p50Ms), fmt(r.p95Ms), fmt(r.recallAt10, 4), r.note]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out = [head, ...lines].map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(w[i]!))).join('  '));
  console.log(`\n${out.join('\n')}\n\ntotal ${totalS.toFixed(0)} s; load average ${load0.map((x) => x.toFixed(2)).join(' ')} -> ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}
