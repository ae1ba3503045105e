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

  private workIds = new Int32Array(0);
  private workTo = new Int32Array(0);

  /** Work arrays of at least n entries for a scan's inside tokens (reused by every scan; contents undefined). */
  work(n: number): { ids: Int32Array; to: Int32Array } {
    if (this.workIds.length < n) {
      this.workIds = new Int32Array(n);
      this.workTo = new Int32Array(n);
    }
    return { ids: this.workIds, to: this.workTo };
  }

  get tableRef(): Int32Array {
    return this.table;
  }

  /** The state after byte b, DEAD or CLOSED. */
  step(s: number, b: number): number {
    const t = this.table[s * 256 + b]!;
    if (t !== UNKNOWN) return t;
    const f = this.frames[s]!;
    if (f.rx !== undefined && f.need === 0 && f.esc < 2) {
      this.fillRow(s);
      return this.table[s * 256 + b]!;
    }
    if (f.rx !== undefined && f.esc >= 2 && !HEX_BYTES[b]) {
      // Past '\u' only hex digits go on (each digit read is a state of its own: those are fed one by one).
      this.table[s * 256 + b] = DEAD;
      return DEAD;
    }
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

  /**
   * The whole row of a pattern state outside a multi-byte character (rx set, need 0), as the automaton
   * gives it (feedRegexString). At a character boundary: the one-byte characters by the pattern state
   * each leads to (one feed per distinct one), control bytes and bytes that begin no UTF-8 character
   * DEAD, the quote and the backslash fed, and the lead bytes of multi-byte characters fed one by one,
   * or all DEAD without feeding when the pattern takes no character above U+007F from here. After a
   * backslash: the bytes that can go on fed, the others DEAD.
   */
  private fillRow(s: number): void {
    const f = this.frames[s]!;
    const dfa = f.node!.regex!;
    const rx = f.rx!;
    if (f.esc === 1) {
      // After '\' only a short escape's letter or 'u' goes on. A short escape is its character read at
      // the boundary the backslash left (the same frame with esc 0), so what follows depends only on the
      // pattern state that character leads to: read from the boundary's row through a one-byte
      // character that leads there, fed only when none does.
      const row = s * 256;
      for (let c = 0; c < 256; c++) this.table[row + c] = DEAD;
      let boundary = -1;
      let viaOf: Map<number, number> | null = null;
      for (let i = 0; i < SHORT_ESCAPES.length; i += 2) {
        const to = dfa.step(rx, SHORT_ESCAPES[i + 1]!);
        let r = DEAD;
        if (to >= 0) {
          if (!viaOf) {
            // The first one-byte character that leads to each pattern state.
            viaOf = new Map();
            for (let c = 0x7f; c >= 0x20; c--) if (c !== 0x22 && c !== 0x5c) viaOf.set(dfa.step(rx, c), c);
          }
          const via = viaOf.get(to) ?? -1;
          if (via >= 0) {
            if (boundary < 0) boundary = this.state({ ...f, esc: 0 });
            r = this.step(boundary, via);
          } else r = this.compute(s, SHORT_ESCAPES[i]!);
        }
        this.table[row + SHORT_ESCAPES[i]!] = r;
      }
      const u = this.compute(s, 0x75);
      this.table[row + 0x75] = u;
      return;
    }
    const byTo = new Map<number, number>();
    for (let c = 0x20; c < 0x80; c++) {
      if (c === 0x22 || c === 0x5c) continue;
      const to = dfa.step(rx, c);
      let r = to < 0 ? DEAD : byTo.get(to);
      if (r === undefined) {
        r = this.compute(s, c);
        byTo.set(to, r);
      }
      this.table[s * 256 + c] = r;
    }
    const row = s * 256;
    for (let c = 0; c < 0x20; c++) this.table[row + c] = DEAD;
    // compute may grow the table: the entry is written after it.
    const quote = this.compute(s, 0x22);
    this.table[row + 0x22] = quote;
    const backslash = this.compute(s, 0x5c);
    this.table[row + 0x5c] = backslash;
    const wide = dfa.anyIn(rx, 0x80, 0x10ffff);
    for (let c = 0x80; c < 0x100; c++) {
      const r = wide && c >= 0xc2 && c <= 0xf4 ? this.compute(s, c) : DEAD;
      this.table[row + c] = r;
    }
  }

  /**
   * Fill the rows of the states a pattern string reaches from its opening quote, breadth first through
   * whole characters (the states at character boundaries, inside a multi-byte character, after a
   * backslash), up to `limit` states: what a grammar does when it is compiled, so that its masks read the table
   * instead of feeding the automaton. Returns the number of states visited.
   */
  prepare(node: StringNode, limit: number): number {
    if (!node.regex || node.regex.universal[0]) return 0;
    const s0 = this.state({ k: 'S', node, n: 0, esc: 0, need: 0, lo: 0, hi: 0, hex: 0, rx: 0, cp: 0 });
    const seen = new Set<number>([s0]);
    const queue = [s0];
    for (let q = 0; q < queue.length && q < limit; q++) {
      const s = queue[q]!;
      const f = this.frames[s]!;
      // Past '\u' each hex digit read is a state of its own: those rows are filled when first read.
      if (f.esc >= 2 || f.rx === undefined) continue;
      const lo = f.need > 0 ? f.lo : 0;
      const hi = f.need > 0 ? f.hi : 0xff;
      for (let b = lo; b <= hi; b++) {
        const t = this.step(s, b);
        if (t >= 0 && !seen.has(t)) {
          seen.add(t);
          queue.push(t);
        }
      }
    }
    return Math.min(queue.length, limit);
  }

  /** The transition by the automaton itself. */
  private compute(s: number, b: number): number {
    const out: Stack[] = [];
    feed({ f: this.frames[s]!, up: null }, b, out);
    return out.length === 0 ? DEAD : out[0]!.f.k === 'D' ? CLOSED : this.state(out[0]!.f as StringFrame);
  }
}

