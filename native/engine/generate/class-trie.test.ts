import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sharedOrSkip } from '../../testing/shared.js';
import { buildClassTrie, byteClasses, isPlainByte, plainTrie } from './class-trie.js';
import { TokenIndex } from './json-grammar.js';
import { FORMATS, regexDfa } from './json-regex.js';
import type { StringNode } from './json-schema-compile.js';
import { feed, type Stack } from './json-automaton.js';
import { CLOSED, DEAD, scanString, type ScanTrie, type StringFrame, type StringScan } from './json-string-scan.js';
import { HfVocab } from './vocab.js';

/**
 * Root scans of pattern string frames over the class trie of the plain prefixes and the byte trie's
 * subtrees below them (class-trie.ts) against the scan of the whole byte trie: the same tokens inside
 * the string with the same states, the same closers, the same suffixes, from every pattern state
 * reached by whole tokens (breadth first, up to a count), on the real Qwen2.5 vocabulary.
 */

const PATTERNS: Array<[string, number, number]> = [
  ...Object.values(FORMATS).map((src): [string, number, number] => [src, 0, Infinity]),
  // The bench's patterns.
  ['^[A-Z]{3}-[0-9]{4,6}(-[a-z]+)?$', 0, Infinity],
  ['^\\+?[0-9]{1,3}[ -]?\\(?[0-9]{3}\\)?[ -]?[0-9]{3}[ -]?[0-9]{4}$', 0, Infinity],
  ['^[a-z0-9]+(?:-[a-z0-9]+)*$', 0, Infinity],
  ['^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$', 0, Infinity],
  // Bounded lengths (maxLength kills alike along a class), non-ASCII alternatives, unanchored ones.
  ['^[a-z]+$', 2, 5],
  [FORMATS.email!, 3, 12],
  ['é|日|x', 2, 5],
  ['^(é|ab|日本)+x?$', 0, Infinity],
  ['a+', 0, Infinity],
  ['[0-9]', 0, 8],
  ['^(ab|ba)+(-[a-z]+)?$', 0, Infinity],
  ['^.{3,}$', 0, 10],
  ['^[^"\\\\]*$', 0, Infinity],
  ['\\\\|"', 0, Infinity],
];

const STATES_PER_PATTERN = 40;

/** A pattern string's frame after its opening quote. */
function frameOf(node: StringNode): StringFrame {
  return { k: 'S', node, n: 0, esc: 0, need: 0, lo: 0, hi: 0, hex: 0, rx: 0, cp: 0 };
}

/** A scan as sets: inside token -> state, closers, suffix token -> its bytes after the quote (the tokens below the closing nodes). */
function asSets(r: StringScan, trie: ScanTrie, bytesOf: (id: number) => Uint8Array): { inside: Map<number, number>; close: number[]; suf: Map<number, string> } {
  const inside = new Map<number, number>();
  r.insideIds.forEach((id, i) => inside.set(id, r.insideTo[i]!));
  assert.equal(inside.size, r.insideIds.length, 'each token once');
  const suf = new Map<number, string>();
  for (const c of r.closeAt) {
    assert.equal(trie.label[c], 0x22, 'a closing node is a quote');
    for (let x = c + 1; x < trie.end[c]!; x++) {
      for (let k = 0; k < trie.tokCount[x]!; k++) {
        const id = trie.ids[trie.tokStart[x]! + k]!;
        assert.ok(!suf.has(id), 'each suffix token once');
        suf.set(id, Buffer.from(bytesOf(id).subarray(trie.depth[c]!)).toString('hex'));
      }
    }
  }
  assert.deepEqual([...r.ends].sort((a, b) => a - b), [...new Set(r.insideTo)].sort((a, b) => a - b), 'ends are the distinct end states');
  return { inside, close: [...r.closeIds].sort((a, b) => a - b), suf };
}

const shared = sharedOrSkip();

