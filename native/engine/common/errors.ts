/**
 * The one error type that crosses every boundary (worker, IPC, HTTP, CLI).
 * Match on `code`, never on `instanceof` or message text.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT', // a caller passed a wrong option/flag/field
  'INVALID_INPUT', // user data is malformed (bad JSONL line, invalid UTF-8, empty text)
  'NOT_FOUND', // a file, job, collection... does not exist
  'MODEL_NOT_FOUND', // no such model on disk / in the catalog
  'MODEL_INVALID', // model files are present but unusable (bad ONNX, missing tokenizer)
  'CHECKSUM_MISMATCH', // a download or import does not match its pinned sha256
  'DEVICE_UNAVAILABLE', // the requested execution provider cannot be used
  'INFERENCE_FAILED', // onnxruntime failed while running
  'NUMERIC_ERROR', // NaN / Inf in an output vector
  'CANCELLED', // the user cancelled; never shown as an error
  'OFFLINE', // no network route to a download or backend
  'NETWORK_ERROR', // connection reset, DNS, TLS...
  'BACKEND_TIMEOUT',
  'BACKEND_ERROR',
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'BUDGET_EXCEEDED', // a cloud job would exceed the monthly budget (action: block)
  'NOT_CONFIGURED', // a setting the operation needs is missing (the message names it)
  'STORE_CORRUPT',
  'STORE_ERROR',
  'DISK_FULL', // the disk holding TANDEM_HOME (or an output) has no space left (SQLITE_FULL, ENOSPC)
  'READ_ONLY', // a write was refused: read-only file system or no write permission (SQLITE_READONLY, EROFS)
  'CONFLICT',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface WireError {
  code: ErrorCode;
  message: string;
  data?: Record<string, JsonValue>;
}

export class TandemError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, JsonValue> | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; data?: Record<string, JsonValue> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TandemError';
    this.code = code;
    this.data = opts.data;
  }
}

export function isTandemError(e: unknown, code?: ErrorCode): e is TandemError {
  return e instanceof TandemError && (code === undefined || e.code === code);
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}

/** Node's fs calls that write: EACCES/EPERM from these means "cannot write here". */
const WRITING_SYSCALLS = new Set(['mkdir', 'write', 'rename', 'unlink', 'rmdir', 'rm', 'copyfile', 'symlink', 'link', 'utime', 'futime', 'chmod', 'fchmod', 'ftruncate', 'mkdtemp']);

/** The path a Node fs error names, from the error or its cause chain. */
function errorPath(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const o = e as { path?: unknown; cause?: unknown };
  return typeof o.path === 'string' ? o.path : errorPath(o.cause, depth + 1);
}

function writeDenied(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== 'object' || depth > 4) return false;
  const o = e as { code?: unknown; syscall?: unknown; cause?: unknown };
  if ((o.code === 'EACCES' || o.code === 'EPERM') && typeof o.syscall === 'string' && WRITING_SYSCALLS.has(o.syscall)) return true;
  return writeDenied(o.cause, depth + 1);
}

/** DISK_FULL with what to do; `where` is the file or folder being written, when known. */
export function diskFullError(detail: string, where?: string, cause?: unknown): TandemError {
  return new TandemError(
    'DISK_FULL',
    `the disk is full${where ? ` (${where})` : ''}: ${detail}. The last write was rolled back and nothing already saved was lost. Free some space (\`tandem models list\` shows model sizes; old results live in TANDEM_HOME/results) or set TANDEM_HOME to a folder on a larger disk, then run the same command again.`,
    { cause, ...(where ? { data: { path: where } } : {}) },
  );
}

/** READ_ONLY with what to do; `where` is the file or folder that could not be written, when known. */
export function readOnlyError(detail: string, where?: string, cause?: unknown): TandemError {
  return new TandemError(
    'READ_ONLY',
    `cannot write${where ? ` ${where}` : ''}: ${detail}. The file system is read-only or this user may not write there. Searching and listing still work; to index, pull models or run jobs, remount it read-write, fix the folder's permissions, or set TANDEM_HOME to a writable folder.`,
    { cause, ...(where ? { data: { path: where } } : {}) },
  );
}

/**
 * A full or read-only disk, recognised from SQLite's and Node's codes anywhere in the cause chain
 * (SQLITE_FULL / ENOSPC / EDQUOT -> DISK_FULL; SQLITE_READONLY* / EROFS / EACCES on a write ->
 * READ_ONLY), as a TandemError whose message says what to do; undefined for anything else.
 */
export function storageError(e: unknown): TandemError | undefined {
  if (isTandemError(e, 'DISK_FULL') || isTandemError(e, 'READ_ONLY')) return e;
  const codes = nestedErrorCodes(e);
  const where = errorPath(e);
  const detail = e instanceof Error ? e.message : String(e);
  if (codes.some((c) => c === 'SQLITE_FULL' || c === 'ENOSPC' || c === 'EDQUOT')) return diskFullError(detail, where, e);
  if (codes.some((c) => c.startsWith('SQLITE_READONLY') || c === 'EROFS') || writeDenied(e)) return readOnlyError(detail, where, e);
  return undefined;
}

/** The only serializer: any thrown value -> a JSON-safe wire error. */
export function toWire(e: unknown): WireError {
  // A full or read-only disk wrapped as INTERNAL/STORE_ERROR (or thrown raw) says so.
  if (!(e instanceof TandemError) || e.code === 'INTERNAL' || e.code === 'STORE_ERROR') {
    const s = storageError(e);
    if (s) e = s;
  }
  if (e instanceof TandemError) {
    return e.data === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, data: e.data };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message };
}

export function fromWire(w: unknown): TandemError {
  if (w && typeof w === 'object' && 'code' in w && 'message' in w) {
    const o = w as { code: unknown; message: unknown; data?: unknown };
    const code = isErrorCode(o.code) ? o.code : 'INTERNAL';
    const data = o.data && typeof o.data === 'object' ? (o.data as Record<string, JsonValue>) : undefined;
    return new TandemError(code, String(o.message), data ? { data } : {});
  }
  return new TandemError('INTERNAL', `malformed error on the wire: ${JSON.stringify(w)}`);
}

/** Short human string for logs and the CLI. */
export function describeError(e: unknown): string {
  const w = toWire(e);
  return `${w.code}: ${w.message}`;
}

/**
 * The `code` strings of a thrown value (Node's ECONNRESET, undici's UND_ERR_*...), from the error
 * itself, its `cause` chain and an AggregateError's members: network failures hide their code there.
 */
export function nestedErrorCodes(e: unknown, depth = 0): string[] {
  if (!e || typeof e !== 'object' || depth > 4) return [];
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof o.code === 'string' ? [o.code] : [];
  const nested = Array.isArray(o.errors) ? o.errors.flatMap((x) => nestedErrorCodes(x, depth + 1)) : [];
  return [...own, ...nestedErrorCodes(o.cause, depth + 1), ...nested];
}
