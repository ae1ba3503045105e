import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sharedOrSkip } from '../../testing/shared.js';
import { feedBytes, stackKey } from './json-automaton.js';
import { JsonGrammar, TokenIndex, type GrammarState } from './json-grammar.js';
import { allowed, Rng } from './sampling.js';
import { HfVocab } from './vocab.js';

/**
 * The fast masks (string tails, string scans over the lazy byte DFA, caches) against a reference
 * that feeds every token's bytes to the state on its own, token by token: along random walks of
 * schemas with patterns, formats, bounded strings, literals, keys (many candidates too) and unions (recursive too), on a slice of the real
 * Qwen2.5 vocabulary (every byte token, and every 13th token: real multi-byte, partial UTF-8 and
 * quote-bearing pieces), with and without a token budget.
 */

const SCHEMAS: object[] = [
  { type: 'string', pattern: 'a+' },
  {
    type: 'object',
    properties: {
      sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4,6}(-[a-z]+)?$' },
      id: { type: 'string', format: 'uuid' },
      email: { type: 'string', format: 'email' },
      host: { format: 'hostname' },
      note: { type: 'string', pattern: 'é|日|x', minLength: 2, maxLength: 5 },
      when: { type: 'string', format: 'date-time' },
    },
    required: ['sku', 'note'],
  },
  // Two live pattern states from one byte class ('a' and 'b' lead apart): a scan that merged them would let 'aa' in.
  { type: 'array', items: { type: 'string', pattern: '^(ab|ba)+(-[a-z]+)?$' }, maxItems: 3 },
  { type: 'array', items: { anyOf: [{ type: 'string', pattern: '^[a-z]+$', maxLength: 3 }, { type: 'integer', minimum: -5, maximum: 300 }, { enum: ['alpha', 'beta', 'alphabet'] }] }, maxItems: 4 },
  { type: 'object', additionalProperties: { type: 'string', pattern: '[0-9]' }, maxProperties: 2 },
  // Map keys under patternProperties / propertyNames: pattern strings in key position.
  { type: 'object', patternProperties: { '^/[a-z]+$': { type: 'integer' }, '^x-': { type: 'boolean' } }, additionalProperties: false, maxProperties: 3 },
  { type: 'object', propertyNames: { pattern: '^[a-z]{2,4}$' }, additionalProperties: { enum: ['on', 'off'] }, minProperties: 1, maxProperties: 2 },
  {
    type: 'object',
    properties: {
      u: { anyOf: [{ type: 'string', maxLength: 2 }, { type: 'string', minLength: 4, pattern: '^[a-z]' }, { type: 'string', format: 'date' }] },
      name: { type: 'string', minLength: 1, maxLength: 8 },
      tags: { type: 'array', items: { type: 'string', maxLength: 3 }, uniqueItems: false },
      n: { type: 'number' },
    },
    required: ['u', 'name'],
  },
  // Many candidates (the walk's next-byte prefilter): 12 keys with a shared prefix, a 30-value enum in a uniqueItems array, a recursive union.
  {
    type: 'object',
    properties: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`key_${i}${'x'.repeat(i % 3)}`, i % 2 ? { type: 'integer' } : { enum: Array.from({ length: 30 }, (_, j) => `v${j % 7}-${j}`) }])),
    required: ['key_3x'],
  },
  { type: 'array', items: { enum: Array.from({ length: 30 }, (_, j) => (j % 3 ? `item-${j}` : j)) }, uniqueItems: true, maxItems: 4 },
  { $defs: { n: { anyOf: [{ type: 'integer' }, { enum: ['leaf', 'leaves', 'lea', 'x', 'y', 'z', 'w', 'v', 'u'] }, { type: 'array', items: { $ref: '#/$defs/n' }, maxItems: 2 }] } }, $ref: '#/$defs/n' },
  // uniqueItems string items (the U frame's fast path: the plain string's mask, closing tokens and
  // tokens that can meet a written value checked exactly, the rest by class): short bounded strings
  // meet written values often (a duplicate at maxLength, a closing quote on one); free strings; mixed scalars.
  { type: 'array', items: { type: 'string', maxLength: 1 }, uniqueItems: true, minItems: 4, maxItems: 6 },
  { type: 'array', items: { type: 'string', minLength: 1, maxLength: 3 }, uniqueItems: true, minItems: 3 },
  { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 2 }, n: { type: 'integer' } }, required: ['tags', 'n'] },
  { type: 'array', items: { type: ['string', 'integer', 'boolean'], maxLength: 2 }, uniqueItems: true, minItems: 3, maxItems: 5 },
  // uniqueItems of bounded integers (a ranged number frame that may not end on a written value), alone and beside strings.
  { type: 'array', items: { type: 'integer', minimum: 1, maximum: 12 }, uniqueItems: true, minItems: 3, maxItems: 5 },
  { type: 'array', items: { anyOf: [{ type: 'integer', minimum: -20, maximum: 40, multipleOf: 2 }, { type: 'string', maxLength: 2 }] }, uniqueItems: true, minItems: 4, maxItems: 6 },
  // Bounded non-integer numbers (json-num-range.ts: a byte only while the bounds can be met; multi-digit tokens cross the bound).
  { type: 'array', items: { anyOf: [{ type: 'number', minimum: -0.5, exclusiveMaximum: 1 }, { type: 'number', minimum: 2.5, maximum: 2.75 }, { type: 'null' }] }, minItems: 2, maxItems: 4 },
];

