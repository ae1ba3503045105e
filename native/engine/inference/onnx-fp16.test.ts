import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { sharedOrSkip } from '../../testing/shared.js';
import { isTandemError } from '../common/errors.js';
import { floatToHalf } from './half-float.js';
import { convertOnnxToFp16 } from './onnx-fp16.js';
import { inspectOnnx } from './onnx-inspect.js';
import { halfToFloat } from './pooling.js';

const { shared, skip } = sharedOrSkip();

test('floatToHalf: exact values, round to nearest even, subnormals, overflow, NaN', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65520, 0x7c00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -26, 0x0000], [1 + 2 ** -11, 0x3c00] /* tie -> even */, [1 + 3 * 2 ** -11, 0x3c02] /* tie -> even */,
    [1 + 2 ** -10, 0x3c01], [3 * 2 ** -25, 0x0002] /* subnormal tie -> even */,
  ];
  for (const [x, h] of cases) assert.equal(floatToHalf(x), h, `floatToHalf(${x})`);
  assert.ok(Number.isNaN(halfToFloat(Uint16Array.of(floatToHalf(NaN)))[0]!), 'NaN stays NaN');
  // Round trip: every finite half survives float -> half.
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(floatToHalf(halfToFloat(Uint16Array.of(h))[0]!), h);
});

test('the MiniLM-architecture reranker fixture converts: float16 weights, float32 I/O, outputs near the fp32 ones', { skip, timeout: 120_000 }, async () => {
  const src = path.join(shared, 'models', 'fixtures', 'reranker-tiny-random', 'onnx', 'model.onnx');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-fp16-test-'));
  try {
    const dst = path.join(dir, 'model_fp16.onnx');
    const stats = convertOnnxToFp16(src, dst);
    const before = inspectOnnx(src);
    const after = inspectOnnx(dst);
    assert.ok(stats.values > before.initializers.parameters * 0.999 && stats.values <= before.initializers.parameters, 'every float weight converted (the int64 shape constants are not)');
    assert.equal(stats.ioCasts, 1, 'one float output kept float32 by a Cast');
    assert.ok(after.initializers.bytes < before.initializers.bytes * 0.55, `weights halve: ${before.initializers.bytes} -> ${after.initializers.bytes}`);
    assert.deepEqual(after.outputs, before.outputs, 'same outputs, still float32');
    assert.deepEqual(after.inputs, before.inputs, 'same inputs');

    const run = async (file: string): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
      try {
        const ids = BigInt64Array.from([101n, 2054n, 2003n, 102n, 2023n, 102n, 101n, 7592n, 102n, 0n, 0n, 0n]);
        const mask = BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n, 0n]);
        const out = await s.run({ input_ids: new ort.Tensor('int64', ids, [2, 6]), attention_mask: new ort.Tensor('int64', mask, [2, 6]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(12), [2, 6]) });
        const t = out.logits!;
        assert.equal(t.type, 'float32');
        return Float32Array.from(t.data as Float32Array);
      } finally {
        await s.release();
      }
    };
    const a = await run(src);
    const b = await run(dst);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    assert.ok(d < 2e-2 && d > 0, `fp16 logits near fp32 ones (max abs diff ${d})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not ONNX is refused with MODEL_INVALID and nothing is written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-fp16-test-'));
  try {
    const src = path.join(dir, 'bad.onnx');
    fs.writeFileSync(src, Buffer.from([0x0f, 0xff, 0xff, 0xff]));
    assert.throws(() => convertOnnxToFp16(src, path.join(dir, 'out.onnx')), (e) => isTandemError(e, 'MODEL_INVALID') && /cannot convert .*bad\.onnx to fp16/.test((e as Error).message));
    assert.ok(!fs.existsSync(path.join(dir, 'out.onnx')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
