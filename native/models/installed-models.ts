import fs from 'node:fs';
import path from 'node:path';
import { modelSearchDirs } from '../engine/node/paths.js';
import { VARIANT_FILES } from './model-resolver.js';
import type { Variant } from './catalog.js';

export interface InstalledModel {
  id: string;
  dir: string;
  root: string;
  variants: Variant[];
}

const MAX_DEPTH = 3;

/**
 * Every model folder (one with a tokenizer.json) under the search dirs, up to three levels deep,
 * the first occurrence of an id winning, as the resolver would pick it.
 */
export function listInstalledModels(env: NodeJS.ProcessEnv = process.env): InstalledModel[] {
  const seen = new Map<string, InstalledModel>();
  for (const root of modelSearchDirs(env)) {
    const walk = (dir: string, depth: number): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      if (depth > 0 && entries.some((e) => e.name === 'tokenizer.json' && e.isFile())) {
        const id = path.relative(root, dir).split(path.sep).join('/');
        const variants = (Object.entries(VARIANT_FILES) as [Variant, string][]).filter(([, f]) => fs.existsSync(path.join(dir, f))).map(([v]) => v);
        if (!seen.has(id)) seen.set(id, { id, dir, root, variants });
        return;
      }
      if (depth >= MAX_DEPTH) return;
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(path.join(dir, e.name), depth + 1);
    };
    walk(root, 0);
  }
  return [...seen.values()].sort((a, b) => a.id.localeCompare(b.id));
}
