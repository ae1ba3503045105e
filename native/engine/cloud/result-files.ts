import fs from 'node:fs';
import path from 'node:path';
import type { JsonValue } from '../common/errors.js';

/**
 * Result files of remote jobs, under `$TANDEM_HOME/results/<jobId>/`. Writes are atomic (a temp
 * file renamed into place), so a kill mid-write never leaves half a structure behind, and a resumed
 * job that writes the same file again just replaces it. The job record keeps the paths.
 */
export class ResultFiles {
  readonly dir: string;

  constructor(home: string, jobId: string) {
    if (!/^[0-9A-Za-z_-]+$/.test(jobId)) throw new Error(`bad job id for a results folder: ${jobId}`);
    this.dir = path.join(home, 'results', jobId);
  }

  /** Writes `name` (a plain file name) and returns its absolute path. */
  write(name: string, data: string | Uint8Array): string {
    const safe = safeName(name);
    fs.mkdirSync(this.dir, { recursive: true });
    const p = path.join(this.dir, safe);
    const tmp = `${p}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, p);
    return p;
  }

  /** A JSON file written earlier, or null when absent or unreadable. */
  readJson(name: string): JsonValue | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, safeName(name)), 'utf8')) as JsonValue;
    } catch {
      return null;
    }
  }

  writeJson(name: string, value: JsonValue): string {
    return this.write(name, JSON.stringify(value, null, 2) + '\n');
  }
}

/** A file name from user-provided ids (ligand ids, complex names): no separators, no dot-files. */
export function safeName(name: string): string {
  const s = name.replace(/[^0-9A-Za-z._-]+/g, '_').replace(/^\.+/, '_').slice(0, 120);
  return s.length > 0 ? s : '_';
}
