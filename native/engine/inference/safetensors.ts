import fs from 'node:fs';
import { TandemError } from '../common/errors.js';
import { halfToFloat } from './pooling.js';

export interface Tensor2D {
  rows: number;
  cols: number;
  data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Read one 2-D tensor from a .safetensors file as float32 (F32, F16 and BF16 supported; I8 with a
 * float32 scale per row in the tensor `<name>_scale`, as Tandem's built-in model is stored:
 * value = int8 * scale of its row).
 */
export function readSafetensor(file: string, name: string): Tensor2D {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new TandemError('MODEL_INVALID', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const bad = (why: string) => new TandemError('MODEL_INVALID', `${file} is not a valid safetensors file: ${why}`);
  if (buf.length < 8) throw bad('shorter than its 8-byte header length');
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > buf.length) throw bad(`header length ${headerLen} out of range`);
  let header: Record<string, HeaderEntry>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, HeaderEntry>;
  } catch {
    throw bad('header is not JSON');
  }
  const base = 8 + headerLen;
  /** The bytes of tensor `n` (copied: the source offset may not be aligned), checked against its shape. */
  const tensorBytes = (n: string, entry: HeaderEntry, width: number): Buffer => {
    const [start, end] = entry.data_offsets;
    if (end > buf.length - base || start > end) throw bad(`tensor "${n}" data runs past the end of the file`);
    const bytes = buf.subarray(base + start, base + end);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (bytes.length !== count * width) throw bad(`tensor "${n}" holds ${bytes.length} bytes, its shape needs ${count * width}`);
    return Buffer.from(bytes);
  };
  const entry = header[name];
  if (!entry) throw bad(`no tensor "${name}" (has ${Object.keys(header).filter((k) => k !== '__metadata__').join(', ')})`);
  if (entry.shape.length !== 2) throw bad(`tensor "${name}" has shape [${entry.shape.join(', ')}], expected 2-D`);
  const [rows, cols] = entry.shape as [number, number];
  const count = rows * cols;
  const width = entry.dtype === 'F32' ? 4 : entry.dtype === 'F16' || entry.dtype === 'BF16' ? 2 : entry.dtype === 'I8' ? 1 : 0;
  if (width === 0) throw bad(`tensor "${name}" has dtype ${entry.dtype}; F32, F16, BF16 and I8 (with per-row scales) are supported`);
  const aligned = tensorBytes(name, entry, width);
  let data: Float32Array;
  if (entry.dtype === 'F32') data = new Float32Array(aligned.buffer, aligned.byteOffset, count);
  else if (entry.dtype === 'F16') data = halfToFloat(new Uint16Array(aligned.buffer, aligned.byteOffset, count));
  else if (entry.dtype === 'I8') {
    const scaleName = `${name}_scale`;
    const se = header[scaleName];
    if (!se) throw bad(`int8 tensor "${name}" has no "${scaleName}" (a float32 scale per row)`);
    if (se.dtype !== 'F32' || se.shape.reduce((a, b) => a * b, 1) !== rows) throw bad(`"${scaleName}" must be F32 with ${rows} values (one per row), got ${se.dtype} [${se.shape.join(', ')}]`);
    const sb = tensorBytes(scaleName, se, 4);
    const scales = new Float32Array(sb.buffer, sb.byteOffset, rows);
    const q = new Int8Array(aligned.buffer, aligned.byteOffset, count);
    data = new Float32Array(count);
    for (let r = 0; r < rows; r++) {
      const s = scales[r]!;
      const o = r * cols;
      for (let d = 0; d < cols; d++) data[o + d] = q[o + d]! * s;
    }
  } else {
    const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    const u = new Uint32Array(count);
    for (let i = 0; i < count; i++) u[i] = src[i]! << 16;
    data = new Float32Array(u.buffer);
  }
  return { rows, cols, data };
}
