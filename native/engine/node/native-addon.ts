import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A loaded addon and where it came from, or why none loaded (every place tried). */
export type AddonState<T> = { addon: T; path: string } | { error: string };

/**
 * Where an addon built in native/addons may be, relative to this module: from sources
 * (native/engine/node -> native/addons), the CLI bundle (dist/ -> native/addons) and the Electron
 * build (out/main/ -> native/addons). `override` (a path from the environment) comes first.
 */
export function addonPaths(file: string, override?: string): string[] {
  const rel = [`../../addons/build/Release/${file}`, `../native/addons/build/Release/${file}`, `../../native/addons/build/Release/${file}`];
  const out = override ? [override] : [];
  for (const r of rel) out.push(fileURLToPath(new URL(r, import.meta.url)));
  return [...new Set(out)];
}

/**
 * Load the first candidate that exists and passes `check` (the addon's own functions are there).
 * Never throws: the callers fall back to JavaScript and report `error` (doctor, benchmarks).
 */
export function loadAddon<T>(candidates: readonly string[], check: (m: unknown) => m is T, what: string): AddonState<T> {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const p of candidates) {
    if (!fs.existsSync(p)) {
      tried.push(`${p}: absent`);
      continue;
    }
    try {
      const m: unknown = require(p);
      if (!check(m)) throw new Error(`not the ${what} addon`);
      return { addon: m, path: p };
    } catch (e) {
      tried.push(`${p}: ${(e as Error).message}`);
    }
  }
  return { error: tried.join('; ') };
}
