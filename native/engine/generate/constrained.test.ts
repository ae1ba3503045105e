import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { isTandemError } from '../common/errors.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { DEFAULT_MAX_TOKENS, GenerateEngine } from './generate-engine.js';

const { shared, skip } = sharedOrSkip();
const env: NodeJS.ProcessEnv = { TANDEM_MODELS_DIR: shared ? path.join(shared, 'models') : '', TANDEM_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-gen-')) };
const TINY = 'fixtures/tiny-decoder-random';
// One thread: the tiny model is faster without intra-op threads, and one setting keeps one loaded model.
const engine = new GenerateEngine(env);
after(() => engine.dispose());

const COLORS = ['red', 'green', 'blue', 'cyan'];
const QUOTES = ['say "hi"', 'back\\slash', 'line\nbreak', 'tab\tstop', 'unicode é 🧬', 'slash / and \u0001 control'];

/** Varied schemas. Free strings are bounded (maxLength): a random model almost never closes a string by chance. */
const SCHEMAS: Record<string, Record<string, unknown>> = {
  nested: {
    type: 'object',
    properties: { a: { type: 'object', properties: { b: { type: 'object', properties: { c: { type: 'number' }, d: { type: 'boolean' } }, required: ['c'] } }, required: ['b'] } },
    required: ['a'],
  },
  arrayOfEnums: { type: 'array', items: { enum: COLORS }, minItems: 1, maxItems: 5 },
  requiredAndOptional: {
    type: 'object',
    properties: { name: { type: 'string', minLength: 1, maxLength: 10 }, age: { type: 'integer' }, email: { type: 'string', maxLength: 12 }, role: { enum: ['admin', 'user'] } },
    required: ['name', 'age'],
  },
  numbersAndIntegers: {
    type: 'object',
    properties: { x: { type: 'number' }, n: { type: 'integer' }, series: { type: 'array', items: { type: 'number' }, maxItems: 4 } },
    required: ['x', 'n', 'series'],
  },
  stringsWithEscapes: { type: 'object', properties: { quote: { enum: QUOTES }, note: { type: 'string', maxLength: 6 } }, required: ['quote', 'note'] },
  booleansAndNull: { type: 'object', properties: { flag: { type: 'boolean' }, nothing: { type: 'null' }, maybe: { type: ['boolean', 'null'] } }, required: ['flag', 'nothing', 'maybe'] },
  anyOf: { type: 'object', properties: { v: { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'integer' }, { type: 'null' }] } }, required: ['v'] },
  arrayOfObjects: {
    type: 'array',
    items: { type: 'object', properties: { id: { type: 'integer' }, tag: { enum: ['x', 'y'] } }, required: ['id', 'tag'] },
    minItems: 1,
    maxItems: 3,
  },
  refs: {
    $defs: { point: { type: 'object', properties: { x: { type: 'integer' }, y: { type: 'integer' } }, required: ['x', 'y'] } },
    type: 'object',
    properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' } },
    required: ['from', 'to'],
  },
  constAndMixedEnum: { type: 'object', properties: { version: { const: 2 }, level: { enum: [1, 2, 10, 'high', null] } }, required: ['version', 'level'] },
  matrix: { type: 'array', items: { type: 'array', items: { type: 'integer' }, maxItems: 3 }, minItems: 2, maxItems: 3 },
  topLevelInteger: { type: 'integer' },
};

const SEEDS = [1, 2, 3];
/** The issue's five schema families, each over 200 seeds. */
const ISSUE_SCHEMAS = ['nested', 'arrayOfEnums', 'requiredAndOptional', 'numbersAndIntegers', 'stringsWithEscapes'];
const MANY_SEEDS = Array.from({ length: 200 }, (_, i) => 1000 + i);

/** The enum and required rules, checked by hand (beyond the validator). */
function checkRules(name: string, v: unknown): void {
  const o = v as Record<string, unknown>;
  if (name === 'arrayOfEnums') for (const c of v as string[]) assert.ok(COLORS.includes(c), `${c} is one of the colours`);
  if (name === 'requiredAndOptional') {
    assert.ok(typeof o.name === 'string' && Number.isInteger(o.age), 'name and age are present');
    if ('role' in o) assert.ok(['admin', 'user'].includes(o.role as string), 'role from its enum');
  }
  if (name === 'stringsWithEscapes') assert.ok(QUOTES.includes(o.quote as string), `quote ${JSON.stringify(o.quote)} round-trips through its escapes`);
  if (name === 'constAndMixedEnum') assert.equal(o.version, 2, 'const');
}

