/**
 * fp32 -> fp16 ONNX, for models that publish no `onnx/model_fp16.onnx` (the MiniLM-architecture
 * fixture, some catalog models): the float weights and constants become float16, `Cast(to=float)`
 * nodes cast to float16, and the graph keeps float32 inputs and outputs (a Cast at each float
 * graph input and output, like onnxconverter-common's `keep_io_types=True`), so the embedder reads
 * the same output type. The work is done on the protobuf wire format (the same tiny format
 * onnx-inspect.ts reads): every field not rewritten is copied byte for byte. Values beyond float16's
 * range are clamped to +-65504 (a float32 "minus infinity" mask constant stays finite). value_info
 * (intermediate type hints) is dropped; onnxruntime infers the types again. Refused, naming why:
 * external weights, sparse initializers, subgraphs (If/Loop/Scan), model-local functions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../common/errors.js';
import { floatToHalf } from './half-float.js';
import { encBytes, encString, encVarint, fields, str } from './onnx-wire.js';

const FLOAT = 1;
const FLOAT16 = 10;
const HALF_MAX = 65504;

export interface Fp16Stats {
  /** Float tensors converted (initializers and Constant / ConstantOfShape values). */
  tensors: number;
  /** Float values converted. */
  values: number;
  /** Values beyond +-65504, clamped. */
  clamped: number;
  /** Cast(to=float) nodes now casting to float16. */
  casts: number;
  /** Graph inputs / outputs given a Cast to keep them float32. */
  ioCasts: number;
}

class Converter {
  readonly stats: Fp16Stats = { tensors: 0, values: 0, clamped: 0, casts: 0, ioCasts: 0 };
  constructor(private readonly file: string) {}

  fail(why: string): never {
    throw new TandemError('MODEL_INVALID', `cannot convert ${this.file} to fp16: ${why}`);
  }

