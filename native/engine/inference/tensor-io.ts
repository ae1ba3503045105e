/**
 * Named tensors as JSON, for `tandem run-onnx`: nested arrays with a dtype
 * (`{"dtype": "float32", "data": [[1, 2], [3, 4]]}`, or flat `data` with `dims`), or base64 typed
 * arrays (`{"dtype": "float32", "dims": [2, 2], "b64": "..."}`, little-endian raw bytes), and
 * checks of a set of tensors against the model's declared inputs (names, dtypes, shapes).
 */
import type { JsonValue } from '../common/errors.js';
import { TandemError } from '../common/errors.js';
import { floatToHalf, halfToNumber } from './half-float.js';
import { formatShape, type OnnxModelInfo, type OnnxValueInfo } from './onnx-inspect.js';

export const TENSOR_DTYPES = ['float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export type TensorData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

/** A tensor as it crosses to the worker and into onnxruntime (float16: raw half bits; bool: one byte each). */
export interface HostTensor {
  dtype: TensorDtype;
  dims: number[];
  data: TensorData;
}

export type TensorFormat = 'nested' | 'base64';

const BYTES: Readonly<Record<Exclude<TensorDtype, 'string'>, number>> = { float32: 4, float64: 8, float16: 2, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1 };

const INT_RANGE: Readonly<Partial<Record<TensorDtype, [number, number]>>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

export function isTensorDtype(x: unknown): x is TensorDtype {
  return typeof x === 'string' && (TENSOR_DTYPES as readonly string[]).includes(x);
}

function bad(name: string, why: string): TandemError {
  return new TandemError('INVALID_INPUT', `input "${name}": ${why}`, { data: { tensor: name } });
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

function allocate(dtype: Exclude<TensorDtype, 'string'>, n: number): Exclude<TensorData, string[]> {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'float16': case 'uint16': return new Uint16Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
  }
}

/** Flatten a nested array, returning its dims; fails naming the tensor when it is ragged. */
function flatten(name: string, v: unknown): { dims: number[]; flat: unknown[] } {
  const dims: number[] = [];
  let probe: unknown = v;
  while (Array.isArray(probe)) {
    dims.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const flat: unknown[] = [];
  const walk = (x: unknown, depth: number, where: string): void => {
    if (depth === dims.length) {
      if (Array.isArray(x)) throw bad(name, `ragged nested array: ${where} is an array, expected a value at depth ${depth}`);
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== dims[depth]) throw bad(name, `ragged nested array: ${where} has ${Array.isArray(x) ? x.length : 'no'} elements, expected ${dims[depth]}`);
    for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${where}[${i}]`);
  };
  walk(v, 0, 'data');
  return { dims, flat };
}

function toNumber(name: string, x: unknown, i: number, dtype: TensorDtype): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean' && dtype === 'bool') return x ? 1 : 0;
  if (typeof x === 'string' && (dtype === 'float32' || dtype === 'float64' || dtype === 'float16')) {
    if (x === 'NaN') return NaN;
    if (x === 'Infinity') return Infinity;
    if (x === '-Infinity') return -Infinity;
  }
  throw bad(name, `element ${i} is ${JSON.stringify(x)}, not a ${dtype} value`);
}

function fill(name: string, dtype: TensorDtype, flat: unknown[]): TensorData {
  if (dtype === 'string') {
    return flat.map((x, i) => {
      if (typeof x !== 'string') throw bad(name, `element ${i} is ${JSON.stringify(x)}, not a string`);
      return x;
    });
  }
  const out = allocate(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const x = flat[i];
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
      let b: bigint;
      if (typeof x === 'number' && Number.isSafeInteger(x)) b = BigInt(x);
      else if (typeof x === 'string' && /^-?\d+$/.test(x)) b = BigInt(x);
      else throw bad(name, `element ${i} is ${JSON.stringify(x)}, not an ${dtype} (use an integer, or a decimal string beyond 2^53)`);
      if (dtype === 'uint64' ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n) throw bad(name, `element ${i} (${b}) is out of the ${dtype} range`);
      out[i] = b;
      continue;
    }
    const v = toNumber(name, x, i, dtype);
    if (dtype === 'bool') {
      if (v !== 0 && v !== 1) throw bad(name, `element ${i} is ${v}; bool takes true/false or 0/1`);
      out[i] = v;
    } else if (dtype === 'float16') out[i] = floatToHalf(v);
    else if (dtype === 'float32' || dtype === 'float64') out[i] = v;
    else {
      const [lo, hi] = INT_RANGE[dtype]!;
      if (!Number.isInteger(v) || v < lo || v > hi) throw bad(name, `element ${i} is ${v}, not an ${dtype} (${lo}..${hi})`);
      out[i] = v;
    }
  }
  return out;
}

function checkDims(name: string, dims: unknown): number[] {
  if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw bad(name, `dims must be an array of non-negative integers, got ${JSON.stringify(dims)}`);
  return dims as number[];
}

/**
 * One tensor from its JSON form. `declared` is the model's dtype for this input: a bare nested
 * array (no dtype field) takes it; an explicit dtype must match it (checked by validateFeeds).
 */
export function decodeTensor(name: string, value: unknown, declared?: string): HostTensor {
  if (Array.isArray(value) || typeof value === 'number' || typeof value === 'boolean') {
    if (!isTensorDtype(declared)) throw bad(name, 'a bare array needs the model to declare a supported dtype; write {"dtype": ..., "data": ...}');
    const { dims, flat } = flatten(name, value);
    return { dtype: declared, dims, data: fill(name, declared, flat) };
  }
  if (!value || typeof value !== 'object') throw bad(name, `expected {"dtype", "data"} or {"dtype", "dims", "b64"}, got ${JSON.stringify(value)}`);
  const o = value as Record<string, unknown>;
  const dtype = o.dtype ?? declared;
  if (!isTensorDtype(dtype)) throw bad(name, `unknown dtype ${JSON.stringify(o.dtype)}; one of ${TENSOR_DTYPES.join(', ')}`);
  const extra = Object.keys(o).filter((k) => !['dtype', 'dims', 'data', 'b64'].includes(k));
  if (extra.length) throw bad(name, `unknown field ${JSON.stringify(extra[0])} (fields: dtype, dims, data or b64)`);
  if ('b64' in o) {
    if ('data' in o) throw bad(name, 'give either data or b64, not both');
    if (dtype === 'string') throw bad(name, 'string tensors cannot be base64; use data');
    if (typeof o.b64 !== 'string') throw bad(name, 'b64 must be a base64 string');
    const dims = checkDims(name, o.dims);
    const bytes = Buffer.from(o.b64, 'base64');
    const want = numel(dims) * BYTES[dtype];
    if (bytes.length !== want) throw bad(name, `b64 holds ${bytes.length} bytes; dims [${dims.join(', ')}] of ${dtype} need ${want}`);
    const out = allocate(dtype, numel(dims));
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    if (dtype === 'bool' && (out as Uint8Array).some((b) => b > 1)) throw bad(name, 'bool bytes must be 0 or 1');
    return { dtype, dims, data: out };
  }
  if (!('data' in o)) throw bad(name, 'missing data (or b64)');
  const { dims: nestedDims, flat } = flatten(name, o.data);
  let dims = nestedDims;
  if (o.dims !== undefined) {
    const given = checkDims(name, o.dims);
    const isFlat = nestedDims.length === 1;
    if (isFlat && numel(given) === flat.length) dims = given;
    else if (JSON.stringify(given) !== JSON.stringify(nestedDims)) throw bad(name, `dims [${given.join(', ')}] do not match the data (nested as [${nestedDims.join(', ')}], ${flat.length} values)`);
  }
  return { dtype, dims, data: fill(name, dtype, flat) };
}

function unknownInput(model: OnnxModelInfo, name: string): TandemError {
  const hint = model.overridableInitializers.includes(name) ? ' (it is an initializer; overriding initializers is not supported)' : '';
  return bad(name, `the model has no such input${hint}; its inputs are ${model.inputs.map((i) => i.name).join(', ') || '(none)'}`);
}

/** Decode every tensor of an inputs file (`{"name": tensor, ...}`), taking dtypes from the model where omitted. */
export function decodeInputs(json: unknown, model?: OnnxModelInfo): Record<string, HostTensor> {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TandemError('INVALID_INPUT', 'the inputs file must be a JSON object mapping input names to tensors');
  const declared = new Map((model?.inputs ?? []).map((i) => [i.name, i.type]));
  const out: Record<string, HostTensor> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (model && !declared.has(name)) throw unknownInput(model, name);
    out[name] = decodeTensor(name, v, declared.get(name));
  }
  return out;
}

/**
 * Check tensors against the model's inputs before anything runs: every name known and present,
 * dtypes equal, ranks equal, fixed dims equal, and a symbolic dim ("batch") the same size in every
 * input that names it. Errors are INVALID_INPUT naming the tensor and what was expected.
 */
export function validateFeeds(model: OnnxModelInfo, feeds: Record<string, HostTensor>): void {
  const byName = new Map<string, OnnxValueInfo>(model.inputs.map((i) => [i.name, i]));
  const names = model.inputs.map((i) => i.name).join(', ') || '(none)';
  for (const name of Object.keys(feeds)) if (!byName.has(name)) throw unknownInput(model, name);
  const symbols = new Map<string, { size: number; from: string }>();
  for (const info of model.inputs) {
    const t = feeds[info.name];
    if (!t) throw new TandemError('INVALID_INPUT', `input "${info.name}" is missing: the model needs ${names}`, { data: { tensor: info.name } });
    if (!info.isTensor) throw bad(info.name, `the model declares it as ${info.type}; only tensors can be fed`);
    if (t.dtype !== info.type) throw bad(info.name, `dtype ${t.dtype}, but the model wants ${info.type}`);
    const expected = numel(t.dims);
    if (t.data.length !== expected) throw bad(info.name, `${t.data.length} values for dims [${t.dims.join(', ')}] (${expected})`);
    if (!info.shape) continue;
    if (t.dims.length !== info.shape.length) throw bad(info.name, `shape [${t.dims.join(', ')}] has rank ${t.dims.length}, but the model wants rank ${info.shape.length}: ${formatShape(info.shape)}`);
    info.shape.forEach((d, axis) => {
      const got = t.dims[axis]!;
      if (typeof d === 'number' && d >= 0 && got !== d) throw bad(info.name, `shape [${t.dims.join(', ')}]: dimension ${axis} is ${got}, but the model wants ${d} (${formatShape(info.shape)})`);
      if (typeof d === 'string' && d !== '') {
        const seen = symbols.get(d);
        if (seen && seen.size !== got) throw bad(info.name, `shape [${t.dims.join(', ')}]: dimension ${axis} ("${d}") is ${got}, but input "${seen.from}" set "${d}" to ${seen.size}`);
        if (!seen) symbols.set(d, { size: got, from: info.name });
      }
    });
  }
}

/** Nested JSON arrays from flat values and dims (a scalar for no dims). */
function nest(values: JsonValue[], dims: number[], offset = 0, depth = 0): JsonValue {
  if (depth === dims.length) return values[offset] ?? null;
  const stride = numel(dims.slice(depth + 1));
  return Array.from({ length: dims[depth]! }, (_, i) => nest(values, dims, offset + i * stride, depth + 1));
}

function jsonNumber(x: number): JsonValue {
  return Number.isFinite(x) ? x : Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** A tensor as JSON: nested arrays (int64 beyond 2^53 as strings, NaN/Inf as strings) or base64 (strings stay nested). */
export function encodeTensor(t: HostTensor, format: TensorFormat): JsonValue {
  if (format === 'base64' && t.dtype !== 'string' && !Array.isArray(t.data)) {
    const d = t.data;
    return { dtype: t.dtype, dims: t.dims, b64: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64') };
  }
  let values: JsonValue[];
  const d = t.data;
  if (Array.isArray(d)) values = d;
  else if (d instanceof BigInt64Array || d instanceof BigUint64Array) values = Array.from(d, (b) => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString()));
  else if (t.dtype === 'float16') values = Array.from(d as Uint16Array, (h) => jsonNumber(halfToNumber(h)));
  else if (t.dtype === 'bool') values = Array.from(d as Uint8Array, (b) => b !== 0);
  else values = Array.from(d as Float32Array, jsonNumber);
  return { dtype: t.dtype, dims: t.dims, data: nest(values, t.dims) };
}

/** Short description for summaries: `logits float32 [1, 65]`. */
export function describeTensor(name: string, t: HostTensor): string {
  return `${name} ${t.dtype} [${t.dims.join(', ')}]`;
}
