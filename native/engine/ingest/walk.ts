import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { isBinaryFile } from 'isbinaryfile';
import { TandemError } from '../common/errors.js';
import { BINARY_FILE_TYPES, type FileType, fileType, isGeneratedFile, isKnownBinaryExtension } from './file-types.js';

export { type FileType, fileType } from './file-types.js';

/** A file to ingest. `relPath` uses '/' on every OS and is the document key. */
export interface WalkedFile {
  path: string;
  relPath: string;
  size: number;
  mtimeMs: number;
  type: FileType;
}

export type SkipReason =
  | 'hidden' // a dot-name inside the folder (not entered)
  | 'ignored' // excluded by .gitignore/.tandemignore, a pattern, or a built-in rule (node_modules)
  | 'generated' // lock file or minified bundle
  | 'unsupported' // a type no extractor handles (a known binary format, or binary content under an unknown extension)
  | 'binary' // binary content where text was expected (a text type, or a file without extension)
  | 'not-utf8' // text-looking bytes that are neither valid UTF-8 nor UTF-16 with a byte-order mark
  | 'too-large' // bigger than maxFileBytes
  | 'symlink-loop' // a symlinked directory that points at one of its own ancestors
  | 'duplicate' // the same file or directory reached again through a link
  | 'broken-symlink'
  | 'unreadable'; // permission denied, vanished while walking...

/** A file (or folder) seen but not taken, with why. */
export interface SkippedFile {
  path: string;
  relPath: string;
  reason: SkipReason;
  /**
   * The reason as shown to the user: `hidden`, `ignored by .gitignore`, `binary`,
   * `unsupported type .png`, `too large: ...`, `unreadable: ...`. The part before the first ':'
   * is its category (what summaries count by).
   */
  label: string;
  message: string;
}

/**
 * Skips that are the folder's own choice (dot-names, ignore rules, lock files) or lose nothing (a
 * second link to a file or folder walked under another path): everything else is input that was
 * asked for and not indexed.
 */
export function isExpectedSkip(reason: SkipReason): boolean {
  return reason === 'hidden' || reason === 'ignored' || reason === 'generated' || reason === 'duplicate' || reason === 'symlink-loop';
}

export interface WalkOptions {
  /** Extra gitignore-style patterns relative to the root; they win over every ignore file. */
  ignore?: readonly string[];
  /** Honour `.gitignore` files (default true). `.tandemignore` files are always honoured. */
  gitignore?: boolean;
  /** Files larger than this are skipped as 'too-large' (default 256 MiB: a JS string tops out near 512 MiB). */
  maxFileBytes?: number;
  signal?: AbortSignal;
}

export interface WalkResult {
  /** Sorted by relPath (code-unit order), so runs are deterministic. */
  files: WalkedFile[];
  skipped: SkippedFile[];
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Bytes sniffed for binary content. */
const SNIFF_BYTES = 8192;
/** Files of one folder examined between yields to the event loop. */
const STAT_BATCH = 256;
const IGNORE_FILES = ['.gitignore', '.tandemignore'] as const;
const ALWAYS_SKIPPED_DIRS = new Set(['node_modules']);

/** Ignore rules of one folder: patterns are relative to `base` (a root-relative folder, '' for the root). */
interface IgnoreLevel {
  base: string;
  ig: Ignore;
  /** Each ignore file's own rules, in reading order, to say which one excluded a path. */
  sources: ReadonlyArray<{ file: string; ig: Ignore }>;
}

interface WalkState {
  root: string;
  opts: Required<Pick<WalkOptions, 'gitignore' | 'maxFileBytes'>> & WalkOptions;
  userIgnore: Ignore | undefined;
  files: WalkedFile[];
  skipped: SkippedFile[];
  /** dev:ino of every directory and file already taken (links and hard links are walked once). */
  seen: Set<string>;
}

/**
 * Every supported file under `root` (a folder, walked recursively, or a single file), with the
 * ones that were seen but not taken in `skipped`.
 *
 * Ignore files behave like git's: `.gitignore` and `.tandemignore` at any level apply to that
 * folder's subtree with patterns relative to it, deeper files win over shallower ones, the last
 * matching rule wins within a level (`.tandemignore` is read after `.gitignore`), `!negation`
 * re-includes, `dir/` matches folders only, and nothing under an excluded folder is looked at.
 * Dot-names and `node_modules` are never entered (the root itself may be a dot-folder).
 * Symlinks are followed; a link back to an ancestor is reported as a loop and not entered.
 */
export async function walkFiles(root: string, opts: WalkOptions = {}): Promise<WalkResult> {
  const absRoot = path.resolve(root);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(absRoot);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new TandemError('NOT_FOUND', `${absRoot} does not exist`, { cause: e });
    throw new TandemError('INVALID_ARGUMENT', `cannot read ${absRoot}: ${(e as Error).message}`, { cause: e });
  }
  const state: WalkState = {
    root: absRoot,
    opts: { gitignore: true, maxFileBytes: DEFAULT_MAX_FILE_BYTES, ...opts },
    userIgnore: opts.ignore && opts.ignore.length > 0 ? ignore().add([...opts.ignore]) : undefined,
    files: [],
    skipped: [],
    seen: new Set(),
  };
  if (st.isFile()) {
    // A file named explicitly is taken or refused with a reason; ignore rules and the generated-file rule do not apply to it.
    await classifyFile(state, absRoot, path.basename(absRoot), st, true);
  } else if (st.isDirectory()) {
    state.seen.add(identity(st));
    await walkDir(state, absRoot, '', [], new Set([identity(st)]));
  } else {
    throw new TandemError('INVALID_ARGUMENT', `${absRoot} is neither a file nor a folder`);
  }
  const byRel = (a: { relPath: string }, b: { relPath: string }) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0);
  state.files.sort(byRel);
  state.skipped.sort(byRel);
  return { files: state.files, skipped: state.skipped };
}

