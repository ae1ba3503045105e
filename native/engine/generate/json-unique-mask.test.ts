import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sharedOrSkip } from '../../testing/shared.js';
import { feedBytes, type Stack } from './json-automaton.js';
import { JsonGrammar, TokenIndex, type GrammarState } from './json-grammar.js';
import { uniqueMask } from './json-unique-mask.js';
import { allowed, Rng } from './sampling.js';
import { HfVocab } from './vocab.js';

/**
 * String items of a uniqueItems array (json-unique-mask.ts: tokens taken by class, closers by the
 * text before their quote and the bytes after it) against a reference that feeds every token on its
 * own: the mask, the budget masks, and the largest shortest completion after an allowed token, on a
 * slice of the real Qwen2.5 vocabulary (every byte token, every 13th token, short tokens with a quote). The walks lean to a
 * few bytes so that items meet written values often (a quote that would repeat one, a duplicate at
 * maxLength, closers such as '","').
 */

const SCHEMAS: object[] = [
  { type: 'array', items: { type: 'string', maxLength: 2 }, uniqueItems: true, minItems: 5 },
  { type: 'array', items: { type: 'string', maxLength: 1 }, uniqueItems: true, minItems: 4, maxItems: 6 },
  { type: 'array', items: { type: 'string', minLength: 1, maxLength: 3 }, uniqueItems: true, minItems: 3 },
  { type: 'object', properties: { t: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 3 }, n: { type: 'integer' } }, required: ['t', 'n'] },
  { type: 'array', items: { anyOf: [{ type: 'string', maxLength: 1 }, { type: 'string', minLength: 2, maxLength: 3 }, { enum: ['a', 'ab', 1] }, { type: 'integer' }] }, uniqueItems: true, minItems: 4 },
  { type: 'array', items: { type: ['string', 'integer', 'boolean'] }, uniqueItems: true, minItems: 3, maxItems: 6 },
];

/** String items under a pattern / format (json-unique-mask.ts, regexUniqueMask: the pattern string's scan grouped by end state and canonical length). */
const PATTERN_SCHEMAS: object[] = [
  { type: 'array', items: { type: 'string', pattern: '^[ab]{1,3}$' }, uniqueItems: true, minItems: 6 },
  { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, minItems: 4 },
  { type: 'array', items: { anyOf: [{ type: 'string', pattern: '^[a-c]+@x$' }, { enum: ['a@x', 1, true] }, { type: 'integer', minimum: 0, maximum: 3 }] }, uniqueItems: true, minItems: 5 },
  { type: 'array', items: { type: 'string', pattern: '^a' }, uniqueItems: true, minItems: 3 },
];

const shared = sharedOrSkip();

describe('uniqueItems string masks', () => {
  test('equal the token-by-token reference next to written values: mask, budget masks, largest shortest completion', { skip: shared.skip }, () => {
    compareWalks(SCHEMAS, 'ab",]', 5);
  });
  test('strings under a pattern / format: equal the token-by-token reference', { skip: shared.skip }, () => {
    compareWalks(PATTERN_SCHEMAS, 'ab@x.",]', 9);
  });
});

