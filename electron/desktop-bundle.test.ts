/**
 * The desktop bundle, smoke-tested without the Electron binary: `electron-vite build` (skipped when
 * TANDEM_DESKTOP_SKIP_BUILD=1: `npm test` has just built it) must emit every worker of the one
 * registry (native/engine/node/worker-entries.mjs) into out/main/, and the built engine host
 * (out/main/engine-host.js) is started under plain Node with a simulated utilityProcess parentPort
 * (electron/parent-port-shim.mjs) to run one call of each kind that starts a worker thread: embed
 * (index a collection), PDF extraction (index a tiny PDF), scan (a vector search over enough chunks
 * for the parallel scan), map (PCA), rerank and generate (these two need ../shared's fixtures).
 * Each call must start its worker from out/main/<worker>.js and answer correctly.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { WORKER_ENTRIES } from '../native/engine/node/worker-entries.mjs';
import { sharedOrSkip } from '../native/testing/shared.js';
import type { ApiEvents } from '../native/engine/common/api-contract.js';
import { createClient, type RpcClient } from '../native/engine/common/rpc.js';
import type { EngineMainApi } from '../native/hosts/electron-utility/engine-port.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outMain = path.join(root, 'out', 'main');
const SHIM = path.join(root, 'electron', 'parent-port-shim.mjs');
const MODEL = 'minishlab/potion-base-2M';
const RERANKER = 'fixtures/reranker-tiny-random';
const DECODER = 'fixtures/tiny-decoder-random';
/** The exact index scans with worker threads from this many rows on (native/engine/search/vector-index.ts MIN_ROWS_FOR_WORKERS). */
const SCAN_ROWS = 16_400;
const { shared, skip: sharedSkip } = sharedOrSkip();

type Job = { id: string; status: string; error: { code: string; message: string } | null; result: unknown };

/** The built engine host in a child process, spoken to the way electron/main/engine-link.ts does (the RPC envelope on main's port). */
class EngineHost {
  readonly workers: string[] = [];
  readonly log: string[] = [];
  private readonly jobs = new Map<string, Job>();
  private readonly waiting = new Map<string, (j: Job) => void>();
  private readonly client: RpcClient<EngineMainApi, ApiEvents>;
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import', pathToFileURL(SHIM).href, path.join(outMain, 'engine-host.js')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout!.on('data', (d: Buffer) => this.log.push(d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => this.log.push(d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    const engineMessages = new Set<(m: unknown) => void>();
    this.child.on('message', (m: { type: string; file?: string; msg?: unknown }) => {
      if (m.type === 'worker') this.workers.push(path.basename(fileURLToPath(m.file!)));
      else if (m.type === 'engine') for (const cb of engineMessages) cb(m.msg);
    });
    this.client = createClient<EngineMainApi, ApiEvents>({
      post: (m) => this.child.send(m),
      onMessage: (cb) => {
        engineMessages.add(cb);
        return () => void engineMessages.delete(cb);
      },
    });
    this.client.on('job.updated', ({ job }) => {
      if (!['succeeded', 'failed', 'cancelled', 'interrupted'].includes(job.status)) return;
      const j = job as unknown as Job;
      this.jobs.set(j.id, j);
      this.waiting.get(j.id)?.(j);
    });
  }

  call<T>(method: string, input: unknown): Promise<T> {
    return (this.client.call as (m: string, i: unknown) => Promise<T>)(method, input).catch((e: Error & { code?: string }) => {
      throw Object.assign(new Error(`${e.code}: ${e.message}`), { code: e.code });
    });
  }

  finished(jobId: string): Promise<Job> {
    const done = this.jobs.get(jobId);
    return done ? Promise.resolve(done) : new Promise((resolve) => this.waiting.set(jobId, resolve));
  }

  /** Workers started by `fn` (file names in out/main). */
  async spawnedBy(fn: () => Promise<void>): Promise<string[]> {
    const before = this.workers.length;
    await fn();
    return this.workers.slice(before);
  }

  async close(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.connected) this.client.call('engine.close', {}).catch(() => {});
    // Electron main's grace (engine-link.ts close): then it kills the engine.
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

async function tinyPdf(lines: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([500, 700]);
  lines.forEach((line, i) => page.drawText(line, { x: 40, y: 650 - 14 * i, size: 10, font }));
  return doc.save();
}

const WORDS = ['river', 'delta', 'protein', 'enzyme', 'galaxy', 'comet', 'violin', 'sonata', 'glacier', 'basalt', 'falcon', 'orchid', 'lattice', 'quartz', 'harbor', 'meadow'];

