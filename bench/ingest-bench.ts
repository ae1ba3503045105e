/**
 * npm run bench:ingest [-- --json]
 *
 * Ingestion throughput vs the embedding engine's own: plain-text files built from STS-B sentences
 * are indexed (walk, read, chunk, embed in the worker, SQLite writes, FTS), then the same chunk
 * texts are embedded directly through the engine. Target: indexing >= 90% of the engine's rate.
 * Both are timed warm (after a full first pass each), three rounds interleaved, medians reported.
 *
 * A second table says where the indexing time goes (Linux: per-thread CPU from /proc): the
 * indexing thread (reads, SQLite, FTS5), the embedding worker (chunking, tokenizing, pooling or
 * ONNX), the rest (V8's GC helpers, libuv), and the ceiling this CPU puts on the ratio: on N cores
 * perfectly overlapped, indexing takes at least its CPU / N, so the ratio is at most
 * N x engine wall / index CPU. The static model is also indexed with the FTS5 trigger dropped
 * (a throwaway database): the ratio the pipeline would reach if the lexical index cost nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbedClient } from '../native/inference/embed-client.js';
import { indexPath } from '../native/library/indexer.js';
import { openDatabase } from '../native/store/database.js';
import { LibraryStore } from '../native/store/library-store.js';
import { readStsb, sharedDir } from '../native/testing/shared.js';

/** Timed rounds per model. */
const REPS = 3;

interface Row {
  model: string;
  variant: string;
  /** '' for the real pipeline, 'no FTS5' for the bound row. */
  note: string;
  files: number;
  chunks: number;
  indexChunksPerSec: number;
  engineChunksPerSec: number;
  ratio: number;
  /** Medians over the timed rounds, ms; null where /proc is absent. */
  cpu: { indexWallMs: number; engineWallMs: number; mainMs: number; workerMs: number; otherMs: number; ceiling: number } | null;
}

/** CPU ms of each thread of this process (Linux /proc), keyed by thread id; null elsewhere. */
function threadCpu(): Map<string, number> | null {
  try {
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    const out = new Map<string, number>();
    for (const t of fs.readdirSync('/proc/self/task')) {
      const stat = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(t, (Number(f[11]) + Number(f[12])) * tick);
    }
    return out;
  } catch {
    return null;
  }
}

/** Main thread, busiest other thread (the embedding worker) and the rest, between two readings. */
function cpuSplit(before: Map<string, number> | null, after: Map<string, number> | null): { mainMs: number; workerMs: number; otherMs: number } | null {
  if (!before || !after) return null;
  const main = String(process.pid);
  const others = [...after].filter(([t]) => t !== main).map(([t, v]) => v - (before.get(t) ?? 0)).sort((a, b) => b - a);
  return { mainMs: (after.get(main) ?? 0) - (before.get(main) ?? 0), workerMs: others[0] ?? 0, otherMs: others.slice(1).reduce((a, b) => a + b, 0) };
}

