import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isTandemError } from '../common/errors.js';
import { sharedOrSkip } from '../../testing/shared.js';
import { canEnd, feedBytes, initialStack } from './json-automaton.js';
import { JsonGrammar, TokenIndex, type GrammarState } from './json-grammar.js';
import { compileSchema } from './json-schema-compile.js';
import { allowed, Rng } from './sampling.js';
import { countBits } from './token-trie.js';
import { HfVocab } from './vocab.js';

const enc = new TextEncoder();
const bytesOf = (s: string): Uint8Array => enc.encode(s);

/** Does the schema's automaton accept `text` as a complete value? */
function accepts(schema: object, text: string | Uint8Array): boolean {
  const st = feedBytes([initialStack(compileSchema(schema))], typeof text === 'string' ? bytesOf(text) : text);
  return st.some(canEnd);
}

/** Is `text` a prefix the automaton can still extend? */
function livePrefix(schema: object, text: string): boolean {
  return feedBytes([initialStack(compileSchema(schema))], bytesOf(text)).length > 0;
}

const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 8 },
    age: { type: 'integer' },
    email: { type: 'string' },
    role: { enum: ['admin', 'user', 'guest'] },
  },
  required: ['name', 'age'],
};

describe('the JSON automaton', () => {
  test('objects: required and optional properties in declared order, closing only when complete', () => {
    assert.ok(accepts(PERSON, '{"name":"Ada","age":36}'), 'required only');
    assert.ok(accepts(PERSON, '{"name":"Ada","age":36,"email":"a@b.c","role":"admin"}'), 'all properties');
    assert.ok(accepts(PERSON, '{"name":"Ada","age":36,"role":"guest"}'), 'an optional one skipped');
    assert.ok(!accepts(PERSON, '{"name":"Ada"}'), 'a missing required property');
    assert.ok(!livePrefix(PERSON, '{"age":'), 'a required property cannot be skipped');
    assert.ok(!livePrefix(PERSON, '{"name":"Ada","age":1,"name"'), 'no repeated or out-of-order keys');
    assert.ok(!livePrefix(PERSON, '{"name":"Ada","age":1,"other"'), 'no undeclared keys');
    assert.ok(!livePrefix(PERSON, '{"name":"Ada","age":1,"role":"root"'), 'enum values only');
    assert.ok(!livePrefix(PERSON, '{ "name"'), 'no whitespace between tokens');
    assert.ok(!accepts(PERSON, '{"name":"","age":1}'), 'minLength');
    assert.ok(!livePrefix(PERSON, '{"name":"abcdefghi'), 'maxLength');
    assert.ok(!livePrefix(PERSON, '{"name":"Ada","age":1.5'), 'an integer has no fraction');
    assert.ok(!livePrefix(PERSON, '{"name":"Ada","age":1,}'), 'no trailing comma');
  });

  test('strings: escapes, UTF-8 and lengths in characters', () => {
    const s = { type: 'string' };
    assert.ok(accepts(s, String.raw`"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC"`), 'every JSON escape');
    assert.ok(accepts(s, '"héllo 🧬 日本"'), 'multi-byte characters');
    assert.ok(!livePrefix(s, String.raw`"\ud83d`), 'no surrogate escapes');
    assert.ok(!livePrefix(s, String.raw`"\x`), 'no unknown escapes');
    assert.ok(!livePrefix(s, '"a\nb'), 'no raw control characters');
    assert.ok(!livePrefix(s, '"\u0001'), 'no raw control characters (U+0001)');
    assert.ok(!accepts(s, Uint8Array.of(0x22, 0xc0, 0x80, 0x22)), 'no overlong UTF-8');
    assert.ok(!accepts(s, Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22)), 'no UTF-8-encoded surrogates');
    assert.ok(!accepts(s, Uint8Array.of(0x22, 0xf5, 0x80, 0x80, 0x80, 0x22)), 'nothing above U+10FFFF');
    assert.ok(!accepts(s, Uint8Array.of(0x22, 0xe2, 0x82, 0x22)), 'no truncated characters');
    const short = { type: 'string', maxLength: 3 };
    assert.ok(accepts(short, '"é🧬\\n"'), 'three characters, however many bytes');
    assert.ok(!livePrefix(short, '"abc\\n'), 'an escape counts as one more character');
  });

  test('numbers, booleans, null, enums and unions', () => {
    for (const n of ['0', '-0', '12', '-3.25', '1e5', '2.5E-3', '-0.5e+10']) assert.ok(accepts({ type: 'number' }, n), `number ${n}`);
    for (const n of ['01', '1.', '.5', '+1', '1e', '--1', '1e999']) assert.ok(!accepts({ type: 'number' }, n), `not a number: ${n}`);
    assert.ok(accepts({ type: 'integer' }, '-42') && !accepts({ type: 'integer' }, '4e2'), 'integers have no exponent');
    assert.ok(accepts({ type: 'boolean' }, 'false') && !accepts({ type: 'boolean' }, 'fals'), 'booleans');
    assert.ok(accepts({ enum: [1, 12, 'x', null, { a: [1] }] }, '12') && accepts({ enum: [1, 12] }, '1'), 'enum values sharing a prefix');
    assert.ok(accepts({ enum: [{ a: [1] }] }, '{"a":[1]}'), 'object enum values in compact JSON');
    assert.ok(accepts({ const: 'only' }, '"only"') && !accepts({ const: 'only' }, '"other"'), 'const');
    const u = { anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'array', items: { type: 'integer' } }] };
    assert.ok(accepts(u, 'null') && accepts(u, '"s"') && accepts(u, '[1,2]') && !accepts(u, '[1.5]'), 'anyOf');
    assert.ok(accepts({ type: ['integer', 'null'] }, 'null') && accepts({ type: ['integer', 'null'] }, '7'), 'type lists');
  });

  test('arrays with item counts, nested objects, maps, $ref recursion and "any"', () => {
    const arr = { type: 'array', items: { enum: ['a', 'b'] }, minItems: 1, maxItems: 2 };
    assert.ok(accepts(arr, '["a"]') && accepts(arr, '["a","b"]'), 'one or two items');
    assert.ok(!accepts(arr, '[]') && !livePrefix(arr, '["a","b",'), 'minItems and maxItems');
    const nested = { type: 'object', properties: { p: { type: 'object', properties: { q: { type: 'array', items: { type: 'object', properties: { r: { type: 'number' } }, required: ['r'] } } }, required: ['q'] } }, required: ['p'] };
    assert.ok(accepts(nested, '{"p":{"q":[{"r":1},{"r":-2.5}]}}'), 'nested objects and arrays');
    const map = { type: 'object', additionalProperties: { type: 'integer' } };
    assert.ok(accepts(map, '{"x":1,"y z":2}') && !accepts(map, '{"x":"1"}'), 'a map of integers');
    const tree = { $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v'] } }, $ref: '#/$defs/node' };
    assert.ok(accepts(tree, '{"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]}'), 'a recursive $ref');
    assert.ok(accepts({}, '{"a":[1,"x",{"b":null}],"c":true}') && accepts(true as unknown as object, '3'), 'any value');
  });

  test('unsupported keywords and impossible schemas are refused up front', () => {
    for (const [schema, re] of [
      [{ type: 'integer', if: { multipleOf: 2 }, then: { maximum: 2 } }, /unsupported keyword "if" at \(root\)/],
      [{ type: 'object', properties: { a: { not: { multipleOf: 2 } } } }, /unsupported keyword "not" at \/properties\/a /],
      [{ $ref: 'http://example.com/s.json' }, /unsupported keyword "\$ref" at \(root\).*remote references are not fetched/],
      [{ enum: [] }, /enum is empty/],
      [{ type: 'array', minItems: 3, maxItems: 1 }, /no value is valid/],
      [{ type: 'wat' }, /unknown type/],
    ] as const) {
      assert.throws(() => compileSchema(schema), (e: unknown) => isTandemError(e, 'INVALID_ARGUMENT') && re.test(e.message), JSON.stringify(schema));
    }
  });
});

