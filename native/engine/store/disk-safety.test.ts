import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isTandemError, toWire } from '../common/errors.js';
import { JobStore } from '../jobs/job-store.js';
import { runTandem } from '../../testing/cli-run.js';
import { openDatabase, storePath } from './database.js';
import { LibraryStore } from './library-store.js';
import { bracketed } from '../search/lexical.js';
import { writeSmallCollection } from '../../testing/small-library.js';

/**
 * Safer defaults and clear errors for full and read-only disks (issue 17, points 6 and 7):
 * owner-only modes for TANDEM_HOME and the store, DISK_FULL on a full tmpfs, READ_ONLY on a
 * read-only home where search and the lists still work.
 */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-disk-'));
const mounts: string[] = [];
const restores: Array<() => void> = [];
after(() => {
  for (const m of mounts.reverse()) spawnQuiet('umount', [m]);
  for (const r of restores) r();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function spawnQuiet(cmd: string, args: string[]): string | undefined {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (e) {
    return ((e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message).trim();
  }
}

const isRoot = process.getuid?.() === 0;

/** Mount a tmpfs of `size` at a fresh folder, or say why not (not root, no mount permission). */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: `tmpfs mounts are Linux-only (platform ${process.platform})` };
  if (!isRoot) return { skip: 'mounting a tmpfs needs root (uid 0); this run is not root' };
  const dir = fs.mkdtempSync(path.join(tmp, 'tmpfs-'));
  const why = spawnQuiet('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  if (why) return { skip: `mount -t tmpfs failed here: ${why}` };
  mounts.push(dir);
  return { dir };
}

/** Fill the file system holding `dir` until it has no space left. */
function fillDisk(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096, 7);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
}

function cliEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: '', TANDEM_DEBUG: '' };
}

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

test('TANDEM_HOME is created 0700 and tandem.db, -wal and -shm 0600 whatever the umask; an existing home is tightened on open', { skip: process.platform === 'win32' ? 'POSIX modes only' : false }, () => {
  const old = process.umask(0o022);
  try {
    const home = path.join(tmp, 'modes', 'home');
    const db = openDatabase(storePath(home));
    try {
      db.prepare("INSERT INTO settings (key, value) VALUES ('k', '\"v\"')").run();
      assert.equal(mode(home).toString(8), '700', 'a new TANDEM_HOME');
      for (const f of ['tandem.db', 'tandem.db-wal', 'tandem.db-shm']) {
        assert.ok(fs.existsSync(path.join(home, f)), `${f} exists while the store is open`);
        assert.equal(mode(path.join(home, f)).toString(8), '600', f);
      }
    } finally {
      db.close();
    }
    // A home made by an older Tandem (umask 022): 0755 and 0644.
    fs.chmodSync(home, 0o755);
    fs.chmodSync(storePath(home), 0o644);
    openDatabase(storePath(home)).close();
    assert.equal(mode(home).toString(8), '700', 'an existing home is tightened');
    assert.equal(mode(storePath(home)).toString(8), '600', 'an existing store is tightened');
  } finally {
    process.umask(old);
  }
});

test('a full disk is DISK_FULL with what to do, for SQLite writes and for file writes (1 MiB tmpfs)', async (t) => {
  const m = mountTmpfs('1m');
  if ('skip' in m) return t.skip(m.skip);
  const home = path.join(m.dir, 'home');
  // A failed job to retry: `tandem jobs retry` writes a new job row.
  const db = openDatabase(storePath(home));
  const store = new JobStore(db);
  const job = store.createJob({ kind: 'disk-test', backend: 'local', params: { n: 1 }, input: { n: 1 } });
  store.start(job.id);
  store.fail(job.id, new Error('first try'));
  fillDisk(m.dir);
  // In this process: the write that no longer fits is DISK_FULL (SQLITE_FULL), on the record and on the wire.
  assert.throws(
    () => {
      for (let i = 0; i < 1000; i++) store.createJob({ kind: 'disk-test', backend: 'local', params: { pad: 'x'.repeat(2000) }, input: { i } });
    },
    (e: unknown) => isTandemError(e, 'DISK_FULL') && toWire(e).code === 'DISK_FULL' && /database or disk is full/.test(e.message),
  );
  db.close();
  fs.rmSync(path.join(m.dir, 'filler'));
  const bigFolder = path.join(tmp, 'big-model');
  fs.mkdirSync(bigFolder, { recursive: true });
  fs.writeFileSync(path.join(bigFolder, 'tokenizer.json'), '{}');
  fs.writeFileSync(path.join(bigFolder, 'model.safetensors'), Buffer.alloc(300_000, 1));
  fillDisk(m.dir);

  const r = await runTandem(['jobs', 'retry', job.id], cliEnv(home));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /tandem: DISK_FULL: the disk is full/, r.stderr);
  assert.match(r.stderr, /Free some space .* or set TANDEM_HOME to a folder on a larger disk/);
  assert.doesNotMatch(r.stderr, /INTERNAL|STORE_ERROR/);

  const imp = await runTandem(['models', 'import', bigFolder, '--id', 'me/big', '--json'], cliEnv(home));
  assert.equal(imp.status, 1, imp.stderr);
  assert.match(imp.stderr, /tandem: DISK_FULL: the disk is full \(.*me\/big|tandem: DISK_FULL: the disk is full/, imp.stderr);
  assert.equal(JSON.parse(imp.stdout.trim().split('\n').at(-1)!).error.code, 'DISK_FULL');

  // Space again: the same command works, and the store was not damaged.
  fs.rmSync(path.join(m.dir, 'filler'));
  const again = await runTandem(['jobs', 'retry', job.id], cliEnv(home));
  assert.equal(again.status, 0, again.stderr);
});