async function measure(shared: string, model: string, variant: 'static' | 'int8' | 'fp32', copies: number, opts: { noFts?: boolean } = {}): Promise<Row> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-ingest-bench-'));
  const env: NodeJS.ProcessEnv = { TANDEM_HOME: path.join(tmp, 'home'), TANDEM_MODELS_DIR: path.join(shared, 'models') };
  const corpus = path.join(tmp, 'corpus');
  fs.mkdirSync(corpus);
  const sentences = readStsb(shared).flatMap(([a, b]) => [a, b]);
  let files = 0;
  for (let c = 0; c < copies; c++) {
    for (let i = 0; i < sentences.length; i += 40) {
      const paras: string[] = [];
      for (let j = i; j < Math.min(i + 40, sentences.length); j += 4) paras.push(sentences.slice(j, j + 4).join(' ') + ` (copy ${c})`);
      fs.writeFileSync(path.join(corpus, `doc-${c}-${i}.txt`), paras.join('\n\n'));
      files++;
    }
  }
  const client = new EmbedClient(env);
  await client.preload({ model, variant });
  const lib = new LibraryStore(openDatabase(path.join(env.TANDEM_HOME!, 'tandem.db')));
  if (opts.noFts) lib.db.exec('DROP TRIGGER chunks_ai');
  const chunkTexts = (collection: string) =>
    (lib.db.prepare('SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id JOIN collections k ON k.id = d.collection_id WHERE k.name = ? ORDER BY c.id').all(collection) as Array<{ text: string }>).map((r) => r.text);
  const embedAll = async (texts: string[]) => {
    for (let i = 0; i < texts.length; i += 2048) await client.embed({ model, variant, texts: texts.slice(i, i + 2048), inputType: 'passage' });
  };
  // Both sides at their steady state: a first full pass of each warms compiled code and the
  // worker's word cache (indexing into a collection of its own, so every file is new again).
  await indexPath(lib, client, { root: corpus, collection: 'warmup', model, variant }, {}, env);
  const texts = chunkTexts('warmup');
  await embedAll(texts);
  // Then REPS timed rounds, index and engine interleaved (drift hits both); medians are reported.
  const indexRates: number[] = [];
  const engineRates: number[] = [];
  const splits: Array<{ indexWallMs: number; engineWallMs: number; mainMs: number; workerMs: number; otherMs: number; ceiling: number }> = [];
  let chunks = 0;
  for (let k = 0; k < REPS; k++) {
    const cpu0 = threadCpu();
    const t0 = performance.now();
    const s = await indexPath(lib, client, { root: corpus, collection: `bench-${k}`, model, variant }, {}, env);
    const indexWallMs = performance.now() - t0;
    const split = cpuSplit(cpu0, threadCpu());
    indexRates.push(s.chunksWritten / (indexWallMs / 1000));
    chunks = s.chunksWritten;
    const t1 = performance.now();
    await embedAll(texts);
    const engineWallMs = performance.now() - t1;
    engineRates.push(texts.length / (engineWallMs / 1000));
    if (split) {
      // Per chunk, so the engine (all chunk texts) and the index round compare even if counts differ.
      const indexCpuPerChunk = (split.mainMs + split.workerMs + split.otherMs) / s.chunksWritten;
      splits.push({ indexWallMs, engineWallMs, ...split, ceiling: Math.min(1, (os.availableParallelism() * engineWallMs) / texts.length / indexCpuPerChunk) });
    }
  }
  lib.db.close();
  await client.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  const indexRate = median(indexRates);
  const engineRate = median(engineRates);
  const med = (f: (x: (typeof splits)[number]) => number) => Math.round(median(splits.map(f)));
  const cpu = splits.length
    ? { indexWallMs: med((x) => x.indexWallMs), engineWallMs: med((x) => x.engineWallMs), mainMs: med((x) => x.mainMs), workerMs: med((x) => x.workerMs), otherMs: med((x) => x.otherMs), ceiling: +median(splits.map((x) => x.ceiling)).toFixed(3) }
    : null;
  return { model, variant, note: opts.noFts ? 'no FTS5' : '', files, chunks, indexChunksPerSec: Math.round(indexRate), engineChunksPerSec: Math.round(engineRate), ratio: +(indexRate / engineRate).toFixed(3), cpu };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const shared = sharedDir();
if (!shared) {
  console.log('bench:ingest skipped: ../shared (models and STS-B) is absent');
} else {
  const rows = [
    await measure(shared, 'fixtures/minilm-l6-arch-random', 'int8', 6),
    await measure(shared, 'minishlab/potion-base-2M', 'static', 40),
    await measure(shared, 'minishlab/potion-base-2M', 'static', 40, { noFts: true }),
  ];
  if (process.argv.includes('--json')) console.log(JSON.stringify({ cpus: os.availableParallelism(), rows }, null, 2));
  else {
    console.log(`bench:ingest  plain-text files from STS-B sentences, ${os.availableParallelism()} CPUs, median of ${REPS} warm rounds`);
    console.log(`${'model'.padEnd(48)}  files   chunks  index chunks/s  engine chunks/s  ratio (target >= 0.90)`);
    const label = (r: Row) => `${r.model} (${r.variant}${r.note ? `, ${r.note}` : ''})`.padEnd(48);
    for (const r of rows) console.log(`${label(r)} ${String(r.files).padStart(6)} ${String(r.chunks).padStart(8)} ${String(r.indexChunksPerSec).padStart(15)} ${String(r.engineChunksPerSec).padStart(16)}  ${r.ratio.toFixed(2)}`);
    console.log(`\nwhere one index round's time goes (CPU ms per thread, medians; ceiling = ${os.availableParallelism()} x engine wall / index CPU, per chunk)`);
    console.log(`${'model'.padEnd(48)} index wall  engine wall  indexing thread  embed worker  other threads  ceiling`);
    for (const r of rows) {
      const c = r.cpu;
      if (!c) console.log(`${label(r)} (no per-thread CPU on this OS)`);
      else console.log(`${label(r)} ${String(c.indexWallMs).padStart(10)} ${String(c.engineWallMs).padStart(12)} ${String(c.mainMs).padStart(16)} ${String(c.workerMs).padStart(13)} ${String(c.otherMs).padStart(14)}  ${c.ceiling.toFixed(2)}`);
    }
  }
}
