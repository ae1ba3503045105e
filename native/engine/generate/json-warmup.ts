import { TandemError } from '../common/errors.js';
import { JsonGrammar, type TokenIndex } from './json-grammar.js';
import { Rng } from './sampling.js';
import { countBits } from './token-trie.js';

/**
 * Grammar warm-up: the first masks a process computes run the grammar code unoptimized (V8 compiles
 * it as it gets hot, on the same cores) and build the per-vocabulary tables they meet first. Run
 * once when a vocabulary index is built, a few short random walks under small schemas of every kind
 * of node take that cost before the user's first constrained token instead of during it.
 *
 * These schemas are not the benchmark's (bench/grammar-bench.ts): its first-use pass measures masks
 * of schemas this warm-up never saw, over tables it did not build for them.
 */
export const WARM_SCHEMAS: readonly object[] = [
  {
    type: 'object',
    properties: {
      title: { type: 'string', maxLength: 24 },
      year: { type: 'integer', minimum: 1900, maximum: 2100 },
      score: { type: 'number' },
      open: { type: 'boolean' },
      doi: { type: ['string', 'null'], pattern: '^10\\.[0-9]{4,9}/[-._;()/:A-Za-z0-9]+$' },
      kind: { enum: ['article', 'preprint', 'thesis'] },
      authors: { type: 'array', items: { type: 'object', properties: { name: { type: 'string', maxLength: 16 }, id: { type: 'string', format: 'uuid' } }, required: ['name'] }, maxItems: 2 },
      keywords: { type: 'array', items: { type: 'string', maxLength: 10 }, uniqueItems: true, maxItems: 3 },
      updated: { type: 'string', format: 'date-time' },
      contact: { type: 'string', format: 'email' },
      extra: { type: 'object', additionalProperties: { type: 'integer' }, maxProperties: 1 },
    },
    required: ['title', 'year', 'kind'],
  },
  {
    $defs: { expr: { anyOf: [{ type: 'number', minimum: 0 }, { type: 'object', properties: { op: { enum: ['add', 'mul'] }, args: { type: 'array', items: { $ref: '#/$defs/expr' }, minItems: 1, maxItems: 2 } }, required: ['op', 'args'], additionalProperties: false }] } },
    $ref: '#/$defs/expr',
  },
  { type: 'array', items: { type: 'string', pattern: '^[a-z]{2,6}(-[0-9]+)?$' }, minItems: 1, maxItems: 3, uniqueItems: true },
  { type: 'object', patternProperties: { '^x-[a-z]+$': { type: 'integer', multipleOf: 3 } }, properties: { name: { type: 'string', format: 'hostname' } }, additionalProperties: false, maxProperties: 2 },
  {
    $schema: 'http://json-schema.org/draft-04/schema#',
    type: 'object',
    properties: { ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 }, when: { type: 'string', format: 'date' }, tags: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] } },
    oneOf: [{ required: ['ratio'] }, { required: ['when'], not: { required: ['ratio'] } }],
  },
  {
    oneOf: [
      { type: 'object', properties: { a: { type: 'integer' }, t: { const: 'x' } }, required: ['a'], additionalProperties: false },
      { type: 'object', properties: { b: { type: 'string', maxLength: 6 }, n: { type: 'null' } }, required: ['b'], additionalProperties: false },
    ],
  },
  { type: 'array', items: { type: 'integer', minimum: -50, maximum: 50 }, contains: { minimum: 5 }, minContains: 1, maxContains: 2, maxItems: 4 },
  { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string', maxLength: 8 }, { enum: [1, 'a', null, { x: 1 }, [true]] }], items: false },
  { type: 'object', dependentRequired: { a: ['b'] }, not: { required: ['z'] }, additionalProperties: { type: 'number', minimum: -5, maximum: 5 }, maxProperties: 1 },
  { type: 'object', properties: { to: { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, maxItems: 2 }, ids: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, uniqueItems: true, maxItems: 3 } }, required: ['to'] },
  { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'integer' }, { type: 'null' }, { type: 'array', items: { type: 'boolean' }, maxItems: 2 }] },
  { type: 'array', items: { enum: Array.from({ length: 30 }, (_, i) => `option-${i}`) }, uniqueItems: true, maxItems: 3 },
  { type: 'string', maxLength: 40 },
];

/** Walks per schema, and the token budget of each (the budget mask closes every walk in time). */
const WALKS = 3;
const WALK_TOKENS = 48;

export interface WarmUpReport {
  ms: number;
  schemas: number;
  masks: number;
}

/** The k-th allowed token of a mask (k below its count). */
function nthSet(mask: Uint32Array, k: number): number {
  for (let w = 0; w < mask.length; w++) {
    let bits = mask[w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      if (k-- === 0) return w * 32 + (31 - Math.clz32(low));
      bits ^= low;
    }
  }
  return -1;
}

/**
 * Walk every warm-up schema WALKS times over `index`, a token drawn at random from each budget mask,
 * and check each output that ends against its schema (an output that does not validate, or a budgeted
 * walk that does not end, is a grammar bug: INTERNAL). About 1 s in a fresh process on Qwen2.5's
 * vocabulary on 2 cores (0.3-0.5 s once the code is warm).
 */
export function warmUpGrammar(index: TokenIndex): WarmUpReport {
  const t0 = performance.now();
  const dec = new TextDecoder();
  let masks = 0;
  // A fixed seed: the warm-up does the same work every time.
  const rng = new Rng(0x9e3779b9);
  for (const schema of WARM_SCHEMAS) {
    const g = new JsonGrammar(schema, index);
    for (let w = 0; w < WALKS; w++) {
      let st = g.initial();
      const out: Uint8Array[] = [];
      for (let left = WALK_TOKENS; left > 0 && !g.isDone(st); left--) {
        const { mask } = g.maskWithin(st, left - 1);
        masks++;
        const n = countBits(mask);
        if (n === 0) break;
        const id = nthSet(mask, rng.nextU32() % n);
        const bytes = index.bytesOf(id);
        out.push(bytes);
        st = g.advance(st, bytes);
      }
      const text = dec.decode(Buffer.concat(out));
      if (g.canEnd(st)) g.check(text);
      // A vocabulary with a one-byte token for every byte (budgeted) ends every walk whose shortest instance
      // fits; others (a character model's few characters) may not: their walks only warm the code.
      else if (g.budgeted && g.minBytes <= WALK_TOKENS) throw new TandemError('INTERNAL', `grammar warm-up: a walk of ${WALK_TOKENS} tokens did not end (a budget bug): ${text}`);
    }
  }
  return { ms: performance.now() - t0, schemas: WARM_SCHEMAS.length, masks };
}
