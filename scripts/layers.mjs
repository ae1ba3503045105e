// The one table of Tandem's layers: for each folder, what it is for and what it may import.
// eslint.config.js generates its `no-restricted-imports` (and SQL) rules from it, per directory;
// scripts/layers.test.ts lints deliberately wrong imports against those rules, checks that every
// `PENDING` entry is still needed (the list can only shrink) and that each folder's README carries
// the boundary line generated here (`node scripts/layers.mjs --readmes` rewrites them).
//
// A layer's `may` lists the other layers (or single files inside one) it may import with a
// relative import; its `bans` the npm packages it may not import. Imports of a layer not listed
// are errors. Test files (`*.test.ts`) may import any layer (tests set up real parts: a store, a
// queue, a worker) but keep the package bans. `import()` expressions and `new URL()` worker paths
// are not checked.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const E = 'native/engine';
const CORE = [`${E}/common`, `${E}/node`];
/** What `library`, `cloud` and `map` build on: everything under the features. */
const BELOW = [...CORE, `${E}/models`, `${E}/inference`, `${E}/generate`, `${E}/ingest`, `${E}/search`, `${E}/store`, `${E}/jobs`];
const ENGINE_AREAS = [...BELOW, `${E}/library`, `${E}/cloud`, `${E}/map`, `${E}/api`];
/** The engine's public entry: what hosts import to get an engine. */
export const ENTRY = `${E}/index.ts`;
/**
 * The files the entry re-exports from (besides `api/` and `common/`): a curated list of types and
 * pure helpers for printing, defaults and flag choices, and the Node helpers hosts need themselves.
 * Never the store, the queue or a client.
 */
const ENTRY_EXPORTS = [
  `${E}/node/paths.ts`, `${E}/node/f32-rows.ts`, `${E}/node/chem-toolkit.ts`,
  `${E}/models/catalog.ts`,
  `${E}/inference/embed-engine.ts`, `${E}/inference/onnx-inspect.ts`, `${E}/inference/tensor-io.ts`, `${E}/inference/tensor-run-engine.ts`,
  `${E}/generate/index.ts`,
  `${E}/search/fusion.ts`, `${E}/search/trec.ts`, `${E}/search/lexical.ts`,
  `${E}/jobs/job-format.ts`, `${E}/jobs/job-stats.ts`, `${E}/jobs/job-types.ts`,
  `${E}/library/index-job.ts`, `${E}/library/index-report.ts`, `${E}/library/eval-job.ts`, `${E}/library/searcher.ts`,
  `${E}/cloud/cloud-config.ts`, `${E}/cloud/cloud-service.ts`,
  'cloud-adapters/contract.ts', 'cloud-adapters/validate.ts',
];

/** Named package groups; a layer bans some of them. */
export const PACKAGES = {
  electron: { names: ['electron'], message: 'Electron code lives in electron/ only: the engine and its headless hosts are plain Node.' },
  react: { names: ['react', 'react-dom'], message: 'UI code lives in renderer/ only.' },
  sqlite: { names: ['better-sqlite3', 'sqlite-vec'], message: 'The store is the only code that speaks SQL: use native/engine/store/ (tests and benchmarks may open the database).' },
  lancedb: { names: ['@lancedb/lancedb'], message: "LanceDB is the ingest benchmark's peer (bench/ingest-bench.ts), a devDependency: shipped code never imports it." },
  node: {
    names: [...new Set(builtinModules.map((m) => m.replace(/^node:/, '')))],
    patterns: ['node:*'],
    message: 'No Node built-ins here (common/ is pure and runs in the renderer too; the renderer reaches the app through window.tandem).',
  },
};
const NOT_ELECTRON = ['electron', 'react', 'lancedb'];
const ENGINE_BANS = [...NOT_ELECTRON, 'sqlite'];

/**
 * @typedef {{ dir: string, name: string, purpose: string, may: string[], bans: string[], sql?: boolean, shallow?: boolean, note?: string }} Layer
 * `dir` is repo-relative; `shallow` layers own only the files directly in `dir` (the engine's entry);
 * `sql: true` marks the one layer allowed to run SQL text (`.prepare`, `.exec`, `.pragma` with a string).
 */
