/**
 * npm run bench:ingest [-- --json]
 *
 * Ingestion throughput vs the embedding engine's own: plain-text files built from STS-B sentences
 * are indexed (walk, read, chunk, embed in the worker, SQLite writes, FTS), then the same chunk
 * texts are embedded directly through the engine. Target: indexing >= 90% of the engine's rate.
 * Both are timed warm (after a full first pass each), three rounds interleaved, medians reported.
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
  files: number;
  chunks: number;
  indexChunksPerSec: number;
  engineChunksPerSec: number;
  ratio: number;
}

async function measure(shared: string, model: string, variant: 'static' | 'int8' | 'fp32', copies: number): Promise<Row> {
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
  let chunks = 0;
  for (let k = 0; k < REPS; k++) {
    const t0 = performance.now();
    const s = await indexPath(lib, client, { root: corpus, collection: `bench-${k}`, model, variant }, {}, env);
    indexRates.push(s.chunksWritten / ((performance.now() - t0) / 1000));
    chunks = s.chunksWritten;
    const t1 = performance.now();
    await embedAll(texts);
    engineRates.push(texts.length / ((performance.now() - t1) / 1000));
  }
  lib.db.close();
  await client.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  const indexRate = median(indexRates);
  const engineRate = median(engineRates);
  return { model, variant, files, chunks, indexChunksPerSec: Math.round(indexRate), engineChunksPerSec: Math.round(engineRate), ratio: +(indexRate / engineRate).toFixed(3) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const shared = sharedDir();
if (!shared) {
  console.log('bench:ingest skipped: ../shared (models and STS-B) is absent');
} else {
  const rows = [await measure(shared, 'fixtures/minilm-l6-arch-random', 'int8', 6), await measure(shared, 'minishlab/potion-base-2M', 'static', 40)];
  if (process.argv.includes('--json')) console.log(JSON.stringify({ cpus: os.availableParallelism(), rows }, null, 2));
  else {
    console.log(`bench:ingest  plain-text files from STS-B sentences, ${os.availableParallelism()} CPUs, median of ${REPS} warm rounds`);
    console.log('model                                   files   chunks  index chunks/s  engine chunks/s  ratio (target >= 0.90)');
    for (const r of rows) console.log(`${`${r.model} (${r.variant})`.padEnd(38)} ${String(r.files).padStart(6)} ${String(r.chunks).padStart(8)} ${String(r.indexChunksPerSec).padStart(15)} ${String(r.engineChunksPerSec).padStart(16)}  ${r.ratio.toFixed(2)}`);
  }
}
