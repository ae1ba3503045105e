import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TandemError } from '../engine/common/errors.js';
import { migrate, type Migration, MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

const SQLITE_MAGIC = 'SQLite format 3\0';
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB']);

function corrupt(file: string, why: string, cause?: unknown): TandemError {
  return new TandemError(
    'STORE_CORRUPT',
    `the database ${file} is damaged (${why}). Nothing was changed. Move it aside (for example to ${path.basename(file)}.broken) to start a fresh one, or restore a backup.`,
    { cause, data: { file } },
  );
}

/**
 * Open (or create) the store: WAL, foreign keys, a busy timeout, and every pending migration.
 * A file that is not a SQLite database, or is damaged, is reported and never overwritten.
 */
export function openDatabase(file: string, opts: { migrations?: readonly Migration[]; readonly?: boolean } = {}): Db {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (fs.existsSync(file)) {
      const st = fs.statSync(file);
      if (st.size > 0) {
        const fd = fs.openSync(file, 'r');
        const head = Buffer.alloc(16);
        fs.readSync(fd, head, 0, 16, 0);
        fs.closeSync(fd);
        if (head.toString('latin1') !== SQLITE_MAGIC) throw corrupt(file, 'not a SQLite file: wrong header');
      }
    }
  }
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    if (CORRUPT_CODES.has((e as { code?: string }).code ?? '')) throw corrupt(file, (e as Error).message, e);
    throw new TandemError('STORE_ERROR', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw corrupt(file, `quick_check: ${String(check)}`);
    if (!opts.readonly) migrate(db, opts.migrations ?? MIGRATIONS);
  } catch (e) {
    db.close();
    if (e instanceof TandemError) throw e;
    if (CORRUPT_CODES.has((e as { code?: string }).code ?? '')) throw corrupt(file, (e as Error).message, e);
    throw new TandemError('STORE_ERROR', `cannot prepare ${file}: ${(e as Error).message}`, { cause: e });
  }
  return db;
}

/** The store file under TANDEM_HOME. */
export function storePath(home: string): string {
  return path.join(home, 'tandem.db');
}
