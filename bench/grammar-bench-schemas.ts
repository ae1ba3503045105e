/** The large real-world-like schemas of bench:grammar (grammar-bench.ts), each with a valid instance the mask walk follows. */
export interface Case {
  set: string;
  name: string;
  schema: object;
  instances: unknown[];
}

// ---- large real-world-like schemas (each subschema written once: the JSON text is not exponential) -----------------------------------------------------------
function deepSchema(depth: number): object {
  let s: object = { type: 'object', properties: { id: { type: 'integer' }, label: { type: 'string', maxLength: 40 } }, required: ['id'] };
  for (let i = 0; i < depth; i++) {
    s = { type: 'object', properties: { name: { type: 'string' }, level: { type: 'integer', minimum: 0, maximum: 100 }, tags: { type: 'array', items: { type: 'string' }, maxItems: 5 }, child: s, notes: { type: 'array', items: { type: 'object', properties: { at: { type: 'integer' }, text: { type: 'string' } } }, maxItems: 3 } }, required: ['name', 'child'] };
  }
  return s;
}
function deepInstance(depth: number): unknown {
  let v: unknown = { id: 7, label: 'leaf node' };
  for (let i = 0; i < depth; i++) v = { name: `level ${i}`, level: i, tags: ['a', 'bb'], child: v };
  return v;
}
const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const enum500 = Array.from({ length: 500 }, (_, i) => `${words[i % 10]}-${words[Math.floor(i / 10) % 10]}-${i}`);
const opt50Props: Record<string, object> = {};
for (let i = 0; i < 50; i++) opt50Props[`field_${i}`] = [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }, { type: 'number' }, { type: 'array', items: { type: 'string' } }][i % 5]!;
const opt50Instance: Record<string, unknown> = {};
for (let i = 0; i < 50; i += 3) opt50Instance[`field_${i}`] = [`value ${i}`, i * 13, i % 2 === 0, i / 4, ['x', 'y']][i % 5];

export const LARGE: Case[] = [
  { set: 'large', name: 'deep nesting (12 levels)', schema: deepSchema(12), instances: [deepInstance(12)] },
  {
    set: 'large',
    name: 'enum of 500 strings',
    schema: { type: 'object', properties: { codes: { type: 'array', items: { enum: enum500 }, maxItems: 20 }, primary: { enum: enum500 } }, required: ['codes', 'primary'] },
    instances: [{ codes: [enum500[3], enum500[499], enum500[250], enum500[77]], primary: enum500[421] }],
  },
  { set: 'large', name: '50 optional properties', schema: { type: 'object', properties: opt50Props }, instances: [opt50Instance] },
  {
    set: 'large',
    name: 'patterns and formats',
    schema: {
      type: 'object',
      properties: {
        sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4,6}(-[a-z]+)?$' },
        phone: { type: 'string', pattern: '^\\+?[0-9]{1,3}[ -]?\\(?[0-9]{3}\\)?[ -]?[0-9]{3}[ -]?[0-9]{4}$' },
        slug: { type: 'string', pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' },
        version: { type: 'string', pattern: '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$' },
        id: { type: 'string', format: 'uuid' },
        created: { type: 'string', format: 'date-time' },
        day: { type: 'string', format: 'date' },
        email: { type: 'string', format: 'email' },
        host: { type: 'string', format: 'hostname' },
        ip: { type: 'string', format: 'ipv4' },
        home: { type: 'string', format: 'uri' },
        note: { type: 'string', maxLength: 200 },
      },
      required: ['sku', 'id', 'created'],
    },
    instances: [
      {
        sku: 'ABC-12345-blue',
        phone: '+1 (555) 123-4567',
        slug: 'hello-world-2024',
        version: '1.12.0-rc.1',
        id: '123e4567-e89b-12d3-a456-426614174000',
        created: '2024-05-01T12:30:00Z',
        day: '2024-02-29',
        email: 'ada.lovelace@example.org',
        host: 'api.example.com',
        ip: '192.168.10.254',
        home: 'https://example.org/a/b?c=d',
        note: 'A free-text note with "quotes", \\ and ünïcödé characters.',
      },
    ],
  },
  {
    set: 'large',
    name: 'recursive tree ($ref)',
    schema: {
      $defs: { node: { type: 'object', properties: { value: { type: 'integer', minimum: -1000, maximum: 1000 }, kind: { enum: ['leaf', 'branch'] }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['value', 'kind'] } },
      $ref: '#/$defs/node',
    },
    instances: [{ value: 1, kind: 'branch', children: [{ value: -20, kind: 'leaf' }, { value: 300, kind: 'branch', children: [{ value: 4, kind: 'leaf', children: [] }] }] }],
  },
  {
    set: 'large',
    name: 'API-like record (anyOf, ranges)',
    schema: {
      type: 'object',
      properties: {
        status: { enum: ['active', 'suspended', 'deleted'] },
        page: { type: 'integer', minimum: 1, maximum: 500 },
        percent: { type: 'integer', minimum: 0, maximum: 100, multipleOf: 5 },
        owner: { anyOf: [{ type: 'null' }, { type: 'object', properties: { login: { type: 'string', maxLength: 39 }, id: { type: 'integer', minimum: 1 } }, required: ['login', 'id'] }] },
        labels: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, color: { type: 'string', pattern: '^[0-9a-f]{6}$' } }, required: ['name', 'color'] }, maxItems: 10 },
        body: { type: ['string', 'null'] },
      },
      required: ['status', 'page', 'owner'],
    },
    instances: [{ status: 'active', page: 42, percent: 85, owner: { login: 'octocat', id: 583231 }, labels: [{ name: 'bug', color: 'd73a4a' }, { name: 'help wanted', color: '008672' }], body: 'Steps to reproduce:\n1. run it\n2. see it fail' }],
  },
  {
    set: 'large',
    name: 'uniqueItems strings (tags, bounded codes, mixed scalars, emails, patterned codes)',
    schema: {
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 12 },
        codes: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 4 }, uniqueItems: true, minItems: 2 },
        mixed: { type: 'array', items: { type: ['string', 'integer', 'boolean'] }, uniqueItems: true },
        emails: { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, minItems: 2 },
        airports: { type: 'array', items: { type: 'string', pattern: '^[A-Z]{3}$' }, uniqueItems: true, minItems: 3 },
      },
      required: ['tags'],
    },
    instances: [
      {
        tags: ['search', 'local', 'embeddings', 'searching', 'loc', 'ünïcödé', 'a\\b "q"'],
        codes: ['ab', 'abc', 'x', 'é'],
        mixed: ['1', 1, true, 'true', 'one'],
        emails: ['ann@example.org', 'ann@example.org.uk', 'bob@example.org', 'an@example.org'],
        airports: ['CDG', 'LHR', 'CDA', 'JFK', 'LHX'],
      },
    ],
  },
];
