import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canEnd, feedBytes, initialStack, stackKey, type Stack } from './json-automaton.js';
import { ShortestCompletion } from './json-budget.js';
import { JsonGrammar, TokenIndex, type GrammarState } from './json-grammar.js';
import { compileSchema } from './json-schema-compile.js';
import { Rng } from './sampling.js';

const enc = new TextEncoder();

/** Schemas covering every frame kind: literals, bounded strings, numbers, objects (declared and free keys), arrays, unions, recursion. */
const SCHEMAS: Record<string, object> = {
  person: {
    type: 'object',
    properties: { name: { type: 'string', minLength: 3, maxLength: 8 }, age: { type: 'integer' }, email: { type: 'string' }, role: { enum: ['admin', 'user', 'guest'] } },
    required: ['name', 'age'],
  },
  optionalOnly: { type: 'object', properties: { a: { type: 'string', minLength: 4 }, bb: { type: 'number' }, c: { enum: [true, 'long value'] } } },
  requiredLast: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'boolean' }, c: { const: 'xyz' } }, required: ['c'] },
  arrays: { type: 'array', items: { type: 'array', items: { type: 'string', minLength: 2 }, minItems: 2, maxItems: 3 }, minItems: 2, maxItems: 4 },
  union: { anyOf: [{ type: 'object', properties: { k: { const: 'long-name' } }, required: ['k'] }, { type: 'array', items: { type: 'integer' }, minItems: 3 }, { type: 'number' }] },
  freeKeys: { type: 'object', additionalProperties: { type: 'array', items: { enum: ['é', 'x'] }, minItems: 1 } },
  anything: {},
  tree: {
    $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' }, minItems: 1, maxItems: 2 } }, required: ['v'] } },
    $ref: '#/$defs/node',
  },
  deep: {
    type: 'object',
    properties: {
      a: {
        type: 'object',
        properties: { b: { type: 'object', properties: { c: { type: 'object', properties: { d: { type: 'string', minLength: 5 } }, required: ['d'] } }, required: ['c'] } },
        required: ['b'],
      },
    },
    required: ['a'],
  },
  topNumber: { type: 'number' },
  propCounts: { type: 'object', properties: { a: { type: 'integer' }, bb: { type: 'string' }, c: { type: 'boolean' }, d: { enum: ['long value'] } }, required: ['c'], minProperties: 2, maxProperties: 3 },
  mapCounts: { type: 'object', additionalProperties: { type: 'integer' }, minProperties: 2, maxProperties: 3 },
  patternKeys: { type: 'object', patternProperties: { '^/[a-z]{2,}$': { type: 'integer', minimum: 10 }, '^x-': {} }, additionalProperties: false, minProperties: 2, maxProperties: 3 },
  namedKeys: { type: 'object', propertyNames: { pattern: '^[A-Z]{3}$' }, additionalProperties: { type: 'boolean' }, minProperties: 1 },
  uniqueEnum: { type: 'array', items: { enum: ['a', 'bb', 'ccc', 1, 10, 100] }, uniqueItems: true, minItems: 3 },
  dependents: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string', minLength: 2 }, c: { enum: [true] }, d: { type: 'null' } }, dependentRequired: { c: ['a'], a: ['b'], d: ['b'] }, minProperties: 1, maxProperties: 3 },
  contains: { type: 'array', items: { enum: ['a', 'bbbb', 7, 'xx'] }, contains: { enum: ['bbbb', 'xx'] }, minContains: 2, maxContains: 3, maxItems: 5 },
  tuple: { type: 'array', prefixItems: [{ const: 'long value' }, { type: 'integer', minimum: 100 }, { type: 'boolean' }], items: { type: 'string', minLength: 2 }, minItems: 2 },
  ifThenElse: { type: 'object', properties: { kind: { enum: ['a', 'bb'] }, x: { type: 'string', minLength: 3 }, y: { type: 'integer' } }, required: ['kind'], if: { properties: { kind: { const: 'a' } } }, then: { required: ['x'] }, else: { required: ['y'], properties: { x: false } } },
  uniqueStrings: { type: 'array', items: { type: 'string', maxLength: 2 }, uniqueItems: true, minItems: 3 },
  uniqueNumbers: { type: 'array', items: { type: 'number' }, uniqueItems: true, minItems: 11 },
  uniqueMixed: { type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'string', minLength: 1 }, { enum: [true, null, 'é', 2.5] }] }, uniqueItems: true, minItems: 4 },
  uniqueRanged: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 12 }, uniqueItems: true, minItems: 11 },
  uniqueRangedSigned: { type: 'array', items: { type: 'integer', minimum: -12, maximum: 25, multipleOf: 3 }, uniqueItems: true, minItems: 10 },
  uniqueRangedUnion: { type: 'array', items: { anyOf: [{ type: 'integer', minimum: 5, maximum: 15 }, { type: 'integer', minimum: 10, maximum: 20, multipleOf: 2 }, { enum: [true, 7, 'x'] }, { type: 'string', maxLength: 1 }] }, uniqueItems: true, minItems: 6 },
  notAndDeps: { type: 'object', properties: { p: { type: 'integer' }, q: { not: { type: ['boolean', 'null'] } }, r: { type: 'string' } }, dependentSchemas: { p: { required: ['r'], properties: { r: { minLength: 4 } } } } },
  // Bounded non-integer numbers (json-num-range.ts): every exclusive combination, negative ranges, inside (0,1), straddling 0, narrower than 1.
  boundedUnit: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 4 },
  boundedOpen: { type: 'object', properties: { p: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, q: { type: 'number', minimum: 0.25, exclusiveMaximum: 0.5 } }, required: ['p', 'q'] },
  boundedNegative: { type: 'array', items: { anyOf: [{ type: 'number', exclusiveMinimum: -10.5, maximum: -3.25 }, { type: 'null' }] }, minItems: 1 },
  boundedNarrow: { type: 'object', properties: { a: { type: ['number', 'null'], minimum: 2.5, maximum: 2.75 }, b: { type: 'number', minimum: 10, maximum: 10.5 } }, required: ['a', 'b'] },
  boundedDraft04: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'array', items: { type: 'number', minimum: -1.5, exclusiveMinimum: true, maximum: 2, exclusiveMaximum: true }, minItems: 1 },
  boundedStraddle: { type: 'number', minimum: -90, maximum: 90 },
};