function identity(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TandemError('CANCELLED', 'walk cancelled');
}

async function walkDir(state: WalkState, dir: string, rel: string, parentLevels: readonly IgnoreLevel[], ancestors: ReadonlySet<string>): Promise<void> {
  checkCancelled(state.opts.signal);
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (rel !== '') state.skipped.push({ path: dir, relPath: rel, reason: 'unreadable', label: `unreadable: ${(e as Error).message}`, message: `cannot list ${dir}: ${(e as Error).message}` });
    else throw new TandemError('INVALID_ARGUMENT', `cannot list ${dir}: ${(e as Error).message}`, { cause: e });
    return;
  }
  const levels = [...parentLevels];
  const own = await readIgnoreFiles(state, dir, entries);
  if (own) levels.push({ base: rel, ...own });

  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: Array<{ abs: string; rel: string }> = [];
  const dirs: Array<{ abs: string; rel: string; st: fs.Stats }> = [];
  for (const entry of entries) {
    const abs = path.join(dir, entry.name);
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const skip = (reason: SkipReason, label: string, message: string) => state.skipped.push({ path: abs, relPath: childRel, reason, label, message });
    if (entry.name.startsWith('.')) {
      // The ignore files themselves are read, not skipped.
      if (!(IGNORE_FILES as readonly string[]).includes(entry.name)) skip('hidden', 'hidden', `${childRel}: hidden (a dot-name) and not entered`);
      continue;
    }
    let isDir = entry.isDirectory();
    let linkStat: fs.Stats | undefined;
    if (entry.isSymbolicLink()) {
      try {
        linkStat = await fs.promises.stat(abs);
      } catch (e) {
        if (!ignoredBy(state, levels, childRel, false)) skip('broken-symlink', `unreadable: broken link (${(e as NodeJS.ErrnoException).code ?? 'error'})`, `${childRel}: ${(e as Error).message}`);
        continue;
      }
      isDir = linkStat.isDirectory();
      if (!isDir && !linkStat.isFile()) continue;
    } else if (!isDir && !entry.isFile()) {
      continue; // sockets, fifos, devices
    }
    if (isDir && ALWAYS_SKIPPED_DIRS.has(entry.name)) {
      skip('ignored', `ignored by built-in rule: ${entry.name}`, `${childRel}: ${entry.name} folders are never entered`);
      continue;
    }
    const by = ignoredBy(state, levels, childRel, isDir);
    if (by) {
      skip('ignored', `ignored by ${by.file}`, `${childRel}: excluded by ${by.where}`);
      continue;
    }
    if (isDir) {
      let st = linkStat;
      if (!st) {
        try {
          st = await fs.promises.stat(abs);
        } catch (e) {
          skip('unreadable', `unreadable: ${(e as Error).message}`, `${childRel}: ${(e as Error).message}`);
          continue;
        }
      }
      dirs.push({ abs, rel: childRel, st });
    } else {
      files.push({ abs, rel: childRel });
    }
  }

  for (let i = 0; i < files.length; i += STAT_BATCH) {
    checkCancelled(state.opts.signal);
    await takeFiles(state, files.slice(i, i + STAT_BATCH));
  }
  for (const d of dirs) {
    const id = identity(d.st);
    if (ancestors.has(id)) {
      state.skipped.push({ path: d.abs, relPath: d.rel, reason: 'symlink-loop', label: 'symlink loop', message: `${d.rel} links back to one of its own parent folders` });
      continue;
    }
    if (state.seen.has(id)) {
      state.skipped.push({ path: d.abs, relPath: d.rel, reason: 'duplicate', label: 'duplicate: a folder walked under another path', message: `${d.rel} is a folder already walked under another path` });
      continue;
    }
    state.seen.add(id);
    await walkDir(state, d.abs, d.rel, reincluded(levels, d.rel), new Set([...ancestors, id]));
  }
}

