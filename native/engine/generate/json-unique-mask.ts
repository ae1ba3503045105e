import { decodeContent, distinctUp, feedBytes, type Stack } from './json-automaton.js';
import type { ShortestCompletion } from './json-budget.js';
import { ascii94 } from './json-distinct.js';
import type { StringTail, TokenIndex } from './json-grammar.js';
import { setBit } from './token-trie.js';

/**
 * Masks of string items of a uniqueItems array (the U frame, json-automaton.ts): the plain string's
 * mask less what would close on (or, at maxLength, end on) a value written before, with the
 * largest shortest completion after an allowed token.
 */

const QUOTE = Uint8Array.of(0x22);

/** What a U mask needs from its grammar: the vocabulary's index, shortest completions, and the (cached) mask of a plain string state. */
export interface UniqueMaskContext {
  index: TokenIndex;
  shortest: ShortestCompletion;
  plainMask(st: Stack): Uint32Array;
}

/** A U frame's mask; max: the largest shortest completion after an allowed token; removed: a finite budget dropped tokens. */
export interface UniqueMask {
  mask: Uint32Array;
  max: number;
  removed: boolean;
}

/** A string tail's inside tokens for string items of a uniqueItems array (TokenIndex.uniqueTail). */
export interface UniqueTail {
  /** Token classes (the same shortest completion from a content no written value starts with). */
  members: Int32Array[];
  /** Tokens ending on a whole character by their decoded text; tokens ending inside a UTF-8 character by text, NUL, the open bytes (latin1). */
  byText: Map<string, number[]>;
  byPartial: Map<string, number[]>;
  /** Tokens ending inside an escape (always checked exactly). */
  escOpen: Int32Array;
  /** Tokens that close the string. */
  closers: Int32Array;
  /** Scratch: stamp[id] === gen marks the tokens checked exactly in the current mask. */
  stamp: Int32Array;
  gen: number;
}

const SHORT_ESC_CHARS: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
const utf8Bytes = new TextEncoder();

/**
 * A token's bytes read as the continuation of a plain string: the decoded text of its whole
 * characters (escapes decoded), their count, whether all are printable ASCII, and what it leaves
 * open: '' nothing, 'e' + the bytes of an open escape, or 'u' + the bytes still needed and the
 * first one's range for an open UTF-8 character (open: its bytes, latin1).
 */
function readContent(b: Uint8Array): { text: string; chars: number; canon: boolean; shape: string; open: string } {
  let text = '';
  let chars = 0;
  let canon = true;
  let i = 0;
  const one = (cp: number): void => {
    text += String.fromCodePoint(cp);
    chars++;
    if (!ascii94(cp)) canon = false;
  };
  while (i < b.length) {
    const c = b[i]!;
    if (c === 0x5c) {
      if (i + 1 < b.length && b[i + 1] !== 0x75) {
        one(SHORT_ESC_CHARS[b[i + 1]!]!);
        i += 2;
      } else if (i + 6 <= b.length) {
        one(parseInt(String.fromCharCode(...b.subarray(i + 2, i + 6)), 16));
        i += 6;
      } else return { text, chars, canon, shape: `e${String.fromCharCode(...b.subarray(i))}`, open: '' };
    } else if (c < 0x80) {
      one(c);
      i++;
    } else {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (i + len > b.length) {
        const open = b.subarray(i);
        // The next byte's range: narrowed only right after E0, ED, F0, F4.
        const range = open.length > 1 ? '' : c === 0xe0 || c === 0xed || c === 0xf0 || c === 0xf4 ? c.toString(16) : '';
        return { text, chars, canon, shape: `u${i + len - b.length}${range}`, open: String.fromCharCode(...open) };
      }
      let cp = c & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
      for (let k = 1; k < len; k++) cp = (cp << 6) | (b[i + k]! & 0x3f);
      one(cp);
      i += len;
    }
  }
  return { text, chars, canon, shape: '', open: '' };
}

export function buildUniqueTail(tail: StringTail, bytes: ReadonlyArray<Uint8Array | null>, size: number): UniqueTail {
  const classes = new Map<string, number[]>();
  const byText = new Map<string, number[]>();
  const byPartial = new Map<string, number[]>();
  const escOpen: number[] = [];
  const add = (m: Map<string, number[]>, k: string, id: number): void => {
    const l = m.get(k);
    if (l) l.push(id);
    else m.set(k, [id]);
  };
  const read = (id: number): void => {
    const r = readContent(bytes[id]!);
    add(classes, `${r.chars}|${r.canon ? 1 : 0}|${r.shape}`, id);
    if (r.shape === '') add(byText, r.text, id);
    else if (r.shape[0] === 'e') escOpen.push(id);
    else add(byPartial, `${r.text}\u0000${r.open}`, id);
  };
  for (const id of tail.plainIds) read(id);
  for (const id of tail.innerIds) read(id);
  const closers = new Int32Array(tail.closeIds.length + tail.sufIds.length);
  closers.set(tail.closeIds);
  closers.set(tail.sufIds, tail.closeIds.length);
  // Shortest first: a class is read from its first member not checked exactly.
  const len = (id: number): number => bytes[id]!.length;
  return { members: [...classes.values()].map((l) => Int32Array.from(l.sort((x, y) => len(x) - len(y) || x - y))), byText, byPartial, escOpen: Int32Array.from(escOpen), closers, stamp: new Int32Array(size), gen: 0 };
}