const ALL_BYTES = Array.from({ length: 256 }, (_, b) => b);

function next(state: readonly Stack[], b: number): Stack[] {
  return feedBytes(state, Uint8Array.of(b));
}

describe('shortest completions (json-budget.ts)', () => {
  test('the shortest instance of each schema, by hand', () => {
    const min = (s: object): number => new ShortestCompletion(compileSchema(s)).of(initialStack(compileSchema(s)));
    assert.equal(min(SCHEMAS.person!), '{"name":"abc","age":0}'.length);
    assert.equal(min(SCHEMAS.optionalOnly!), '{}'.length);
    assert.equal(min(SCHEMAS.requiredLast!), '{"c":"xyz"}'.length);
    assert.equal(min(SCHEMAS.arrays!), '[["ab","ab"],["ab","ab"]]'.length);
    assert.equal(min(SCHEMAS.union!), 1, 'a one-digit number');
    assert.equal(min(SCHEMAS.tree!), '{"v":0}'.length);
    assert.equal(min(SCHEMAS.deep!), '{"a":{"b":{"c":{"d":"abcde"}}}}'.length);
    assert.equal(min(SCHEMAS.propCounts!), '{"a":0,"c":true}'.length, 'minProperties: a second property');
    assert.equal(min(SCHEMAS.mapCounts!), '{"":0,"":0}'.length, 'minProperties of a map');
    assert.equal(min(SCHEMAS.patternKeys!), '{"x-":10,"x-":10}'.length, 'keys under patternProperties: the shortest key a pattern allows, values meeting every pattern');
    assert.equal(min(SCHEMAS.namedKeys!), '{"AAA":true}'.length, 'keys under propertyNames');
    assert.equal(min(SCHEMAS.uniqueEnum!), '["a",1,10]'.length, 'uniqueItems: the three shortest distinct values');
    assert.equal(min(SCHEMAS.uniqueRanged!), '[1,2,3,4,5,6,7,8,9,10,11]'.length, 'uniqueItems of 1..12: nine one-digit values, two of two');
    assert.equal(min(SCHEMAS.uniqueRangedSigned!), '[0,3,6,9,12,15,18,21,24,-3]'.length, 'multiples of 3 in -12..25');
    assert.equal(min(SCHEMAS.uniqueRangedUnion!), '[5,6,7,8,9,""]'.length);
    assert.equal(min({ type: 'object', properties: { x: { $ref: '#' } }, required: ['x'] }), Infinity, 'a required self-reference has no finite instance');
  });

  test('exact along random walks: 0 where the value may end, else 1 + the best next byte (the Bellman equation of the true distance)', () => {
    const rng = new Rng(7);
    let checked = 0;
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      for (let walk = 0; walk < 25; walk++) {
        let state: Stack[] = [initialStack(root)];
        for (let step = 0; step < 80 && state.length > 0; step++) {
          const here = sc.ofState(state);
          const succ = ALL_BYTES.map((b) => next(state, b));
          const best = Math.min(...succ.map((s) => (s.length ? sc.ofState(s) : Infinity)));
          if (state.some(canEnd)) assert.equal(here, 0, `${name}: may end here, shortest 0`);
          else assert.equal(here, 1 + best, `${name} step ${step}: shortest ${here} = 1 + min over next bytes (${best})`);
          checked++;
          const live = succ.filter((s) => s.length > 0);
          if (live.length === 0) break;
          // Half the time the shortest way, else any byte: long walks and ends both get visited.
          const pick = rng.next() < 0.5 ? succ.find((s) => s.length > 0 && sc.ofState(s) === best)! : live[Math.floor(rng.next() * live.length)]!;
          state = pick;
        }
      }
    }
    assert.ok(checked > 2000, `${checked} states checked`);
  });
});