/** The combined `.gitignore` + `.tandemignore` rules of one folder (and each file's own), if it has any. */
async function readIgnoreFiles(state: WalkState, dir: string, entries: readonly fs.Dirent[]): Promise<Omit<IgnoreLevel, 'base'> | undefined> {
  const names = IGNORE_FILES.filter((n) => (n !== '.gitignore' || state.opts.gitignore) && entries.some((e) => e.name === n && !e.isDirectory()));
  if (names.length === 0) return undefined;
  const ig = ignore();
  const sources: Array<{ file: string; ig: Ignore }> = [];
  for (const name of names) {
    try {
      const text = await fs.promises.readFile(path.join(dir, name), 'utf8');
      ig.add(text);
      sources.push({ file: name, ig: ignore().add(text) });
    } catch {
      // an unreadable ignore file is treated as empty, like git does
    }
  }
  return { ig, sources };
}

/**
 * What excludes a root-relative path (`.gitignore`, `.tandemignore`, `an ignore pattern`; `where`: `sub/.gitignore`), or
 * undefined when it is not excluded: deeper levels override shallower ones; user patterns override all.
 */
function ignoredBy(state: WalkState, levels: readonly IgnoreLevel[], rel: string, isDir: boolean): { file: string; where: string } | undefined {
  const suffix = isDir ? '/' : '';
  let by: { file: string; where: string } | undefined;
  for (const level of levels) {
    const sub = relativeTo(level.base, rel) + suffix;
    const r = level.ig.test(sub);
    if (r.ignored) {
      // Within a level the last file with a verdict decided (.tandemignore is read after .gitignore).
      const decider = [...level.sources].reverse().find((s) => {
        const t = s.ig.test(sub);
        return t.ignored || t.unignored;
      });
      const file = decider?.file ?? level.sources[0]?.file ?? '.gitignore';
      by = { file, where: level.base === '' ? file : `${level.base}/${file}` };
    } else if (r.unignored) by = undefined;
  }
  if (state.userIgnore?.ignores(rel + suffix)) by = { file: 'an ignore pattern', where: 'an ignore pattern given to the walk' };
  return by;
}

function relativeTo(base: string, rel: string): string {
  return base === '' ? rel : rel.slice(base.length + 1);
}

/**
 * Levels to use inside folder `rel`, which the walk decided to enter. When a shallower level
 * excludes that folder but a deeper one re-included it (git lets a deeper `!dir/` win), the
 * `ignore` package would still report everything inside as excluded "because a parent is".
 * Appending an anchored `!/dir/` to that level makes it judge the children on their own rules.
 */
function reincluded(levels: readonly IgnoreLevel[], rel: string): IgnoreLevel[] {
  return levels.map((level) => {
    const sub = relativeTo(level.base, rel);
    if (!level.ig.test(sub + '/').ignored) return level;
    return { ...level, ig: ignore().add(level.ig).add(`!/${escapeGlob(sub)}/`) };
  });
}

