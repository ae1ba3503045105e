import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import type { OnnxModelInfo } from './onnx-inspect.js';
import { floatToHalf, halfToNumber } from './half-float.js';
import { decodeInputs, decodeTensor, encodeTensor, validateFeeds, type HostTensor } from './tensor-io.js';

const invalid = (name: string, re: RegExp) => (e: unknown) => isTandemError(e, 'INVALID_INPUT') && e.message.includes(`"${name}"`) && re.test(e.message);

test('nested arrays: dims come from the nesting, values keep their type; flat data with dims works too', () => {
  const t = decodeTensor('x', { dtype: 'float32', data: [[1, 2, 3], [4, 5, 6]] });
  assert.deepEqual(t.dims, [2, 3], 'dims');
  assert.ok(t.data instanceof Float32Array, 'float32 storage');
  assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 3, 4, 5, 6], 'row-major values');
  const flat = decodeTensor('x', { dtype: 'int32', dims: [3, 1], data: [7, 8, 9] });
  assert.deepEqual(flat.dims, [3, 1], 'flat data shaped by dims');
  const scalar = decodeTensor('s', { dtype: 'float64', data: 2.5 });
  assert.deepEqual([scalar.dims, Array.from(scalar.data as Float64Array)], [[], [2.5]], 'a scalar has no dims');
  const bare = decodeTensor('ids', [[101, 102]], 'int64');
  assert.deepEqual([bare.dtype, bare.dims, Array.from(bare.data as BigInt64Array)], ['int64', [1, 2], [101n, 102n]], 'a bare array takes the model dtype');
  const big = decodeTensor('b', { dtype: 'int64', data: ['9007199254740993', -5] });
  assert.deepEqual(Array.from(big.data as BigInt64Array), [9007199254740993n, -5n], 'int64 beyond 2^53 as decimal strings');
  const f = decodeTensor('f', { dtype: 'float32', data: ['NaN', 'Infinity', '-Infinity', 1] });
  assert.deepEqual(Array.from(f.data as Float32Array), [NaN, Infinity, -Infinity, 1], 'non-finite values as strings');
  const b = decodeTensor('m', { dtype: 'bool', data: [true, false, 1, 0] });
  assert.deepEqual(Array.from(b.data as Uint8Array), [1, 0, 1, 0], 'bool as bytes');
  const s = decodeTensor('t', { dtype: 'string', data: [['a', 'b']] });
  assert.deepEqual([s.dims, s.data], [[1, 2], ['a', 'b']], 'strings');
  const empty = decodeTensor('e', { dtype: 'float32', dims: [2, 0], data: [] });
  assert.deepEqual([empty.dims, empty.data.length], [[2, 0], 0], 'an empty tensor with explicit dims');
});

test('base64: little-endian bytes of the typed array, checked against dims', () => {
  const src = new Float32Array([1.5, -2, 3.25, 0]);
  const b64 = Buffer.from(src.buffer).toString('base64');
  const t = decodeTensor('x', { dtype: 'float32', dims: [2, 2], b64 });
  assert.deepEqual(Array.from(t.data as Float32Array), Array.from(src), 'decoded values');
  const i64 = new BigInt64Array([1n, -(2n ** 62n)]);
  const t2 = decodeTensor('y', { dtype: 'int64', dims: [2], b64: Buffer.from(i64.buffer).toString('base64') });
  assert.deepEqual(Array.from(t2.data as BigInt64Array), [1n, -(2n ** 62n)], 'int64 bytes');
  assert.throws(() => decodeTensor('x', { dtype: 'float32', dims: [3, 2], b64 }), invalid('x', /16 bytes; dims \[3, 2\] of float32 need 24/), 'byte count must match dims');
  assert.throws(() => decodeTensor('s', { dtype: 'string', dims: [1], b64: '' }), invalid('s', /cannot be base64/), 'no base64 strings');
});

test('outputs encode the same way and decode back to the same tensor, in both formats, for every dtype', () => {
  const tensors: HostTensor[] = [
    { dtype: 'float32', dims: [2, 2], data: new Float32Array([1, NaN, -Infinity, 0.5]) },
    { dtype: 'float64', dims: [3], data: new Float64Array([1e300, -1.5, 3]) },
    { dtype: 'float16', dims: [2], data: new Uint16Array([floatToHalf(1.5), floatToHalf(-0.25)]) },
    { dtype: 'int8', dims: [2], data: new Int8Array([-128, 127]) },
    { dtype: 'uint8', dims: [1, 1, 2], data: new Uint8Array([0, 255]) },
    { dtype: 'int16', dims: [1], data: new Int16Array([-300]) },
    { dtype: 'uint16', dims: [1], data: new Uint16Array([65535]) },
    { dtype: 'int32', dims: [2], data: new Int32Array([-2147483648, 7]) },
    { dtype: 'uint32', dims: [1], data: new Uint32Array([4294967295]) },
    { dtype: 'int64', dims: [3], data: new BigInt64Array([2n ** 62n, -1n, 0n]) },
    { dtype: 'uint64', dims: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    { dtype: 'bool', dims: [2], data: new Uint8Array([1, 0]) },
    { dtype: 'string', dims: [2], data: ['x', 'yz'] },
    { dtype: 'float32', dims: [], data: new Float32Array([4]) },
  ];
  for (const t of tensors) {
    for (const format of ['nested', 'base64'] as const) {
      const json = JSON.parse(JSON.stringify(encodeTensor(t, format))) as unknown;
      const back = decodeTensor('t', json);
      assert.equal(back.dtype, t.dtype, `${t.dtype} ${format}: dtype`);
      assert.deepEqual(back.dims, t.dims, `${t.dtype} ${format}: dims`);
      assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), Array.from(t.data as ArrayLike<unknown>), `${t.dtype} ${format}: values`);
    }
  }
  const nested = encodeTensor({ dtype: 'int64', dims: [2], data: new BigInt64Array([2n ** 60n, 5n]) }, 'nested') as { data: unknown[] };
  assert.deepEqual(nested.data, ['1152921504606846976', 5], 'int64 past 2^53 is written as a string, small ones as numbers');
});

