import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTandemError, TandemError } from '../common/errors.js';
import { openDatabase, type Db } from './database.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations.js';
import { SCHEMA_V1 } from './schema-v1.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-db-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshFile = () => path.join(tmp, `t${n++}.db`);

const V1: Migration = { version: 1, description: 'schema v1', up: (db) => db.exec(SCHEMA_V1) };
const V2: Migration = { version: 2, description: 'collections get a note', up: (db) => db.exec("ALTER TABLE collections ADD COLUMN note TEXT NOT NULL DEFAULT 'none'") };
const V2_BROKEN: Migration = {
  version: 2,
  description: 'half done then broken',
  up: (db) => {
    db.exec('CREATE TABLE half_done (x INTEGER)');
    db.exec("ALTER TABLE collections ADD COLUMN note TEXT NOT NULL DEFAULT 'none'");
    db.exec('INSERT INTO half_done VALUES (1)');
    throw new Error('disk says no');
  },
};

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function tables(db: Db): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

function columns(db: Db, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name);
}

/** A v1 database with one collection, closed (WAL folded back into the main file). */
function v1WithData(file: string): void {
  const db = openDatabase(file, { migrations: [V1] });
  db.prepare("INSERT INTO collections (name, model, variant, created_at) VALUES ('papers', 'x/y', 'fp32', '2024-01-01T00:00:00.000Z')").run();
  db.close();
}

function expectCode(code: string, re: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isTandemError(e), `expected a TandemError, got ${String(e)}`);
    assert.equal((e as TandemError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    return true;
  };
}

test('a new database gets every migration, WAL and foreign keys', () => {
  const db = openDatabase(freshFile());
  try {
    assert.equal(db.pragma('user_version', { simple: true }), LATEST_VERSION);
    assert.equal(LATEST_VERSION, MIGRATIONS.at(-1)!.version);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    for (const t of ['jobs', 'job_events', 'job_checkpoints', 'settings', 'collections', 'documents', 'chunks', 'embeddings', 'chunks_fts']) {
      assert.ok(tables(db).includes(t), `table ${t} is missing: ${tables(db).join(', ')}`);
    }
    assert.throws(
      () => db.prepare("INSERT INTO documents (collection_id, doc_key, path, file_type, size, mtime_ms, sha256, indexed_at) VALUES (999, 'a', '/a', 'txt', 1, 1, 'x', 'now')").run(),
      /FOREIGN KEY constraint failed/,
    );
  } finally {
    db.close();
  }
});

test('an existing v1 file with data migrates to v2 and keeps the data', () => {
  const file = freshFile();
  v1WithData(file);
  const db = openDatabase(file, { migrations: [V1, V2] });
  try {
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    assert.ok(columns(db, 'collections').includes('note'), 'v2 added the column');
    assert.deepEqual(db.prepare('SELECT name, model, note FROM collections').all(), [{ name: 'papers', model: 'x/y', note: 'none' }]);
  } finally {
    db.close();
  }
  // opening again at v2 changes nothing
  const again = openDatabase(file, { migrations: [V1, V2] });
  assert.equal(again.pragma('user_version', { simple: true }), 2);
  again.close();
});

test('a v2 migration that throws halfway leaves the file at v1 with its data and no partial tables', () => {
  const file = freshFile();
  v1WithData(file);
  assert.throws(() => openDatabase(file, { migrations: [V1, V2_BROKEN] }), expectCode('STORE_ERROR', /migration 2 \(half done then broken\) failed: disk says no; the database was left at version 1/));
  const db = openDatabase(file, { migrations: [V1] });
  try {
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    assert.ok(!tables(db).includes('half_done'), `a partial table survived: ${tables(db).join(', ')}`);
    assert.ok(!columns(db, 'collections').includes('note'), 'a partial column survived');
    assert.deepEqual(db.prepare('SELECT name FROM collections').all(), [{ name: 'papers' }]);
  } finally {
    db.close();
  }
  // and the real v2 still applies afterwards
  const fixed = openDatabase(file, { migrations: [V1, V2] });
  assert.equal(fixed.pragma('user_version', { simple: true }), 2);
  fixed.close();
});

test('a database newer than the code is refused, clearly, and left alone', () => {
  const file = freshFile();
  openDatabase(file, { migrations: [V1, V2] }).close();
  const before = sha256(file);
  assert.throws(() => openDatabase(file, { migrations: [V1] }), expectCode('STORE_ERROR', /schema version 2 is newer than this Tandem understands \(1\); update Tandem/));
  assert.equal(sha256(file), before, 'the file changed');
});

test('a file of random bytes is STORE_CORRUPT and its bytes are unchanged', () => {
  const file = freshFile();
  fs.writeFileSync(file, randomBytes(64 * 1024));
  const before = sha256(file);
  assert.throws(() => openDatabase(file), expectCode('STORE_CORRUPT', /is damaged .*Nothing was changed/));
  assert.equal(sha256(file), before, 'the file changed');
});

test('a real database whose middle pages are overwritten is STORE_CORRUPT and its bytes are unchanged', () => {
  const file = freshFile();
  const db = openDatabase(file);
  db.prepare("INSERT INTO collections (name, model, variant, created_at) VALUES ('c', 'x/y', 'fp32', 'now')").run();
  db.prepare("INSERT INTO documents (collection_id, doc_key, path, file_type, size, mtime_ms, sha256, indexed_at) VALUES (1, 'd', '/d', 'txt', 1, 1, 'x', 'now')").run();
  const ins = db.prepare('INSERT INTO chunks (document_id, ord, text, start, end, tokens) VALUES (1, ?, ?, 0, 10, 3)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) ins.run(i, `chunk ${i} ${'lorem ipsum dolor sit amet '.repeat(8)}`);
  })();
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  assert.ok(!fs.existsSync(`${file}-wal`) || fs.statSync(`${file}-wal`).size === 0, 'the WAL was folded back on close');
  const size = fs.statSync(file).size;
  const pages = size / pageSize;
  assert.ok(pages > 50, `expected a file of many pages, got ${pages}`);
  const fd = fs.openSync(file, 'r+');
  const first = Math.floor(pages / 2) - 5;
  for (let p = first; p < first + 10; p++) fs.writeSync(fd, randomBytes(pageSize), 0, pageSize, p * pageSize);
  fs.closeSync(fd);
  const before = sha256(file);
  assert.throws(() => openDatabase(file), expectCode('STORE_CORRUPT', /is damaged/));
  assert.equal(sha256(file), before, 'the file changed');
});

test('an empty file is a new database', () => {
  const file = freshFile();
  fs.writeFileSync(file, '');
  const db = openDatabase(file);
  assert.equal(db.pragma('user_version', { simple: true }), LATEST_VERSION);
  db.close();
});
