import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { sharedOrSkip } from '../../testing/shared.js';
import { POOLED_OUTPUT, withPooledOutput } from './pooled-graph.js';
import { clsPool, meanPool } from './pooling.js';

const { shared, skip } = sharedOrSkip();

for (const pooling of ['mean', 'cls'] as const) {
  test(`the ${pooling}-pooled output added to the MiniLM fixture equals pooling.ts over last_hidden_state (right padding, a 1-token row)`, { skip, timeout: 120_000 }, async () => {
    const file = path.join(shared, 'models', 'fixtures', 'reranker-tiny-random', 'onnx', 'model.onnx');
    // The reranker fixture has no last_hidden_state output: nothing to pool, the model is left alone.
    assert.equal(withPooledOutput(fs.readFileSync(file), pooling), undefined);
    const enc = path.join(shared, 'models', 'fixtures', 'minilm-l6-arch-random', 'onnx', 'model.onnx');
    const bytes = withPooledOutput(fs.readFileSync(enc), pooling);
    assert.ok(bytes, 'the encoder fits the pattern');
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    try {
      assert.ok(s.outputNames.includes(POOLED_OUTPUT) && s.outputNames.includes('last_hidden_state'));
      const rows = 3, seq = 6, lens = [6, 3, 1];
      const ids = new BigInt64Array(rows * seq);
      const mask = new BigInt64Array(rows * seq);
      for (let r = 0; r < rows; r++) for (let k = 0; k < lens[r]!; k++) {
        ids[r * seq + k] = BigInt(100 + r * 50 + k * 7);
        mask[r * seq + k] = 1n;
      }
      const out = await s.run(
        { input_ids: new ort.Tensor('int64', ids, [rows, seq]), attention_mask: new ort.Tensor('int64', mask, [rows, seq]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(rows * seq), [rows, seq]) },
        ['last_hidden_state', POOLED_OUTPUT],
      );
      const hidden = out.last_hidden_state!.data as Float32Array;
      const dim = Number(out.last_hidden_state!.dims[2]);
      const want = pooling === 'mean' ? meanPool(hidden, rows, seq, dim, lens) : clsPool(hidden, rows, seq, dim);
      const got = out[POOLED_OUTPUT]!;
      assert.deepEqual(got.dims, [rows, dim]);
      let d = 0;
      for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i]! - (got.data as Float32Array)[i]!));
      assert.ok(d <= 1e-5, `max abs diff ${d}`);
    } finally {
      await s.release();
    }
  });
}

test('bytes that are not ONNX: undefined, not an exception', () => {
  assert.equal(withPooledOutput(Buffer.from([0x0f, 0xff]), 'mean'), undefined);
});
