import type Database from 'better-sqlite3';
import { TandemError } from '../common/errors.js';
import { SCHEMA_V1 } from './schema-v1.js';
import { SCHEMA_V2 } from './schema-v2.js';
import { SCHEMA_V3 } from './schema-v3.js';

export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
  /**
   * Rebuilds a table others reference (SQLite's 12-step ALTER): run with foreign keys off, so
   * dropping the old table cascades nothing; `PRAGMA foreign_key_check` must be clean before commit.
   */
  foreignKeysOff?: boolean;
}

/** Every schema change, in order. `PRAGMA user_version` records the last one applied. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'collections, documents, chunks, embeddings, FTS5, jobs, events, settings', up: (db) => db.exec(SCHEMA_V1) },
  { version: 2, description: 'lexical-only collections (nullable model) and model upgrades in progress', up: (db) => db.exec(SCHEMA_V2), foreignKeysOff: true },
  { version: 3, description: 'chunk locations: start line and page breaks inside a chunk', up: (db) => db.exec(SCHEMA_V3) },
  // What a job worked on (native/engine/jobs/job-label.ts); NULL for older rows, which get theirs at read time.
  { version: 4, description: 'job labels', up: (db) => db.exec('ALTER TABLE jobs ADD COLUMN label TEXT') },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Bring a database forward to `target`, all pending migrations in ONE transaction: either the
 * file ends at the new version, or it is exactly as it was.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, target = migrations[migrations.length - 1]!.version): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > target) {
    throw new TandemError('STORE_ERROR', `database schema version ${from} is newer than this Tandem understands (${target}); update Tandem, or open another TANDEM_HOME`);
  }
  const pending = migrations.filter((m) => m.version > from && m.version <= target);
  if (pending.length === 0) return { from, to: from };
  // PRAGMA foreign_keys is a no-op inside a transaction: switched off around it when a table is rebuilt.
  const fkOff = pending.some((m) => m.foreignKeysOff) && (db.pragma('foreign_keys', { simple: true }) as number) === 1;
  const run = db.transaction(() => {
    for (const m of pending) {
      try {
        m.up(db);
        if (m.foreignKeysOff) {
          const bad = db.pragma('foreign_key_check') as unknown[];
          if (bad.length) throw new Error(`${bad.length} rows break foreign keys after it: ${JSON.stringify(bad.slice(0, 3))}`);
        }
      } catch (e) {
        throw new TandemError('STORE_ERROR', `migration ${m.version} (${m.description}) failed: ${(e as Error).message}; the database was left at version ${from}`, { cause: e });
      }
      db.pragma(`user_version = ${m.version}`);
    }
  });
  if (fkOff) db.pragma('foreign_keys = OFF');
  try {
    run();
  } finally {
    if (fkOff) db.pragma('foreign_keys = ON');
  }
  return { from, to: target };
}