/**
 * A string item of a uniqueItems array (a U frame) in its plain state: it takes what the plain
 * string takes, except that it may not close on (nor, at maxLength, end on) a value written
 * before. So: the plain string's (cached) mask; the tokens that close it and the few whose text
 * can meet a written value checked exactly by feeding them; every other token's shortest
 * completion read from its class (one token fed per class). With a finite `left`, only the tokens
 * whose shortest completion fits (removed: some were dropped). Undefined for other states.
 */
export function uniqueMask(st: Stack, left: number, ctx: UniqueMaskContext): UniqueMask | undefined {
  const u = st.f;
  if (u.k !== 'U' || u.s.esc !== 0 || u.s.need !== 0 || u.s.rx !== undefined) return undefined;
  const a = distinctUp(st.up);
  if (!a) return undefined;
  const base = ctx.plainMask({ f: u.s, up: st.up });
  const info = ctx.index.uniqueTail(ctx.index.tail(ctx.index.trie, 0));
  const gen = ++info.gen;
  const { stamp } = info;
  const mask = base.slice();
  const sc = ctx.shortest;
  const has = (id: number): boolean => (base[id >>> 5]! & (1 << (id & 31))) !== 0;
  let max = 0;
  let removed = false;
  const exact = (id: number): void => {
    if (stamp[id] === gen || !has(id)) return;
    stamp[id] = gen;
    mask[id >>> 5]! &= ~(1 << (id & 31));
    const after = feedBytes([st], ctx.index.bytesOf(id));
    if (after.length === 0) return;
    const x = sc.ofState(after);
    if (x > left) removed = true;
    else {
      setBit(mask, id);
      if (x > max) max = x;
    }
  };
  // Closers that start with the quote: the quote is fed once, then each token's rest.
  const closed = feedBytes([st], QUOTE);
  for (let i = 0; i < info.closers.length; i++) {
    const id = info.closers[i]!;
    const b = ctx.index.bytesOf(id);
    if (b[0] !== 0x22 || !has(id)) continue;
    stamp[id] = gen;
    mask[id >>> 5]! &= ~(1 << (id & 31));
    if (closed.length === 0) continue;
    const after = b.length === 1 ? closed : feedBytes(closed, b.subarray(1));
    if (after.length === 0) continue;
    const x = sc.ofState(after);
    if (x > left) removed = true;
    else {
      setBit(mask, id);
      if (x > max) max = x;
    }
  }
  for (let i = 0; i < info.closers.length; i++) exact(info.closers[i]!);
  for (let i = 0; i < info.escOpen.length; i++) exact(info.escOpen[i]!);
  // Tokens after which the content is a written value or a prefix of one: exact.
  const c = decodeContent(u.t);
  for (const k of a.vals ?? []) {
    if (k[0] !== 's' || !k.startsWith(c, 1)) continue;
    const rem = k.slice(1 + c.length);
    for (let p = 0; ; ) {
      const text = rem.slice(0, p);
      for (const id of info.byText.get(text) ?? []) exact(id);
      if (p >= rem.length) break;
      const cp = rem.codePointAt(p)!;
      const w = cp > 0xffff ? 2 : 1;
      if (cp >= 0x80) {
        // Tokens ending inside this next character (their open bytes a prefix of its UTF-8).
        const enc = String.fromCharCode(...utf8Bytes.encode(String.fromCodePoint(cp)));
        for (let j = 1; j < enc.length; j++) for (const id of info.byPartial.get(`${text}\u0000${enc.slice(0, j)}`) ?? []) exact(id);
      }
      p += w;
    }
  }
  // Every other token by its class: one member fed gives the shortest completion of all. A class
  // is in the plain string's mask whole or not at all (applyTail keeps tokens by character count).
  for (const members of info.members) {
    let rep = -1;
    for (let i = 0; i < members.length; i++) {
      const id = members[i]!;
      if (stamp[id] !== gen) {
        rep = id;
        break;
      }
    }
    if (rep < 0 || !has(rep)) continue;
    const after = feedBytes([st], ctx.index.bytesOf(rep));
    const x = after.length ? sc.ofState(after) : Infinity;
    if (x <= left) {
      if (x > max) max = x;
      continue;
    }
    for (let i = 0; i < members.length; i++) {
      const id = members[i]!;
      if (stamp[id] === gen || !has(id)) continue;
      mask[id >>> 5]! &= ~(1 << (id & 31));
      removed = true;
    }
  }
  return { mask, max, removed };
}