/** @type {Layer[]} */
export const LAYERS = [
  // --- the engine (native/engine): plain Node, no Electron, no DOM
  { dir: `${E}/common`, name: 'common', purpose: 'the error type (`TandemError`, closed codes, wire form) and the typed API contract (methods, schemas, events); pure: it is bundled into the renderer too', may: [], bans: [...ENGINE_BANS, 'node'] },
  { dir: `${E}/node`, name: 'node', purpose: 'Node-side services shared by every area: paths (`TANDEM_HOME`), worker RPC and the worker registry, lazy modules, the native addon loader, float32 rows', may: [`${E}/common`], bans: ENGINE_BANS },
  { dir: `${E}/models`, name: 'models', purpose: 'the model catalog schema, resolving models on disk, downloads and imports', may: CORE, bans: ENGINE_BANS },
  {
    dir: `${E}/inference`, name: 'inference', purpose: 'kernel: tokenizers, onnxruntime sessions, embedders, pooling, the reranker, the generic ONNX runner, the embedding worker and its client',
    may: [...CORE, `${E}/models`], bans: ENGINE_BANS, note: 'Kernels resolve their model files through `models/`.',
  },
  {
    dir: `${E}/generate`, name: 'generate', purpose: 'kernel: local generation with decoder-only ONNX models (vocab, chat templates, KV-cache decoding, sampling, JSON-Schema-constrained decoding), its worker and client',
    may: [...CORE, `${E}/models`, `${E}/inference`], bans: ENGINE_BANS, note: 'Generation builds on `inference/` (tokenizer, ONNX sessions, device plan).',
  },
  { dir: `${E}/ingest`, name: 'ingest', purpose: 'kernel: walking folders, text extraction per format (PDF and DOCX in workers of their own), token-aware chunking', may: CORE, bans: ENGINE_BANS },
  { dir: `${E}/search`, name: 'search', purpose: 'kernel: exact and int8 vector scans (SIMD addon with a JS fallback), HNSW, BM25, fusion, retrieval metrics, TREC output', may: CORE, bans: ENGINE_BANS },
  { dir: `${E}/store`, name: 'store', purpose: 'better-sqlite3: opening (WAL, checks), versioned migrations, the schema, the library store (collections, documents, chunks, vectors)', may: CORE, bans: NOT_ELECTRON, sql: true, note: 'The only layer that speaks SQL.' },
  { dir: `${E}/jobs`, name: 'jobs', purpose: 'the job system: durable records, append-only events, the queue (limits, priorities, cancel, retry), statistics and export', may: [...CORE, `${E}/store`], bans: ENGINE_BANS },
  { dir: `${E}/library`, name: 'library', purpose: 'feature: indexing a folder into a collection, searching it (dense, lexical, hybrid, rerank), evaluation, upgrades', may: BELOW, bans: ENGINE_BANS },
  { dir: `${E}/cloud`, name: 'cloud', purpose: 'feature: remote jobs as ordinary jobs: profiles, routing with circuit breakers and local fallback, budgets, costs, caps, result files', may: [...BELOW, 'cloud-adapters'], bans: ENGINE_BANS },
  { dir: `${E}/map`, name: 'map', purpose: 'feature: 2D maps of a collection (PCA or UMAP in a worker), cached by vector fingerprint', may: BELOW, bans: ENGINE_BANS },
  { dir: `${E}/api`, name: 'api', purpose: 'the one assembly, `createEngine(deps)`: every area wired into the typed API service (handlers per area) that all hosts serve', may: [...ENGINE_AREAS, 'cloud-adapters'], bans: ENGINE_BANS },
  {
    dir: E, shallow: true, name: 'engine entry', purpose: "the engine's public entry (`index.ts`): `createEngine`, and the types and pure helpers hosts print with",
    may: [`${E}/api`, `${E}/common`, ...ENTRY_EXPORTS], bans: ENGINE_BANS,
    note: 'Beyond `api/` it re-exports from the listed files only: types, formatting helpers, defaults and flag choices, and the Node helpers a host needs itself (`TANDEM_HOME`, the float32 row writer, the cloud input checks); never the store, the queue or a client.',
  },
  // --- hosts: they import only the engine's public entry and common
  { dir: 'native/hosts/cli', name: 'cli host', purpose: 'the `tandem` command: thin commands that parse, call the API in-process and print', may: [ENTRY, `${E}/common`, 'native/hosts/web', 'cloud-emulator'], bans: ENGINE_BANS, note: '`tandem serve` starts the web host; `tandem emulate` starts the cloud emulator.' },
  { dir: 'native/hosts/web', name: 'web host', purpose: 'the headless web host (`tandem serve`): HTTP and server-sent events on 127.0.0.1 behind a session token', may: [ENTRY, `${E}/common`], bans: ENGINE_BANS },
  { dir: 'native/hosts/electron-utility', name: 'electron-utility host', purpose: "the engine in Electron's utilityProcess: the message-port protocol and its entry", may: [ENTRY, `${E}/common`], bans: ENGINE_BANS, note: 'It runs under Electron but never imports it: the port arrives as a plain MessagePort.' },
  {
    dir: 'electron', name: 'electron', purpose: 'the desktop shell: main process (window, menu, app:// protocol, IPC validation, token store, the link to the utility process) and the preload bridge',
    may: [`${E}/common`, `${E}/node/paths.ts`, 'native/hosts/electron-utility/engine-port.ts', 'native/hosts/web/csp.ts'], bans: ['react', 'lancedb', 'sqlite'],
    note: 'The engine runs in the utility process, not in main: main imports its port protocol, `TANDEM_HOME` and the shared CSP, never `createEngine`.',
  },
  { dir: 'renderer', name: 'renderer', purpose: 'the React UI; it reaches the app through `window.tandem` (preload) only', may: [`${E}/common`], bans: ['electron', 'node', 'lancedb', 'sqlite'] },
  // --- beside the engine
  { dir: 'cloud-adapters', name: 'cloud-adapters', purpose: 'the remote backends behind one contract (HTTP, Modal, Cloud Run) and their request validation', may: CORE, bans: ENGINE_BANS },
  { dir: 'cloud-emulator', name: 'cloud-emulator', purpose: 'a local stand-in for the cloud backends (Modal and Cloud Run routes, faults, idempotency) for tests and `tandem emulate`', may: [`${E}/common`], bans: ENGINE_BANS },
  { dir: 'models', name: 'models', purpose: 'the model catalog (`catalog.json`) and the built-in model', may: [], bans: ENGINE_BANS },
  { dir: 'native/testing', name: 'testing', purpose: 'helpers for tests only (shared-data lookup, statistics, the cloud rig, a CLI runner, synthetic data); nothing shipped imports it', may: [...ENGINE_AREAS, 'cloud-emulator', 'cloud-adapters'], bans: NOT_ELECTRON },
  { dir: 'native/addons', name: 'addons', purpose: 'the C++ N-API addons (SIMD scan kernels, float32 output), built at install and optional', may: [], bans: ENGINE_BANS },
  { dir: 'bench', name: 'bench', purpose: 'benchmarks (`npm run bench:*`): they measure the engine\'s parts directly', may: [...ENGINE_AREAS, 'native/testing', 'models'], bans: ['electron', 'react'] },
  { dir: 'e2e', name: 'e2e', purpose: 'Playwright end-to-end tests of the built app (desktop and web host)', may: ['native/testing', `${E}/common`], bans: ['react', 'lancedb'] },
  { dir: 'scripts', name: 'scripts', purpose: 'build, install and test scripts; this table', may: [`${E}/node/worker-entries.mjs`], bans: ['electron', 'react', 'lancedb'] },
];

