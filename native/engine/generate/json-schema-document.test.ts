import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { DEFAULT_BASE, SchemaDocument } from './json-schema-document.js';

const S2020 = 'https://json-schema.org/draft/2020-12/schema';

describe('SchemaDocument: resources, anchors and references of one schema', () => {
  test('pointers, anchors, $id resources and draft-04 id anchors resolve; a reference outside or nowhere is refused by name', () => {
    const schema = { $schema: S2020, $defs: { a: { $anchor: 'x', type: 'integer' }, r: { $id: 'https://example.org/r', $defs: { in: { type: 'string' } } } } };
    const doc = new SchemaDocument(schema, '2020-12');
    assert.equal(doc.resolveRef('#/$defs/a', '/p', DEFAULT_BASE).target, schema.$defs.a);
    assert.equal(doc.resolveRef('#x', '/p', DEFAULT_BASE).target, schema.$defs.a);
    const inR = doc.resolveRef('https://example.org/r#/$defs/in', '/p', DEFAULT_BASE);
    assert.equal(inR.target, schema.$defs.r.$defs.in);
    assert.equal(inR.base, 'https://example.org/r');
    for (const [ref, why] of [
      ['https://elsewhere.org/s', /outside this schema; remote references are not fetched/],
      ['#/$defs/none', /points nowhere/],
      ['#nope', /names no anchor/],
    ] as const) {
      assert.throws(() => doc.resolveRef(ref, '/p', DEFAULT_BASE), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && why.test(e.message) && /at \/p/.test(e.message));
    }
    const d4 = { id: 'https://example.org/d4', definitions: { b: { id: '#bee', type: 'null' } } };
    assert.equal(new SchemaDocument(d4, 'draft-04').resolveRef('#bee', '', 'https://example.org/d4').target, d4.definitions.b);
  });

  test('validationSchema: a $dynamicRef to a $dynamicAnchor below a resource root becomes its $ref (ajv reads those as the root); at a root, or dynamic, it stays', () => {
    const below = { $schema: S2020, properties: { s: { $dynamicRef: '#meta' }, both: { $ref: '#/$defs/n', $dynamicRef: '#meta' } }, $defs: { m: { $dynamicAnchor: 'meta', type: 'boolean' }, n: { minimum: 1 } }, enum: [{ __proto__: 1 }] };
    const v = new SchemaDocument(below, '2020-12').validationSchema as typeof below & { properties: { s: Record<string, unknown>; both: Record<string, unknown> } };
    assert.notEqual(v, below, 'a copy');
    assert.deepEqual(v.properties.s, { $ref: '#meta' });
    assert.deepEqual(v.properties.both, { $ref: '#/$defs/n', allOf: [{ $ref: '#meta' }] }, 'beside a $ref of its own: one more allOf entry');
    assert.equal(below.properties.s.$dynamicRef, '#meta', 'the schema itself is untouched');
    assert.equal(v.enum, below.enum, 'data is not copied');
    const atRoot = { $schema: S2020, $dynamicAnchor: 'node', items: { $dynamicRef: '#node' } };
    assert.equal(new SchemaDocument(atRoot, '2020-12').validationSchema, atRoot);
    const dynamic = { $schema: S2020, $id: 'https://example.org/l', items: { $dynamicRef: '#i' }, $defs: { a: { $dynamicAnchor: 'i' }, b: { $id: 'b', $dynamicAnchor: 'i' } } };
    const doc = new SchemaDocument(dynamic, '2020-12');
    assert.equal(doc.validationSchema, dynamic);
    assert.throws(() => doc.staticDynamicRef('#i', '/items/$dynamicRef', 'https://example.org/l'), /unsupported keyword "\$dynamicRef" at \/items\/\$dynamicRef \(2 schema resources define \$dynamicAnchor "i"/);
  });
});