describe('JSON-Schema-constrained decoding on the random tiny decoder', { skip }, () => {
  test(`every output parses and validates: ${Object.keys(SCHEMAS).length} schemas x ${SEEDS.length} seeds`, async () => {
    const ajv = new Ajv({ strict: false });
    let outputs = 0;
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const validate = ajv.compile(schema);
      for (const seed of SEEDS) {
        const r = await engine.generate({ model: TINY, prompts: [`Answer as JSON (${name})`], schema, maxTokens: 200, temperature: 1, seed, threads: 1 });
        for (const o of r.outputs) {
          assert.equal(o.error, undefined, `${name} seed ${seed}: ${o.error?.message ?? ''}`);
          const parsed: unknown = JSON.parse(o.text);
          assert.deepEqual(o.output, parsed, `${name} seed ${seed}: output is the parsed text`);
          assert.ok(validate(parsed), `${name} seed ${seed}: ${o.text} validates (${JSON.stringify(validate.errors)})`);
          checkRules(name, parsed);
          outputs++;
        }
      }
    }
    assert.equal(outputs, Object.keys(SCHEMAS).length * SEEDS.length, 'every output checked');
  });

  test('sampling under a schema is seeded too: the same seed gives the same JSON', async () => {
    const schema = SCHEMAS.requiredAndOptional!;
    const a = await engine.generate({ model: TINY, prompts: ['x'], schema, maxTokens: 200, temperature: 1, seed: 9, threads: 1 });
    const b = await engine.generate({ model: TINY, prompts: ['x'], schema, maxTokens: 200, temperature: 1, seed: 9, threads: 1 });
    assert.equal(a.outputs[0]!.text, b.outputs[0]!.text, 'same text');
    assert.ok(a.outputs[0]!.output !== null, 'and valid output');
  });

  test('when max tokens cannot hold the shortest instance, the request fails before generating, the size named', async () => {
    // Shortest instance: {"name":"a","age":0}, 20 bytes.
    await assert.rejects(
      engine.generate({ model: TINY, prompts: ['x'], schema: SCHEMAS.requiredAndOptional!, maxTokens: 3, temperature: 1, seed: 1, threads: 1 }),
      (e: unknown) => isTandemError(e, 'INVALID_INPUT') && /^this schema needs at least 20 tokens \(max tokens 3\)/.test(e.message) && e.data?.reason === 'budget',
      'refused up front',
    );
    // At exactly that size every run ends valid: the budget steers each one to the shortest close.
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = await engine.generate({ model: TINY, prompts: ['x'], schema: SCHEMAS.requiredAndOptional!, maxTokens: 20, temperature: 1, seed, threads: 1 });
      const o = r.outputs[0]!;
      assert.equal(o.error, undefined, `seed ${seed}: ${o.error?.message ?? ''}`);
      assert.deepEqual(o.output, JSON.parse(o.text), 'valid JSON');
      assert.ok(o.completionTokens <= 20, 'within max tokens');
    }
  });

  test('any root type and every draft: array, string, number, integer, boolean, null and union roots; draft-04 and 2019-09 schemas', async () => {
    const roots: Record<string, Record<string, unknown>> = {
      array: { type: 'array', items: { type: 'integer' }, maxItems: 3 },
      string: { type: 'string', maxLength: 6 },
      number: { type: 'number' },
      integer: { type: 'integer' },
      boolean: { type: 'boolean' },
      null: { type: 'null' },
      union: { anyOf: [{ type: 'string', maxLength: 4 }, { type: 'array', items: { enum: [1, 2] }, maxItems: 2 }, { type: 'null' }] },
      draft04: { $schema: 'http://json-schema.org/draft-04/schema#', id: 'http://example.com/person.json', type: 'object', definitions: { n: { type: 'integer', minimum: 0, maximum: 9, exclusiveMaximum: true } }, properties: { n: { $ref: '#/definitions/n' }, pair: { type: 'array', items: [{ type: 'boolean' }, { type: 'null' }], additionalItems: false } }, required: ['n', 'pair'], version_info: 'ignored', 'x-vendor': 1 },
      draft2019: { $schema: 'https://json-schema.org/draft/2019-09/schema', $defs: { tag: { enum: ['a', 'b'] } }, type: 'array', items: { $ref: '#/$defs/tag' }, minItems: 1, maxItems: 2 },
    };
    for (const [name, schema] of Object.entries(roots)) {
      for (const seed of SEEDS) {
        const r = await engine.generate({ model: TINY, prompts: [`Answer (${name})`], schema, maxTokens: 200, temperature: 1, seed, threads: 1 });
        const o = r.outputs[0]!;
        // Post-checked keywords (draft-04 exclusiveMaximum, tuple positions) may miss on a random model: then the error names the keyword, never an invalid output.
        if (o.error) {
          assert.equal(name, 'draft04', `${name} seed ${seed}: ${o.error.message}`);
          assert.match(o.error.message, /\(keyword \w+, checked after decoding\)/);
          continue;
        }
        assert.deepEqual(o.output, JSON.parse(o.text), `${name} seed ${seed}: ${o.text}`);
        if (name !== 'object') assert.ok(name.startsWith('draft') || typeof o.output !== 'object' || o.output === null || Array.isArray(o.output), `${name}: root ${o.text}`);
      }
    }
  });

  test('a schema the decoder cannot enforce is refused before any generation', async () => {
    await assert.rejects(
      engine.generate({ model: TINY, prompts: ['x'], schema: { type: 'object', not: { multipleOf: 2 } }, threads: 1 }),
      (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && /unsupported keyword "not" at \(root\)/.test(e.message),
      'unsupported keyword',
    );
  });
});

