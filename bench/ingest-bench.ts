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
 *
 * A third table is the peer comparison (issue 20 point 6): the same plain-text folder (--docs N
 * NFCorpus documents, default 600, one .txt each) indexed by `tandem index` (the CLI, whole
 * process, spawned) and by the pipeline AnythingLLM Desktop uses, rebuilt here in its own
 * process: a recursive character splitter (LangChain's RecursiveCharacterTextSplitter: 1,000
 * characters, 20 of overlap), transformers.js' feature-extraction pipeline in groups of 25 on the
 * same ONNX file (mean pooling, normalized, `.tolist()`), then one LanceDB `add` per document
 * (@lancedb/lancedb 0.31.0, a devDependency imported by this file only). Documents/s and chunks/s
 * of each, whole process, and the ratio; int8 and fp32 of the MiniLM-L6-architecture fixture.
 * Both run with the device named (`tandem index --device`, transformers.js' `device`): cpu, and with
 * `--webgpu` also webgpu (on a software adapter such as llvmpipe this is very slow: use a small
 * --docs); each row names the device that ran.
 *
 *   npm run bench:ingest -- [--json] [--docs N] [--only peer|engine] [--variants int8,fp32] [--webgpu]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbedClient } from '../native/engine/inference/embed-client.js';
import { indexPath } from '../native/engine/library/indexer.js';
import { openDatabase } from '../native/engine/store/database.js';
import { LibraryStore } from '../native/engine/store/library-store.js';
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

const PEER_MODEL = 'fixtures/minilm-l6-arch-random';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/**
 * LangChain's RecursiveCharacterTextSplitter (length = characters), as AnythingLLM configures it:
 * split on the first separator the text contains, recurse into pieces still too long, then merge
 * neighbours up to `size` characters, each chunk starting with up to `overlap` characters of the last.
 */
export function recursiveSplit(text: string, size = 1000, overlap = 20, separators = ['\n\n', '\n', ' ', '']): string[] {
  const merge = (splits: string[], sep: string): string[] => {
    const docs: string[] = [];
    const current: string[] = [];
    let total = 0;
    for (const d of splits) {
      const extra = current.length ? sep.length : 0;
      if (total + d.length + extra > size && current.length) {
        const doc = current.join(sep).trim();
        if (doc) docs.push(doc);
        while (total > overlap || (total + d.length + (current.length ? sep.length : 0) > size && total > 0)) {
          total -= current[0]!.length + (current.length > 1 ? sep.length : 0);
          current.shift();
        }
      }
      current.push(d);
      total += d.length + (current.length > 1 ? sep.length : 0);
    }
    const doc = current.join(sep).trim();
    if (doc) docs.push(doc);
    return docs;
  };
  let sep = separators[separators.length - 1]!;
  let rest: string[] = [];
  for (let i = 0; i < separators.length; i++) {
    const s = separators[i]!;
    if (s === '' || text.includes(s)) {
      sep = s;
      rest = separators.slice(i + 1);
      break;
    }
  }
  const out: string[] = [];
  let good: string[] = [];
  for (const piece of sep ? text.split(sep) : [...text]) {
    if (piece.length < size) good.push(piece);
    else {
      if (good.length) out.push(...merge(good, sep));
      good = [];
      if (rest.length) out.push(...recursiveSplit(piece, size, overlap, rest));
      else out.push(piece);
    }
  }
  if (good.length) out.push(...merge(good, sep));
  return out;
}

interface PeerChild {
  docs: number;
  chunks: number;
  loadMs: number;
  splitMs: number;
  embedMs: number;
  lanceMs: number;
}

