import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ajvForSchema } from './ajv-for-schema.js';

const opts = { strict: false, logger: false as const };

test('a schema the meta-schema rejects is refused with ajv\'s message, in every dialect', () => {
  for (const $schema of ['http://json-schema.org/draft-04/schema#', 'http://json-schema.org/draft-06/schema#', 'http://json-schema.org/draft-07/schema#', 'https://json-schema.org/draft/2019-09/schema', 'https://json-schema.org/draft/2020-12/schema', 'https://example.com/unknown-dialect']) {
    const bad = { $schema, type: 'object', properties: { a: { type: 'string', minLength: 'five' } } };
    assert.throws(() => ajvForSchema(bad, opts).compile(bad), /^Error: schema is invalid: data\/properties\/a\/minLength must be (integer|number)/, $schema);
  }
});

test('the shared meta-schema check holds no schema: the same $id compiles twice, each with its own meaning', () => {
  const a = { $id: 'https://example.com/s', type: 'integer' };
  const b = { $id: 'https://example.com/s', type: 'string' };
  const va = ajvForSchema(a, opts).compile(a);
  const vb = ajvForSchema(b, opts).compile(b);
  assert.equal(va(1), true);
  assert.equal(va('x'), false);
  assert.equal(vb('x'), true);
  assert.equal(vb(1), false);
});

test('each dialect keeps its semantics (draft-04 boolean exclusiveMaximum, 2020-12 prefixItems)', () => {
  const d4 = { $schema: 'http://json-schema.org/draft-04/schema#', type: 'number', maximum: 3, exclusiveMaximum: true };
  const v4 = ajvForSchema(d4, opts).compile(d4);
  assert.equal(v4(2.9), true);
  assert.equal(v4(3), false);
  const d20 = { $schema: 'https://json-schema.org/draft/2020-12/schema', prefixItems: [{ type: 'integer' }], items: false };
  const v20 = ajvForSchema(d20, opts).compile(d20);
  assert.equal(v20([1]), true);
  assert.equal(v20([1, 2]), false);
  assert.equal(v20(['a']), false);
});

test('an old-style "id" outside draft-04 is ignored as the unknown keyword it is there (ajv 8 would throw NOT SUPPORTED)', () => {
  for (const $schema of [undefined, 'http://json-schema.org/draft-06/schema#', 'http://json-schema.org/draft-07/schema#', 'https://json-schema.org/draft/2019-09/schema', 'https://json-schema.org/draft/2020-12/schema', 'https://json-schema.org/schema']) {
    const s = { ...($schema ? { $schema } : {}), id: 'NxCloudInit', type: 'object', properties: { analytics: { type: 'boolean' } } };
    const v = ajvForSchema(s, opts).compile(s);
    assert.equal(v({ analytics: true }), true, String($schema));
    assert.equal(v({ analytics: 1 }), false, String($schema));
  }
  // draft-04: `id` is its schema id, still read as one.
  const d4 = { $schema: 'http://json-schema.org/draft-04/schema#', id: 'http://example.com/root.json', definitions: { a: { id: '#foo', type: 'integer' } }, $ref: '#foo' };
  const v4 = ajvForSchema(d4, opts).compile(d4);
  assert.equal(v4(1), true);
  assert.equal(v4('x'), false);
});
