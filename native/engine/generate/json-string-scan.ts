import { feed, type Frame, type Stack } from './json-automaton.js';
import type { CharDfa } from './json-regex.js';
import type { StringNode } from './json-schema-compile.js';
import type { TokenTrie } from './token-trie.js';

/**
 * String frames as a byte-level DFA built lazily (issue 21, mask speed): a state is a string frame
 * (plain or under a `pattern` / `format` DFA, bounded or not, inside an escape or a multi-byte
 * character) interned by its key; a transition is computed once by the automaton's own `feed` (with
 * nothing below the frame) and then read from a table. What a string frame accepts does not depend
 * on the frames below it until its closing quote, so the tokens a string state accepts are found by
 * one scan of the token trie in preorder with integer states, skipping dead subtrees, instead of a
 * walk that builds a configuration per trie node.
 */

export type StringFrame = Extract<Frame, { k: 'S' }>;

/** No continuation. */
export const DEAD = -1;
/** The byte was the closing quote: the string is complete. */
export const CLOSED = -2;
const UNKNOWN = -3;

export class StringDfa {
  private readonly ids = new Map<string, number>();
  /** The frame of each state. */
  readonly frames: StringFrame[] = [];
  /** 1: a state inside a multi-byte character whose every continuation byte in range leads to one state. */
  private readonly uniform: number[] = [];
  private table = new Int32Array(256 * 16).fill(UNKNOWN);

  /**
   * The state of a string frame. Keys are structural (the node's pattern DFA and length bounds, not
   * its id: a string frame's continuations depend on nothing else), so one machine serves every
   * schema on a vocabulary. Inside a multi-byte character under a pattern, the partial code point
   * matters only through the DFA states its completions lead to: when they all lead to the same
   * one, partial characters that differ only there are one state (the first seen stands for them),
   * which keeps a pattern that allows any character from one state per CJK prefix.
   */
  state(f: StringFrame): number {
    let cp = f.cp;
    let u = '';
    if (f.rx !== undefined && f.need > 0) {
      const to = uniformStep(f.node!.regex!, f.rx, f.cp! << (6 * f.need), ((f.cp! + 1) << (6 * f.need)) - 1);
      if (to !== DEAD) {
        cp = 0;
        u = `u${to}`;
      }
    }
    const key = `${nodeSig(f.node)}:${f.n}:${f.esc}:${f.need}:${f.lo}:${f.hi}:${f.hex}:${f.rx ?? ''}:${cp ?? ''}${u}`;
    let s = this.ids.get(key);
    if (s === undefined) {
      s = this.frames.length;
      this.frames.push(f);
      this.uniform.push(f.need > 0 && f.esc === 0 && (f.rx === undefined || u !== '') ? 1 : 0);
      this.ids.set(key, s);
      if ((s + 1) * 256 > this.table.length) {
        const t = new Int32Array(this.table.length * 2).fill(UNKNOWN);
        t.set(this.table);
        this.table = t;
      }
    }
    return s;
  }

  get tableRef(): Int32Array {
    return this.table;
  }

  /** The state after byte b, DEAD or CLOSED. */
  step(s: number, b: number): number {
    const t = this.table[s * 256 + b]!;
    if (t !== UNKNOWN) return t;
    const f = this.frames[s]!;
    if (f.esc === 0 && f.need === 0 && b >= 0x20 && b < 0x80 && b !== 0x22 && b !== 0x5c) {
      // A one-byte character: what follows depends only on the pattern state it leads to (or on nothing,
      // without a pattern), so the whole ASCII row is filled with one feed per distinct pattern state.
      const dfa = f.rx === undefined ? null : f.node!.regex!;
      const byTo = new Map<number, number>();
      for (let c = 0x20; c < 0x80; c++) {
        if (c === 0x22 || c === 0x5c) continue;
        const to = dfa ? dfa.step(f.rx!, c) : 0;
        let r = to < 0 ? DEAD : byTo.get(to);
        if (r === undefined) {
          r = this.compute(s, c);
          byTo.set(to, r);
        }
        this.table[s * 256 + c] = r;
      }
      return this.table[s * 256 + b]!;
    }
    if (this.uniform[s] === 1 && b >= f.lo && b <= f.hi) {
      // Inside a character whose completions all lead to one pattern state (or without a pattern): every
      // continuation byte in range leads to the same state.
      const r = this.compute(s, b);
      for (let c = f.lo; c <= f.hi; c++) this.table[s * 256 + c] = r;
      return r;
    }
    const r = this.compute(s, b);
    this.table[s * 256 + b] = r;
    return r;
  }

  /** The transition by the automaton itself. */
  private compute(s: number, b: number): number {
    const out: Stack[] = [];
    feed({ f: this.frames[s]!, up: null }, b, out);
    return out.length === 0 ? DEAD : out[0]!.f.k === 'D' ? CLOSED : this.state(out[0]!.f as StringFrame);
  }
}

const dfaIds = new WeakMap<CharDfa, number>();
let nextDfaId = 0;

/** What a string frame's continuations depend on: its pattern DFA (by identity) and its length bounds; k: a free key. */
function nodeSig(node: StringNode | null): string {
  if (!node) return 'k';
  let d = '';
  if (node.regex) {
    let id = dfaIds.get(node.regex);
    if (id === undefined) dfaIds.set(node.regex, (id = nextDfaId++));
    d = String(id);
  }
  return `${d}/${node.minLength}/${node.maxLength}`;
}

