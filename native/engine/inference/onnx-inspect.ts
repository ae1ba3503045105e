/**
 * What an ONNX file declares, read straight from its protobuf (ModelProto) without loading it:
 * inputs and outputs (names, element types, shapes with symbolic dims), IR version, opsets,
 * producer, graph size. A tiny wire-format reader over positional file reads: the weights
 * (initializers' raw_data, often most of the file) are skipped by length, never read, so a
 * multi-GB model is inspected in milliseconds and without the memory to hold it. onnxruntime's
 * own metadata has no opset or producer, and protobufjs is only a transitive dependency here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../common/errors.js';

/** ONNX TensorProto.DataType -> the name onnxruntime-node uses (and tensor JSON files use). */
export const ONNX_ELEM_TYPES: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16',
  11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn',
  18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

/** Bits per element of the numeric types (for parameter bytes). */
const ELEM_BITS: Readonly<Record<number, number>> = { 1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4 };

/** A dimension: a fixed size, a symbolic name ("batch"), or null when the model says nothing. */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  /** Element type for tensors ('float32', 'int64'...), else e.g. 'sequence<tensor<float32>>'. */
  type: string;
  /** True for plain tensors (the only kind `tandem run-onnx` feeds). */
  isTensor: boolean;
  /** null when the rank is unknown. */
  shape: OnnxDim[] | null;
  docString?: string;
}

export interface OnnxModelInfo {
  file: string;
  /** Bytes of the .onnx file itself. */
  fileSize: number;
  /** Files holding external weights (ONNX external data), with their sizes when present. */
  externalData: Array<{ file: string; size: number | null }>;
  /** fileSize plus every external data file found. */
  totalSize: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  /** Operator sets; domain '' is reported as 'ai.onnx'. */
  opsets: Array<{ domain: string; version: number }>;
  graphName: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Graph inputs that are also initializers (IR < 4 style): overridable constants, not required inputs. */
  overridableInitializers: string[];
  initializers: { count: number; parameters: number; bytes: number };
  nodes: number;
  /** Node count per operator type, most frequent first. */
  opTypes: Array<{ op: string; count: number }>;
  metadata: Record<string, string>;
}

const WINDOW = 64 * 1024;

/** Random access to a file's bytes through a small read window. */
class FileBytes {
  private readonly buf = Buffer.alloc(WINDOW);
  private winStart = 0;
  private winLen = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  byte(pos: number): number {
    if (pos < this.winStart || pos >= this.winStart + this.winLen) {
      this.winStart = pos;
      this.winLen = fs.readSync(this.fd, this.buf, 0, WINDOW, pos);
      if (this.winLen === 0) throw new ParseError(pos, 'unexpected end of file');
    }
    return this.buf[pos - this.winStart]!;
  }

  bytes(pos: number, len: number): Buffer {
    if (pos >= this.winStart && pos + len <= this.winStart + this.winLen) return Buffer.from(this.buf.subarray(pos - this.winStart, pos - this.winStart + len));
    const out = Buffer.alloc(len);
    const n = fs.readSync(this.fd, out, 0, len, pos);
    if (n !== len) throw new ParseError(pos, 'unexpected end of file');
    return out;
  }
}

class ParseError extends Error {
  constructor(
    readonly at: number,
    why: string,
  ) {
    super(why);
  }
}

interface Field {
  no: number;
  wire: number;
  /** Varint value (wire type 0). */
  value: bigint;
  /** Payload range of a length-delimited field (wire type 2). */
  start: number;
  end: number;
}

function readVarint(src: FileBytes, pos: number, end: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ParseError(pos, 'truncated varint');
    const b = src.byte(pos++);
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new ParseError(pos, 'varint longer than 10 bytes');
}

/** The fields of the message in [start, end), in order. */
function* fields(src: FileBytes, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const at = pos;
    const [key, p] = readVarint(src, pos, end);
    pos = p;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw new ParseError(at, 'field number 0');
    if (wire === 0) {
      const [v, q] = readVarint(src, pos, end);
      pos = q;
      yield { no, wire, value: v, start: 0, end: 0 };
    } else if (wire === 2) {
      const [len, q] = readVarint(src, pos, end);
      const s = q;
      const e = s + Number(len);
      if (len > BigInt(end - s)) throw new ParseError(at, `field ${no} claims ${len} bytes, past the end of its message`);
      pos = e;
      yield { no, wire, value: 0n, start: s, end: e };
    } else if (wire === 1) {
      if (pos + 8 > end) throw new ParseError(at, 'truncated 64-bit field');
      pos += 8;
      yield { no, wire, value: 0n, start: pos - 8, end: pos };
    } else if (wire === 5) {
      if (pos + 4 > end) throw new ParseError(at, 'truncated 32-bit field');
      pos += 4;
      yield { no, wire, value: 0n, start: pos - 4, end: pos };
    } else {
      throw new ParseError(at, `unsupported wire type ${wire} (field ${no})`);
    }
  }
}

