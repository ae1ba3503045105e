import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { TandemError, isTandemError } from '../common/errors.js';
import { builtinModelsDir, ensureTandemHome, modelCacheDir, modelSearchDirs } from '../node/paths.js';
import { VARIANTS, findCatalogEntry, type Catalog, type CatalogEntry, type CatalogFile, type Variant } from './catalog.js';
import { downloadFile, fsyncDir, hashFile, type DownloadProgress } from './downloader.js';
import { VARIANT_FILES, describeModelDir, findModelDir, validateModelId } from './model-resolver.js';

export const MANIFEST_FILE = '.tandem-manifest.json';
export const STAGING_DIR = '.staging';
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

// ---------------------------------------------------------------------------------------------
// Public types

export interface ModelManagerOptions {
  env?: NodeJS.ProcessEnv;
  catalog: Catalog;
  /** Hub root; default `TANDEM_HF_ENDPOINT`, else https://huggingface.co. Files come from `${baseUrl}/${repo}/resolve/${revision}/${path}`. */
  baseUrl?: string;
  dispatcher?: Dispatcher;
  /** Retry policy for dropped downloads (tests shorten it). */
  download?: { maxRetries?: number; retryDelayMs?: number };
}

export interface ModelListing {
  id: string;
  task: CatalogEntry['task'] | undefined;
  dims: number | undefined;
  license: string | undefined;
  inCatalog: boolean;
  installed: boolean;
  /** Ships inside Tandem (models/builtin): always available, offline, nothing to download. */
  builtin: boolean;
  /** Folder the resolver would use (first hit in the search path). */
  dir: string | undefined;
  /** Variants whose weights are on disk there. */
  variants: Variant[];
  defaultVariant: Variant | undefined;
  sizeOnDisk: number;
  /** Set when a folder is present but unusable (e.g. no weights). */
  problem?: string;
}

export interface PullOptions {
  variant?: Variant;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /**
   * Pull even though the catalog pins no sha256 for some files or names a branch (e.g. `main`)
   * instead of a commit: those bytes are trusted on first use. Without it such a pull is refused.
   */
  allowUnpinned?: boolean;
}

export interface InstalledFile {
  path: string;
  sha256: string;
  size: number;
  /** True when the hash was checked against the catalog; false when it was only recorded. */
  pinned: boolean;
}

export interface PullResult {
  id: string;
  dir: string;
  variant: Variant;
  /** Files fetched by this call. */
  downloaded: InstalledFile[];
  /** Files already installed and verified, so not fetched again. */
  reused: string[];
  /** Paths whose hash the catalog does not pin: their observed hash was recorded in the manifest. */
  unpinned: string[];
}

export interface ImportOptions {
  id: string;
  /** Replace an installed copy of the same id. */
  force?: boolean;
}

export interface ImportResult {
  id: string;
  dir: string;
  files: InstalledFile[];
  unpinned: string[];
}

export type VerifyStatus = 'ok' | 'mismatch' | 'missing' | 'unpinned';

export interface VerifyFileResult {
  path: string;
  status: VerifyStatus;
  expected: string | null;
  actual: string | null;
  /** Where `expected` came from. */
  source: 'catalog' | 'manifest' | 'none';
}

export interface VerifyResult {
  id: string;
  dir: string;
  /** No file is missing or mismatched (unpinned files have nothing to be checked against). */
  ok: boolean;
  files: VerifyFileResult[];
}

export interface ModelManager {
  list(): Promise<ModelListing[]>;
  pull(id: string, opts?: PullOptions): Promise<PullResult>;
  import(folder: string, opts: ImportOptions): Promise<ImportResult>;
  verify(id: string): Promise<VerifyResult>;
}

// ---------------------------------------------------------------------------------------------
// Manifest written beside installed files

const manifestSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  /** builtin: written by scripts/build-builtin-model.mjs for a model that ships in models/builtin. */
  source: z.enum(['pull', 'import', 'builtin']),
  origin: z.string(),
  repo: z.string().optional(),
  revision: z.string().optional(),
  updatedAt: z.string(),
  files: z.array(z.object({ path: z.string(), sha256: z.string(), size: z.number(), pinned: z.boolean() })),
});
type Manifest = z.infer<typeof manifestSchema>;

