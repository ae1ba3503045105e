import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { f32RowsFormatter, jsF32Rows, type F32RowsFormatter } from './f32-rows.js';

const picked = f32RowsFormatter();
const formatters: Array<[string, F32RowsFormatter | undefined]> = [
  ['js', jsF32Rows],
  ['native', picked.native ? picked.format : undefined],
];

/** Float32 values of every kind: tiny, huge, negative zero, subnormal, round numbers, random. */
function sample(rows: number, dims: number): Float32Array {
  const v = new Float32Array(rows * dims);
  const special = [0, -0, 1, -1, 0.1, 1e-45, -1.17549435e-38, 3.4028235e38, 123456789, 5e-7, 0.5, 2 ** -20];
  let seed = 7;
  for (let i = 0; i < v.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    v[i] = i < special.length ? special[i]! : ((seed / 2 ** 32) - 0.5) * 10 ** ((seed % 9) - 4);
  }
  return v;
}

describe('float32 rows as JSON lines', () => {
  for (const [name, format] of formatters) {
    it(`${name}: every value reads back as the very same float32, rows keep their heads and tails`, { skip: format ? false : `native addon not loaded: ${picked.error}` }, () => {
      const dims = 7;
      const v = sample(50, dims);
      const heads = Array.from({ length: 50 }, (_, i) => `{"id":${JSON.stringify(`doc-${i}-é`)},"embedding":[`);
      const tails = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? '],"truncated":true}' : ']}'));
      const text = format!(v, dims, heads, tails).toString();
      assert.ok(text.endsWith('\n'));
      const lines = text.slice(0, -1).split('\n');
      assert.equal(lines.length, 50);
      lines.forEach((l, i) => {
        const rec = JSON.parse(l) as { id: string; embedding: number[]; truncated?: boolean };
        assert.equal(rec.id, `doc-${i}-é`);
        assert.equal(rec.truncated, i % 5 === 0 ? true : undefined);
        assert.equal(rec.embedding.length, dims);
        rec.embedding.forEach((x, d) => assert.ok(Math.fround(x) === v[i * dims + d], `row ${i} dim ${d}: ${x} vs ${v[i * dims + d]}`));
      });
    });

    it(`${name}: NaN and Infinity are refused (JSON has no form for them)`, { skip: format ? false : 'native addon not loaded' }, () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        assert.throws(() => format!(new Float32Array([0, bad]), 2, ['['], [']']), /INTERNAL|JSON cannot hold/);
      }
    });
  }

  it('native: each value is the shortest text of its float32 (fewer bytes than printing it as a double)', { skip: picked.native ? false : `native addon not loaded: ${picked.error}` }, () => {
    const text = picked.format(new Float32Array([0.1, -0.30000001192092896, 1e-45, 100, 0.012345679104328156]), 5, ['['], [']']).toString();
    assert.equal(text, '[0.1,-0.3,1e-45,100,0.012345679]\n');
    assert.equal(jsF32Rows(new Float32Array([0.1]), 1, ['['], [']']), '[0.10000000149011612]\n');
  });

  it('native: row counts that do not match the vectors are a clear error', { skip: picked.native ? false : 'native addon not loaded' }, () => {
    assert.throws(() => picked.format(new Float32Array(6), 3, ['['], [']']), /one per row/);
    assert.throws(() => picked.format(new Float32Array(7), 3, ['[', '['], [']', ']']), /multiple of dims/);
  });
});