/** JSON's short escapes: the byte after '\', and the character it stands for. */
const SHORT_ESCAPES = [0x22, 0x22, 0x5c, 0x5c, 0x2f, 0x2f, 0x62, 8, 0x66, 12, 0x6e, 10, 0x72, 13, 0x74, 9];
/** Hex digits (what goes on past '\u'). */
const HEX_BYTES = byteSet('0123456789abcdefABCDEF');

function byteSet(chars: string): Uint8Array {
  const out = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) out[chars.charCodeAt(i)] = 1;
  return out;
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
  /** insideIds as a bitset (large scans only: TokenIndex.scanOf builds it with the scan). */
  insideMask?: Uint32Array;
  /** Tokens whose last byte is the closing quote. */
  closeIds: Int32Array;
  /**
   * Nodes of the scanned trie whose label is the closing quote and which have children: the tokens
   * below them have bytes after the quote (a node's subtree is a trie over those bytes, depths less
   * the node's).
   */
  closeAt: Int32Array;
}

/** What a scan gathers: inside tokens in the machine's work arrays, then copied out once (result). */
class ScanOut {
  inside = 0;
  readonly ends = new Set<number>();
  last = -1;
  readonly closeIds: number[] = [];
  readonly closeAt: number[] = [];
  readonly ids: Int32Array;
  readonly to: Int32Array;

  constructor(dfa: StringDfa, n: number) {
    const w = dfa.work(n);
    this.ids = w.ids;
    this.to = w.to;
  }

  result(): StringScan {
    return {
      insideIds: this.ids.slice(0, this.inside),
      insideTo: this.to.slice(0, this.inside),
      ends: Int32Array.from(this.ends),
      closeIds: Int32Array.from(this.closeIds),
      closeAt: Int32Array.from(this.closeAt),
    };
  }
}

/**
 * Scan the nodes [from, to) of a trie in preorder (a node's subtree, or the children of one) whose
 * ancestors at depth `base` are in string state s0. The state of a node's parent is the last one
 * recorded at the depth above it; a dead node skips its whole subtree, and a closing quote hands the
 * rest of its subtree to the caller (closeAt).
 */