function readManifest(dir: string): Manifest | undefined {
  try {
    const r = manifestSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}

function mergeFiles(old: InstalledFile[], fresh: InstalledFile[]): InstalledFile[] {
  const byPath = new Map(old.map((f) => [f.path, f]));
  for (const f of fresh) byPath.set(f.path, f);
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

// ---------------------------------------------------------------------------------------------
// Small filesystem helpers

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
}


/** Relative paths of the regular files under `root` (symlinks followed), skipping dotfiles and `.partial`s. */
async function walkFiles(root: string, maxDepth = 8): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string, depth: number): Promise<void> {
    const entries = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
    for (const ent of entries) {
      if (ent.name.startsWith('.') || ent.name.endsWith('.partial')) continue;
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      const st = await fsp.stat(path.join(root, childRel)).catch(() => undefined);
      if (!st) continue; // dangling symlink
      if (st.isDirectory()) {
        if (depth < maxDepth) await walk(childRel, depth + 1);
      } else if (st.isFile()) {
        out.push(childRel);
      }
    }
  }
  await walk('', 0);
  return out.sort();
}

async function dirSize(root: string): Promise<number> {
  let total = 0;
  const entries = await fsp.readdir(root, { withFileTypes: true }).catch(() => []);
  for (const ent of entries) {
    const p = path.join(root, ent.name);
    if (ent.isDirectory()) total += await dirSize(p);
    else if (ent.isFile()) total += (await fsp.stat(p)).size;
  }
  return total;
}

/** Copy a file while hashing it; the copy is fsynced. */
async function copyHashed(src: string, dest: string): Promise<{ sha256: string; size: number }> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const hash = crypto.createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(fs.createReadStream(src), tap, fs.createWriteStream(dest));
  const fh = await fsp.open(dest, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}

/** A lock file next to a staging folder, so two pulls of one model do not write the same partials. */
async function acquireLock(lockFile: string, what: string): Promise<() => Promise<void>> {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fh = await fsp.open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => fsp.rm(lockFile, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await fsp.readFile(lockFile, 'utf8').catch(() => ''));
      let alive = false;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (err) {
          alive = (err as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new TandemError('CONFLICT', `${what} is already in progress (process ${pid}, lock ${lockFile})`);
      await fsp.rm(lockFile, { force: true }); // stale lock of a process that died
    }
  }
  throw new TandemError('CONFLICT', `could not take the lock ${lockFile} for ${what}`);
}

