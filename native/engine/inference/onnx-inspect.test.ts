import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { isTandemError } from '../common/errors.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { inspectOnnx, type OnnxValueInfo } from './onnx-inspect.js';

const { shared, skip } = sharedOrSkip();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-inspect-'));

// A minimal protobuf writer, to build ModelProtos the reader has never seen.
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
};
const key = (no: number, wire: number): number[] => varint((no << 3) | wire);
const vField = (no: number, n: number | bigint): number[] => [...key(no, 0), ...varint(n)];
const bField = (no: number, bytes: number[] | Buffer): number[] => [...key(no, 2), ...varint(bytes.length), ...bytes];
const sField = (no: number, s: string): number[] => bField(no, Buffer.from(s, 'utf8') as unknown as number[]);
const msg = (...parts: number[][]): number[] => parts.flat();

function tensorType(elem: number, dims: Array<number | string | null> | null): number[] {
  const dim = (d: number | string | null): number[] => bField(1, d === null ? [] : typeof d === 'number' ? vField(1, d) : sField(2, d));
  const shape = dims === null ? [] : bField(2, msg(...dims.map(dim)));
  return bField(1, msg(vField(1, elem), shape));
}
const valueInfo = (name: string, type: number[]): number[] => msg(sField(1, name), bField(2, type));

test('a hand-built ModelProto: symbolic, fixed and unknown dims, opsets, producer, metadata, initializers, external data, non-tensor types', () => {
  const weights = Buffer.alloc(4 * 6);
  // Initializer "w": dims [2, 3] packed, float32, raw data; initializer "bias" is also a graph input (IR < 4 style).
  const w = msg(bField(1, [...varint(2), ...varint(3)]), vField(2, 1), sField(8, 'w'), bField(9, weights));
  const bias = msg(vField(1, 3), vField(2, 1), sField(8, 'bias'), bField(9, Buffer.alloc(12)));
  const ext = msg(vField(1, 1000), vField(2, 10), sField(8, 'big'), bField(13, msg(sField(1, 'location'), sField(2, 'weights.bin'))), vField(14, 1));
  const node = (op: string) => bField(1, msg(sField(1, 'x'), sField(2, 'y'), sField(4, op)));
  const graph = msg(
    node('MatMul'), node('Add'), node('MatMul'),
    sField(2, 'g'),
    bField(5, w), bField(5, bias), bField(5, ext),
    bField(11, valueInfo('x', tensorType(1, ['batch', 2, null]))),
    bField(11, valueInfo('bias', tensorType(1, [3]))),
    bField(11, valueInfo('ids', tensorType(7, null))),
    bField(12, valueInfo('y', tensorType(10, ['batch', -1]))),
    bField(12, valueInfo('seq', bField(4, bField(1, tensorType(1, [2]))))),
  );
  const model = msg(
    vField(1, 7), sField(2, 'hand'), sField(3, '1.2'), sField(4, 'org.test'), vField(5, 42), sField(6, 'a test model'),
    bField(7, graph),
    bField(8, msg(sField(1, ''), vField(2, 13))), bField(8, msg(sField(1, 'com.microsoft'), vField(2, 1))),
    bField(14, msg(sField(1, 'author'), sField(2, 'me'))),
  );
  const file = path.join(tmp, 'hand.onnx');
  fs.writeFileSync(file, Buffer.from(model));
  fs.writeFileSync(path.join(tmp, 'weights.bin'), Buffer.alloc(4000));
  const i = inspectOnnx(file);
  assert.equal(i.irVersion, 7, 'IR version');
  assert.deepEqual([i.producerName, i.producerVersion, i.domain, i.modelVersion, i.docString], ['hand', '1.2', 'org.test', 42, 'a test model'], 'model header');
  assert.deepEqual(i.opsets, [{ domain: 'ai.onnx', version: 13 }, { domain: 'com.microsoft', version: 1 }], 'opsets (empty domain = ai.onnx)');
  assert.deepEqual(i.metadata, { author: 'me' }, 'metadata_props');
  assert.equal(i.graphName, 'g', 'graph name');
  assert.deepEqual(i.inputs, [
    { name: 'x', type: 'float32', isTensor: true, shape: ['batch', 2, null] },
    { name: 'ids', type: 'int64', isTensor: true, shape: null },
  ], 'inputs: symbolic, fixed and unknown dims; unknown rank; the initializer input left out');
  assert.deepEqual(i.overridableInitializers, ['bias'], 'the graph input that has an initializer');
  assert.deepEqual(i.outputs, [
    { name: 'y', type: 'float16', isTensor: true, shape: ['batch', -1] },
    { name: 'seq', type: 'sequence<tensor<float32>>', isTensor: false, shape: null },
  ], 'outputs, including a sequence type');
  assert.deepEqual(i.initializers, { count: 3, parameters: 6 + 3 + 1000, bytes: 24 + 12 + 2000 }, 'initializer count, parameters and bytes by element type (float16: 2 bytes)');
  assert.equal(i.nodes, 3, 'node count');
  assert.deepEqual(i.opTypes, [{ op: 'MatMul', count: 2 }, { op: 'Add', count: 1 }], 'op histogram');
  assert.equal(i.fileSize, model.length, 'file size');
  assert.deepEqual(i.externalData, [{ file: path.join(tmp, 'weights.bin'), size: 4000 }], 'external data file and size');
  assert.equal(i.totalSize, model.length + 4000, 'total size counts the external data');
});