/** A small vocabulary with the awkward cases: multi-byte pieces, partial UTF-8, escapes, structural runs. */
function toyVocab(): Array<Uint8Array | null> {
  const pieces: Array<string | Uint8Array> = [];
  for (let c = 0x20; c < 0x7f; c++) pieces.push(String.fromCharCode(c));
  pieces.push('\n', '\t', '{"', '":', '",', '"}', '"]', '":"', '","', '},{', '}]', '}}', '],"', '[{"', '["', 'true', 'false', 'null', 'nul', 'tr', '12', '3.', '.5', 'e-', 'E+');
  pieces.push('\\n', '\\"', '\\\\', '\\u00', '\\ud8', 'e9', 'é', '🧬', '日本', ' the', 'ing', 'admin', 'user', 'guest', '"name', '"age', 'name', 'age', 'email', 'role', '"role":"', '"age":', ' "');
  pieces.push(Uint8Array.of(0xc3), Uint8Array.of(0xa9), Uint8Array.of(0xf0, 0x9f), Uint8Array.of(0xa7, 0xac), Uint8Array.of(0xed, 0xa0), Uint8Array.of(0x80));
  const out: Array<Uint8Array | null> = pieces.map((p) => (typeof p === 'string' ? bytesOf(p) : p));
  out.push(null, null); // ids with no bytes (special tokens)
  return out;
}