function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`).replace(/ $/, '\\ ');
}

/**
 * Stats a batch of files, drops links to files already taken (in name order, so runs agree),
 * classifies the rest. Stats and binary sniffs are synchronous: each is a few microseconds on a
 * local disk, where the thread-pool round trips of the async calls cost about 10x more (a folder
 * of 2,760 small files: about 170 ms async); the walk yields to the event loop between batches.
 */
async function takeFiles(state: WalkState, batch: ReadonlyArray<{ abs: string; rel: string }>): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  for (const f of batch) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f.abs);
    } catch (e) {
      state.skipped.push({ path: f.abs, relPath: f.rel, reason: 'unreadable', label: `unreadable: ${(e as Error).message}`, message: `${f.rel}: ${(e as Error).message}` });
      continue;
    }
    const id = identity(st);
    if (st.ino !== 0 && state.seen.has(id)) {
      state.skipped.push({ path: f.abs, relPath: f.rel, reason: 'duplicate', label: 'duplicate: a link to a file taken under another path', message: `${f.rel} is the same file as one already taken (a link)` });
      continue;
    }
    state.seen.add(id);
    await classifyFile(state, f.abs, f.rel, st);
  }
}

/**
 * Takes a file or records why not. Files of a known type are taken unless their content is binary
 * (for text types); files of an unknown type are sniffed: UTF-8 text (or UTF-16 with a
 * byte-order mark) that is not binary is taken as plain text (`README`, `GPL-3`, `copyright`,
 * `notes.log`), anything else is refused as `binary` (no extension) or `unsupported type .xyz`.
 */
async function classifyFile(state: WalkState, abs: string, rel: string, st: fs.Stats, explicit = false): Promise<void> {
  const known = fileType(abs);
  const ext = typedExtension(abs);
  const skip = (reason: SkipReason, label: string, message: string) => void state.skipped.push({ path: abs, relPath: rel, reason, label, message });
  if (!known && ext && isKnownBinaryExtension(ext)) return skip('unsupported', `unsupported type ${ext}`, `${rel}: unsupported file type (${ext})`);
  if (known && !explicit && isGeneratedFile(abs)) return skip('generated', 'ignored by built-in rule: generated file', `${rel}: generated file (lock file or minified bundle)`);
  if (st.size > state.opts.maxFileBytes) {
    return skip('too-large', `too large: ${st.size} bytes, over the ${state.opts.maxFileBytes}-byte limit`, `${rel}: ${st.size} bytes is over the ${state.opts.maxFileBytes}-byte limit`);
  }
  const take = (type: FileType) => void state.files.push({ path: abs, relPath: rel, size: st.size, mtimeMs: st.mtimeMs, type });
  if (known && BINARY_FILE_TYPES.has(known)) return take(known);
  if (st.size === 0) return take(known ?? 'txt');
  let sniffed: Sniffed;
  try {
    sniffed = await sniffText(abs, !known);
  } catch (e) {
    return skip('unreadable', `unreadable: ${(e as Error).message}`, `${rel}: ${(e as Error).message}`);
  }
  if (sniffed === 'text') return take(known ?? 'txt');
  if (sniffed === 'not-utf8') return skip('not-utf8', 'not UTF-8 text', `${rel}: neither valid UTF-8 nor UTF-16 with a byte-order mark`);
  if (!known && ext) return skip('unsupported', `unsupported type ${ext}`, `${rel}: binary content in a ${ext} file, a type no extractor reads`);
  return skip('binary', 'binary', `${rel}: binary content${known ? ` in a ${ext || known} file` : ''}`);
}

type Sniffed = 'text' | 'binary' | 'not-utf8';

/**
 * Looks at the first 8 KiB: UTF-16 with a byte-order mark is text when it decodes and holds no NUL;
 * otherwise `isbinaryfile` decides, and with `requireUtf8` the bytes must also be valid UTF-8 (a
 * sequence cut at the 8 KiB boundary is fine). Synchronous: see takeFiles.
 */
async function sniffText(file: string, requireUtf8: boolean): Promise<Sniffed> {
  const fd = fs.openSync(file, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    head = buf.subarray(0, fs.readSync(fd, buf, 0, SNIFF_BYTES, 0));
  } finally {
    fs.closeSync(fd);
  }
  if (head.length === 0) return 'text';
  const partial = head.length === SNIFF_BYTES;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    try {
      const text = new TextDecoder(head[0] === 0xff ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(head.subarray(0, head.length & ~1), { stream: partial });
      return text.includes('\0') ? 'binary' : 'text';
    } catch {
      return 'binary';
    }
  }
  if (await isBinaryFile(head, head.length)) return 'binary';
  if (!requireUtf8) return 'text';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: partial });
    return 'text';
  } catch {
    return 'not-utf8';
  }
}

/** `.png` for `photo.PNG`; '' for no extension or a version-like one (`GPL-2.0`, `LGPL-2.1`). */
function typedExtension(file: string): string {
  const ext = path.extname(file).toLowerCase();
  return /^\.[a-z][a-z0-9_+-]*$/.test(ext) ? ext : '';
}
