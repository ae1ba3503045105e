import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { builtinModelsDir, modelSearchDirs } from '../node/paths.js';
import { EmbedEngine } from '../inference/embed-engine.js';
import { readSafetensor } from '../inference/safetensors.js';
import { readStsb, sharedOrSkip } from '../../testing/shared.js';
import { dot, spearman } from '../../testing/stats.js';
import { loadCatalog } from './catalog.js';
import { BUILTIN_EMBEDDING_MODEL, chooseDefaultEmbeddingModel } from './default-model.js';
import { createModelManager } from './model-manager.js';
import { resolveModel } from './model-resolver.js';

const { shared, skip } = sharedOrSkip();
const ID = BUILTIN_EMBEDDING_MODEL;
/** A fresh machine: no TANDEM_MODELS_DIR, an empty TANDEM_HOME. */
const bare = (): NodeJS.ProcessEnv => ({ TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bare-')) });
const builtinDir = path.join(builtinModelsDir({}), ID);

const builtinEngine = new EmbedEngine(bare());
const sharedEngine = new EmbedEngine({ TANDEM_MODELS_DIR: path.join(shared, 'models'), TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-home-')) });
after(async () => {
  await builtinEngine.dispose();
  await sharedEngine.dispose();
});

test('the built-in model is found with TANDEM_MODELS_DIR unset and an empty TANDEM_HOME, and is the default', () => {
  const env = bare();
  assert.equal(modelSearchDirs(env).at(-1), builtinModelsDir(env), 'the built-in folder is searched last');
  const m = resolveModel(ID, { env });
  assert.equal(m.dir, builtinDir);
  assert.deepEqual(Object.keys(m.variants), ['static']);
  assert.equal(m.defaultVariant, 'static');
  assert.equal(m.dims, 64);
  const choice = chooseDefaultEmbeddingModel(loadCatalog(), env);
  assert.deepEqual([choice.id, choice.builtin], [ID, true]);
  assert.match(choice.reason, /built-in/);
});

test('the default is the installed catalog embedding model with the best published retrieval score, else the built-in one', () => {
  const models = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-models-'));
  const put = (id: string, files: string[]) => {
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(models, id, f)), { recursive: true });
      fs.writeFileSync(path.join(models, id, f), '{}');
    }
  };
  const env = { ...bare(), TANDEM_MODELS_DIR: models };
  const catalog = loadCatalog();
  put('Xenova/bge-small-en-v1.5', ['tokenizer.json']); // a tokenizer without weights is not installed
  put('Xenova/ms-marco-MiniLM-L-6-v2', ['tokenizer.json', 'onnx/model_quantized.onnx']); // a reranker is not an embedding model
  assert.equal(chooseDefaultEmbeddingModel(catalog, env).id, ID);
  put('Xenova/all-MiniLM-L6-v2', ['tokenizer.json', 'onnx/model_quantized.onnx']);
  put('Xenova/e5-small-v2', ['tokenizer.json', 'onnx/model_quantized.onnx']);
  const mid = chooseDefaultEmbeddingModel(catalog, env);
  assert.deepEqual([mid.id, mid.builtin], ['Xenova/e5-small-v2', false]);
  assert.match(mid.reason, /best installed embedding model \(retrieval nDCG@10 0\.490\)/);
  put('Xenova/bge-small-en-v1.5', ['onnx/model.onnx']); // any variant on disk counts
  assert.equal(chooseDefaultEmbeddingModel(catalog, env).id, 'Xenova/bge-small-en-v1.5');
});

test('the built-in folder stays small: an int8 table with a scale per row, tokenizer, NOTICE and PROVENANCE', () => {
  const files = fs.readdirSync(builtinDir).sort();
  assert.deepEqual(files, ['.tandem-manifest.json', 'NOTICE', 'PROVENANCE.md', 'config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
  const total = files.reduce((s, f) => s + fs.statSync(path.join(builtinDir, f)).size, 0);
  assert.ok(total < 2.6e6, `${total} bytes`);
  const header = (() => {
    const b = fs.readFileSync(path.join(builtinDir, 'model.safetensors'));
    return JSON.parse(b.subarray(8, 8 + Number(b.readBigUInt64LE(0))).toString()) as Record<string, { dtype: string; shape: number[] }>;
  })();
  assert.deepEqual([header.embeddings?.dtype, header.embeddings?.shape], ['I8', [29528, 64]]);
  assert.deepEqual([header.embeddings_scale?.dtype, header.embeddings_scale?.shape], ['F32', [29528]]);
  const t = readSafetensor(path.join(builtinDir, 'model.safetensors'), 'embeddings');
  assert.deepEqual([t.rows, t.cols], [29528, 64]);
  assert.match(fs.readFileSync(path.join(builtinDir, 'NOTICE'), 'utf8'), /License:\s+MIT/);
  assert.match(fs.readFileSync(path.join(builtinDir, 'PROVENANCE.md'), 'utf8'), /a088f04a66a4656096e43010f633b2e7863a17536af17a6da821811306deae9f/, 'the source table is named by its sha256');
});

test('models list marks it built in and verify checks it against its build manifest', async () => {
  const mgr = createModelManager({ env: bare(), catalog: loadCatalog() });
  const rows = await mgr.list();
  const potion = rows.find((r) => r.id === ID)!;
  assert.deepEqual([potion.installed, potion.builtin, potion.dir, potion.variants], [true, true, builtinDir, ['static']]);
  assert.ok(rows.filter((r) => r.id !== ID).every((r) => !r.builtin && !r.installed), 'nothing else is installed or built in');
  const v = await mgr.verify(ID);
  assert.equal(v.ok, true, JSON.stringify(v.files));
  assert.ok(v.files.some((f) => f.path === 'model.safetensors' && f.status === 'ok' && f.source === 'manifest'));
});

test('an int8 table without its scales is MODEL_INVALID, naming the missing tensor', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-i8-'));
  const json = JSON.stringify({ embeddings: { dtype: 'I8', shape: [2, 2], data_offsets: [0, 4] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(dir, 'model.safetensors');
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), Buffer.from([1, 2, 3, 4])]));
  assert.throws(() => readSafetensor(file, 'embeddings'), { code: 'MODEL_INVALID', message: /no "embeddings_scale"/ });
});

test('every built-in row keeps cosine >= 0.9999 to the shared f32 table', { skip }, () => {
  const f32 = readSafetensor(path.join(shared, 'models', ID, 'model.safetensors'), 'embeddings');
  const q = readSafetensor(path.join(builtinDir, 'model.safetensors'), 'embeddings');
  assert.deepEqual([q.rows, q.cols], [f32.rows, f32.cols]);
  let worst = 1;
  for (let r = 0; r < f32.rows; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let d = 0; d < f32.cols; d++) {
      const a = f32.data[r * f32.cols + d]!;
      const b = q.data[r * q.cols + d]!;
      ab += a * b;
      aa += a * a;
      bb += b * b;
    }
    const cos = aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
    worst = Math.min(worst, cos);
  }
  assert.ok(worst >= 0.9999, `worst row cosine ${worst}`);
});

