import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { diskFullError, isTandemError, readOnlyError, storageError, TandemError } from '../common/errors.js';
import { ensurePrivateDir, makePrivateFiles } from '../node/paths.js';
import { LATEST_VERSION, migrate, type Migration, MIGRATIONS } from './migrations.js';

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

/** No free blocks left where `dir` lives (SQLite reports a full disk while mapping -shm as a plain I/O error). */
function diskIsFull(dir: string): boolean {
  try {
    return fs.statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

function openError(file: string, what: string, e: unknown): TandemError {
  if (e instanceof TandemError) return e;
  const code = (e as { code?: string }).code ?? '';
  if (CORRUPT_CODES.has(code)) return corrupt(file, (e as Error).message, e);
  if (code.startsWith('SQLITE_IOERR') && diskIsFull(path.dirname(file))) return diskFullError(`${code}: ${(e as Error).message}`, file, e);
  return storageError(e) ?? new TandemError('STORE_ERROR', `cannot ${what} ${file}: ${(e as Error).message}`, { cause: e });
}

/** Throws READ_ONLY when `p` exists and this process may not write it (read-only mount, permissions). */
function requireWritable(p: string): void {
  try {
    fs.accessSync(p, fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') throw readOnlyError(code === 'EROFS' ? 'read-only file system' : 'permission denied', p, e);
    throw e;
  }
}

/**
 * A read-only connection to a WAL database in a folder where the -shm file is missing and cannot
 * be created (SQLite answers SQLITE_CANTOPEN on a read-only mount, SQLITE_READONLY_CANTINIT in a
 * folder this user may not write): the file is read
 * into memory and opened from there, its header switched from WAL to rollback so no -shm is needed.
 * Only reached when a normal read-only open fails; a clean close leaves no -wal, so nothing is missed.
 */
function openInMemoryCopy(file: string): Db {
  const bytes = fs.readFileSync(file);
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  return new Database(bytes, { readonly: true });
}

function prepare(db: Db, readonly: boolean, migrations: readonly Migration[] | undefined, file: string): void {
  if (!readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  const check = db.pragma('quick_check(1)', { simple: true });
  if (check !== 'ok') throw corrupt(file, `quick_check: ${String(check)}`);
  if (!readonly) migrate(db, migrations ?? MIGRATIONS);
}

/**
 * Open (or create) the store: WAL, foreign keys, a busy timeout, and every pending migration.
 * A file that is not a SQLite database, or is damaged, is reported and never overwritten.
 * The store and its -wal/-shm are made owner-only (0600) and its folder 0700, whatever the umask.
 * `readonly` opens an existing file without writing anything, also on a read-only disk.
 * A full disk is DISK_FULL and a read-only one READ_ONLY (errors.ts `storageError`).
 */
export function openDatabase(file: string, opts: { migrations?: readonly Migration[]; readonly?: boolean } = {}): Db {
  const readonly = opts.readonly ?? false;
  if (file !== ':memory:') {
    if (!readonly) {
      try {
        ensurePrivateDir(path.dirname(file));
      } catch (e) {
        throw openError(path.dirname(file), 'create the folder of', e);
      }
      requireWritable(path.dirname(file));
      requireWritable(file);
    }
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
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (e) {
    throw openError(file, 'open', e);
  }
  try {
    prepare(db, readonly, opts.migrations, file);
  } catch (e) {
    db.close();
    const code = (e as { code?: string }).code ?? '';
    if (!(readonly && (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY')))) throw openError(file, 'prepare', e);
    // Read-only WAL store whose -shm cannot be created here: read it from memory instead.
    try {
      db = openInMemoryCopy(file);
      prepare(db, true, opts.migrations, file);
    } catch (e2) {
      throw openError(file, 'read', e2);
    }
  }
  if (!readonly && file !== ':memory:') makePrivateFiles(file, `${file}-wal`, `${file}-shm`);
  return db;
}

/**
 * The store under `home`, opened read-only for commands that only read (search, collections list,
 * jobs list): they work on a read-only disk. No store yet: an empty in-memory one. A store from an
 * older Tandem is migrated first (that one open writes).
 */
export function openStoreForReading(home: string): Db {
  const file = storePath(home);
  if (!fs.existsSync(file)) return openDatabase(':memory:');
  const db = openDatabase(file, { readonly: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > LATEST_VERSION) {
    db.close();
    throw new TandemError('STORE_ERROR', `database schema version ${version} is newer than this Tandem understands (${LATEST_VERSION}); update Tandem, or open another TANDEM_HOME`);
  }
  if (version === LATEST_VERSION) return db;
  db.close();
  try {
    return openDatabase(file);
  } catch (e) {
    if (isTandemError(e, 'READ_ONLY')) {
      throw new TandemError('READ_ONLY', `${file} was written by an older Tandem (schema version ${version}) and must be upgraded once on a writable disk: ${e.message}`, { cause: e, data: { path: file } });
    }
    throw e;
  }
}

/**
 * An existing store file opened read-only as it is (no migrations, no checks), for a worker thread
 * that only reads (the map worker) beside a writer: waits up to 5 s on a busy writer.
 */
export function openFileReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/** The store file under TANDEM_HOME. */
export function storePath(home: string): string {
  return path.join(home, 'tandem.db');
}