function scanRange(trie: ScanTrie, from: number, to: number, base: number, dfa: StringDfa, s0: number, out: ScanOut, at: Int32Array): void {
  const { label, tokStart, tokCount, ids, end, depth } = trie;
  const insideIds = out.ids;
  const insideTo = out.to;
  let inside = out.inside;
  let last = out.last;
  at[0] = s0;
  let table = dfa.tableRef;
  for (let c = from; c < to; ) {
    const d = depth[c]! - base;
    const prev = at[d - 1]!;
    let t = table[prev * 256 + label[c]!]!;
    if (t === UNKNOWN) {
      t = dfa.step(prev, label[c]!);
      table = dfa.tableRef;
    }
    if (t === DEAD) {
      c = end[c]!;
      continue;
    }
    if (t === CLOSED) {
      for (let k = 0, s = tokStart[c]!; k < tokCount[c]!; k++) out.closeIds.push(ids[s + k]!);
      if (end[c]! > c + 1) out.closeAt.push(c);
      c = end[c]!;
      continue;
    }
    at[d] = t;
    const n = tokCount[c]!;
    if (n > 0) {
      if (t !== last) {
        out.ends.add(t);
        last = t;
      }
      for (let k = 0, s = tokStart[c]!; k < n; k++) {
        insideIds[inside] = ids[s + k]!;
        insideTo[inside++] = t;
      }
    }
    c++;
  }
  out.inside = inside;
  out.last = last;
}

/** Scan the subtree of `node` from string state s0 (its tokens' bytes after the node). */
export function scanString(trie: ScanTrie, node: number, dfa: StringDfa, s0: number): StringScan {
  const out = new ScanOut(dfa, trie.ids.length);
  scanRange(trie, node + 1, trie.end[node]!, trie.depth[node]!, dfa, s0, out, new Int32Array(4096));
  return out.result();
}

/** A class trie as scanClassRoot reads it (class-trie.ts): its nodes, and per node the byte-trie subtrees that continue it. */
export type ClassScanTrie = ScanTrie & { rawStart: Int32Array; rawRoots: Int32Array };

/**
 * The scan of a whole token trie from s0, a pattern state at a character boundary, through a class
 * trie of its plain prefixes (class-trie.ts): each class-trie node is stepped as its class's
 * representative byte, and each of its raw roots' subtrees is scanned in the token trie from the
 * node's state. The same sets as scanString(full, 0, ...); closeAt holds token-trie nodes.
 */
export function scanClassRoot(ct: ClassScanTrie, full: ScanTrie, dfa: StringDfa, s0: number): StringScan {
  const out = new ScanOut(dfa, full.ids.length);
  const { label, tokStart, tokCount, ids, end, depth, rawStart, rawRoots } = ct;
  const fullDepth = full.depth;
  const fullEnd = full.end;
  const at = new Int32Array(4096);
  const rawAt = new Int32Array(4096);
  at[0] = s0;
  for (let k = rawStart[0]!; k < rawStart[1]!; k++) {
    const r = rawRoots[k]!;
    scanRange(full, r, fullEnd[r]!, fullDepth[r]! - 1, dfa, s0, out, rawAt);
  }
  let table = dfa.tableRef;
  for (let c = 1, e = ct.end[0]!; c < e; ) {
    const d = depth[c]!;
    const prev = at[d - 1]!;
    let t = table[prev * 256 + label[c]!]!;
    if (t === UNKNOWN) t = dfa.step(prev, label[c]!);
    table = dfa.tableRef;
    // A plain byte at a character boundary never closes the string: DEAD or a state.
    if (t < 0) {
      c = end[c]!;
      continue;
    }
    at[d] = t;
    const n = tokCount[c]!;
    if (n > 0) {
      if (t !== out.last) {
        out.ends.add(t);
        out.last = t;
      }
      let inside = out.inside;
      for (let k = 0, s = tokStart[c]!; k < n; k++) {
        out.ids[inside] = ids[s + k]!;
        out.to[inside++] = t;
      }
      out.inside = inside;
    }
    for (let k = rawStart[c]!; k < rawStart[c + 1]!; k++) {
      const r = rawRoots[k]!;
      scanRange(full, r, fullEnd[r]!, fullDepth[r]! - 1, dfa, t, out, rawAt);
    }
    c++;
  }
  return out.result();
}

/** About the bytes a scan holds, the bitset of a large one's inside tokens included (a vocabulary of `size` tokens). */
export function scanSize(s: StringScan, size: number): number {
  let n = 64 + s.insideIds.length * 8 + s.ends.length * 4 + s.closeIds.length * 4 + s.closeAt.length * 4;
  if (s.insideMask) n += ((size + 31) >>> 5) * 4;
  return n;
}
