import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sharedOrSkip } from '../../testing/shared.js';
import { JsonGrammar, TokenIndex } from './json-grammar.js';
import { WARM_SCHEMAS, warmUpGrammar } from './json-warmup.js';
import { CharVocab, HfVocab } from './vocab.js';

const shared = sharedOrSkip();

describe('grammar warm-up (issue 21.5: first-use masks)', () => {
  test('every warm-up schema compiles strictly, and every walk on the Qwen2.5 vocabulary ends valid within its budget', { skip: shared.skip }, () => {
    const vocab = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const index = new TokenIndex(vocab.bytes);
    for (const schema of WARM_SCHEMAS) assert.doesNotThrow(() => new JsonGrammar(schema, index), `${JSON.stringify(schema).slice(0, 80)} compiles without --lenient`);
    // warmUpGrammar throws (INTERNAL) when a walk does not end or its output fails the schema.
    const r = warmUpGrammar(index);
    assert.equal(r.schemas, WARM_SCHEMAS.length);
    assert.ok(r.masks >= WARM_SCHEMAS.length * 3, `a mask per token of every walk (${r.masks})`);
    // The same work every time (a fixed seed): a second run over the same index computes as many masks.
    assert.equal(warmUpGrammar(index).masks, r.masks, 'deterministic');
  });

  test("a character model's vocabulary (no token for most bytes): the walks that cannot end only warm the code", { skip: shared.skip }, () => {
    const vocab = CharVocab.load(path.join(shared.shared, 'models', 'fixtures', 'charrnn-shakespeare', 'vocab.fixed.json'));
    const r = warmUpGrammar(new TokenIndex(vocab.bytes));
    assert.equal(r.schemas, WARM_SCHEMAS.length);
    assert.ok(r.masks > 0);
  });
});