describe('constrained decoding holds over 200 seeds (the issue\'s five schemas)', { skip }, () => {
  test(`${ISSUE_SCHEMAS.length} schemas x ${MANY_SEEDS.length} seeds: every output parses and validates; enum and required rules hold`, async (t) => {
    const ajv = new Ajv({ strict: false });
    let n = 0;
    for (const name of ISSUE_SCHEMAS) {
      const schema = SCHEMAS[name]!;
      const validate = ajv.compile(schema);
      for (const seed of MANY_SEEDS) {
        const r = await engine.generate({ model: TINY, prompts: [`Answer as JSON (${name})`], schema, maxTokens: 200, temperature: 1, seed, threads: 1 });
        const o = r.outputs[0]!;
        assert.equal(o.error, undefined, `${name} seed ${seed}: ${o.error?.message ?? ''}`);
        const parsed: unknown = JSON.parse(o.text);
        assert.ok(validate(parsed), `${name} seed ${seed}: ${o.text} validates (${JSON.stringify(validate.errors)})`);
        checkRules(name, parsed);
        n++;
      }
    }
    t.diagnostic(`${n} constrained generations, all valid`);
  });
});

/**
 * Ten larger schemas for the budget guarantee: free (unbounded) strings and arrays on purpose, so a
 * random model wanders until max tokens run low and the budget has to close the value.
 */