/**
 * Imports that break the table today, each with its reason. Lint passes with them; the list may only
 * shrink: scripts/layers.test.ts fails when an entry is no longer needed. `allow` names layers (or
 * files), package groups (`sqlite`, ...) or `sql` (SQL text outside the store).
 * @type {{ file: string, allow: string[], reason: string }[]}
 */
export const PENDING = [
  // Engine files that cross the intended layering.
  { file: `${E}/inference/embed-engine.ts`, allow: [`${E}/ingest`], reason: 'the embed engine chunks long texts with ingest/chunk.ts; chunking belongs to the caller (library) or the chunker to a lower layer' },
  { file: `${E}/jobs/job-params.ts`, allow: [`${E}/models`], reason: "the default per-kind parameter schemas name the models' variants; they belong to the areas that define those kinds" },
];

/** Files outside the table's layers allowed one package: the benchmark that compares against LanceDB. */
export const PACKAGE_EXCEPTIONS = [{ file: 'bench/ingest-bench.ts', allow: ['lancedb'] }];

const SKIP_DIRS = new Set(['node_modules', 'build', 'dist', 'out', '.vite', 'test-results', 'playwright-report', 'public']);
const SOURCE = '{ts,tsx,mts,cts,js,mjs,cjs}';

/** The layer that owns a repo-relative file path (longest matching dir), or undefined. */
export function layerOf(rel) {
  let best;
  for (const l of LAYERS) {
    const inside = l.shallow ? path.posix.dirname(rel) === l.dir : rel === l.dir || rel.startsWith(l.dir + '/');
    if (inside && (!best || l.dir.length > best.dir.length)) best = l;
  }
  return best;
}