describe('the desktop bundle (out/main) under plain Node', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-desktop-bundle-'));
  let engine: EngineHost;

  before(async () => {
    if (process.env.TANDEM_DESKTOP_SKIP_BUILD !== '1') {
      const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, `electron-vite build failed:\n${r.stdout}\n${r.stderr}`);
    }
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home);
    if (sharedSkip === false) fs.writeFileSync(path.join(home, 'cloud.json'), JSON.stringify({ localGenerateModel: DECODER }));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      TANDEM_HOME: home,
      TANDEM_MODELS_DIR: sharedSkip === false ? path.join(shared, 'models') : '',
      TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9',
      // two scan threads even on a one-core machine: the caller and one scan worker
      TANDEM_SEARCH_THREADS: '2',
    };
    engine = new EngineHost(env);
  });

  after(async () => {
    if (engine && engine.child.exitCode === null) await engine.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('out/main holds the engine host and every worker of the registry', () => {
    assert.ok(fs.existsSync(path.join(outMain, 'engine-host.js')), 'out/main/engine-host.js');
    const missing = Object.keys(WORKER_ENTRIES).filter((name) => !fs.existsSync(path.join(outMain, `${name}.js`)));
    assert.deepEqual(missing, [], `workers in the registry but not in out/main: ${missing.join(', ')}`);
  });

  it('answers over the simulated parentPort port (app.info)', async () => {
    const info = await engine.call<{ host?: string }>('app.info', {});
    assert.equal(info.host, 'electron', `the utility entry serves the electron host: ${JSON.stringify(info)}`);
  });

  it('embed + PDF extraction: indexing a folder with a tiny PDF starts embed-worker and pdf-worker from out/main', async () => {
    const dir = path.join(tmp, 'docs');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'zebra.pdf'), await tinyPdf(['The zebra named Archibald jumps fences.', 'Stripes confuse the flies.']));
    fs.writeFileSync(path.join(dir, 'pasta.txt'), 'Pasta needs salted boiling water.');
    const spawned = await engine.spawnedBy(async () => {
      const { jobIds } = await engine.call<{ jobIds: string[] }>('library.index', { paths: [dir], collection: 'docs', model: MODEL });
      const job = await engine.finished(jobIds[0]!);
      assert.equal(job.status, 'succeeded', `indexed: ${JSON.stringify(job.error)}`);
    });
    assert.ok(spawned.includes('embed-worker.js'), `embed-worker started: ${spawned.join(', ')}`);
    assert.ok(spawned.includes('pdf-worker.js'), `pdf-worker started: ${spawned.join(', ')}`);
    const r = await engine.call<{ hits: Array<{ path: string; page: number | null }> }>('search.query', { query: 'zebra Archibald', collection: 'docs', mode: 'lexical', k: 2 });
    assert.equal(path.basename(r.hits[0]?.path ?? ''), 'zebra.pdf', 'the PDF text was extracted and indexed');
    assert.equal(r.hits[0]?.page, 1, 'with its page');
  });

  it(`scan: a vector search over ${SCAN_ROWS} chunks starts scan-worker from out/main; map (PCA) starts map-worker`, async () => {
    const file = path.join(tmp, 'corpus.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < SCAN_ROWS; i++) {
      const text = `${WORDS[i % 16]} ${WORDS[(i >> 4) % 16]} ${WORDS[(i >> 8) % 16]} note ${i}`;
      lines.push(JSON.stringify({ _id: `d${i}`, text }));
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const { jobIds } = await engine.call<{ jobIds: string[] }>('library.index', { paths: [file], collection: 'big', model: MODEL });
    const job = await engine.finished(jobIds[0]!);
    assert.equal(job.status, 'succeeded', `indexed: ${JSON.stringify(job.error)}`);

    let hits: Array<{ docKey: string; scoreKind: string }> = [];
    const scan = await engine.spawnedBy(async () => {
      hits = (await engine.call<{ hits: typeof hits }>('search.query', { query: 'glacier basalt', collection: 'big', mode: 'vector', k: 5 })).hits;
    });
    assert.ok(scan.includes('scan-worker.js'), `scan-worker started: ${scan.join(', ') || 'none'}`);
    assert.equal(hits.length, 5, 'five hits');
    assert.ok(hits.every((h) => h.scoreKind === 'cosine'), 'vector hits are cosine-scored');

    let points = 0;
    const map = await engine.spawnedBy(async () => {
      const m = await engine.call<{ total: number; points: unknown[] }>('map.compute', { collection: 'big', method: 'pca', maxPoints: 2000 });
      assert.equal(m.total, SCAN_ROWS, 'every chunk has a vector');
      points = m.points.length;
    });
    assert.ok(map.includes('map-worker.js'), `map-worker started: ${map.join(', ') || 'none'}`);
    assert.equal(points, 2000, 'a sample of maxPoints points');
  });

  it('rerank: search.query with a cross-encoder stage runs it from out/main', { skip: sharedSkip }, async () => {
    let r: { hits: Array<{ rerankScore?: number }>; rerank?: { pairs: number } | null } = { hits: [] };
    const spawned = await engine.spawnedBy(async () => {
      r = await engine.call('search.query', { query: 'zebra', collection: 'docs', mode: 'hybrid', k: 2, rerank: { model: RERANKER, top: 2 } });
    });
    assert.ok(r.rerank && r.rerank.pairs >= 1, `the rerank stage ran: ${JSON.stringify(r.rerank)}`);
    assert.ok(typeof r.hits[0]?.rerankScore === 'number', 'the top hit has a rerank score');
    // The cross-encoder runs in the embedding worker (its RerankEngine), started by the index above.
    assert.ok(engine.workers.includes('embed-worker.js') && !spawned.some((f) => !(path.basename(f, '.js') in WORKER_ENTRIES)), `ran in out/main's embed-worker: ${engine.workers.join(', ')}`);
  });

  it('generate: a local generate job starts generate-worker from out/main', { skip: sharedSkip }, async () => {
    const request = { kind: 'generate', model: 'qwen-32b', prompt: 'Name a protein', schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 8 } } }, maxTokens: 40 };
    const spawned = await engine.spawnedBy(async () => {
      const sub = await engine.call<{ jobId: string }>('cloud.submit', { request, policy: 'local' });
      const job = await engine.finished(sub.jobId);
      assert.equal(job.status, 'succeeded', `generated: ${JSON.stringify(job.error)}`);
      assert.equal(typeof (job.result as { output?: { name?: unknown } }).output?.name, 'string', 'the output passes the schema');
    });
    assert.ok(spawned.includes('generate-worker.js'), `generate-worker started: ${spawned.join(', ') || 'none'}`);
  });

  it('close: the engine and its workers exit by themselves within Electron main\'s 5 s grace', async () => {
    assert.equal(await engine.close(), 0, 'killed after 5 s, or exited with an error');
  });
});