const LARGE: Record<string, Record<string, unknown>> = {
  nestedArraysOfObjects: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      properties: {
        id: { type: 'integer' },
        tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 4 },
        children: { type: 'array', items: { type: 'object', properties: { name: { type: 'string', maxLength: 8 }, value: { type: 'number' } }, required: ['name', 'value'] }, minItems: 1 },
      },
      required: ['id', 'children'],
    },
  },
  longEnum: {
    type: 'object',
    properties: {
      country: { enum: Array.from({ length: 80 }, (_, i) => `country-${String(i).padStart(2, '0')}-${'x'.repeat(i % 7)}`) },
      code: { enum: Array.from({ length: 40 }, (_, i) => 1000 + i * 37) },
      status: { enum: ['active', 'inactive', 'pending', 'archived', 'deleted', 'suspended', 'unknown'] },
    },
    required: ['country', 'code', 'status'],
  },
  stringsWithMaxLength: {
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 3, maxLength: 40 },
      summary: { type: 'string', minLength: 10, maxLength: 80 },
      body: { type: 'string', maxLength: 120 },
      code: { type: 'string', minLength: 4, maxLength: 4 },
    },
    required: ['title', 'summary', 'body', 'code'],
  },
  manyRequired: {
    type: 'object',
    properties: Object.fromEntries(
      Array.from({ length: 14 }, (_, i) => [`field${i}`, [{ type: 'integer' }, { type: 'boolean' }, { type: 'string', maxLength: 6 }, { type: ['number', 'null'] }][i % 4]!]),
    ),
    required: Array.from({ length: 14 }, (_, i) => `field${i}`).filter((_, i) => i % 3 !== 1),
  },
  nested4Deep: {
    type: 'object',
    properties: {
      level1: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          level2: {
            type: 'object',
            properties: {
              items: { type: 'array', items: { type: 'integer' } },
              level3: { type: 'object', properties: { flag: { type: 'boolean' }, level4: { type: 'object', properties: { note: { type: 'string' }, n: { type: 'number' } }, required: ['note', 'n'] } }, required: ['level4'] },
            },
            required: ['level3'],
          },
        },
        required: ['name', 'level2'],
      },
    },
    required: ['level1'],
  },
  freeStrings: { type: 'object', properties: { title: { type: 'string' }, body: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['title', 'body', 'tags'] },
  recursiveTree: {
    $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 3 } }, required: ['value', 'children'] } },
    $ref: '#/$defs/node',
  },
  unionOfShapes: {
    type: 'array',
    minItems: 2,
    items: { anyOf: [{ type: 'object', properties: { kind: { const: 'circle' }, r: { type: 'number' } }, required: ['kind', 'r'] }, { type: 'object', properties: { kind: { const: 'label' }, text: { type: 'string' } }, required: ['kind', 'text'] }, { type: 'null' }] },
  },
  mapOfArrays: { type: 'object', additionalProperties: { type: 'array', items: { type: 'integer' } } },
  bigMinimum: {
    type: 'array',
    // Shortest instance 9 x {"key":"aa","value":0} = 217 bytes of 256: the budget binds from early on.
    minItems: 9,
    items: { type: 'object', properties: { key: { type: 'string', minLength: 2 }, value: { type: ['integer', 'string'] } }, required: ['key', 'value'] },
  },
  // uniqueItems of bounded integers (enforced while decoding): a random decoder repeats small values often.
  uniqueBoundedIntegers: {
    type: 'object',
    properties: {
      months: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 12 }, uniqueItems: true, minItems: 3, maxItems: 8 },
      days: { type: 'array', items: { anyOf: [{ type: 'integer', minimum: 1, maximum: 31 }, { type: 'string', maxLength: 3 }] }, uniqueItems: true, minItems: 2, maxItems: 6 },
    },
    required: ['months', 'days'],
  },
  // Bounds of non-integer numbers (enforced while decoding): probabilities, coordinates, an open interval, a nullable score; a free array so the budget closes it.
  boundedNumbers: {
    type: 'array',
    minItems: 5,
    items: {
      type: 'object',
      properties: {
        p: { type: 'number', minimum: 0, maximum: 1 },
        lat: { type: 'number', minimum: -90, maximum: 90 },
        lon: { type: 'number', exclusiveMinimum: -180, maximum: 180 },
        score: { type: ['number', 'null'], exclusiveMinimum: 0, exclusiveMaximum: 0.5 },
        narrow: { type: 'number', minimum: 2.5, maximum: 2.75 },
      },
      required: ['p', 'lat', 'lon', 'narrow'],
    },
  },
  // Patterns and formats (DFAs over characters, json-regex.ts): the random decoder writes escapes and
  // multi-byte characters inside them, and the budget must close each one (its shortest completion
  // through an escape, under a minLength the shortest match does not reach).
  patternsAndFormats: {
    type: 'object',
    properties: {
      sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4,6}(-[a-z]+)?$' },
      id: { type: 'string', format: 'uuid' },
      at: { type: 'string', format: 'date-time' },
      email: { type: 'string', format: 'email' },
      host: { type: 'string', format: 'hostname' },
      ip: { type: 'string', format: 'ipv4' },
      pairs: { type: 'string', pattern: '^(ab)+$', minLength: 3 },
      accents: { type: 'string', pattern: '^(é|日本|x)+!$' },
      notes: { type: 'array', items: { type: 'string', pattern: '[0-9]' }, minItems: 2 },
    },
    required: ['sku', 'id', 'at', 'email', 'host', 'ip', 'pairs', 'accents', 'notes'],
  },
  // uniqueItems of strings under a pattern / format (enforced while decoding): a small finite language a random decoder repeats often, and emails the budget must close.
  uniquePatternStrings: {
    type: 'object',
    properties: {
      codes: { type: 'array', items: { type: 'string', pattern: '^[A-C]{2}$' }, uniqueItems: true, minItems: 5 },
      emails: { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, minItems: 3 },
      mixed: { type: 'array', items: { anyOf: [{ type: 'string', pattern: '^[ab]{1,2}$' }, { type: 'integer', minimum: 0, maximum: 3 }] }, uniqueItems: true, minItems: 6 },
    },
    required: ['codes', 'emails', 'mixed'],
  },
  // Maps whose keys are patterns (OpenAPI's Paths with vendor extensions) or restricted by propertyNames (labels).
  keyedMaps: {
    type: 'object',
    properties: {
      paths: { type: 'object', patternProperties: { '^/[a-z]+(/[a-z]+)*$': { type: 'object', properties: { get: { type: 'string', maxLength: 20 }, put: { type: 'string', maxLength: 20 } } }, '^x-': {} }, additionalProperties: false, minProperties: 1 },
      labels: { type: 'object', propertyNames: { pattern: '^[a-z][a-z0-9-]{0,15}$' }, additionalProperties: { type: 'string', maxLength: 12 }, maxProperties: 4 },
    },
    required: ['paths', 'labels'],
  },
};