test('not an ONNX model: garbage, truncated, empty, missing', { skip }, () => {
  const cases: Array<[string, Buffer | null, string]> = [
    ['garbage.onnx', Buffer.from('{"this": "is json"}'), 'MODEL_INVALID'],
    ['truncated.onnx', fs.readFileSync(path.join(shared, 'models/fixtures/charrnn-shakespeare/model.onnx')).subarray(0, 5000), 'MODEL_INVALID'],
    ['empty.onnx', Buffer.alloc(0), 'MODEL_INVALID'],
    ['missing.onnx', null, 'NOT_FOUND'],
  ];
  for (const [name, bytes, code] of cases) {
    const file = path.join(tmp, name);
    if (bytes) fs.writeFileSync(file, bytes);
    assert.throws(() => inspectOnnx(file), (e: unknown) => isTandemError(e) && e.code === code && e.message.includes(file), `${name}: ${code}`);
  }
});

const FIXTURES = [
  ['fixtures/charrnn-shakespeare/model.onnx', 13, 'models-hunt'],
  ['fixtures/reranker-tiny-random/onnx/model.onnx', 17, 'make_minilm_arch'],
  ['fixtures/tiny-decoder-random/onnx/model.onnx', 17, 'make_tiny_decoder'],
  ['fixtures/minilm-l6-arch-random/onnx/model_quantized.onnx', 17, 'make_minilm_arch'],
] as const;

test('the fixtures: inputs and outputs equal what onnxruntime reports (names, types, shapes with symbolic dims); opset, producer, size', { skip }, async () => {
  for (const [rel, opset, producer] of FIXTURES) {
    const file = path.join(shared, 'models', rel);
    const i = inspectOnnx(file);
    const s = await ort.InferenceSession.create(file);
    const fromOrt = (m: readonly ort.InferenceSession.ValueMetadata[]): OnnxValueInfo[] =>
      m.map((v) => ({ name: v.name, type: v.isTensor ? v.type : 'unknown', isTensor: v.isTensor, shape: v.isTensor ? v.shape.map((d) => d) : null }));
    assert.deepEqual(i.inputs, fromOrt(s.inputMetadata), `${rel}: inputs`);
    assert.deepEqual(i.outputs, fromOrt(s.outputMetadata), `${rel}: outputs`);
    await s.release();
    assert.equal(i.opsets.find((o) => o.domain === 'ai.onnx')?.version, opset, `${rel}: opset`);
    assert.equal(i.producerName, producer, `${rel}: producer`);
    assert.equal(i.fileSize, fs.statSync(file).size, `${rel}: size`);
    assert.ok(i.initializers.bytes <= i.fileSize && i.initializers.bytes > 0.95 * i.fileSize, `${rel}: weights are most of the file (${i.initializers.bytes} of ${i.fileSize})`);
    assert.ok(i.nodes > 10, `${rel}: nodes`);
  }
});