describe('class-trie root scans', () => {
  test('a class trie holds every plain-ASCII token once, its raw roots every other token once', { skip: shared.skip }, () => {
    const vocab = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const index = new TokenIndex(vocab.bytes);
    const plain = vocab.bytes.flatMap((b, id) => (b && b.length > 0 && b.every(isPlainByte) ? [id] : []));
    const other = vocab.bytes.flatMap((b, id) => (b && b.length > 0 && !b.every(isPlainByte) ? [id] : []));
    assert.ok(plain.length > 80_000 && other.length > 50_000, `${plain.length} plain, ${other.length} other`);
    const full = index.trie;
    for (const src of ['a+', FORMATS.uuid!, FORMATS.email!]) {
      const t = buildClassTrie(plainTrie(full), byteClasses(regexDfa(src)));
      assert.deepEqual([...t.ids].sort((a, b) => a - b), plain, src);
      // Preorder: each node's subtree a range, depths one more than the parent's.
      for (let n = 1; n < t.nodes; n++) assert.ok(t.end[n]! > n && t.end[n]! <= t.nodes && t.depth[n]! >= 1);
      assert.ok(t.nodes < full.nodes / 10, `${src}: ${t.nodes} class-trie nodes`);
      // Raw roots: byte-trie nodes by a byte that is not plain, one level below their class-trie node.
      const below: number[] = [];
      for (let n = 0; n < t.nodes; n++) {
        for (let k = t.rawStart[n]!; k < t.rawStart[n + 1]!; k++) {
          const r = t.rawRoots[k]!;
          assert.ok(!isPlainByte(full.label[r]!) && full.depth[r] === t.depth[n]! + 1);
          for (let x = r; x < full.end[r]!; x++) for (let j = 0; j < full.tokCount[x]!; j++) below.push(full.ids[full.tokStart[x]! + j]!);
        }
      }
      assert.deepEqual(below.sort((a, b) => a - b), other, src);
    }
  });

  test('StringDfa rows filled whole (prepared at compile, read by scans) equal the automaton fed byte by byte', { skip: shared.skip }, () => {
    const vocab = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const index = new TokenIndex(vocab.bytes);
    const strings = index.strings;
    PATTERNS.forEach(([src, minLength, maxLength], i) => {
      const node: StringNode = { t: 'string', id: 2000 + i, minLength, maxLength, regex: regexDfa(src) };
      assert.ok(strings.prepare(node, 256) > 0, src);
    });
    // Every root state at a character boundary scanned once more (rows read and filled by the scans).
    for (let s = 0; s < strings.frames.length; s++) {
      const f = strings.frames[s]!;
      if (f.rx !== undefined && f.esc === 0 && f.need === 0) index.scanOf(0, f);
    }
    let checked = 0;
    const escapes = new Set<number>();
    for (let s = 0; s < strings.frames.length; s++) {
      const f = strings.frames[s]!;
      for (let b = 0; b < 256; b++) {
        const got = strings.tableRef[s * 256 + b]!;
        if (got === -3) continue; // not computed
        const out: Stack[] = [];
        feed({ f, up: null }, b, out);
        const want = out.length === 0 ? DEAD : out[0]!.f.k === 'D' ? CLOSED : strings.state(out[0]!.f as StringFrame);
        assert.equal(got, want, `state ${s} (rx ${f.rx}, n ${f.n}, esc ${f.esc}, need ${f.need}) byte ${b}`);
        checked++;
        if (f.esc === 1 && want >= 0) escapes.add(s);
      }
    }
    assert.ok(checked > 100_000 && escapes.size > 50, `${checked} entries, ${escapes.size} escape rows`);
  });

  test('equal the full-trie scan from every pattern state reached, on the Qwen2.5 vocabulary', { skip: shared.skip }, () => {
    const vocab = HfVocab.load(path.join(shared.shared, 'models', 'Qwen', 'Qwen2.5-0.5B-Instruct'));
    const index = new TokenIndex(vocab.bytes);
    const bytesOf = (id: number): Uint8Array => vocab.bytes[id]!;
    let compared = 0;
    let closing = 0;
    for (const [src, minLength, maxLength] of PATTERNS) {
      const dfa = regexDfa(src);
      const node: StringNode = { t: 'string', id: 1000 + compared, minLength, maxLength, regex: dfa };
      const s0 = index.strings.state(frameOf(node));
      const seen = new Set<number>([s0]);
      const queue = [s0];
      for (let q = 0; q < queue.length && q < STATES_PER_PATTERN; q++) {
        const s = queue[q]!;
        const f = index.strings.frames[s]!;
        const want = asSets(scanString(index.trie, 0, index.strings, s), index.trie, bytesOf);
        const got = asSets(index.patterns.scanRoot(dfa, index.strings, s), index.trie, bytesOf);
        const at = `${src} (${minLength}..${maxLength}) from state ${s} (rx ${f.rx}, n ${f.n})`;
        assert.deepEqual(got.inside, want.inside, `inside tokens ${at}`);
        assert.deepEqual(got.close, want.close, `closers ${at}`);
        assert.deepEqual(got.suf, want.suf, `suffixes ${at}`);
        // The grammar's path (cached) gives the same.
        const viaIndex = asSets(index.scanOf(0, f), index.trie, bytesOf);
        assert.deepEqual(viaIndex.inside, want.inside, `scanOf ${at}`);
        compared++;
        if (want.close.length || want.suf.size) closing++;
        for (const e of new Set(want.inside.values())) {
          const g = index.strings.frames[e]!;
          if (g.rx !== undefined && g.esc === 0 && g.need === 0 && !seen.has(e)) {
            seen.add(e);
            queue.push(e);
          }
        }
      }
    }
    assert.ok(compared > 200, `${compared} states compared`);
    assert.ok(closing > 20, `${closing} states with closers`);
  });
});