  /** TensorProto: float data -> float16 raw_data; other types unchanged. */
  tensor(buf: Buffer): Buffer {
    const fs_ = fields(buf);
    const type = fs_.find((f) => f.no === 2)?.value ?? 0;
    const name = fs_.find((f) => f.no === 8);
    if (fs_.some((f) => f.no === 14 && f.value === 1)) this.fail(`tensor ${name ? str(name) : '?'} keeps its data in an external file`);
    if (type !== FLOAT) return buf;
    let values: Float32Array;
    const raw = fs_.find((f) => f.no === 9);
    if (raw) {
      const copy = Buffer.from(raw.data);
      values = new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4);
    } else {
      const parts: number[] = [];
      for (const f of fs_) {
        if (f.no !== 4) continue;
        if (f.wire === 5) parts.push(f.data.readFloatLE(0));
        else for (let i = 0; i + 4 <= f.data.length; i += 4) parts.push(f.data.readFloatLE(i));
      }
      values = Float32Array.from(parts);
    }
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) {
      let v = values[i]!;
      if ((v > HALF_MAX || v < -HALF_MAX) && Number.isFinite(v)) {
        v = v > 0 ? HALF_MAX : -HALF_MAX;
        this.stats.clamped++;
      }
      half[i] = floatToHalf(v);
    }
    this.stats.tensors++;
    this.stats.values += values.length;
    const out: Buffer[] = [];
    for (const f of fs_) {
      if (f.no === 2) out.push(encVarint(2, FLOAT16));
      else if (f.no === 4 || f.no === 9) continue;
      else out.push(f.raw);
    }
    out.push(encBytes(9, Buffer.from(half.buffer, half.byteOffset, half.byteLength)));
    return Buffer.concat(out);
  }

  /** NodeProto: Cast(to=float) -> float16; Constant / ConstantOfShape float values -> float16. */
  node(buf: Buffer, rename: (name: string, asOutput: boolean) => string): Buffer {
    const fs_ = fields(buf);
    const op = fs_.find((f) => f.no === 4);
    const domain = fs_.find((f) => f.no === 7);
    const opType = op ? str(op) : '';
    const std = !domain || str(domain) === '' || str(domain) === 'ai.onnx';
    const out: Buffer[] = [];
    for (const f of fs_) {
      if (f.no === 1) out.push(encString(1, rename(str(f), false)));
      else if (f.no === 2) out.push(encString(2, rename(str(f), true)));
      else if (f.no === 5) out.push(encBytes(5, this.attribute(f.data, opType, std)));
      else out.push(f.raw);
    }
    return Buffer.concat(out);
  }

  private attribute(buf: Buffer, opType: string, std: boolean): Buffer {
    const fs_ = fields(buf);
    const nameF = fs_.find((f) => f.no === 1);
    const name = nameF ? str(nameF) : '';
    if (fs_.some((f) => f.no === 6 || f.no === 11)) this.fail(`node ${opType} has a subgraph (attribute ${name}); If/Loop/Scan are not converted`);
    if (std && opType === 'Cast' && name === 'to') {
      const to = fs_.find((f) => f.no === 3);
      if (to?.value === FLOAT) {
        this.stats.casts++;
        return Buffer.concat(fs_.map((f) => (f.no === 3 ? encVarint(3, FLOAT16) : f.raw)));
      }
      return buf;
    }
    if (std && (opType === 'Constant' || opType === 'ConstantOfShape') && name === 'value') {
      return Buffer.concat(fs_.map((f) => (f.no === 5 ? encBytes(5, this.tensor(f.data)) : f.raw)));
    }
    if (std && opType === 'Constant' && (name === 'value_float' || name === 'value_floats')) this.fail(`Constant ${name} attributes are not converted`);
    return buf;
  }

  /** TypeProto of a ValueInfoProto: float tensor? */
  static isFloatTensor(valueInfo: Buffer): boolean {
    const type = fields(valueInfo).find((f) => f.no === 2);
    const tensor = type ? fields(type.data).find((f) => f.no === 1) : undefined;
    return !!tensor && fields(tensor.data).find((f) => f.no === 1)?.value === FLOAT;
  }

  static valueName(valueInfo: Buffer): string {
    const f = fields(valueInfo).find((x) => x.no === 1);
    return f ? str(f) : '';
  }

  static castNode(input: string, output: string, to: number): Buffer {
    const attr = Buffer.concat([encString(1, 'to'), encVarint(3, to), encVarint(20, 2 /* AttributeProto.INT */)]);
    return Buffer.concat([encString(1, input), encString(2, output), encString(3, `fp16_io_cast_${output}`), encString(4, 'Cast'), encBytes(5, attr)]);
  }

  graph(buf: Buffer): Buffer {
    const fs_ = fields(buf);
    if (fs_.some((f) => f.no === 15)) this.fail('sparse initializers are not converted');
    const inits = new Set(fs_.filter((f) => f.no === 5).map((f) => fields(f.data).find((x) => x.no === 8)).map((f) => (f ? str(f) : '')));
    // Float graph inputs (not initializers) and outputs keep float32: the graph computes on `<name>__fp16`.
    const floatIn = fs_.filter((f) => f.no === 11 && Converter.isFloatTensor(f.data)).map((f) => Converter.valueName(f.data)).filter((n) => !inits.has(n));
    const floatOut = fs_.filter((f) => f.no === 12 && Converter.isFloatTensor(f.data)).map((f) => Converter.valueName(f.data));
    const inRename = new Map(floatIn.map((n) => [n, `${n}__fp16`]));
    const outRename = new Map(floatOut.map((n) => [n, `${n}__fp16`]));
    const rename = (name: string, asOutput: boolean): string => (asOutput ? outRename.get(name) : (outRename.get(name) ?? inRename.get(name))) ?? name;
    const nodes: Buffer[] = [];
    for (const n of floatIn) nodes.push(encBytes(1, Converter.castNode(n, inRename.get(n)!, FLOAT16)));
    const rest: Buffer[] = [];
    for (const f of fs_) {
      if (f.no === 1) nodes.push(encBytes(1, this.node(f.data, rename)));
      else if (f.no === 5) rest.push(encBytes(5, this.tensor(f.data)));
      else if (f.no === 13) continue;
      else rest.push(f.raw);
    }
    for (const n of floatOut) nodes.push(encBytes(1, Converter.castNode(outRename.get(n)!, n, FLOAT)));
    this.stats.ioCasts += floatIn.length + floatOut.length;
    return Buffer.concat([...nodes, ...rest]);
  }

  model(buf: Buffer): Buffer {
    const fs_ = fields(buf);
    if (fs_.some((f) => f.no === 25)) this.fail('model-local functions are not converted');
    const graph = fs_.find((f) => f.no === 7);
    if (!graph) this.fail('no graph (is it an ONNX model?)');
    return Buffer.concat(fs_.map((f) => (f.no === 7 ? encBytes(7, this.graph(f.data)) : f.raw)));
  }
}

/**
 * Write `dst`, the fp16 twin of the fp32 model `src` (float32 inputs and outputs kept). The file
 * appears whole or not at all (written beside it, then renamed).
 */
export function convertOnnxToFp16(src: string, dst: string): Fp16Stats {
  const conv = new Converter(src);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(src);
  } catch (e) {
    throw new TandemError('NOT_FOUND', `cannot read ${src}: ${(e as Error).message}`, { cause: e });
  }
  let out: Buffer;
  try {
    out = conv.model(bytes);
  } catch (e) {
    if (e instanceof TandemError) throw e;
    throw new TandemError('MODEL_INVALID', `cannot convert ${src} to fp16: not a readable ONNX protobuf (${(e as Error).message})`, { cause: e });
  }
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  const tmp = `${dst}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, out);
  fs.renameSync(tmp, dst);
  return conv.stats;
}