/** A revision that names a commit (40 hex digits); anything else (`main`, a tag) can move. */
export function isPinnedRevision(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** What a pull of `variant` would trust on first use: files without a sha256, and a moving revision. */
export function unpinnedParts(entry: CatalogEntry, variant: Variant = entry.defaultVariant): { files: string[]; revision: string | null } {
  const weights = weightPaths(entry);
  const weightFile = entry.variants[variant];
  const files = entry.files.filter((f) => (!weights.has(f.path) || f.path === weightFile) && f.sha256 === null).map((f) => f.path);
  return { files, revision: isPinnedRevision(entry.revision) ? null : entry.revision };
}

/**
 * Refuse (INVALID_ARGUMENT, naming the files and the flag) a pull whose bytes the catalog does not
 * pin, unless the caller allowed it. The CLI, the API and the UI all pull through this check.
 */
export function requirePinned(entry: CatalogEntry, variant: Variant | undefined, allowUnpinned: boolean | undefined): void {
  if (allowUnpinned) return;
  const u = unpinnedParts(entry, variant ?? entry.defaultVariant);
  if (u.files.length === 0 && u.revision === null) return;
  const what = [
    ...(u.files.length ? [`the catalog pins no sha256 for ${u.files.join(', ')}`] : []),
    ...(u.revision !== null ? [`its revision "${u.revision}" is a branch or tag, not a commit, so the files can change under it`] : []),
  ].join(', and ');
  throw new TandemError(
    'INVALID_ARGUMENT',
    `model ${entry.id} is not fully pinned: ${what}. Its bytes would be trusted on first use. Pull it anyway with --allow-unpinned (API: allowUnpinned: true; in the app, confirm the download), or import a copy you checked with \`tandem models import FOLDER --id ${entry.id}\`.`,
    { data: { id: entry.id, unpinned: u.files, revision: u.revision, flag: '--allow-unpinned' } },
  );
}

function flatId(id: string): string {
  return id.replaceAll('/', '__');
}

// ---------------------------------------------------------------------------------------------
// Catalog helpers

function weightPaths(entry: CatalogEntry): Set<string> {
  return new Set(Object.values(entry.variants).filter((p): p is string => typeof p === 'string'));
}

function catalogFile(entry: CatalogEntry | undefined, rel: string): CatalogFile | undefined {
  return entry?.files.find((f) => f.path === rel);
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Catalog ids that look like `id` (typo, missing owner, different case), best first. */
export function closeMatches(id: string, candidates: string[], max = 3): string[] {
  const q = id.toLowerCase();
  const qName = q.split('/').pop() ?? q;
  const scored = candidates.map((c) => {
    const lc = c.toLowerCase();
    const name = lc.split('/').pop() ?? lc;
    const d = Math.min(levenshtein(q, lc), levenshtein(qName, name));
    const contains = name.includes(qName) || qName.includes(name);
    return { c, d: contains ? Math.min(d, 1) : d, limit: Math.max(3, Math.floor(name.length * 0.4)) };
  });
  return scored
    .filter((s) => s.d <= s.limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map((s) => s.c);
}

function fileUrl(base: string, entry: CatalogEntry, rel: string): string {
  const enc = (s: string): string => s.split('/').map(encodeURIComponent).join('/');
  return `${base}/${enc(entry.repo)}/resolve/${encodeURIComponent(entry.revision)}/${enc(rel)}`;
}

// ---------------------------------------------------------------------------------------------

/**
 * Models on disk and in the catalog: list, pull (download verified into the cache), import (copy a
 * local folder into the cache), verify. Everything lands in `modelCacheDir(env)/<id>` by a rename from
 * `modelCacheDir(env)/.staging`, so the resolver never sees a half-written model.
 */
export function createModelManager(opts: ModelManagerOptions): ModelManager {
  const env = opts.env ?? process.env;
  const catalog = opts.catalog;
  const baseUrl = (opts.baseUrl ?? env.TANDEM_HF_ENDPOINT?.trim() ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '') || DEFAULT_HF_ENDPOINT;
  const cacheDir = modelCacheDir(env);
  const stagingRoot = path.join(cacheDir, STAGING_DIR);

  function notInCatalog(id: string): TandemError {
    const near = closeMatches(id, catalog.models.map((m) => m.id));
    const hint = near.length ? `did you mean ${near.join(', ')}? ` : '';
    return new TandemError(
      'MODEL_NOT_FOUND',
      `model ${id} is not in the catalog: ${hint}(\`tandem models list\` shows the catalog; \`tandem models import FOLDER --id ${id}\` adds a local copy)`,
      { data: { id, suggestions: near } },
    );
  }

  const builtinRoot = builtinModelsDir(env);
  const isBuiltin = (id: string): boolean => fs.existsSync(path.join(builtinRoot, id, 'tokenizer.json'));

  async function list(): Promise<ModelListing[]> {
    // id -> first folder in search order, exactly as findModelDir resolves it.
    const found = new Map<string, string>();
    for (const root of modelSearchDirs(env)) {
      const owners = await fsp.readdir(root, { withFileTypes: true }).catch(() => []);
      for (const owner of owners) {
        if (!owner.isDirectory() || owner.name.startsWith('.')) continue;
        const ownerDir = path.join(root, owner.name);
        if (fs.existsSync(path.join(ownerDir, 'tokenizer.json')) && !found.has(owner.name)) found.set(owner.name, ownerDir);
        const names = await fsp.readdir(ownerDir, { withFileTypes: true }).catch(() => []);
        for (const name of names) {
          if (!name.isDirectory() || name.name.startsWith('.')) continue;
          const id = `${owner.name}/${name.name}`;
          const dir = path.join(ownerDir, name.name);
          if (!found.has(id) && fs.existsSync(path.join(dir, 'tokenizer.json'))) found.set(id, dir);
        }
      }
    }
    const describe = async (id: string, entry: CatalogEntry | undefined): Promise<ModelListing> => {
      const dir = found.get(id);
      const base: ModelListing = {
        id,
        task: entry?.task,
        dims: entry?.dims,
        license: entry?.license,
        inCatalog: entry !== undefined,
        installed: dir !== undefined,
        builtin: isBuiltin(id),
        dir,
        variants: [],
        defaultVariant: entry?.defaultVariant,
        sizeOnDisk: 0,
      };
      if (!dir) return base;
      base.sizeOnDisk = await dirSize(dir);
      try {
        const d = describeModelDir(id, dir, entry);
        base.variants = VARIANTS.filter((v) => d.variants[v] !== undefined);
        base.defaultVariant = d.defaultVariant;
        base.dims = d.dims;
      } catch (e) {
        base.problem = e instanceof Error ? e.message : String(e);
      }
      return base;
    };
    const out: ModelListing[] = [];
    for (const entry of catalog.models) out.push(await describe(entry.id, entry));
    const localOnly = [...found.keys()].filter((id) => !findCatalogEntry(catalog, id)).sort();
    for (const id of localOnly) out.push(await describe(id, undefined));
    return out;
  }

  /** Is `rel` installed in `dir` with the bytes the catalog (or, unpinned, the manifest) expects? */
  async function installedOk(dir: string, rel: string, file: CatalogFile, manifest: Manifest | undefined): Promise<InstalledFile | undefined> {
    const abs = path.join(dir, rel);
    if (!(await exists(abs))) return undefined;
    if (file.size !== null && (await fsp.stat(abs)).size !== file.size) return undefined;
    const recorded = manifest?.files.find((f) => f.path === rel)?.sha256;
    const expected = file.sha256 ?? recorded;
    if (!expected) return undefined;
    const { sha256, size } = await hashFile(abs);
    return sha256 === expected ? { path: rel, sha256, size, pinned: file.sha256 !== null } : undefined;
  }

  async function pull(id: string, popts: PullOptions = {}): Promise<PullResult> {
    validateModelId(id);
    const entry = findCatalogEntry(catalog, id);
    if (!entry) throw notInCatalog(id);
    const variant = popts.variant ?? entry.defaultVariant;
    const weightFile = entry.variants[variant];
    if (!weightFile) {
      const have = Object.keys(entry.variants).join(', ');
      throw new TandemError('INVALID_ARGUMENT', `model ${id} has no ${variant} variant (it has: ${have})`, { data: { id, variant } });
    }
    const weights = weightPaths(entry);
    const wanted = entry.files.filter((f) => !weights.has(f.path) || f.path === weightFile);
    if (!wanted.some((f) => f.path === 'tokenizer.json')) {
      throw new TandemError('MODEL_INVALID', `catalog entry ${id} lists no tokenizer.json; it cannot be pulled`);
    }
    requirePinned(entry, variant, popts.allowUnpinned);

    const target = path.join(cacheDir, id);
    const targetExists = await exists(target);
    const oldManifest = targetExists ? readManifest(target) : undefined;
    const reused: InstalledFile[] = [];
    const toFetch: CatalogFile[] = [];
    for (const f of wanted) {
      const ok = targetExists ? await installedOk(target, f.path, f, oldManifest) : undefined;
      if (ok) reused.push(ok);
      else toFetch.push(f);
    }

    const staging = path.join(stagingRoot, `${flatId(id)}@${entry.revision.replaceAll('/', '_')}`);
    ensureTandemHome(env);
    await fsp.mkdir(stagingRoot, { recursive: true });
    const release = await acquireLock(`${staging}.lock`, `a pull of ${id}`);
    try {
      await fsp.mkdir(staging, { recursive: true });
      const downloaded: InstalledFile[] = [];
      for (const f of toFetch) {
        const dest = path.join(staging, f.path);
        let got: { sha256: string; size: number };
        try {
          got = await downloadFile({
            url: fileUrl(baseUrl, entry, f.path),
            dest,
            expectedSha256: f.sha256,
            expectedSize: f.size,
            label: `${id}/${f.path}`,
            ...(popts.onProgress ? { onProgress: popts.onProgress } : {}),
            ...(popts.signal ? { signal: popts.signal } : {}),
            ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
            ...opts.download,
          });
        } catch (e) {
          // Bytes that fail their pin are not worth resuming: drop the whole staging folder.
          if (isTandemError(e, 'CHECKSUM_MISMATCH')) await fsp.rm(staging, { recursive: true, force: true });
          throw e;
        }
        downloaded.push({ path: f.path, sha256: got.sha256, size: got.size, pinned: f.sha256 !== null });
      }

      const manifest: Manifest = {
        version: 1,
        id,
        source: 'pull',
        origin: `${baseUrl}/${entry.repo}`,
        repo: entry.repo,
        revision: entry.revision,
        updatedAt: new Date().toISOString(),
        files: mergeFiles([...(oldManifest?.files ?? []), ...reused], downloaded),
      };
      await writeJsonAtomic(path.join(staging, MANIFEST_FILE), manifest);

      if (!targetExists) {
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await fsyncDir(staging);
        await fsp.rename(staging, target); // the whole model appears at once
        await fsyncDir(path.dirname(target));
      } else {
        // Adding files to an installed model: each file appears whole, then the manifest.
        for (const f of downloaded) {
          await fsp.mkdir(path.dirname(path.join(target, f.path)), { recursive: true });
          await fsp.rename(path.join(staging, f.path), path.join(target, f.path));
        }
        await fsp.rename(path.join(staging, MANIFEST_FILE), path.join(target, MANIFEST_FILE));
        await fsyncDir(target);
        await fsp.rm(staging, { recursive: true, force: true });
      }
      return {
        id,
        dir: target,
        variant,
        downloaded,
        reused: reused.map((f) => f.path),
        unpinned: downloaded.filter((f) => !f.pinned).map((f) => f.path),
      };
    } finally {
      await release();
    }
  }

  async function importFolder(folder: string, iopts: ImportOptions): Promise<ImportResult> {
    const id = iopts.id;
    validateModelId(id);
    const src = path.resolve(folder);
    const st = await fsp.stat(src).catch(() => undefined);
    if (!st) throw new TandemError('NOT_FOUND', `folder ${src} does not exist`);
    if (!st.isDirectory()) throw new TandemError('INVALID_ARGUMENT', `${src} is not a folder`);
    const entry = findCatalogEntry(catalog, id);
    if (!(await exists(path.join(src, 'tokenizer.json')))) {
      throw new TandemError('MODEL_INVALID', `${src} has no tokenizer.json; a model folder needs one`, { data: { folder: src } });
    }
    const weightCandidates = new Set([...(entry ? weightPaths(entry) : []), ...Object.values(VARIANT_FILES)]);
    const presentWeights = [...weightCandidates].filter((w) => fs.existsSync(path.join(src, w)));
    if (presentWeights.length === 0) {
      throw new TandemError('MODEL_INVALID', `${src} holds no weights (looked for ${[...weightCandidates].join(', ')})`, { data: { folder: src } });
    }
    const target = path.join(cacheDir, id);
    const rel = path.relative(target, src);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
      throw new TandemError('INVALID_ARGUMENT', `${src} is already the installed copy of ${id}`);
    }
    const targetExists = await exists(target);
    if (targetExists && !iopts.force) {
      throw new TandemError('CONFLICT', `model ${id} is already installed at ${target}; import again with force to replace it`, { data: { id, dir: target } });
    }

    const files = await walkFiles(src);
    ensureTandemHome(env);
    await fsp.mkdir(stagingRoot, { recursive: true });
    const staging = await fsp.mkdtemp(path.join(stagingRoot, `import-${flatId(id)}-`));
    try {
      const installed: InstalledFile[] = [];
      for (const f of files) {
        const got = await copyHashed(path.join(src, f), path.join(staging, f));
        const pin = catalogFile(entry, f);
        if (pin?.sha256 && got.sha256 !== pin.sha256) {
          throw new TandemError('CHECKSUM_MISMATCH', `${id}/${f} in ${src}: checksum mismatch: expected sha256 ${pin.sha256}, got ${got.sha256}; nothing was imported`, {
            data: { file: f, expected: pin.sha256, actual: got.sha256, folder: src },
          });
        }
        if (pin?.size != null && got.size !== pin.size) {
          throw new TandemError('CHECKSUM_MISMATCH', `${id}/${f} in ${src}: size ${got.size} bytes, expected ${pin.size}; nothing was imported`, {
            data: { file: f, expected: String(pin.size), actual: String(got.size), folder: src },
          });
        }
        installed.push({ path: f, sha256: got.sha256, size: got.size, pinned: Boolean(pin?.sha256) });
      }
      const manifest: Manifest = {
        version: 1,
        id,
        source: 'import',
        origin: src,
        ...(entry ? { repo: entry.repo, revision: entry.revision } : {}),
        updatedAt: new Date().toISOString(),
        files: installed,
      };
      await writeJsonAtomic(path.join(staging, MANIFEST_FILE), manifest);
      await fsyncDir(staging);

      await fsp.mkdir(path.dirname(target), { recursive: true });
      if (targetExists) {
        const trash = path.join(stagingRoot, `replaced-${flatId(id)}-${crypto.randomBytes(4).toString('hex')}`);
        await fsp.rename(target, trash);
        await fsp.rename(staging, target);
        await fsp.rm(trash, { recursive: true, force: true });
      } else {
        await fsp.rename(staging, target);
      }
      await fsyncDir(path.dirname(target));
      return { id, dir: target, files: installed, unpinned: installed.filter((f) => !f.pinned).map((f) => f.path) };
    } catch (e) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw e;
    }
  }

  async function verify(id: string): Promise<VerifyResult> {
    validateModelId(id);
    const dir = findModelDir(id, env);
    if (!dir) {
      throw new TandemError('MODEL_NOT_FOUND', `model ${id} is not installed in ${modelSearchDirs(env).join(', ')}`, { data: { id } });
    }
    const manifest = readManifest(dir);
    // A built-in copy is Tandem's own build (int8 table), checked against the hashes its build recorded.
    const entry = manifest?.source === 'builtin' ? undefined : findCatalogEntry(catalog, id);
    // What should be there: what the install recorded, plus every catalog file that is present.
    const paths = new Set<string>(manifest ? manifest.files.map((f) => f.path) : []);
    for (const f of entry?.files ?? []) if (fs.existsSync(path.join(dir, f.path))) paths.add(f.path);
    paths.add('tokenizer.json');
    if (!manifest && !entry) for (const f of await walkFiles(dir)) paths.add(f);

    const files: VerifyFileResult[] = [];
    for (const rel of [...paths].sort()) {
      const pinned = catalogFile(entry, rel)?.sha256 ?? null;
      const recorded = manifest?.files.find((f) => f.path === rel)?.sha256 ?? null;
      const expected = pinned ?? recorded;
      const source: VerifyFileResult['source'] = pinned ? 'catalog' : recorded ? 'manifest' : 'none';
      const abs = path.join(dir, rel);
      if (!(await exists(abs))) {
        files.push({ path: rel, status: 'missing', expected, actual: null, source });
        continue;
      }
      const { sha256 } = await hashFile(abs);
      // No catalog pin: at best it matches the hash recorded when it was installed (trust on first
      // use), which is "unpinned", not "ok". Tandem's own built-in copies count as pinned.
      const trustedOnFirstUse = pinned === null && (!manifest || manifest.source === 'pull' || manifest.source === 'import');
      const status: VerifyStatus = expected !== null && sha256 !== expected ? 'mismatch' : expected === null || trustedOnFirstUse ? 'unpinned' : 'ok';
      files.push({ path: rel, status, expected, actual: sha256, source });
    }
    return { id, dir, ok: files.every((f) => f.status === 'ok' || f.status === 'unpinned'), files };
  }

  return { list, pull, import: importFolder, verify };
}