const str = (src: FileBytes, f: Field): string => (f.wire === 2 ? src.bytes(f.start, f.end - f.start).toString('utf8') : '');
const int = (f: Field): number => Number(BigInt.asIntN(64, f.value));

/** Repeated int64 that may be packed (wire 2) or not (wire 0). */
function ints(src: FileBytes, f: Field, into: number[]): void {
  if (f.wire === 0) into.push(int(f));
  else if (f.wire === 2) {
    let pos = f.start;
    while (pos < f.end) {
      const [v, p] = readVarint(src, pos, f.end);
      into.push(Number(BigInt.asIntN(64, v)));
      pos = p;
    }
  }
}

function parseShape(src: FileBytes, start: number, end: number): OnnxDim[] {
  const dims: OnnxDim[] = [];
  for (const f of fields(src, start, end)) {
    if (f.no !== 1 || f.wire !== 2) continue;
    let dim: OnnxDim = null;
    for (const d of fields(src, f.start, f.end)) {
      if (d.no === 1 && d.wire === 0) dim = int(d);
      else if (d.no === 2 && d.wire === 2) dim = str(src, d);
    }
    dims.push(dim);
  }
  return dims;
}

interface TypeDesc {
  type: string;
  isTensor: boolean;
  shape: OnnxDim[] | null;
}

function elemName(t: number): string {
  return ONNX_ELEM_TYPES[t] ?? `type${t}`;
}

/** TypeProto: tensor_type(1), sequence_type(4), map_type(5), sparse_tensor_type(8), optional_type(9). */
function parseType(src: FileBytes, start: number, end: number): TypeDesc {
  for (const f of fields(src, start, end)) {
    if (f.wire !== 2) continue;
    if (f.no === 1 || f.no === 8) {
      let elem = 0;
      let shape: OnnxDim[] | null = null;
      for (const g of fields(src, f.start, f.end)) {
        if (g.no === 1 && g.wire === 0) elem = int(g);
        else if (g.no === 2 && g.wire === 2) shape = parseShape(src, g.start, g.end);
      }
      return f.no === 1 ? { type: elemName(elem), isTensor: true, shape } : { type: `sparse_tensor<${elemName(elem)}>`, isTensor: false, shape };
    }
    if (f.no === 4 || f.no === 9) {
      let inner = 'unknown';
      for (const g of fields(src, f.start, f.end)) if (g.no === 1 && g.wire === 2) inner = describe(parseType(src, g.start, g.end));
      return { type: `${f.no === 4 ? 'sequence' : 'optional'}<${inner}>`, isTensor: false, shape: null };
    }
    if (f.no === 5) {
      let key = 0;
      let value = 'unknown';
      for (const g of fields(src, f.start, f.end)) {
        if (g.no === 1 && g.wire === 0) key = int(g);
        else if (g.no === 2 && g.wire === 2) value = describe(parseType(src, g.start, g.end));
      }
      return { type: `map<${elemName(key)}, ${value}>`, isTensor: false, shape: null };
    }
  }
  return { type: 'unknown', isTensor: false, shape: null };
}

function describe(t: TypeDesc): string {
  return t.isTensor ? `tensor<${t.type}>` : t.type;
}

function parseValueInfo(src: FileBytes, start: number, end: number): OnnxValueInfo {
  let name = '';
  let docString = '';
  let t: TypeDesc = { type: 'unknown', isTensor: false, shape: null };
  for (const f of fields(src, start, end)) {
    if (f.no === 1) name = str(src, f);
    else if (f.no === 2 && f.wire === 2) t = parseType(src, f.start, f.end);
    else if (f.no === 3) docString = str(src, f);
  }
  return { name, type: t.type, isTensor: t.isTensor, shape: t.shape, ...(docString ? { docString } : {}) };
}

interface InitializerInfo {
  name: string;
  elements: number;
  bytes: number;
  externalLocation: string | undefined;
}

/** TensorProto header: dims(1), data_type(2), name(8), raw_data(9, skipped), external_data(13). */
function parseInitializer(src: FileBytes, start: number, end: number): InitializerInfo {
  const dims: number[] = [];
  let type = 0;
  let name = '';
  let external: string | undefined;
  for (const f of fields(src, start, end)) {
    if (f.no === 1) ints(src, f, dims);
    else if (f.no === 2 && f.wire === 0) type = int(f);
    else if (f.no === 8) name = str(src, f);
    else if (f.no === 13 && f.wire === 2) {
      let k = '';
      let v = '';
      for (const g of fields(src, f.start, f.end)) {
        if (g.no === 1) k = str(src, g);
        else if (g.no === 2) v = str(src, g);
      }
      if (k === 'location') external = v;
    }
  }
  const elements = dims.reduce((a, d) => a * Math.max(d, 0), 1);
  return { name, elements, bytes: Math.ceil((elements * (ELEM_BITS[type] ?? 0)) / 8), externalLocation: external };
}

