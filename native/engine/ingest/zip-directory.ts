/**
 * The central directory of a ZIP file, read by hand from its bytes (no inflating): what each entry
 * says it holds, so that a zip bomb is refused before anything is decompressed. ZIP64 archives
 * (sizes or offsets over 4 GiB, or over 65,535 entries) are read through their ZIP64 end record
 * and the ZIP64 extra fields. Sizes are what the archive claims; callers that inflate must still
 * bound what they inflate (a lying header is checked by `inflateEntry`).
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated; anything else is kept for the caller to refuse. */
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Where the entry's local file header starts. */
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** Why the bytes are not a readable ZIP (the caller turns it into a per-file error). */
export class ZipFormatError extends Error {
  /** True when the entry inflates past the caller's bound (not damaged, just too big). */
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** The entries of the ZIP in `buf`, in central-directory order. Throws ZipFormatError when it is not a well-formed ZIP. */
export function readZipDirectory(buf: Uint8Array): ZipEntry[] {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const eocd = findEocd(b);
  let count = b.readUInt16LE(eocd + 10);
  let cdSize: number = b.readUInt32LE(eocd + 12);
  let cdOffset: number = b.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
    const loc = eocd - 20;
    if (loc < 0 || b.readUInt32LE(loc) !== ZIP64_LOCATOR_SIG) throw new ZipFormatError('ZIP64 end-of-central-directory locator missing');
    const z = u64(b, loc + 8);
    if (z + 56 > b.length || b.readUInt32LE(z) !== ZIP64_EOCD_SIG) throw new ZipFormatError('ZIP64 end-of-central-directory record missing');
    count = u64(b, z + 32);
    cdSize = u64(b, z + 40);
    cdOffset = u64(b, z + 48);
  }
  if (cdOffset + cdSize > b.length) throw new ZipFormatError('central directory lies past the end of the file');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || b.readUInt32LE(p) !== CENTRAL_SIG) throw new ZipFormatError(`central directory entry ${i + 1} is damaged`);
    const flags = b.readUInt16LE(p + 8);
    const method = b.readUInt16LE(p + 10);
    let compressedSize: number = b.readUInt32LE(p + 20);
    let uncompressedSize: number = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    let localHeaderOffset: number = b.readUInt32LE(p + 42);
    const nameEnd = p + 46 + nameLen;
    if (nameEnd + extraLen + commentLen > end) throw new ZipFormatError(`central directory entry ${i + 1} is damaged`);
    const name = b.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1', p + 46, nameEnd);
    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      // ZIP64 extended information (header id 1): the 64-bit values, in this order, of just the fields set to 0xffffffff.
      const z64 = findExtra(b, nameEnd, nameEnd + extraLen, 0x0001);
      if (!z64) throw new ZipFormatError(`${name}: ZIP64 sizes without a ZIP64 extra field`);
      let q = z64.start;
      const next = (): number => {
        if (q + 8 > z64.end) throw new ZipFormatError(`${name}: ZIP64 extra field too short`);
        const v = u64(b, q);
        q += 8;
        return v;
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = next();
      if (compressedSize === 0xffffffff) compressedSize = next();
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
    }
    entries.push({ name, method, flags, compressedSize, uncompressedSize, localHeaderOffset });
    p = nameEnd + extraLen + commentLen;
  }
  return entries;
}

/**
 * The inflated bytes of one entry, refusing to produce more than `maxBytes` (whatever its header
 * claims): a ZipFormatError naming the entry when the data inflate past it or are damaged.
 */
export function inflateEntry(buf: Uint8Array, entry: ZipEntry, maxBytes: number): Buffer {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const p = entry.localHeaderOffset;
  if (p + 30 > b.length || b.readUInt32LE(p) !== LOCAL_SIG) throw new ZipFormatError(`${entry.name}: local header missing`);
  const start = p + 30 + b.readUInt16LE(p + 26) + b.readUInt16LE(p + 28);
  if (start + entry.compressedSize > b.length) throw new ZipFormatError(`${entry.name}: data run past the end of the file`);
  const data = b.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) {
    if (data.length > maxBytes) throw new ZipFormatError(`${entry.name}: more than ${maxBytes} bytes`, true);
    return data;
  }
  if (entry.method !== 8) throw new ZipFormatError(`${entry.name}: unsupported compression method ${entry.method}`);
  try {
    return inflateRawSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ZipFormatError(`${entry.name}: inflates to more than ${maxBytes} bytes`, true);
    throw new ZipFormatError(`${entry.name}: damaged deflate data (${(e as Error).message})`);
  }
}

function findEocd(b: Buffer): number {
  const lowest = Math.max(0, b.length - EOCD_SIZE - MAX_COMMENT);
  for (let p = b.length - EOCD_SIZE; p >= lowest; p--) {
    if (b.readUInt32LE(p) === EOCD_SIG && p + EOCD_SIZE + b.readUInt16LE(p + 20) <= b.length) return p;
  }
  throw new ZipFormatError('no end-of-central-directory record (not a ZIP file, or truncated)');
}

function findExtra(b: Buffer, from: number, to: number, id: number): { start: number; end: number } | undefined {
  for (let p = from; p + 4 <= to; ) {
    const len = b.readUInt16LE(p + 2);
    if (b.readUInt16LE(p) === id) return { start: p + 4, end: Math.min(to, p + 4 + len) };
    p += 4 + len;
  }
  return undefined;
}

/** A little-endian 64-bit unsigned integer; past 2^53 it is not an offset or size this file can have. */
function u64(b: Buffer, p: number): number {
  const v = b.readBigUInt64LE(p);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('ZIP64 value out of range');
  return Number(v);
}