/**
 * A read-only TANDEM_HOME: a read-only bind mount as root (root ignores permission bits), a chmod-ed
 * copy otherwise.
 */
function readOnlyView(src: string): { dir: string } | { skip: string } {
  if (isRoot) {
    if (process.platform !== 'linux') return { skip: 'root ignores chmod, and read-only bind mounts are Linux-only' };
    const dir = fs.mkdtempSync(path.join(tmp, 'ro-'));
    const why = spawnQuiet('mount', ['--bind', src, dir]) ?? spawnQuiet('mount', ['-o', 'remount,ro,bind', dir]);
    if (why) return { skip: `root ignores chmod and a read-only bind mount failed here: ${why}` };
    mounts.push(dir);
    return { dir };
  }
  if (process.platform === 'win32') return { skip: 'POSIX permissions only' };
  for (const f of fs.readdirSync(src)) fs.chmodSync(path.join(src, f), 0o444);
  fs.chmodSync(src, 0o555);
  restores.push(() => fs.chmodSync(src, 0o700));
  return { dir: src };
}

test('on a read-only home, search, collections list and jobs list work and a write is READ_ONLY', async (t) => {
  const home = path.join(tmp, 'ro-home');
  const db = openDatabase(storePath(home));
  const lib = new LibraryStore(db);
  writeSmallCollection(lib, home);
  const store = new JobStore(db);
  const done = store.createJob({ kind: 'disk-test', backend: 'local', params: {}, input: { n: 1 } });
  store.start(done.id);
  store.succeed(done.id, { result: null });
  // A job whose process died: listing on a writable home would mark it interrupted.
  const orphan = new JobStore(db, { owner: { host: os.hostname(), pid: 2 ** 22 + 17 } }).createJob({ kind: 'disk-test', backend: 'local', params: {}, input: { n: 2 } });
  new JobStore(db, { owner: { host: os.hostname(), pid: 2 ** 22 + 17 } }).start(orphan.id);
  db.close();
  const before = fs.readdirSync(home).sort();
  assert.deepEqual(before, ['tandem.db'], 'a clean close leaves no -wal or -shm, so SQLite cannot open WAL read-only without help');

  const ro = readOnlyView(home);
  if ('skip' in ro) return t.skip(ro.skip);
  const env = cliEnv(ro.dir);

  const s = await runTandem(['search', 'heron marsh', '--collection', 'papers', '--mode', 'lexical', '--json'], env);
  assert.equal(s.status, 0, s.stderr);
  const hits = JSON.parse(s.stdout) as Array<{ docKey: string; snippet: string; highlights: Array<{ start: number; end: number }> }>;
  assert.equal(hits[0]?.docKey, 'notes.md');
  assert.match(bracketed({ text: hits[0]!.snippet, highlights: hits[0]!.highlights }), /\[heron\]/);

  const cl = await runTandem(['collections', 'list', '--json'], env);
  assert.equal(cl.status, 0, cl.stderr);
  assert.deepEqual((JSON.parse(cl.stdout) as Array<{ name: string; documents: number; chunks: number }>).map((r) => [r.name, r.documents, r.chunks]), [['papers', 1, 3]]);

  const jl = await runTandem(['jobs', 'list', '--json'], env);
  assert.equal(jl.status, 0, jl.stderr);
  assert.deepEqual((JSON.parse(jl.stdout) as Array<{ id: string; status: string }>).map((j) => [j.id, j.status]).sort(), [[done.id, 'succeeded'], [orphan.id, 'running']].sort());

  const rm = await runTandem(['collections', 'remove', 'papers'], env);
  assert.equal(rm.status, 1, rm.stderr);
  assert.match(rm.stderr, /tandem: READ_ONLY: cannot write/, rm.stderr);
  assert.match(rm.stderr, /Searching and listing still work; .*remount it read-write, fix the folder's permissions, or set TANDEM_HOME to a writable folder/);

  assert.deepEqual(fs.readdirSync(home).sort(), before, 'nothing was written');
});
