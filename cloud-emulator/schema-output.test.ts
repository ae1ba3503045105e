import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import type { JsonValue } from '../native/engine/common/errors.js';
import { valueForSchema } from './schema-output.js';
import { rngFor } from './seeded-random.js';

type Schema = { [k: string]: JsonValue };

function ajv(): Ajv {
  const a = new Ajv({ strict: false, allErrors: true });
  a.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  a.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  a.addFormat('email', /^[^@\s]+@[^@\s]+\.[a-z]+$/);
  a.addFormat('uri', /^https?:\/\/\S+$/);
  a.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  return a;
}

const SCHEMAS: Record<string, Schema> = {
  flat: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' }, ok: { type: 'boolean' }, none: { type: 'null' } }, required: ['name', 'count'] },
  nested: {
    type: 'object',
    properties: { paper: { type: 'object', properties: { title: { type: 'string', minLength: 5, maxLength: 12 }, year: { type: 'integer', minimum: 1900, maximum: 2030 }, authors: { type: 'array', items: { type: 'object', properties: { last: { type: 'string' } }, required: ['last'] }, minItems: 1 } }, required: ['title', 'year', 'authors'] } },
    required: ['paper'],
    additionalProperties: false,
  },
  arrays: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, minItems: 3, maxItems: 3, uniqueItems: true }, empty: { type: 'array', maxItems: 0 }, many: { type: 'array', items: { type: 'number' }, minItems: 5 } }, required: ['tags', 'empty', 'many'] },
  enumConst: { type: 'object', properties: { kind: { const: 'review' }, level: { enum: ['low', 'mid', 'high'] }, mixed: { enum: [1, 'two', null] } }, required: ['kind', 'level', 'mixed'] },
  numbers: {
    type: 'object',
    properties: {
      p: { type: 'number', minimum: 0, maximum: 1 },
      step: { type: 'number', multipleOf: 0.25, minimum: 1, maximum: 3 },
      cents: { type: 'number', multipleOf: 0.01, minimum: 0.1, maximum: 0.5 },
      even: { type: 'integer', multipleOf: 2, exclusiveMinimum: 10, exclusiveMaximum: 20 },
      neg: { type: 'integer', maximum: -5 },
      open: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    },
    required: ['p', 'step', 'cents', 'even', 'neg', 'open'],
  },
  formats: { type: 'object', properties: { d: { type: 'string', format: 'date' }, t: { type: 'string', format: 'date-time' }, e: { type: 'string', format: 'email' }, u: { type: 'string', format: 'uri' }, id: { type: 'string', format: 'uuid' } }, required: ['d', 't', 'e', 'u', 'id'] },
  typeLists: { type: 'object', properties: { maybe: { type: ['string', 'null'] }, numOrStr: { type: ['integer', 'string'], minimum: 3, maximum: 4 } }, required: ['maybe', 'numOrStr'] },
  unions: { type: 'object', properties: { a: { anyOf: [{ type: 'integer', minimum: 7, maximum: 7 }, { type: 'string' }] }, o: { oneOf: [{ type: 'object', properties: { x: { type: 'boolean' } }, required: ['x'], additionalProperties: false }, { type: 'string' }] } }, required: ['a', 'o'] },
  allOf: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'integer', minimum: 1, maximum: 2 } }, required: ['b'] }] },
  refs: { type: 'object', $defs: { point: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'] } }, properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' } }, required: ['from', 'to'] },
  topArray: { type: 'array', items: { type: 'object', properties: { score: { type: 'number', minimum: 0, maximum: 10 }, label: { type: 'string', maxLength: 3 } }, required: ['score', 'label'] }, minItems: 2 },
  untyped: { properties: { free: {}, anyTrue: true, deep: { properties: { n: { minimum: 2, maximum: 2 } }, required: ['n'] } }, required: ['free', 'anyTrue', 'deep'] },
  tuple: { type: 'object', properties: { pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false, minItems: 2 } }, required: ['pair'] },
  recursive: { type: 'object', $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v'] } }, properties: { root: { $ref: '#/$defs/node' } }, required: ['root'] },
};

test('every generated value is valid under its schema (ajv), for several seeds', () => {
  const a = ajv();
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const validate = a.compile(schema);
    for (let seed = 0; seed < 25; seed++) {
      const v = valueForSchema(schema, rngFor(name, String(seed)));
      assert.ok(validate(v), `${name} seed ${seed}: ${JSON.stringify(v)} is invalid: ${a.errorsText(validate.errors)}`);
    }
  }
});

test('generation is deterministic for a seed and varies across seeds', () => {
  const s = SCHEMAS.nested!;
  assert.deepEqual(valueForSchema(s, rngFor('p', 'x')), valueForSchema(s, rngFor('p', 'x')), 'same seed, same value');
  const distinct = new Set(Array.from({ length: 10 }, (_, i) => JSON.stringify(valueForSchema(s, rngFor('p', String(i))))));
  assert.ok(distinct.size > 1, `10 seeds gave ${distinct.size} distinct values`);
});

test('objects get every declared property, arrays minItems..max(minItems, 2) items', () => {
  const v = valueForSchema({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'array', items: { type: 'integer' } }, c: { type: 'array', items: { type: 'integer' }, minItems: 4 } }, required: ['a'] }, rngFor('shape')) as {
    a: string;
    b: number[];
    c: number[];
  };
  assert.deepEqual(Object.keys(v).sort(), ['a', 'b', 'c'], 'optional properties are generated too');
  assert.ok(v.b.length <= 2, `b has ${v.b.length} items`);
  assert.equal(v.c.length, 4, 'minItems 4 gives exactly 4 (max(minItems, 2) = 4)');
});