/** Every state of a finite automaton (dedup by key) and its true distance to an end, by a backward BFS over the whole graph. */
function trueDistances(root: Stack[], limit: number): Array<{ state: Stack[]; dist: number }> {
  const keyOf = (st: Stack[]): string => st.map(stackKey).sort().join('\n');
  const states: Stack[][] = [];
  const index = new Map<string, number>();
  const preds: number[][] = [];
  const add = (st: Stack[]): number => {
    const k = keyOf(st);
    let i = index.get(k);
    if (i === undefined) {
      i = states.length;
      index.set(k, i);
      states.push(st);
      preds.push([]);
    }
    return i;
  };
  add(root);
  for (let i = 0; i < states.length; i++) {
    assert.ok(states.length <= limit, `at most ${limit} states`);
    for (const b of ALL_BYTES) {
      const s = next(states[i]!, b);
      if (s.length) preds[add(s)]!.push(i);
    }
  }
  const dist = states.map((st) => (st.some(canEnd) ? 0 : Infinity));
  let frontier = dist.flatMap((d, i) => (d === 0 ? [i] : []));
  for (let d = 1; frontier.length; d++) {
    const nextFrontier: number[] = [];
    for (const i of frontier) {
      for (const p of preds[i]!) {
        if (dist[p] === Infinity) {
          dist[p] = d;
          nextFrontier.push(p);
        }
      }
    }
    frontier = nextFrontier;
  }
  return states.map((state, i) => ({ state, dist: dist[i]! }));
}