/** The peer pipeline in this (child) process: prints one JSON line (PeerChild). */
async function peerChild(folder: string, variant: 'int8' | 'fp32', device: 'cpu' | 'webgpu', modelsDir: string, dbDir: string): Promise<void> {
  const t0 = performance.now();
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = modelsDir + '/';
  const lancedb = await import('@lancedb/lancedb');
  const ext = await tf.pipeline('feature-extraction', PEER_MODEL, { dtype: variant === 'fp32' ? 'fp32' : 'q8', device });
  const db = await lancedb.connect(dbDir);
  const loadMs = performance.now() - t0;
  let table: Awaited<ReturnType<typeof db.createTable>> | undefined;
  let splitMs = 0;
  let embedMs = 0;
  let lanceMs = 0;
  let chunks = 0;
  const files = fs.readdirSync(folder).filter((f) => f.endsWith('.txt')).sort();
  for (const f of files) {
    let t = performance.now();
    const text = fs.readFileSync(path.join(folder, f), 'utf8');
    const pieces = recursiveSplit(text);
    splitMs += performance.now() - t;
    t = performance.now();
    const vectors: number[][] = [];
    for (let i = 0; i < pieces.length; i += 25) {
      const out = await ext(pieces.slice(i, i + 25), { pooling: 'mean', normalize: true });
      vectors.push(...(out.tolist() as number[][]));
    }
    embedMs += performance.now() - t;
    t = performance.now();
    const rows = pieces.map((p, i) => ({ id: `${f}#${i}`, vector: vectors[i]!, text: p, title: f, docSource: path.join(folder, f) }));
    if (rows.length) {
      if (!table) table = await db.createTable('bench', rows);
      else await table.add(rows);
    }
    lanceMs += performance.now() - t;
    chunks += pieces.length;
  }
  const count = table ? await table.countRows() : 0;
  if (count !== chunks) throw new Error(`lancedb holds ${count} rows, ${chunks} chunks were added`);
  const r: PeerChild = { docs: files.length, chunks, loadMs: Math.round(loadMs), splitMs: Math.round(splitMs), embedMs: Math.round(embedMs), lanceMs: Math.round(lanceMs) };
  console.log(JSON.stringify(r));
}

/** Runs a command, returns its stdout and wall ms; throws with its stderr when it fails. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ stdout, ms });
      else reject(new Error(`${path.basename(args[args.length > 1 ? 1 : 0] ?? cmd)} exited ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

interface PeerRow {
  system: 'tandem index' | 'peer (AnythingLLM pipeline)';
  variant: 'int8' | 'fp32';
  device: string;
  docs: number;
  chunks: number;
  wallMs: number;
  docsPerSec: number;
  chunksPerSec: number;
  /** Peer only: where its time went (load, split, embed, LanceDB). */
  parts?: Omit<PeerChild, 'docs' | 'chunks'>;
  error?: string;
}

async function peerComparison(shared: string, docs: number, webgpu: boolean, variants: Array<'int8' | 'fp32'>): Promise<{ corpusChars: number; rows: PeerRow[] }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-ingest-peer-'));
  const folder = path.join(tmp, 'nfcorpus');
  fs.mkdirSync(folder);
  const lines = fs.readFileSync(path.join(shared, 'datasets', 'nfcorpus', 'corpus.jsonl'), 'utf8').split('\n');
  let written = 0;
  let corpusChars = 0;
  for (const line of lines) {
    if (written >= docs) break;
    if (!line.trim()) continue;
    const d = JSON.parse(line) as { _id: string; title?: string; text: string };
    const text = `${d.title ?? ''}\n\n${d.text}`;
    corpusChars += text.length;
    fs.writeFileSync(path.join(folder, `${d._id}.txt`), text);
    written++;
  }
  const modelsDir = path.join(shared, 'models');
  const rows: PeerRow[] = [];
  const runs = variants.flatMap((variant) => [{ variant, device: 'cpu' as const }, ...(webgpu ? [{ variant, device: 'webgpu' as const }] : [])]);
  const cli = path.join(root, 'bin', 'tandem.js');
  for (const [k, { variant, device }] of runs.entries()) {
    {
      const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_HOME: path.join(tmp, `home-${k}`), TANDEM_MODELS_DIR: modelsDir };
      try {
        const r = await timed(process.execPath, [cli, 'index', folder, '--collection', 'bench', '--model', PEER_MODEL, '--variant', variant, '--device', device, '--json', '--quiet'], env);
        const s = JSON.parse(r.stdout) as { documentsWritten: number; chunksWritten: number; device: string };
        rows.push({ system: 'tandem index', variant, device: s.device, docs: s.documentsWritten, chunks: s.chunksWritten, wallMs: Math.round(r.ms), docsPerSec: +(s.documentsWritten / (r.ms / 1000)).toFixed(1), chunksPerSec: +(s.chunksWritten / (r.ms / 1000)).toFixed(1) });
      } catch (e) {
        rows.push({ system: 'tandem index', variant, device, docs: 0, chunks: 0, wallMs: 0, docsPerSec: 0, chunksPerSec: 0, error: (e as Error).message });
      }
    }
    try {
      const self = fileURLToPath(import.meta.url);
      const r = await timed(process.execPath, ['--import', 'tsx', self, '--peer-child', folder, variant, device, modelsDir, path.join(tmp, `lance-${k}`)], process.env);
      const c = JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerChild;
      const { docs: n, chunks, ...parts } = c;
      rows.push({ system: 'peer (AnythingLLM pipeline)', variant, device, docs: n, chunks, wallMs: Math.round(r.ms), docsPerSec: +(n / (r.ms / 1000)).toFixed(1), chunksPerSec: +(chunks / (r.ms / 1000)).toFixed(1), parts });
    } catch (e) {
      rows.push({ system: 'peer (AnythingLLM pipeline)', variant, device, docs: 0, chunks: 0, wallMs: 0, docsPerSec: 0, chunksPerSec: 0, error: (e as Error).message });
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return { corpusChars, rows };
}

