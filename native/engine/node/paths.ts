import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where all app data lives. `TANDEM_HOME` wins; otherwise the OS's per-user app-data folder.
 * Pure function of its inputs so hosts and tests can pass their own env.
 */
export function tandemHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const explicit = env.TANDEM_HOME?.trim();
  if (explicit) return path.resolve(explicit);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Tandem');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Tandem');
  return path.join(env.XDG_DATA_HOME?.trim() || path.join(home, '.local', 'share'), 'tandem');
}

/**
 * The models that ship inside Tandem (`models/builtin/` at the package root: potion-base-2M, see
 * its PROVENANCE.md), found relative to this code wherever it runs: the sources
 * (native/engine/node/), the CLI bundle (dist/) or the desktop bundle (out/main/, packaged with the
 * app). `TANDEM_BUILTIN_MODELS_DIR` overrides it (packagings that keep models elsewhere).
 */
export function builtinModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.TANDEM_BUILTIN_MODELS_DIR?.trim();
  if (explicit) return path.resolve(explicit);
  const candidates = ['../../../models/builtin/', '../models/builtin/', '../../models/builtin/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return path.resolve(candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!);
}

/**
 * Directories searched for models, in order: every entry of `TANDEM_MODELS_DIR`
 * (a path list, `:` or `;` separated like PATH), `$TANDEM_HOME/models`, then the built-in models
 * (always there, offline: a model there is found even with nothing installed).
 */
export function modelSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env.TANDEM_MODELS_DIR ?? '')
    .split(path.delimiter)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((p) => path.resolve(p));
  return [...list, path.join(tandemHome(env), 'models'), builtinModelsDir(env)];
}

/** The writable model cache (downloads and imports go here). */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(tandemHome(env), 'models');
}

/** Owner-only permission bits: TANDEM_HOME and the store hold the full text of every indexed document. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

function chmodQuietly(p: string, mode: number): void {
  try {
    fs.chmodSync(p, mode);
  } catch (e) {
    // Missing, not ours (EPERM) or a read-only disk: leave it; reads still work, writes say why.
    if (!['ENOENT', 'EPERM', 'EROFS', 'EACCES'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
}

/**
 * Create `dir` (and missing parents) and make it owner-only (0700) whatever the umask; an existing
 * folder with group or other bits is tightened. No-op on Windows (ACLs, not modes).
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (process.platform === 'win32') return;
  const st = fs.statSync(dir);
  if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) chmodQuietly(dir, PRIVATE_DIR_MODE);
}

/** TANDEM_HOME, created owner-only (0700) or tightened to it. */
export function ensureTandemHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = tandemHome(env);
  ensurePrivateDir(home);
  return home;
}

/** Make existing files owner-only (0600); missing ones are skipped. */
export function makePrivateFiles(...files: string[]): void {
  if (process.platform === 'win32') return;
  for (const f of files) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch {
      continue;
    }
    if ((st.mode & 0o777) !== PRIVATE_FILE_MODE) chmodQuietly(f, PRIVATE_FILE_MODE);
  }
}
