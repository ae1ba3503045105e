import os from 'node:os';
import path from 'node:path';

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
 * Directories searched for models, in order: every entry of `TANDEM_MODELS_DIR`
 * (a path list, `:` or `;` separated like PATH) then `$TANDEM_HOME/models`.
 */
export function modelSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env.TANDEM_MODELS_DIR ?? '')
    .split(path.delimiter)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((p) => path.resolve(p));
  return [...list, path.join(tandemHome(env), 'models')];
}

/** The writable model cache (downloads and imports go here). */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(tandemHome(env), 'models');
}