test('float16 conversion rounds to nearest even and keeps specials', () => {
  for (const [x, bits] of [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [70000, 0x7c00], [2 ** -24, 0x0001], [0.1, 0x2e66], [Infinity, 0x7c00], [-0, 0x8000]] as const) {
    assert.equal(floatToHalf(x), bits, `half of ${x}`);
  }
  assert.ok(Number.isNaN(halfToNumber(floatToHalf(NaN))), 'NaN stays NaN');
  for (let h = 0; h < 0x7c00; h += 37) assert.equal(floatToHalf(halfToNumber(h)), h, `half ${h} round-trips`);
});

test('malformed tensors are INVALID_INPUT naming the tensor', () => {
  assert.throws(() => decodeTensor('r', { dtype: 'float32', data: [[1, 2], [3]] }), invalid('r', /ragged/), 'ragged');
  assert.throws(() => decodeTensor('v', { dtype: 'int32', data: [1, 'two'] }), invalid('v', /element 1/), 'a non-number');
  assert.throws(() => decodeTensor('o', { dtype: 'uint8', data: [256] }), invalid('o', /not an uint8/), 'out of range');
  assert.throws(() => decodeTensor('i', { dtype: 'int32', data: [1.5] }), invalid('i', /not an int32/), 'a fraction in an integer tensor');
  assert.throws(() => decodeTensor('d', { dtype: 'complex64', data: [1] }), invalid('d', /unknown dtype/), 'unknown dtype');
  assert.throws(() => decodeTensor('k', { dtype: 'float32', data: [1], shape: [1] }), invalid('k', /unknown field "shape"/), 'unknown field');
  assert.throws(() => decodeTensor('m', { dtype: 'float32', dims: [2, 2], data: [[1, 2, 3]] }), invalid('m', /do not match the data/), 'dims disagree with nesting');
  assert.throws(() => decodeInputs([1, 2]), (e: unknown) => isTandemError(e, 'INVALID_INPUT'), 'the file must be an object');
});

const MODEL: OnnxModelInfo = {
  file: 'm.onnx', fileSize: 1, externalData: [], totalSize: 1, irVersion: 8, producerName: '', producerVersion: '', domain: '', modelVersion: 0, docString: '',
  opsets: [{ domain: 'ai.onnx', version: 17 }], graphName: 'g', overridableInitializers: ['w'], initializers: { count: 1, parameters: 1, bytes: 4 }, nodes: 1, opTypes: [], metadata: {},
  inputs: [
    { name: 'ids', type: 'int64', isTensor: true, shape: ['batch', 'seq'] },
    { name: 'state', type: 'float32', isTensor: true, shape: [2, 'batch', 4] },
    { name: 'free', type: 'float32', isTensor: true, shape: null },
  ],
  outputs: [{ name: 'y', type: 'float32', isTensor: true, shape: ['batch'] }],
};

test('validateFeeds: names, dtypes, ranks, fixed dims and symbolic dims, each error naming the tensor', () => {
  const ok = (): Record<string, HostTensor> => ({
    ids: { dtype: 'int64', dims: [3, 5], data: new BigInt64Array(15) },
    state: { dtype: 'float32', dims: [2, 3, 4], data: new Float32Array(24) },
    free: { dtype: 'float32', dims: [7, 1, 1], data: new Float32Array(7) },
  });
  validateFeeds(MODEL, ok());
  const withF = (f: (x: Record<string, HostTensor>) => void): Record<string, HostTensor> => {
    const x = ok();
    f(x);
    return x;
  };
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.idz = x.ids!))), invalid('idz', /no such input; its inputs are ids, state, free/), 'unknown name');
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.w = x.free!))), invalid('w', /is an initializer/), 'an initializer is not an input');
  assert.throws(() => validateFeeds(MODEL, withF((x) => delete x.state)), invalid('state', /is missing/), 'missing');
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.ids = { dtype: 'int32', dims: [3, 5], data: new Int32Array(15) }))), invalid('ids', /dtype int32, but the model wants int64/), 'dtype');
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.ids = { dtype: 'int64', dims: [15], data: new BigInt64Array(15) }))), invalid('ids', /rank 1, but the model wants rank 2/), 'rank');
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.state = { dtype: 'float32', dims: [2, 3, 5], data: new Float32Array(30) }))), invalid('state', /dimension 2 is 5, but the model wants 4/), 'fixed dim');
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.state = { dtype: 'float32', dims: [2, 1, 4], data: new Float32Array(8) }))), invalid('state', /\("batch"\) is 1, but input "ids" set "batch" to 3/), 'symbolic dim');
  assert.throws(() => validateFeeds(MODEL, withF((x) => (x.free = { dtype: 'float32', dims: [2, 2], data: new Float32Array(3) }))), invalid('free', /3 values for dims \[2, 2\]/), 'data length');
  assert.throws(() => decodeInputs({ nope: [1] }, MODEL), invalid('nope', /no such input/), 'unknown names are caught while decoding');
});