describe('uniqueItems of bounded integers: shortest completions = the true distance over every state', () => {
  const CASES: Record<string, object> = {
    oneToSix: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 6 }, uniqueItems: true, minItems: 5 },
    minItemsIsTheRange: { type: 'array', items: { type: 'integer', minimum: 8, maximum: 12 }, uniqueItems: true, minItems: 5 },
    signedMultiples: { type: 'array', items: { type: 'integer', minimum: -4, maximum: 4, multipleOf: 2 }, uniqueItems: true, minItems: 4 },
    twoDigits: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 13, multipleOf: 4 }, uniqueItems: true, minItems: 2, maxItems: 3 },
    unionWithLiterals: { type: 'array', items: { anyOf: [{ type: 'integer', minimum: 8, maximum: 11 }, { type: 'integer', minimum: 10, maximum: 20, multipleOf: 5 }, { enum: [9, true, 'ab'] }] }, uniqueItems: true, minItems: 5 },
    negativeOnly: { type: 'array', items: { type: 'integer', minimum: -11, maximum: 0 }, uniqueItems: true, minItems: 3, maxItems: 4 },
  };
  for (const [name, schema] of Object.entries(CASES)) {
    test(name, () => {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      const all = trueDistances([initialStack(root)], 20000);
      for (const { state, dist } of all) assert.equal(sc.ofState(state), dist, `${name}: ${state.map(stackKey).join(' / ')}`);
      assert.ok(all.every(({ dist }) => dist < Infinity), `${name}: no dead end (${all.length} states)`);
    });
  }
});

/** A plain JSON number as the bounded automaton writes it (at most 15 integer and 15 fraction digits, no exponent). */
const PLAIN = /^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?$/;