/** Brute force: token t is allowed iff feeding its bytes leaves a live configuration. */
function bruteMask(state: GrammarState, vocab: ReadonlyArray<Uint8Array | null>): Set<number> {
  const s = new Set<number>();
  vocab.forEach((b, id) => {
    if (b && b.length > 0 && feedBytes(state, b).length > 0) s.add(id);
  });
  return s;
}

function maskSet(mask: Uint32Array, size: number): Set<number> {
  const s = new Set<number>();
  for (let id = 0; id < size; id++) if (allowed(mask, id)) s.add(id);
  return s;
}

const WALK_SCHEMAS: object[] = [
  PERSON,
  { type: 'array', items: { type: 'object', properties: { k: { enum: ['a', 'ab', 'b'] }, v: { type: 'number' } }, required: ['k'] }, maxItems: 3 },
  { type: 'object', properties: { s: { type: 'string', maxLength: 4 }, t: { anyOf: [{ type: 'null' }, { type: 'boolean' }, { type: 'string' }] } }, required: ['s', 't'] },
  { type: 'object', additionalProperties: { type: 'integer' } },
];

describe('token masks', () => {
  test('the trie walk (with the plain-string shortcut) allows exactly the tokens a brute-force check allows, along random walks', () => {
    const vocab = toyVocab();
    const index = new TokenIndex(vocab);
    const rng = new Rng(7);
    let states = 0;
    let completed = 0;
    for (const schema of WALK_SCHEMAS) {
      const g = new JsonGrammar(schema, index);
      for (let walk = 0; walk < 12; walk++) {
        let st = g.initial();
        let text = '';
        const dec = new TextDecoder();
        for (let step = 0; step < 60 && !g.isDone(st); step++) {
          const m = g.mask(st);
          const want = bruteMask(st, vocab);
          assert.deepEqual(maskSet(m, vocab.length), want, `mask after ${JSON.stringify(text)} under ${JSON.stringify(schema).slice(0, 60)}`);
          states++;
          const ids = [...want];
          assert.ok(ids.length > 0, `some token is always allowed (after ${JSON.stringify(text)})`);
          const id = ids[Math.floor(rng.next() * ids.length)]!;
          st = g.advance(st, vocab[id]!);
          text += dec.decode(vocab[id]!, { stream: true });
        }
        if (g.isDone(st)) {
          completed++;
          assert.doesNotThrow(() => g.check(text), `a completed walk parses and validates: ${text}`);
        }
      }
    }
    assert.ok(states > 200, `${states} states compared`);
    assert.ok(completed > 5, `${completed} walks completed`);
  });

  test('masks are cached per state and never include ids without bytes', () => {
    const vocab = toyVocab();
    const g = new JsonGrammar({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, new TokenIndex(vocab));
    let st = g.initial();
    st = g.advance(st, bytesOf('{"a":"'));
    const m1 = g.mask(st);
    const afterText = g.advance(st, bytesOf('x'));
    const m2 = g.mask(afterText);
    assert.equal(m1, m2, 'inside an unbounded string the state (and its cached mask) does not change');
    assert.ok(g.cacheHits >= 1, 'a cache hit');
    assert.ok(!allowed(m1, vocab.length - 1) && !allowed(m1, vocab.length - 2), 'special ids are never allowed');
  });

  const shared = sharedOrSkip();
  test('on the real Qwen2.5 vocabulary (151,665 tokens) masks match brute force, and a free string allows almost everything', { skip: shared.skip }, () => {
    const vocab = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const index = new TokenIndex(vocab.bytes);
    const g = new JsonGrammar(PERSON, index);
    const prefixes = ['', '{', '{"name":"', '{"name":"Ad', '{"name":"Ada","age":', '{"name":"Ada","age":3', '{"name":"Ada","age":3,"role":"', '{"name":"Ada","age":3,"email":"x\\'];
    for (const p of prefixes) {
      const st = g.advance(g.initial(), bytesOf(p));
      assert.ok(st.length > 0, `live prefix ${p}`);
      const got = maskSet(g.mask(st), vocab.size);
      const want = bruteMask(st, vocab.bytes);
      assert.equal(got.size, want.size, `allowed count after ${JSON.stringify(p)}`);
      assert.deepEqual(got, want, `mask after ${JSON.stringify(p)}`);
    }
    const inString = g.advance(g.initial(), bytesOf('{"name":"Ada","age":3,"email":"'));
    assert.ok(countBits(g.mask(inString)) > 140_000, 'inside a free string almost every token is allowed');
  });
});
