/**
 * The protobuf wire format, just enough to read and rewrite ONNX files in memory (onnx-fp16.ts,
 * pooled-graph.ts): split a message into fields, encode varint / length-delimited fields. Fields
 * keep their original bytes so a rewrite copies what it does not change.
 */
export interface Field {
  no: number;
  wire: number;
  /** Varint value (wire 0), as a number (ONNX varints here are small: types, dims, enum values). */
  value: number;
  /** Payload (wire 2), or the field's raw bytes (wire 1 and 5). */
  data: Buffer;
  /** The whole field as it was encoded (tag included), for copying unchanged. */
  raw: Buffer;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new Error('varint too long');
}

export function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    let value = 0;
    let data: Buffer = Buffer.alloc(0);
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 1) {
      data = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      data = buf.subarray(pos, pos + 4);
      pos += 4;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      data = buf.subarray(p2, p2 + len);
      pos = p2 + len;
    } else throw new Error(`unsupported wire type ${wire} at byte ${start}`);
    if (pos > buf.length) throw new Error(`field ${no} runs past the end (byte ${start})`);
    out.push({ no, wire, value, data, raw: buf.subarray(start, pos) });
  }
  return out;
}

export function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 128) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

export const encVarint = (no: number, n: number): Buffer => Buffer.concat([varint(no * 8), varint(n)]);
export const encBytes = (no: number, data: Buffer | Buffer[]): Buffer => {
  const parts = Array.isArray(data) ? data : [data];
  const len = parts.reduce((s, p) => s + p.length, 0);
  return Buffer.concat([varint(no * 8 + 2), varint(len), ...parts]);
};
export const encString = (no: number, s: string): Buffer => encBytes(no, Buffer.from(s, 'utf8'));
export const str = (f: Field): string => f.data.toString('utf8');