describe('bounded numbers: every prefix up to 5 bytes (4 for one-sided bounds) against ajv\'s comparisons and the true distance', () => {
  // Each case: the schema and ajv's check of a value, written independently of json-num-range.ts.
  const CASES: Array<[string, object, (v: number) => boolean, number?]> = [
    ['[0, 1]', { type: 'number', minimum: 0, maximum: 1 }, (v) => v >= 0 && v <= 1],
    ['(0, 1)', { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, (v) => v > 0 && v < 1],
    ['[0.25, 0.5)', { type: 'number', minimum: 0.25, exclusiveMaximum: 0.5 }, (v) => v >= 0.25 && v < 0.5],
    ['(-10.5, -3.25]', { type: 'number', exclusiveMinimum: -10.5, maximum: -3.25 }, (v) => v > -10.5 && v <= -3.25],
    ['[2.5, 2.75]', { type: 'number', minimum: 2.5, maximum: 2.75 }, (v) => v >= 2.5 && v <= 2.75],
    ['[10, 10.5]', { type: 'number', minimum: 10, maximum: 10.5 }, (v) => v >= 10 && v <= 10.5],
    ['[-90, 90]', { type: 'number', minimum: -90, maximum: 90 }, (v) => v >= -90 && v <= 90],
    ['draft-04 (-1.5, 2)', { $schema: 'http://json-schema.org/draft-04/schema#', type: 'number', minimum: -1.5, exclusiveMinimum: true, maximum: 2, exclusiveMaximum: true }, (v) => v > -1.5 && v < 2],
    ['> 0.05', { type: 'number', exclusiveMinimum: 0.05 }, (v) => v > 0.05, 4],
    ['<= -0.5', { type: 'number', maximum: -0.5 }, (v) => v <= -0.5, 4],
  ];
  const ALPHABET = [...'-0123456789.eE+'].map((c) => c.charCodeAt(0));
  for (const [name, schema, ok, depth = 5] of CASES) {
    test(name, () => {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      let live = 0;
      let complete = 0;
      // Every string over the number's characters up to 5 bytes, with the automaton's state alongside (empty once it died).
      const walk = (text: string, state: Stack[]): void => {
        if (state.length) {
          live++;
          const here = sc.ofState(state);
          assert.ok(here < Infinity, `${name}: ${text} is alive, so it has a completion`);
          // A top-level number takes nothing but these bytes.
          const best = Math.min(...ALPHABET.map((b) => {
            const s = next(state, b);
            return s.length ? sc.ofState(s) : Infinity;
          }));
          if (state.some(canEnd)) assert.equal(here, 0, `${name}: ${text} may end`);
          else assert.equal(here, 1 + best, `${name}: ${text}: shortest ${here} = 1 + the best next byte (${best})`);
        }
        if (text.length && PLAIN.test(text)) {
          complete++;
          assert.equal(state.some(canEnd), ok(Number(text)), `${name}: ${text} ends here iff ajv's comparisons pass`);
        } else if (text.length) assert.ok(!state.some(canEnd), `${name}: ${text} is no plain number`);
        if (text.length === depth) return;
        for (const b of ALPHABET) walk(text + String.fromCharCode(b), state.length ? next(state, b) : state);
      };
      walk('', [initialStack(root)]);
      assert.ok(live > 50 && complete > 1000, `${live} live prefixes, ${complete} plain numbers checked`);
    });
  }
});

/** A byte-level toy vocabulary: every byte alone, plus multi-byte JSON-ish pieces (so tokens can overshoot a budget). */
function toyVocab(): Uint8Array[] {
  const pieces = ['{"', '":', '",', '"}', '},', '}]', ']}', '[{', '[[', ']]', '{}', '[]', 'true', 'false', 'null', 'name', 'age', '"name":"', '"age":', 'admin', 'abc', 'hello world', '12', '3.5', 'e+', '","', '":"', '0,', '1]', 'kids', '"v":', '"kids":[{', '{"a":{"b":{"c":{"d":"', '\\u00', 'é', 'long', 'long-name'];
  return [...ALL_BYTES.map((b) => Uint8Array.of(b)), ...pieces.map((p) => enc.encode(p))];
}

describe('the budget mask (JsonGrammar.maskWithin) on a toy byte-level vocabulary', () => {
  const vocab = toyVocab();
  const index = new TokenIndex(vocab);
  const ids = (mask: Uint32Array): number[] => vocab.map((_, id) => id).filter((id) => (mask[id >>> 5]! & (1 << (id & 31))) !== 0);

  test('= brute force: token t is kept iff it is valid and the shortest completion after it fits in the tokens left', () => {
    const rng = new Rng(3);
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const g = new JsonGrammar(schema, index, { lenient: true }); // lenient: free-form maps needing two keys (duplicates are not prevented)
      for (let walk = 0; walk < 5; walk++) {
        let state: GrammarState = g.initial();
        for (let step = 0; step < 40 && !g.isDone(state); step++) {
          const here = g.shortestFrom(state);
          for (const left of [here - 1, here, here + 1, here + 5, 1000]) {
            if (left < 0) continue;
            const got = ids(g.maskWithin(state, left).mask);
            const want = vocab.map((_, id) => id).filter((id) => {
              const after = g.advance(state, vocab[id]!);
              return after.length > 0 && g.shortestFrom(after) <= left;
            });
            assert.deepEqual(got, want, `${name}, left ${left}`);
          }
          const allowed = ids(g.mask(state));
          if (allowed.length === 0) break;
          state = g.advance(state, vocab[allowed[Math.floor(rng.next() * allowed.length)]!]!);
        }
      }
    }
  });

  test('random decoding at a budget of exactly the shortest instance (and a little more) always ends complete', () => {
    const rng = new Rng(11);
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const g = new JsonGrammar(schema, index, { lenient: true }); // lenient: free-form maps needing two keys (duplicates are not prevented)
      assert.ok(g.budgeted, 'every byte is a token');
      for (const extra of [0, 1, 3, 10]) {
        const budget = g.minBytes + extra;
        for (let run = 0; run < 30; run++) {
          let state: GrammarState = g.initial();
          let used = 0;
          let forced = false;
          while (!g.isDone(state) && used < budget) {
            const { mask, forced: f } = g.maskWithin(state, budget - used - 1);
            forced ||= f;
            const allowed = ids(mask);
            if (allowed.length === 0) {
              assert.ok(g.canEnd(state), `${name}: a token is always allowed, or the value may end (EOS)`);
              break;
            }
            // End early sometimes where the value may end (an EOS).
            if (g.canEnd(state) && rng.next() < 0.2) break;
            state = g.advance(state, vocab[allowed[Math.floor(rng.next() * allowed.length)]!]!);
            used++;
          }
          assert.ok(g.canEnd(state), `${name} +${extra} run ${run}: complete within ${budget} tokens`);
          if (extra === 0 && used === budget && g.minBytes > 2) assert.ok(forced, 'at a budget of exactly the shortest instance, a run that wandered was forced');
        }
      }
    }
  });
});