/** Where a relative import from `fromRel` lands, repo-relative (extension as written). */
export function resolveImport(fromRel, spec) {
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
}

const stripExt = (p) => p.replace(/\.(d\.)?[cm]?[jt]sx?$/, '');
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** True when `may` (layers and files) admits the repo-relative target. */
export function admits(may, target) {
  return may.some((m) => (/\.[cm]?[jt]sx?$/.test(m) ? stripExt(m) === stripExt(target) : target === m || target.startsWith(m + '/')));
}

function sqlSelector() {
  return "CallExpression[callee.type='MemberExpression'][callee.property.name=/^(prepare|exec|pragma)$/][arguments.0.type=/^(Literal|TemplateLiteral)$/]";
}

/** The `no-restricted-imports` options for files directly in the repo-relative directory `dir`. */
export function restrictionsFor(dir, { test = false, file } = {}) {
  const layer = layerOf(dir + '/x.ts');
  const pending = file ? PENDING.filter((p) => p.file === file).flatMap((p) => p.allow) : [];
  const exceptions = file ? PACKAGE_EXCEPTIONS.filter((p) => p.file === file).flatMap((p) => p.allow) : [];
  const bans = (layer?.bans ?? []).filter((b) => !pending.includes(b) && !exceptions.includes(b) && !(test && b === 'sqlite'));
  const paths = [];
  const patterns = [];
  for (const b of bans) {
    const g = PACKAGES[b];
    if (g.patterns) patterns.push({ group: [...g.patterns, ...g.names, ...g.names.map((n) => `${n}/*`)], message: g.message });
    else for (const name of g.names) paths.push({ name, message: g.message });
  }
  if (layer && !test) {
    const may = [...layer.may, ...pending];
    for (const t of LAYERS) {
      if (t === layer) continue;
      const rel = path.posix.relative(dir, t.dir) || '.';
      if (admits(may, t.dir + (t.shallow ? '/index.ts' : '/x'))) continue;
      const prefix = rel === '.' ? '(\\./)?' : `${rel.startsWith('..') ? '' : '(\\./)?'}${escape(rel)}/`;
      // single files of the target that this layer may import
      const files = may.filter((m) => /\.[cm]?[jt]sx?$/.test(m) && m.startsWith(t.dir + '/'));
      const keep = files.map((f) => escape(stripExt(path.posix.relative(t.dir, f))));
      const body = t.shallow ? '[^/]+$' : '';
      const lookahead = keep.length ? `(?!(${keep.join('|')})(\\.[cm]?[jt]sx?)?$)` : '';
      const bare = t.shallow ? '' : `|^${rel.startsWith('..') ? '' : '(\\./)?'}${escape(rel)}$`;
      patterns.push({
        regex: `^${prefix}${lookahead}${body}${bare}`,
        message: `${layer.dir}/ may not import ${t.dir}${t.shallow ? '/ (the engine entry)' : '/'}: ${describeMay(layer)} (scripts/layers.mjs).`,
      });
    }
  }
  return { paths, patterns };
}