/**
 * Seeds per schema. 200 x 22 schemas at 256 tokens is about 4,400 generations and 375,000 sampled
 * tokens; on the tiny decoder a token costs about 6.6 ms of CPU (measured: 10 seeds, 220 generations,
 * 18,766 tokens, 124 s of CPU, 204 s wall on a loaded 2-core machine), of which the ONNX step is about
 * 45 %, the sampler's softmax over all 151,936 logits about 35 %, GC 8 % and the masks (budgeted
 * ones included) about 4 %: the full matrix is about 40 minutes of CPU. So the suite runs 10 by
 * default (about 2 minutes of CPU); TANDEM_BUDGET_SEEDS=200 runs the issue's full matrix.
 */
const BUDGET_SEEDS = Array.from({ length: Number(process.env.TANDEM_BUDGET_SEEDS ?? 10) }, (_, i) => 5000 + i);

/** TANDEM_BUDGET_ONLY=name,name: only those schemas (a targeted run of many seeds). */
const BUDGET_ONLY = process.env.TANDEM_BUDGET_ONLY?.split(',').filter(Boolean);

describe('never truncated when a valid answer fits (issue 21.3): default max tokens, temperature 1', { skip }, () => {
  const all = Object.fromEntries(Object.entries({ ...SCHEMAS, ...LARGE }).filter(([name]) => !BUDGET_ONLY || BUDGET_ONLY.includes(name)));
  test(`${Object.keys(all).length} schemas x ${BUDGET_SEEDS.length} seeds at max tokens ${DEFAULT_MAX_TOKENS}: every output parses and validates, none truncated`, async (t) => {
    const ajv = new Ajv({ strict: false });
    const t0 = performance.now();
    let n = 0;
    let forced = 0;
    let tokens = 0;
    for (const [name, schema] of Object.entries(all)) {
      const validate = ajv.compile(schema);
      for (const seed of BUDGET_SEEDS) {
        const r = await engine.generate({ model: TINY, prompts: [`Answer as JSON (${name})`], schema, temperature: 1, seed, threads: 1 });
        const o = r.outputs[0]!;
        assert.equal(o.error, undefined, `${name} seed ${seed}: ${o.error?.message ?? ''}`);
        const parsed: unknown = JSON.parse(o.text);
        assert.deepEqual(o.output, parsed, `${name} seed ${seed}: output is the parsed text`);
        assert.ok(validate(parsed), `${name} seed ${seed}: ${o.text} validates (${JSON.stringify(validate.errors)})`);
        assert.ok(o.completionTokens <= DEFAULT_MAX_TOKENS, 'within max tokens');
        checkRules(name, parsed);
        if (o.budgetForcedClose) forced++;
        tokens += o.completionTokens;
        n++;
      }
    }
    assert.equal(n, Object.keys(all).length * BUDGET_SEEDS.length, 'every output checked');
    assert.ok(forced > 0, 'the budget closed some of them (free strings)');
    t.diagnostic(`${n} generations, all valid; ${forced} closed by the budget; ${tokens} tokens; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
});