describe('uniqueItems of strings under a pattern: shortest completions', () => {
  test('a finite language (^[ab]{1,2}$, 6 values): the true distance over every state', () => {
    for (const schema of [
      { type: 'array', items: { type: 'string', pattern: '^[ab]{1,2}$' }, uniqueItems: true, minItems: 5 },
      { type: 'array', items: { type: 'string', pattern: '^[ab]{1,2}$' }, uniqueItems: true, minItems: 6 },
    ]) {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      const all = trueDistances([initialStack(root)], 20000);
      for (const { state, dist } of all) assert.equal(sc.ofState(state), dist, state.map(stackKey).join(' / '));
      // Dead ends only inside an escape begun after a full value (a pattern string takes '\' before knowing what it escapes).
      const dead = all.filter(({ dist, state }) => dist === Infinity && !state.every((s) => s.f.k === 'U' && s.f.s.esc > 0));
      assert.deepEqual(dead.map(({ state }) => state.map(stackKey).join(' / ')), [], `no other dead end (${all.length} states)`);
    }
  });
  test('infinite languages (email, ^[a-c]+@x$, non-ASCII): 1 + the best next byte along random walks', () => {
    const rng = new Rng(3);
    let checked = 0;
    for (const schema of [
      { type: 'array', items: { type: 'string', pattern: '^[a-c]+@x$' }, uniqueItems: true, minItems: 4 },
      { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, minItems: 3 },
      { type: 'array', items: { anyOf: [{ type: 'string', pattern: '^[A-C]{2}$' }, { type: 'integer' }, { const: 'AB' }] }, uniqueItems: true, minItems: 11 },
      { type: 'array', items: { type: 'string', pattern: '^é[αβ]?$' }, uniqueItems: true, minItems: 2 },
    ]) {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      for (let walk = 0; walk < 12; walk++) {
        let state: Stack[] = [initialStack(root)];
        for (let step = 0; step < 50 && state.length > 0; step++) {
          const here = sc.ofState(state);
          const succ = ALL_BYTES.map((b) => next(state, b));
          const best = Math.min(...succ.map((s) => (s.length ? sc.ofState(s) : Infinity)));
          if (state.some(canEnd)) assert.equal(here, 0);
          else assert.equal(here, 1 + best, state.map(stackKey).join(' / '));
          checked++;
          const live = succ.filter((s) => s.length > 0 && sc.ofState(s) < Infinity);
          if (live.length === 0) break;
          state = rng.next() < 0.6 ? succ.find((s) => s.length > 0 && sc.ofState(s) === best)! : live[Math.floor(rng.next() * live.length)]!;
        }
      }
    }
    assert.ok(checked > 1000, `${checked} states checked`);
  });
});