/** The table's boundary line for a layer, as its README states it. */
export function describeMay(layer) {
  const names = layer.may.map((m) => (m === ENTRY ? 'the engine entry (`native/engine/index.ts`)' : `\`${m}\``));
  return names.length ? `it may import ${names.join(', ')}` : 'it imports no other layer';
}

/** The README block for a layer (between the layers markers). */
export function readmeBlock(layer) {
  const bans = layer.bans.map((b) => PACKAGES[b].names.length > 4 ? 'Node built-ins' : PACKAGES[b].names.map((n) => `\`${n}\``).join(', '));
  const lines = [
    '<!-- layers:begin (generated from scripts/layers.mjs by `node scripts/layers.mjs --readmes`) -->',
    `**Boundaries** (\`${layer.dir}/\`, ${layer.name}): ${describeMay(layer)}.` + (layer.note ? ` ${layer.note}` : ''),
    bans.length ? `It may not import ${bans.join('; ')}.` + (layer.sql ? '' : layer.dir.startsWith(E) ? ' No SQL text outside the store.' : '') : '',
    `Tests (\`*.test.ts\`) may import any layer. ESLint enforces this (eslint.config.js).`,
  ].filter(Boolean);
  if (PENDING.some((p) => layerOf(p.file) === layer)) lines.push('Some files here still break this; `PENDING` in scripts/layers.mjs names them, each with its reason (the list may only shrink).');
  lines.push('<!-- layers:end -->');
  return lines.join('\n');
}

function sourceDirs(dir, out) {
  out.push(dir);
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) sourceDirs(path.posix.join(dir, e.name), out);
  }
  return out;
}

/** ESLint flat-config blocks: one per directory of every layer, then tests, pending files and exceptions. */
export function layerConfigs() {
  const blocks = [];
  const dirs = new Set();
  for (const l of LAYERS) {
    if (!fs.existsSync(path.join(ROOT, l.dir))) continue;
    for (const d of l.shallow ? [l.dir] : sourceDirs(l.dir, [])) dirs.add(d);
  }
  const sqlBan = { selector: sqlSelector(), message: 'The store is the only code that speaks SQL: add a method to native/engine/store/ (scripts/layers.mjs).' };
  for (const d of [...dirs].sort()) {
    const layer = layerOf(d + '/x.ts');
    if (!layer) continue;
    const rules = { 'no-restricted-imports': ['error', restrictionsFor(d)] };
    if (layer.dir.startsWith(E) && !layer.sql) rules['no-restricted-syntax'] = ['error', sqlBan];
    blocks.push({ files: [`${d}/*.${SOURCE}`], rules });
    blocks.push({ files: [`${d}/*.test.${SOURCE}`, `${d}/*.spec.${SOURCE}`], rules: { 'no-restricted-imports': ['error', restrictionsFor(d, { test: true })], 'no-restricted-syntax': 'off' } });
  }
  for (const { file } of [...PENDING, ...PACKAGE_EXCEPTIONS]) {
    const allow = [...PENDING, ...PACKAGE_EXCEPTIONS].filter((p) => p.file === file).flatMap((p) => p.allow);
    const layer = layerOf(file);
    const rules = { 'no-restricted-imports': ['error', restrictionsFor(path.posix.dirname(file), { file })] };
    if (allow.includes('sql') || !layer?.dir.startsWith(E) || layer.sql) rules['no-restricted-syntax'] = 'off';
    blocks.push({ files: [file], rules });
  }
  return blocks;
}

/** Rewrites the generated block in every layer's README (appends it when absent). */
function writeReadmes() {
  for (const l of LAYERS) {
    const file = path.join(ROOT, l.dir, 'README.md');
    if (!fs.existsSync(file)) {
      console.error(`missing ${path.relative(ROOT, file)}`);
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    const block = readmeBlock(l);
    const re = /<!-- layers:begin[^]*?<!-- layers:end -->/;
    const next = re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}\n`;
    if (next !== text) fs.writeFileSync(file, next);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv.includes('--readmes')) writeReadmes();
