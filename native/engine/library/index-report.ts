import type { FileType } from '../ingest/file-types.js';

/**
 * What `tandem index` tells about the files it did not index, and how far it is. Pure helpers,
 * used by the indexer; the CLI, the job record and the Library page show what they produce.
 */

/** A file not indexed: its path and the reason as shown to the user (`binary`, `corrupt PDF: ...`). */
export interface NotIndexed {
  path: string;
  reason: string;
}

/** The category of a reason, what summaries count by: the part before the first ':' (`unreadable: EACCES...` -> `unreadable`). */
export function reasonCategory(reason: string): string {
  const i = reason.indexOf(':');
  return i < 0 ? reason : reason.slice(0, i);
}

/** Counts by category, largest first (ties by name). */
export function countByReason(items: Iterable<{ reason: string }>): Record<string, number> {
  const counts = new Map<string, number>();
  for (const it of items) {
    const c = reasonCategory(it.reason);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

/** Reasons that are the folder's own choice or lose nothing (walk's isExpectedSkip, by label): hidden, ignored, a second link. */
export function isExpectedReason(reason: string): boolean {
  const c = reasonCategory(reason);
  return c === 'hidden' || c.startsWith('ignored by') || c === 'duplicate' || c === 'symlink loop';
}

const CONTAINER_NAMES: Partial<Record<FileType, string>> = { pdf: 'PDF', docx: 'DOCX', html: 'HTML', csv: 'CSV', tsv: 'TSV', jsonl: 'JSONL' };

/**
 * The reason a file that was walked could not be read: `unreadable: ...` (gone, permission),
 * `binary` (NUL bytes in a text file), or `corrupt PDF: ...` (any other failure of a format's
 * reader); the message loses its leading file path.
 */
export function failureReason(file: string, type: FileType, e: unknown): string {
  const err = e as { code?: string; message?: string };
  let msg = String(err.message ?? e);
  if (msg.startsWith(`${file}: `)) msg = msg.slice(file.length + 2);
  if (err.code === 'NOT_FOUND') return 'unreadable: the file is gone';
  if (/^cannot read: /.test(msg)) return `unreadable: ${msg.slice('cannot read: '.length)}`;
  if (/binary content/.test(msg)) return 'binary';
  const name = CONTAINER_NAMES[type];
  return name ? `corrupt ${name}: ${msg}` : `unreadable: ${msg}`;
}

/** Prior chunks per byte before any chunk is written: 256-token chunks with 32 overlap, about 4 bytes per token. */
const PRIOR_BYTES_PER_CHUNK = 900;
/** The reported total moves only when the estimate drifts more than this (few job-record writes and events). */
const TOTAL_SLACK = 0.03;
/** The largest fraction reported before the last chunk is written. */
export const MAX_FRACTION_BEFORE_DONE = 0.99;

/**
 * Chunks of an index run: written so far, and the total estimated from bytes. Chunk counts are not
 * known before the files are chunked; the bytes of every file to read are (after the walk). The
 * total is the chunks written plus the bytes not yet written times the chunks per byte measured on
 * what was written (a prior of one chunk per 900 bytes before that); bytes that will yield no chunk
 * (unchanged documents of a re-read file, failed files) leave the pool. Until `finish()`, the total
 * stays above the chunks written so the fraction never reaches 1 (at most 0.99).
 */
export class ChunkEstimate {
  private bytesTotal: number;
  private bytesDone = 0;
  private chunks = 0;
  private reported = 0;
  private finished = false;

  constructor(bytesTotal: number) {
    this.bytesTotal = Math.max(0, bytesTotal);
  }

  /** Bytes that will not produce chunks after all. */
  drop(bytes: number): void {
    this.bytesTotal = Math.max(this.bytesDone, this.bytesTotal - bytes);
  }

  /** A group written: the source bytes it came from and its chunks. */
  commit(bytes: number, chunks: number): void {
    this.bytesDone = Math.min(this.bytesTotal, this.bytesDone + bytes);
    this.chunks += chunks;
  }

  finish(): void {
    this.finished = true;
  }

  get written(): number {
    return this.chunks;
  }

  /** The estimated total chunks of the run (an integer; equal to `written` once finished). */
  get total(): number {
    if (this.finished) return this.chunks;
    const perByte = this.bytesDone > 0 ? this.chunks / this.bytesDone : 1 / PRIOR_BYTES_PER_CHUNK;
    const remaining = Math.max(0, this.bytesTotal - this.bytesDone);
    const raw = this.chunks + Math.ceil(remaining * perByte);
    const floor = Math.max(this.chunks + 1, Math.ceil(this.chunks / MAX_FRACTION_BEFORE_DONE));
    if (this.reported === 0 || Math.abs(raw - this.reported) > TOTAL_SLACK * this.reported) this.reported = raw;
    this.reported = Math.max(this.reported, floor);
    return this.reported;
  }

  /** chunks written / estimated total: below 1 (at most 0.99) until finished, then 1. */
  get fraction(): number {
    if (this.finished) return 1;
    return Math.min(MAX_FRACTION_BEFORE_DONE, this.chunks / this.total);
  }
}
