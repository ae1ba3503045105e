// JSON text with line/column errors, used by the Generate page's schema editor (typecheck: npx tsc -p renderer/test/tsconfig.json).
/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonText } from './json-text';

describe('parseJsonText', () => {
  test('valid JSON parses; errors give the line, the column and what was expected', () => {
    assert.deepEqual(parseJsonText('{"a": [1, 2.5e3, true, null, "x\\n"]}'), { ok: true, value: { a: [1, 2500, true, null, 'x\n'] } }, 'valid');
    assert.deepEqual(parseJsonText('{"type": "object",\n  "properties": }'), { ok: false, message: "expected a value, found '}'", line: 2, column: 17 }, 'a missing value');
    assert.deepEqual(parseJsonText('{"a": 1,}'), { ok: false, message: "expected a property name in double quotes, found '}'", line: 1, column: 9 }, 'a trailing comma');
    assert.deepEqual(parseJsonText('{"a": 1} x'), { ok: false, message: "expected the end of the text, found 'x'", line: 1, column: 10 }, 'trailing text');
    assert.deepEqual(parseJsonText('{"a": "b'), { ok: false, message: 'expected a closing quote, found the end of the text', line: 1, column: 9 }, 'an unclosed string');
    const bad = ['', '{', '[1 2]', '{"a" 1}', '01', '-', 'tru', '"\\x"', '{"a":1}}'];
    for (const t of bad) {
      assert.equal(parseJsonText(t).ok, false, `${JSON.stringify(t)} is refused`);
      assert.throws(() => JSON.parse(t), `${JSON.stringify(t)} is refused by JSON.parse too`);
    }
  });
});