describe('pattern strings inside an escape or a UTF-8 character: shortest completions = 1 + the best next byte', () => {
  // After '\' an email's domain takes no short escape ('/' is not in it): only \uXXXX, five bytes; inside
  // \uXXXX or a UTF-8 sequence only the code points the digits / bytes so far begin count.
  const cases: Array<[string, object, string[]]> = [
    ['email domain', { type: 'string', format: 'email' }, ['"a@', '"a@b.', '"a']],
    ['digits', { type: 'string', pattern: '^[0-9]{2,3}$' }, ['"', '"1']],
    ['slash or a', { type: 'string', pattern: '^(/|a)b$' }, ['"']],
    ['non-ASCII', { type: 'string', pattern: '^(é|日本|x)+!$' }, ['"', '"x']],
    ['pattern in an object', { type: 'object', properties: { host: { type: 'string', format: 'hostname' }, n: { type: 'integer' } }, required: ['host', 'n'] }, ['{"host":"a']],
  ];
  for (const [name, schema, starts] of cases) {
    test(name, () => {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      let checked = 0;
      let inside = 0;
      for (const start of starts) {
        // Breadth first from the start, through '\' and UTF-8 lead bytes first: every state up to 7 bytes past it.
        let layer: Stack[][] = [feedBytes([initialStack(root)], new TextEncoder().encode(start))];
        assert.ok(layer[0]!.length > 0, `${name}: ${start} is a valid prefix`);
        const seen = new Set<string>();
        for (let depth = 0; depth < 7 && layer.length; depth++) {
          const nextLayer: Stack[][] = [];
          for (const state of layer) {
            const key = state.map(stackKey).join('\n');
            if (seen.has(key)) continue;
            seen.add(key);
            const here = sc.ofState(state);
            const succ = ALL_BYTES.map((b) => next(state, b));
            const best = Math.min(...succ.map((s) => (s.length ? sc.ofState(s) : Infinity)));
            if (state.some(canEnd)) assert.equal(here, 0, `${name}: may end here`);
            else assert.equal(here, 1 + best, `${name} after ${start} + ${depth} bytes (${key}): shortest ${here} = 1 + ${best}`);
            checked++;
            if (state.some((s) => s.f.k === 'S' && (s.f.esc > 0 || s.f.need > 0))) inside++;
            // Escapes and multi-byte characters, plus two plain bytes: the layers stay small.
            const bytes = [0x5c, 0x75, 0x30, 0x44, 0x46, 0x2f, 0x62, 0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0x61, 0x2e];
            for (const b of bytes) {
              const s = next(state, b);
              if (s.length) nextLayer.push(s);
            }
          }
          layer = nextLayer;
        }
      }
      assert.ok(inside > 5, `${name}: states inside an escape or a character were checked (${inside} of ${checked})`);
    });
  }
});

describe('pattern strings with a minLength the shortest match does not reach: the true distance', () => {
  // ^(ab)+$ with minLength 3 needs abab (4 bytes), ^(é)+$ with minLength 2 needs éé (4 bytes): the pattern's bytes for at least that many characters.
  const bytes = (s: string): number => new TextEncoder().encode(s).length;
  const cases: Array<[string, object, number]> = [
    ['(ab)+, minLength 3', { type: 'string', pattern: '^(ab)+$', minLength: 3 }, bytes('"abab"')],
    ['é+, minLength 2', { type: 'string', pattern: '^é+$', minLength: 2 }, bytes('"éé"')],
    ['a|bcd, minLength 2', { type: 'string', pattern: '^(a|bcd)$', minLength: 2 }, bytes('"bcd"')],
    ['in an object', { type: 'object', properties: { k: { type: 'string', pattern: '^(xy)+$', minLength: 5 } }, required: ['k'] }, bytes('{"k":"xyxyxy"}')],
  ];
  for (const [name, schema, shortest] of cases) {
    test(name, () => {
      const root = compileSchema(schema);
      const sc = new ShortestCompletion(root);
      assert.equal(sc.of(initialStack(root)), shortest, `${name}: the shortest instance`);
      // Every state reachable by the shortest instance's bytes and a few others: 1 + the best next byte.
      let layer: Stack[][] = [[initialStack(root)]];
      let checked = 0;
      const seen = new Set<string>();
      for (let depth = 0; depth < 9 && layer.length; depth++) {
        const nextLayer: Stack[][] = [];
        for (const state of layer) {
          const key = state.map(stackKey).join('\n');
          if (seen.has(key)) continue;
          seen.add(key);
          const succ = ALL_BYTES.map((b) => next(state, b));
          const best = Math.min(...succ.map((s) => (s.length ? sc.ofState(s) : Infinity)));
          const here = sc.ofState(state);
          if (state.some(canEnd)) assert.equal(here, 0);
          else assert.equal(here, 1 + best, `${name} (${key}): ${here} = 1 + ${best}`);
          checked++;
          for (const s of succ) if (s.length) nextLayer.push(s);
        }
        layer = nextLayer.slice(0, 400);
      }
      assert.ok(checked > 5);
    });
  }
});