/** Reference: token t is allowed iff feeding its bytes to the state leaves a live configuration (and, with a budget, one whose shortest completion fits). */
function reference(g: JsonGrammar, state: GrammarState, vocab: ReadonlyArray<Uint8Array | null>, left: number): Set<number> {
  const s = new Set<number>();
  vocab.forEach((b, id) => {
    if (!b || b.length === 0) return;
    const after = feedBytes(state, b);
    if (after.length > 0 && (left === Infinity || g.shortestFrom(after) <= left)) s.add(id);
  });
  return s;
}

function maskSet(mask: Uint32Array, size: number): Set<number> {
  const s = new Set<number>();
  for (let id = 0; id < size; id++) if (allowed(mask, id)) s.add(id);
  return s;
}

const shared = sharedOrSkip();

describe('fast token masks', () => {
  test('equal the token-by-token reference along random walks, with and without a budget, on a slice of the Qwen2.5 vocabulary', { skip: shared.skip }, () => {
    const full = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const vocab = full.bytes.map((b, id) => (b && (b.length === 1 || id % 13 === 0) ? b : null));
    const index = new TokenIndex(vocab);
    const rng = new Rng(11);
    const dec = new TextDecoder();
    let states = 0;
    let budgeted = 0;
    let forced = 0;
    for (const schema of SCHEMAS) {
      const g = new JsonGrammar(schema, index);
      assert.ok(g.budgeted, 'every byte is a token of the slice');
      for (let walk = 0; walk < 4; walk++) {
        let st = g.initial();
        let text = '';
        for (let step = 0; step < 20 && !g.isDone(st); step++) {
          const want = reference(g, st, vocab, Infinity);
          assert.deepEqual(maskSet(g.mask(st), vocab.length), want, `mask after ${JSON.stringify(text)} under ${JSON.stringify(schema).slice(0, 80)}`);
          states++;
          if (step % 3 === 1) {
            // A budget just above the shortest completion, where filtering bites.
            const left = g.shortestFrom(st) + Math.floor(rng.next() * 3);
            const wantB = reference(g, st, vocab, left);
            const got = g.maskWithin(st, left);
            assert.deepEqual(maskSet(got.mask, vocab.length), wantB, `budget ${left} mask after ${JSON.stringify(text)} under ${JSON.stringify(schema).slice(0, 80)}`);
            assert.equal(got.forced, wantB.size < want.size, `forced after ${JSON.stringify(text)}`);
            budgeted++;
            if (got.forced) forced++;
          }
          const ids = [...want];
          if (ids.length === 0 && g.canEnd(st)) break; // complete, nothing may follow (only the end of generation)
          assert.ok(ids.length > 0, `some token is allowed after ${JSON.stringify(text)} (${st.map(stackKey).join(' / ')})`);
          // Short tokens half of the time: deeper into strings, escapes and split characters.
          const short = ids.filter((id) => vocab[id]!.length <= 2);
          const pool = short.length && rng.next() < 0.5 ? short : ids;
          const id = pool[Math.floor(rng.next() * pool.length)]!;
          st = g.advance(st, vocab[id]!);
          text += dec.decode(vocab[id]!, { stream: true });
        }
      }
    }
    assert.ok(states > 200, `${states} states compared`);
    assert.ok(budgeted > 60 && forced > 5, `${budgeted} budget masks compared, ${forced} forced`);
  });
});