/** Read the declared interface and size of an ONNX model file. MODEL_INVALID when it is not one. */
export function inspectOnnx(file: string): OnnxModelInfo {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `cannot open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) throw new TandemError('MODEL_INVALID', `${file} is empty, not an ONNX model`);
    return parseModel(new FileBytes(fd, size), file);
  } catch (e) {
    if (e instanceof ParseError) throw new TandemError('MODEL_INVALID', `${file} is not a valid ONNX model: protobuf parse failed at byte ${e.at}: ${e.message}`, { data: { file } });
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

function parseModel(src: FileBytes, file: string): OnnxModelInfo {
  const info: OnnxModelInfo = {
    file, fileSize: src.size, externalData: [], totalSize: src.size, irVersion: 0, producerName: '', producerVersion: '', domain: '', modelVersion: 0,
    docString: '', opsets: [], graphName: '', inputs: [], outputs: [], overridableInitializers: [], initializers: { count: 0, parameters: 0, bytes: 0 },
    nodes: 0, opTypes: [], metadata: {},
  };
  let graph: Field | undefined;
  for (const f of fields(src, 0, src.size)) {
    if (f.no === 1 && f.wire === 0) info.irVersion = int(f);
    else if (f.no === 2) info.producerName = str(src, f);
    else if (f.no === 3) info.producerVersion = str(src, f);
    else if (f.no === 4) info.domain = str(src, f);
    else if (f.no === 5 && f.wire === 0) info.modelVersion = int(f);
    else if (f.no === 6) info.docString = str(src, f);
    else if (f.no === 7 && f.wire === 2) graph = f;
    else if (f.no === 8 && f.wire === 2) {
      let domain = '';
      let version = 0;
      for (const g of fields(src, f.start, f.end)) {
        if (g.no === 1) domain = str(src, g);
        else if (g.no === 2 && g.wire === 0) version = int(g);
      }
      info.opsets.push({ domain: domain || 'ai.onnx', version });
    } else if (f.no === 14 && f.wire === 2) {
      let k = '';
      let v = '';
      for (const g of fields(src, f.start, f.end)) {
        if (g.no === 1) k = str(src, g);
        else if (g.no === 2) v = str(src, g);
      }
      info.metadata[k] = v;
    }
  }
  if (!graph || info.irVersion === 0 || info.opsets.length === 0) {
    throw new TandemError('MODEL_INVALID', `${file} is not an ONNX model: ${!graph ? 'no graph' : info.irVersion === 0 ? 'no IR version' : 'no opset'} in its ModelProto`, { data: { file } });
  }
  const inputs: OnnxValueInfo[] = [];
  const initNames = new Set<string>();
  const externals = new Set<string>();
  const ops = new Map<string, number>();
  for (const f of fields(src, graph.start, graph.end)) {
    if (f.wire !== 2) continue;
    if (f.no === 2) info.graphName = str(src, f);
    else if (f.no === 11) inputs.push(parseValueInfo(src, f.start, f.end));
    else if (f.no === 12) info.outputs.push(parseValueInfo(src, f.start, f.end));
    else if (f.no === 5) {
      const t = parseInitializer(src, f.start, f.end);
      initNames.add(t.name);
      info.initializers.count++;
      info.initializers.parameters += t.elements;
      info.initializers.bytes += t.bytes;
      if (t.externalLocation) externals.add(t.externalLocation);
    } else if (f.no === 1) {
      info.nodes++;
      for (const g of fields(src, f.start, f.end)) {
        if (g.no === 4) {
          const op = str(src, g);
          ops.set(op, (ops.get(op) ?? 0) + 1);
        }
      }
    }
  }
  info.inputs = inputs.filter((i) => !initNames.has(i.name));
  info.overridableInitializers = inputs.filter((i) => initNames.has(i.name)).map((i) => i.name);
  info.opTypes = [...ops].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
  for (const loc of externals) {
    const p = path.resolve(path.dirname(file), loc);
    let sz: number | null = null;
    try {
      sz = fs.statSync(p).size;
      info.totalSize += sz;
    } catch {
      sz = null;
    }
    info.externalData.push({ file: p, size: sz });
  }
  return info;
}

/** `[batch, seq, 384]`-style rendering of a shape. */
export function formatShape(shape: OnnxDim[] | null): string {
  return shape === null ? '(unknown rank)' : `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