/** The state every code point in [lo, hi] leads to from state s, or DEAD when they differ (or none leads anywhere). */
function uniformStep(dfa: CharDfa, s: number, lo: number, hi: number): number {
  const st = dfa.start[s]!;
  const en = dfa.end[s]!;
  for (let i = 0; i < st.length; i++) {
    if (en[i]! < lo) continue;
    return st[i]! <= lo && en[i]! >= hi ? dfa.to[s]![i]! : DEAD;
  }
  return DEAD;
}

/** What scanString reads of a trie: TokenTrie's flat preorder layout (class tries have it too, class-trie.ts). */
export type ScanTrie = Pick<TokenTrie, 'label' | 'tokStart' | 'tokCount' | 'ids' | 'end' | 'depth'>;

/** The tokens below a trie node read from a string state (their bytes after the node). */
export interface StringScan {
  /** Tokens that stay inside the string, and the state each ends in. */
  insideIds: Int32Array;
  insideTo: Int32Array;
  /** The distinct states of insideTo. */
  ends: Int32Array;
  /** insideIds as a bitset (set by the first user of a large scan). */
  insideMask?: Uint32Array;
  /** Tokens whose last byte is the closing quote. */
  closeIds: Int32Array;
  /** Tokens with bytes after the closing quote: a trie over those bytes (its ids index sufIds). */
  suffix: TokenTrie | null;
  sufIds: Int32Array;
  sufBytes: Uint8Array[];
}

/**
 * Scan the subtree of `node` from string state s0. Nodes are in preorder, so the state of a node's
 * parent is the last one recorded at the depth above it; a dead node skips its whole subtree, and a
 * closing quote hands the rest of its subtree to the caller as suffixes.
 */
export function scanString(trie: ScanTrie, node: number, dfa: StringDfa, s0: number, bytesOf: (id: number) => Uint8Array): Omit<StringScan, 'suffix'> {
  const { label, tokStart, tokCount, ids, end, depth } = trie;
  const base = depth[node]!;
  const at = new Int32Array(4096);
  at[0] = s0;
  // Grown on demand: most scans keep few tokens, and zeroing two vocabulary-sized arrays per scan is not free.
  let insideIds = new Int32Array(Math.min(ids.length, 1024));
  let insideTo = new Int32Array(insideIds.length);
  let inside = 0;
  const closeIds: number[] = [];
  const sufIds: number[] = [];
  const sufBytes: Uint8Array[] = [];
  const ends = new Set<number>();
  let last = -1;
  let table = dfa.tableRef;
  for (let c = node + 1, e = end[node]!; c < e; ) {
    const d = depth[c]! - base;
    const from = at[d - 1]!;
    let t = table[from * 256 + label[c]!]!;
    if (t === UNKNOWN) {
      t = dfa.step(from, label[c]!);
      table = dfa.tableRef;
    }
    if (t === DEAD) {
      c = end[c]!;
      continue;
    }
    if (t === CLOSED) {
      for (let k = 0, s = tokStart[c]!; k < tokCount[c]!; k++) closeIds.push(ids[s + k]!);
      const cut = depth[c]!;
      for (let x = c + 1, xe = end[c]!; x < xe; x++) {
        for (let k = 0, s = tokStart[x]!; k < tokCount[x]!; k++) {
          const id = ids[s + k]!;
          sufIds.push(id);
          sufBytes.push(bytesOf(id).subarray(cut));
        }
      }
      c = end[c]!;
      continue;
    }
    at[d] = t;
    const n = tokCount[c]!;
    if (n > 0) {
      if (t !== last) {
        ends.add(t);
        last = t;
      }
      if (inside + n > insideIds.length) {
        const cap = Math.min(ids.length, Math.max(inside + n, insideIds.length * 2));
        const i2 = new Int32Array(cap);
        i2.set(insideIds);
        insideIds = i2;
        const t2 = new Int32Array(cap);
        t2.set(insideTo);
        insideTo = t2;
      }
      for (let k = 0, s = tokStart[c]!; k < n; k++) {
        insideIds[inside] = ids[s + k]!;
        insideTo[inside++] = t;
      }
    }
    c++;
  }
  return {
    insideIds: insideIds.slice(0, inside),
    insideTo: insideTo.slice(0, inside),
    ends: Int32Array.from(ends),
    closeIds: Int32Array.from(closeIds),
    sufIds: Int32Array.from(sufIds),
    sufBytes,
  };
}

/** About the bytes a scan holds, the bitset of a large one's inside tokens included (a vocabulary of `size` tokens). */
export function scanSize(s: StringScan, size: number): number {
  let n = 64 + s.insideIds.length * 8 + s.ends.length * 4 + s.closeIds.length * 4 + s.sufIds.length * 4;
  // Each suffix: a view (~100 bytes) and its suffix-trie nodes (~33 bytes per byte at most).
  for (const b of s.sufBytes) n += 100 + b.length * 33;
  if (s.insideIds.length > 4096) n += ((size + 31) >>> 5) * 4;
  return n;
}