test('built-in vs shared f32 on STS-B: every vector at cosine >= 0.9999, and Spearman 72.80 ± 0.10 through the engine', { skip }, async () => {
  const rows = readStsb(shared);
  const texts = rows.flatMap(([a, b]) => [a, b]);
  const got = await builtinEngine.embed({ model: ID, texts });
  const ref = await sharedEngine.embed({ model: ID, texts });
  assert.equal(got.dims, 64);
  let worst = 1;
  for (let i = 0; i < texts.length; i++) {
    let c = 0;
    for (let d = 0; d < 64; d++) c += got.vectors[i * 64 + d]! * ref.vectors[i * 64 + d]!;
    worst = Math.min(worst, c);
  }
  assert.ok(worst >= 0.9999, `worst vector cosine ${worst}`);
  const rho = (v: Float32Array) => 100 * spearman(rows.map((_, i) => dot(v, 2 * i, 2 * i + 1, 64)), rows.map((x) => x[2]));
  const builtin = rho(got.vectors);
  const f32 = rho(ref.vectors);
  assert.ok(Math.abs(builtin - 72.8) <= 0.1, `built-in Spearman ${builtin.toFixed(3)}`);
  assert.ok(Math.abs(f32 - 72.8) <= 0.1, `shared f32 Spearman ${f32.toFixed(3)}`);
  console.log(`# STS-B Spearman: built-in ${builtin.toFixed(3)}, shared f32 ${f32.toFixed(3)}; worst vector cosine ${worst.toFixed(7)}`);
});

test('both bundles find the built-in model: the CLI bundle (dist/) and the packaged desktop app (Forge keeps models/builtin)', async (t) => {
  const root = path.resolve(builtinModelsDir({}), '..', '..');
  const forge = (await import(path.join(root, 'forge.config.ts'))) as { default: { packagerConfig: { ignore: RegExp[]; asar: { unpack: string } } } };
  const rel = `/models/builtin/${ID}/model.safetensors`;
  assert.ok(!forge.default.packagerConfig.ignore.some((re) => re.test(rel)), 'Forge packages models/builtin');
  assert.match(forge.default.packagerConfig.asar.unpack, /models\/builtin/, 'and unpacks it beside app.asar');
  const bundle = path.join(root, 'dist', 'cli.js');
  if (!fs.existsSync(bundle)) return t.skip('dist/cli.js is not built (npm run build)');
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [bundle, 'models', 'list', '--json'], { env: { PATH: process.env.PATH, ...bare() }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const potion = (JSON.parse(r.stdout) as Array<{ id: string; dir: string; builtin: boolean }>).find((m) => m.id === ID);
  assert.deepEqual([potion?.dir, potion?.builtin], [builtinDir, true]);
});