function printPeer(docs: number, corpusChars: number, rows: PeerRow[]): void {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\npeer comparison  ${docs} NFCorpus documents as .txt (${Math.round(corpusChars / 1024)} KiB), ${PEER_MODEL}, whole process each, ${os.availableParallelism()} CPUs, load average ${load}`);
  console.log(`${'system'.padEnd(30)} variant  ${'device'.padEnd(16)} docs  chunks   wall s  docs/s  chunks/s  tandem/peer (docs/s)`);
  for (const r of rows) {
    if (r.error) {
      console.log(`${r.system.padEnd(30)} ${r.variant.padEnd(7)}  ${r.device.padEnd(16)} failed: ${r.error}`);
      continue;
    }
    const dev = (x: PeerRow) => (x.device.startsWith('webgpu') ? 'webgpu' : x.device.split(' ')[0]);
    const t = rows.find((x) => x.system === 'tandem index' && x.variant === r.variant && dev(x) === dev(r) && !x.error);
    const ratio = r.system === 'tandem index' || !t ? '' : `${((t.docs / t.wallMs) / (r.docs / r.wallMs)).toFixed(2)}x`;
    console.log(
      `${r.system.padEnd(30)} ${r.variant.padEnd(7)}  ${r.device.split(' — ')[0]!.split(' (')[0]!.padEnd(16)} ${String(r.docs).padStart(4)} ${String(r.chunks).padStart(7)} ${(r.wallMs / 1000).toFixed(1).padStart(8)} ${r.docsPerSec.toFixed(1).padStart(7)} ${r.chunksPerSec.toFixed(1).padStart(9)}  ${ratio}`,
    );
    if (r.parts) console.log(`${''.padEnd(48)}peer ms: load ${r.parts.loadMs}, split ${r.parts.splitMs}, embed ${r.parts.embedMs}, LanceDB ${r.parts.lanceMs}`);
  }
}

const shared = sharedDir();
if (argv[0] === '--peer-child') {
  const [folder, variant, device, modelsDir, dbDir] = argv.slice(1) as [string, 'int8' | 'fp32', 'cpu' | 'webgpu', string, string];
  await peerChild(folder, variant, device, modelsDir, dbDir);
} else if (!shared) {
  console.log('bench:ingest skipped: ../shared (models and datasets) is absent');
} else {
  const only = flag('--only');
  const docs = Number(flag('--docs') ?? 600);
  if (!Number.isInteger(docs) || docs < 1) throw new Error('--docs takes a positive whole number');
  const json = argv.includes('--json');
  const rows =
    only === 'peer'
      ? []
      : [
          await measure(shared, 'fixtures/minilm-l6-arch-random', 'int8', 6),
          await measure(shared, 'minishlab/potion-base-2M', 'static', 40),
          await measure(shared, 'minishlab/potion-base-2M', 'static', 40, { noFts: true }),
        ];
  const variants = (flag('--variants') ?? 'int8,fp32').split(',');
  if (!variants.every((v) => v === 'int8' || v === 'fp32')) throw new Error('--variants takes int8, fp32 or int8,fp32');
  const peer = only === 'engine' ? null : await peerComparison(shared, docs, argv.includes('--webgpu'), variants as Array<'int8' | 'fp32'>);
  if (json) console.log(JSON.stringify({ cpus: os.availableParallelism(), loadavg: os.loadavg(), rows, peer }, null, 2));
  else {
    if (rows.length) printEngine(rows);
    if (peer) printPeer(docs, peer.corpusChars, peer.rows);
  }
}

function printEngine(rows: Row[]): void {
  {
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