describe('one vocabulary index, many grammars', () => {
  // The vocabulary's string states are shared: a frame read back from them may hold another grammar's node.
  // An index warmed by a plain email schema and a fresh one give the same masks to a schema of unique patterned items.
  test('masks do not depend on the schemas an index served before', { skip: shared.skip }, () => {
    const full = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const vocab = full.bytes.map((b, id) => (b && (b.length === 1 || id % 13 === 0 || (b.includes(0x22) && b.length <= 5)) ? b : null));
    const warmed = new TokenIndex(vocab);
    const fresh = new TokenIndex(vocab);
    const ids = (m: Uint32Array): number[] => vocab.flatMap((b, id) => (b && allowed(m, id) ? [id] : []));
    const rng = new Rng(1);
    const plain = new JsonGrammar({ type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] }, warmed);
    for (let r = 0; r < 20; r++) {
      let st = plain.initial();
      for (let k = 0; k < 60 && !plain.isDone(st); k++) {
        const c = ids(plain.maskWithin(st, 256 - k).mask);
        if (!c.length) break;
        st = plain.advance(st, vocab[c[Math.floor(rng.next() * c.length)]!]!);
      }
    }
    const unique = {
      type: 'object',
      properties: {
        codes: { type: 'array', items: { type: 'string', pattern: '^[A-C]{2}$' }, uniqueItems: true, minItems: 5 },
        emails: { type: 'array', items: { type: 'string', format: 'email' }, uniqueItems: true, minItems: 3 },
      },
      required: ['codes', 'emails'],
    };
    let steps = 0;
    for (let r = 0; r < 6; r++) {
      const g1 = new JsonGrammar(unique, warmed);
      const g2 = new JsonGrammar(unique, fresh);
      let st = g2.initial();
      for (let k = 0; k < 120 && !g2.isDone(st); k++) {
        const a = ids(g1.maskWithin(st, 256 - k).mask);
        const b = ids(g2.maskWithin(st, 256 - k).mask);
        assert.deepEqual(a, b, `run ${r} step ${k}: the same mask from both indexes`);
        steps++;
        if (!b.length) break;
        st = g2.advance(st, vocab[b[Math.floor(rng.next() * b.length)]!]!);
      }
    }
    assert.ok(steps > 50, `${steps} steps compared`);
  });
});

function compareWalks(schemas: object[], nearBytes: string, seed: number): void {
  {
    const full = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    // Every byte token, every 13th token, and the short quote-bearing ones ('","', '"],"', 'a",'): closers after which another item starts.
    const vocab = full.bytes.map((b, id) => (b && (b.length === 1 || id % 13 === 0 || (b.includes(0x22) && b.length <= 5)) ? b : null));
    const index = new TokenIndex(vocab);
    const rng = new Rng(seed);
    const near = new Set([...Buffer.from(nearBytes)]);
    const dec = new TextDecoder();
    let states = 0;
    let refused = 0;
    for (const schema of schemas) {
      const g = new JsonGrammar(schema, index);
      const ctx = { index, shortest: g.shortest, plainMask: (s: Stack) => g.mask([s]) };
      for (let walk = 0; walk < 3; walk++) {
        let st: GrammarState = g.initial();
        let text = '';
        for (let step = 0; step < 24 && !g.isDone(st); step++) {
          const at = `after ${JSON.stringify(text)} under ${JSON.stringify(schema).slice(0, 80)}`;
          // The reference: every token fed on its own, and the shortest completion after it.
          const after = new Map<number, number>();
          vocab.forEach((b, id) => {
            if (!b || b.length === 0) return;
            const s = feedBytes(st, b);
            if (s.length) after.set(id, g.shortestFrom(s));
          });
          const mask = g.mask(st);
          for (let id = 0; id < vocab.length; id++) if (vocab[id]) assert.equal(allowed(mask, id), after.has(id), `token ${JSON.stringify(dec.decode(vocab[id]!))} ${at}`);
          if (st.length === 1 && st[0]!.f.k === 'U') {
            const u = uniqueMask(st[0]!, Infinity, ctx);
            if (u) {
              assert.equal(u.max, Math.max(0, ...after.values()), `largest shortest completion ${at}`);
              states++;
            }
            if (feedBytes(st, Uint8Array.of(0x22)).length === 0) refused++;
          }
          const left = g.shortestFrom(st) + (step % 3);
          const got = g.maskWithin(st, left);
          let dropped = false;
          for (const [id, x] of after) {
            assert.equal(allowed(got.mask, id), x <= left, `budget ${left}: token ${JSON.stringify(dec.decode(vocab[id]!))} ${at}`);
            if (x > left) dropped = true;
          }
          assert.equal(got.forced, dropped, `forced ${at}`);
          const ids = [...after.keys()];
          if (ids.length === 0) break;
          const few = ids.filter((id) => vocab[id]!.every((x) => near.has(x)));
          const pool = few.length && rng.next() < 0.8 ? few : ids;
          const id = pool[Math.floor(rng.next() * pool.length)]!;
          st = g.advance(st, vocab[id]!);
          text += dec.decode(vocab[id]!, { stream: true });
        }
      }
    }
    assert.ok(states > 100, `${states} string-item states compared`);
    assert.ok(refused > 5, `${refused} states where a closing quote would repeat a written value`);
  }
}
