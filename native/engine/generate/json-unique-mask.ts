import { afterItem, decodeContent, distinctUp, feed, feedBytes, stackKey, type Frame, type Stack } from './json-automaton.js';
import type { ShortestCompletion } from './json-budget.js';
import { ascii94, canonBytes, poolOf, type DistinctPool } from './json-distinct.js';
import type { StringTail, TokenIndex } from './json-grammar.js';
import type { StringNode } from './json-schema-compile.js';

/**
 * Masks of string items of a uniqueItems array (the U frame, json-automaton.ts): the plain string's
 * mask less what would close on (or, at maxLength, end on) a value written before, with the
 * largest shortest completion after an allowed token (exact: the same number a token-by-token walk
 * gives).
 *
 * Why tokens may be taken by class. Let c be the content written so far (complete characters) and
 * c' the content after a token.
 *  - A token that stays inside the string and leaves c' that is neither a written value nor a prefix
 *    of one (for a token ending inside an escape or a character: c' its complete part) is accepted
 *    wherever the plain string accepts it (a U frame only refuses a written value at maxLength or at
 *    the quote), and its shortest completion (json-budget.ts, stringItem) is read from the actual
 *    character count of c', whether c' is all printable ASCII, and what the token leaves open: no
 *    written value extends c', so no value meets any way on. Tokens with the same (characters,
 *    printable ASCII, open shape) are one class. A class's value for (characters of c', printable
 *    ASCII, shape) reads the array only as ShortestCompletion.itemContext does (minItems still
 *    missing, counts of written values per pool length) and the frames below it: it is cached per
 *    grammar under that key, across the item's steps, the array's items and later generations;
 *    once minItems is met after the item and c' meets minLength, the shape alone decides it
 *    (itemRestFixed), so an item's first mask feeds a few classes instead of ~140.
 *    The few tokens after which c' IS a written value or a prefix of one are fed exactly: the raw
 *    ones lie on the trie path of the value's remaining UTF-8 bytes, those with an escape are looked
 *    up by decoded text.
 *  - A token that closes the string is dead when c' is a written value (looked up by the decoded
 *    text before its quote). Otherwise the item's key joins the written values, and the bytes after
 *    the quote, when they hold no quote (so start no string item that could be compared with c'),
 *    meet the written values only through numbers and true/false/null (other keys than c'), and
 *    the shortest completion after them reads the written set only as counts per pool length
 *    (json-distinct.ts, DistinctPool.histogram): c' counts by its length when it is printable
 *    ASCII, not at all otherwise. So such closers are one class per (pool slot of c',
 *    DistinctPool.slot; bytes after the quote), cached per array state (stackKey) and string node, like the
 *    exactly fed tokens (by the raw content after them). Closers whose bytes after the quote hold a
 *    quote ('","', '"],"', 'a","b') are fed exactly.
 * A class is in the plain string's mask whole or not at all (applyTail keeps tokens by character
 * count and by their bytes after the quote).
 */

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

type StringFrameOf = Extract<Frame, { k: 'S' }>;

/** The string frame fields a class of tokens ends in (from a fresh frame; lo / hi do not matter once a character is complete). */
interface EndFrame {
  esc: number;
  need: number;
  lo: number;
  hi: number;
  hex: number;
}

/** A string tail's tokens for string items of a uniqueItems array (TokenIndex.uniqueTail), read once per vocabulary. */
export interface UniqueTail {
  /** Inside tokens by class (characters, all printable ASCII, open shape); per class its members, characters, printable-ASCII flag (0/1), shape index and end frame. */
  members: Int32Array[];
  clsChars: Int32Array;
  clsCanon: Uint8Array;
  clsShape: Int32Array;
  clsEnd: EndFrame[];
  shapes: number;
  /** Inside tokens holding a backslash, by the decoded text of their complete characters (the rest are found on the trie); escMax: the longest such text (UTF-16 units). */
  escText: Map<string, number[]>;
  escMax: number;
  /** Tokens that close the string: characters before the quote, printable ASCII (0/1), the index of their bytes after it (-1: they hold a quote, fed exactly). */
  closers: Int32Array;
  closerChars: Int32Array;
  closerCanon: Uint8Array;
  closerSuf: Int32Array;
  /** The decoded text before each closer's quote; the bytes after it when they hold a quote (else empty). */
  closerStr: string[];
  closerRest: Uint8Array[];
  suffixes: Uint8Array[];
  /** Closers by the decoded text before their quote. */
  closerText: Map<string, number[]>;
  /** Scratch: stamp[id] === gen marks the tokens checked exactly in the current mask. */
  stamp: Int32Array;
  gen: number;
}

const SHORT_ESC_CHARS: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };

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

/** A string with no limits that counts its characters: the reader of end frames. */
const TAIL_STRING: StringNode = { t: 'string', id: -1, minLength: 0, maxLength: 2 ** 30 };

function addTo(m: Map<string, number[]>, k: string, id: number): void {
  const l = m.get(k);
  if (l) l.push(id);
  else m.set(k, [id]);
}

/** Where a closing token's quote is: the first '"' not inside an escape. */
function quoteAt(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] !== 0x22) i += b[i] === 0x5c ? (b[i + 1] === 0x75 ? 6 : 2) : 1;
  return i;
}

export function buildUniqueTail(tail: StringTail, bytes: ReadonlyArray<Uint8Array | null>, index: TokenIndex): UniqueTail {
  const size = index.size;
  const classIdx = new Map<string, number>();
  const shapeIdx = new Map<string, number>([['', 0]]);
  const lists: number[][] = [];
  const clsChars: number[] = [];
  const clsCanon: number[] = [];
  const clsShape: number[] = [];
  const classOf = (chars: number, canon: boolean, shape: string): number => {
    const key = `${chars}|${canon ? 1 : 0}|${shape}`;
    let k = classIdx.get(key);
    if (k === undefined) {
      classIdx.set(key, (k = lists.length));
      lists.push([]);
      clsChars.push(chars);
      clsCanon.push(canon ? 1 : 0);
      let s = shapeIdx.get(shape);
      if (s === undefined) shapeIdx.set(shape, (s = shapeIdx.size));
      clsShape.push(s);
    }
    return k;
  };
  const escText = new Map<string, number[]>();
  let escMax = 0;
  const read = (id: number): void => {
    const b = bytes[id]!;
    const r = readContent(b);
    lists[classOf(r.chars, r.canon, r.shape)]!.push(id);
    if (b.includes(0x5c)) {
      addTo(escText, r.text, id);
      escMax = Math.max(escMax, r.text.length);
    }
  };
  // Plain tokens without an escape (nearly all): their count is known, and they are printable ASCII
  // iff they have as many bytes as characters (a UTF-8 character past ASCII takes 2-4 bytes, an
  // escape 2 or 6). Those with an escape are among the index's impure tokens (a '\\' byte).
  const impure = index.impure;
  const { plainIds, plainChars } = tail;
  const plainCls = new Int32Array(plainIds.length);
  const fast: number[] = [];
  for (let i = 0; i < plainIds.length; i++) {
    const id = plainIds[i]!;
    if (impure[id] === 1) {
      plainCls[i] = -1;
      read(id);
      continue;
    }
    const chars = plainChars[i]!;
    const kind = index.byteLen[id] === chars ? 1 : 0;
    const f = 2 * chars + kind;
    let k = fast[f];
    if (k === undefined) k = fast[f] = classOf(chars, kind === 1, '');
    plainCls[i] = k;
  }
  for (const id of tail.innerIds) read(id);
  const counts = new Int32Array(lists.length);
  for (let i = 0; i < plainIds.length; i++) if (plainCls[i]! >= 0) counts[plainCls[i]!]!++;
  const members = lists.map((l, k) => {
    const m = new Int32Array(l.length + counts[k]!);
    m.set(l);
    return m;
  });
  const fill = lists.map((l) => l.length);
  for (let i = 0; i < plainIds.length; i++) {
    const k = plainCls[i]!;
    if (k >= 0) members[k]![fill[k]!++] = plainIds[i]!;
  }
  const clsEnd = members.map((l): EndFrame => {
    let st: Stack[] = [{ f: { k: 'S', node: TAIL_STRING, n: 0, esc: 0, need: 0, lo: 0, hi: 0, hex: 0 }, up: null }];
    for (const x of bytes[l[0]!]!) {
      const out: Stack[] = [];
      feed(st[0]!, x, out);
      st = out;
    }
    const f = st[0]!.f as StringFrameOf;
    return { esc: f.esc, need: f.need, lo: f.lo, hi: f.hi, hex: f.hex };
  });
  const closers = new Int32Array(tail.closeIds.length + tail.sufIds.length);
  closers.set(tail.closeIds);
  closers.set(tail.sufIds, tail.closeIds.length);
  const closerChars = new Int32Array(closers.length);
  const closerCanon = new Uint8Array(closers.length);
  const closerSuf = new Int32Array(closers.length);
  const sufIdx = new Map<string, number>();
  const suffixes: Uint8Array[] = [];
  const closerText = new Map<string, number[]>();
  const closerStr: string[] = [];
  const closerRest: Uint8Array[] = [];
  closers.forEach((id, i) => {
    const b = bytes[id]!;
    const q = quoteAt(b);
    const r = readContent(b.subarray(0, q));
    closerChars[i] = r.chars;
    closerCanon[i] = r.canon ? 1 : 0;
    addTo(closerText, r.text, id);
    closerStr.push(r.text);
    const rest = b.subarray(q + 1);
    if (rest.includes(0x22)) {
      closerSuf[i] = -1;
      closerRest.push(rest);
      return;
    }
    closerRest.push(EMPTY);
    const key = String.fromCharCode(...rest);
    let s = sufIdx.get(key);
    if (s === undefined) {
      sufIdx.set(key, (s = suffixes.length));
      suffixes.push(rest.slice());
    }
    closerSuf[i] = s;
  });
  return {
    members,
    clsChars: Int32Array.from(clsChars),
    clsCanon: Uint8Array.from(clsCanon),
    clsShape: Int32Array.from(clsShape),
    clsEnd,
    shapes: shapeIdx.size,
    escText,
    escMax,
    closers,
    closerChars,
    closerCanon,
    closerSuf,
    closerStr,
    closerRest,
    suffixes,
    closerText,
    stamp: new Int32Array(size),
    gen: 0,
  };
}

/** Per array state (the frames below the item, by stackKey) and string node: closer classes by class key, exactly fed tokens by raw content after them (-1: the token dies). */
interface ItemMemo {
  cls: Map<number, number>;
  exact: Map<string, number>;
}
/** Per grammar: inside-token classes by item context (see uniqueMask), and the item memos. */
interface MaskMemo {
  members: Map<string, Map<number, number>>;
  items: Map<string, ItemMemo>;
}
const MEMO_ENTRIES = 256;
const memos = new WeakMap<UniqueMaskContext, MaskMemo>();

function cached<T>(m: Map<string, T>, key: string, make: () => T): T {
  let v = m.get(key);
  if (v === undefined) {
    m.set(key, (v = make()));
    if (m.size > MEMO_ENTRIES) m.delete(m.keys().next().value!);
  }
  return v;
}

/** The memos of a U frame's item (closers and exact feeds per array state) and of its inside-token classes (per `classKey` and the frames below the array). */
function itemMemos(ctx: UniqueMaskContext, st: Stack, classKey: string): { memo: ItemMemo; memberMemo: Map<number, number> } {
  const up = st.up!;
  const node = (st.f as Extract<Frame, { k: 'U' }>).s.node!;
  let m = memos.get(ctx);
  if (!m) memos.set(ctx, (m = { members: new Map(), items: new Map() }));
  const below = up.up ? stackKey(up.up) : '';
  return {
    memo: cached(m.items, `${node.id}|${stackKey(up)}`, () => ({ cls: new Map(), exact: new Map() })),
    memberMemo: cached(m.members, `${classKey}|${below}`, () => new Map<number, number>()),
  };
}

/**
 * A U frame's mask in the making: the plain (or pattern) string's mask less what the item may not
 * do, the largest shortest completion of a kept token, and whether the budget (`left`) dropped any.
 * stamp[id] === gen marks the tokens already decided in this mask.
 */
class ItemMask {
  readonly mask: Uint32Array;
  readonly gen: number;
  readonly stamp: Int32Array;
  max = 0;
  removed = false;

  constructor(
    private readonly st: Stack,
    private readonly left: number,
    private readonly ctx: UniqueMaskContext,
    private readonly base: Uint32Array,
    private readonly exactMemo: Map<string, number>,
    info: UniqueTail,
  ) {
    this.mask = base.slice();
    this.gen = ++info.gen;
    this.stamp = info.stamp;
  }

  has(id: number): boolean {
    return (this.base[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  clear(id: number): void {
    this.mask[id >>> 5]! &= ~(1 << (id & 31));
  }

  /** Token id's shortest completion x (-1: dead) against the budget. */
  apply(id: number, x: number): void {
    if (x < 0) this.clear(id);
    else if (x > this.left) {
      this.clear(id);
      this.removed = true;
    } else if (x > this.max) this.max = x;
  }

  /** Token id fed exactly from the item's state (memoized by the content and its bytes). */
  exact(id: number): void {
    if (this.stamp[id] === this.gen) return;
    this.stamp[id] = this.gen;
    if (!this.has(id)) return;
    const b = this.ctx.index.bytesOf(id);
    const key = `${(this.st.f as Extract<Frame, { k: 'U' }>).t}\u0000${String.fromCharCode(...b)}`;
    let x = this.exactMemo.get(key);
    if (x === undefined) {
      const after = feedBytes([this.st], b);
      x = after.length ? this.ctx.shortest.ofState(after) : -1;
      this.exactMemo.set(key, x);
    }
    this.apply(id, x);
  }
}

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

function isAscii94(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!ascii94(s.charCodeAt(i))) return false;
  return true;
}

/** The automaton's character counter after k more characters (countChar, json-automaton.ts: 0 when unbounded, capped at what the bounds can tell apart). */
function countAfter(node: StringNode, n: number, k: number): number {
  if (!(node.minLength > 0 || Number.isFinite(node.maxLength))) return 0;
  return Math.min(n + k, Math.max(node.minLength, Number.isFinite(node.maxLength) ? node.maxLength : 0));
}

/**
 * A string item of a uniqueItems array (a U frame) in its plain state: it takes what the plain
 * string takes, except that it may not close on (nor, at maxLength, end on) a value written
 * before (see the top of this file). With a finite `left`, only the tokens whose shortest
 * completion fits (removed: some were dropped). Undefined for other states.
 */
export function uniqueMask(st: Stack, left: number, ctx: UniqueMaskContext): UniqueMask | undefined {
  const u = st.f;
  if (u.k !== 'U' || u.s.esc !== 0 || u.s.need !== 0) return undefined;
  const up = st.up!;
  const a = distinctUp(up);
  if (!a || !u.s.node) return undefined;
  const pool = poolOf(a.node);
  if (pool.rx) return regexUniqueMask(st, left, ctx, pool);
  if (u.s.rx !== undefined) return undefined;
  const node = u.s.node;
  const base = ctx.plainMask({ f: u.s, up });
  const { index, shortest: sc } = ctx;
  const info = index.uniqueTail(index.tail(index.trie, 0));
  const { memo, memberMemo } = itemMemos(ctx, st, `${node.id}|${sc.itemContext(a)}`);
  // (memberMemo: inside-token classes; the shortest completion after one reads the array only through sc.itemContext, while no written value extends the content, and the frames below it.)
  const m = new ItemMask(st, left, ctx, base, memo.exact, info);
  const { gen, stamp, mask } = m;
  const c = u.t === '' ? '' : decodeContent(u.t);
  let chars = 0;
  for (let i = 0; i < c.length; i++) {
    const h = c.charCodeAt(i);
    if (h < 0xd800 || h > 0xdbff) chars++;
  }
  const canon = isAscii94(c);
  // Written values that extend c: closers onto them die; inside tokens that leave a prefix of one are fed exactly.
  const { first, next, label, tokStart, tokCount, ids } = index.trie;
  for (const k of a.vals ?? []) {
    if (k[0] !== 's' || !k.startsWith(c, 1)) continue;
    const rem = k.slice(1 + c.length);
    for (const id of info.closerText.get(rem) ?? []) {
      if (stamp[id] === gen) continue;
      stamp[id] = gen;
      m.clear(id);
    }
    // Raw tokens: the trie path of rem's UTF-8 bytes, up to the first byte that must be escaped.
    let at = 0;
    for (const x of utf8.encode(rem)) {
      if (x === 0x22 || x === 0x5c || x < 0x20) break;
      let ch = first[at]!;
      while (ch !== -1 && label[ch] !== x) ch = next[ch]!;
      if (ch === -1) break;
      at = ch;
      for (let j = 0; j < tokCount[at]!; j++) m.exact(ids[tokStart[at]! + j]!);
    }
    // Tokens with an escape whose complete text is a prefix of rem.
    if (info.escText.size) {
      const lim = Math.min(rem.length, info.escMax);
      for (let p = 0; p <= lim; p++) {
        const h = rem.charCodeAt(p - 1);
        if (p > 0 && h >= 0xd800 && h <= 0xdbff) continue; // inside a surrogate pair
        for (const id of info.escText.get(rem.slice(0, p)) ?? []) m.exact(id);
      }
    }
  }
  // Closers: by class (bytes after the quote, and the pool slot of c', which (characters of c', printable ASCII) decides: one closed state per slot).
  const { closers, closerChars, closerCanon, closerSuf, closerStr, suffixes } = info;
  const nSuf = suffixes.length;
  let slotBy: Map<number, number> | undefined;
  let closedBy: Map<number, Stack> | undefined;
  for (let i = 0; i < closers.length; i++) {
    const id = closers[i]!;
    if (stamp[id] === gen || !m.has(id)) continue;
    const sf = closerSuf[i]!;
    if (sf < 0) {
      // A quote after the closing one: fed exactly, from the state the closing quote leads to (c' is not written:
      // the automaton's done(up, -1, key of c')), as the bytes before it are plain characters the base mask took.
      stamp[id] = gen;
      const text = c + closerStr[i]!;
      const rest = info.closerRest[i]!;
      const key = `q${text}\u0000${String.fromCharCode(...rest)}`;
      let x = memo.exact.get(key);
      if (x === undefined) {
        const after = feedBytes([{ f: afterItem(a, -1, `s${text}`), up: up.up }], rest);
        x = after.length ? sc.ofState(after) : -1;
        memo.exact.set(key, x);
      }
      m.apply(id, x);
      continue;
    }
    const nc = (chars + closerChars[i]!) * 2 + (canon && closerCanon[i] === 1 ? 1 : 0);
    slotBy ??= new Map();
    let slot = slotBy.get(nc);
    if (slot === undefined) slotBy.set(nc, (slot = pool.slot(`s${c}${closerStr[i]!}`)));
    const key = (slot + 1) * nSuf + sf;
    let x = memo.cls.get(key);
    if (x === undefined) {
      closedBy ??= new Map();
      let closed = closedBy.get(slot);
      // This closer's own value (not written: closers onto written values died above).
      if (!closed) closedBy.set(slot, (closed = { f: afterItem(a, -1, `s${c}${closerStr[i]!}`), up: up.up }));
      const s = suffixes[sf]!;
      const after = s.length ? feedBytes([closed], s) : [closed];
      x = after.length ? sc.ofState(after) : -1;
      memo.cls.set(key, x);
    }
    m.apply(id, x);
  }
  // Inside tokens by class: one member's shortest completion from a state built for it (no feeding).
  const { members, clsChars, clsCanon, clsShape, clsEnd, shapes } = info;
  const fixed = sc.itemRestFixed(a);
  for (let k = 0; k < members.length; k++) {
    const list = members[k]!;
    let rep = -1;
    for (let i = 0; i < list.length; i++) {
      if (stamp[list[i]!] !== gen) {
        rep = list[i]!;
        break;
      }
    }
    if (rep < 0 || !m.has(rep)) continue;
    const n2 = chars + clsChars[k]!;
    const cn = canon && clsCanon[k] === 1 ? 1 : 0;
    // With minItems met after the item and minLength met, only the shape counts (ShortestCompletion.itemRestFixed): key -1 - shape.
    const key = fixed && n2 >= node.minLength ? -1 - clsShape[k]! : ((n2 * 2 + cn) * shapes + clsShape[k]!) * 2;
    let x = memberMemo.get(key);
    if (x === undefined) {
      const e = clsEnd[k]!;
      const s: StringFrameOf = { k: 'S', node, n: countAfter(node, u.s.n, clsChars[k]!), esc: e.esc, need: e.need, lo: e.lo, hi: e.hi, hex: e.hex };
      x = sc.of({ f: { k: 'U', s, t: u.t + String.fromCharCode(...index.bytesOf(rep)) }, up });
      memberMemo.set(key, x);
    }
    if (x <= left) {
      if (x > m.max) m.max = x;
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      const id = list[i]!;
      if (stamp[id] === gen || !m.has(id)) continue;
      m.clear(id);
      m.removed = true;
    }
  }
  return { mask, max: m.max, removed: m.removed };
}

/**
 * What string items of uniqueItems arrays read once per vocabulary, built when a grammar that has
 * them is compiled rather than in its first mask: the root string tail by class, and (for patterned
 * items) every token's canonical length.
 */
export function prepareUniqueStrings(index: TokenIndex, patterned: boolean): void {
  index.uniqueTail(index.tail(index.trie, 0));
  if (patterned) fillCanon(index);
}

/** A scan's inside tokens grouped by (end state, canonical bytes of their complete characters). */
interface ScanGroups {
  end: Int32Array;
  canon: Int32Array;
  members: Int32Array[];
}
const scanGroups = new WeakMap<object, ScanGroups>();
/** Per vocabulary: the canonical length of each token's complete characters read as string content (-1: not read yet). */
const tokenCanon = new WeakMap<TokenIndex, Int32Array>();
/** Per unique tail: the canonical length of each closer's text before its quote. */
const closerCanons = new WeakMap<UniqueTail, Int32Array>();

/** Each token's canonical length as string content (canonOfBytes; -1: not read yet), per vocabulary. */
function canonTable(index: TokenIndex): Int32Array {
  let t = tokenCanon.get(index);
  if (!t) tokenCanon.set(index, (t = new Int32Array(index.size).fill(-1)));
  return t;
}

function canonOfToken(index: TokenIndex, t: Int32Array, id: number): number {
  let v = t[id]!;
  if (v < 0) t[id] = v = canonOfBytes(index.bytesOf(id));
  return v;
}

/** Read the canonical length of every token that may continue a string from a character boundary (the root tail's inside tokens). */
function fillCanon(index: TokenIndex): void {
  const t = canonTable(index);
  const tail = index.tail(index.trie, 0);
  // Complete characters without an escape (nearly all plain tokens; escapes are among the impure tokens): their bytes.
  const impure = index.impure;
  const { plainIds, innerIds } = tail;
  const len = index.byteLen;
  for (let i = 0; i < plainIds.length; i++) {
    const id = plainIds[i]!;
    t[id] = impure[id] === 1 ? canonOfBytes(index.bytesOf(id)) : len[id]!;
  }
  for (let i = 0; i < innerIds.length; i++) canonOfToken(index, t, innerIds[i]!);
}

/** The canonical length of the complete characters of string content bytes: raw characters are canonical (controls never are raw), escapes are decoded. */
function canonOfBytes(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c === 0x5c) return canonBytes(readContent(b).text);
    if (c < 0x80) i++;
    else {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (i + len > b.length) return i;
      i += len;
    }
  }
  return i;
}

function groupsOf(scan: { insideIds: Int32Array; insideTo: Int32Array }, index: TokenIndex): ScanGroups {
  let g = scanGroups.get(scan);
  if (g) return g;
  const { insideIds, insideTo } = scan;
  const n = insideIds.length;
  const canonOf = canonTable(index);
  // Each token's key (a dense index of its end state, its canonical bytes), then a counting sort by key:
  // the scans of a pattern's states hold tens of thousands of tokens and few end states.
  let maxEnd = 0;
  for (let i = 0; i < n; i++) if (insideTo[i]! > maxEnd) maxEnd = insideTo[i]!;
  const endAt = new Int32Array(maxEnd + 1).fill(-1);
  const ends: number[] = [];
  const local = new Int32Array(n);
  const cbs = new Int32Array(n);
  let maxCb = 0;
  for (let i = 0; i < n; i++) {
    const e = insideTo[i]!;
    let l = endAt[e]!;
    if (l < 0) {
      endAt[e] = l = ends.length;
      ends.push(e);
    }
    local[i] = l;
    let cb = canonOf[insideIds[i]!]!;
    if (cb < 0) cb = canonOfToken(index, canonOf, insideIds[i]!);
    if (cb > 4095) cb = 4095;
    cbs[i] = cb;
    if (cb > maxCb) maxCb = cb;
  }
  const width = maxCb + 1;
  const slotOf = new Int32Array(ends.length * width).fill(-1);
  const end: number[] = [];
  const canon: number[] = [];
  const counts: number[] = [];
  const of = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const key = local[i]! * width + cbs[i]!;
    let k = slotOf[key]!;
    if (k < 0) {
      slotOf[key] = k = end.length;
      end.push(ends[local[i]!]!);
      canon.push(cbs[i]!);
      counts.push(0);
    }
    of[i] = k;
    counts[k]!++;
  }
  const members = counts.map((c) => new Int32Array(c));
  const fill = new Int32Array(counts.length);
  for (let i = 0; i < n; i++) {
    const k = of[i]!;
    members[k]![fill[k]!++] = insideIds[i]!;
  }
  g = { end: Int32Array.from(end), canon: Int32Array.from(canon), members };
  scanGroups.set(scan, g);
  return g;
}

/**
 * A string item under a pattern (the array's pool counts the pattern's values by canonical length,
 * json-distinct.ts RegexCount), at a character boundary (a DFA state, or a plain frame once every
 * continuation matches): the pattern string's own mask (its scan, cached), less the closers onto a
 * written value, with the shortest completion after each token. A token after which the content c'
 * is neither a written value nor a prefix of one has a shortest completion that depends only on
 * the string state it ends in and the canonical length of c' (json-budget.ts, regexItem: the DFA
 * state, the counter, what the token leaves open, and c''s slot in the pool; no value written meets
 * it), read through the array as itemContext tells: the scan's inside tokens are grouped by
 * (end state, canonical bytes of their complete characters), one member fed per group, cached per
 * grammar. Tokens that can meet a written value are fed exactly (the trie path of the value's rest,
 * escaped ones by text), as are closers with a quote after theirs; the other closers by (slot of c',
 * bytes after the quote), as for plain strings.
 */
function regexUniqueMask(st: Stack, left: number, ctx: UniqueMaskContext, pool: DistinctPool): UniqueMask | undefined {
  const u = st.f as Extract<Frame, { k: 'U' }>;
  const up = st.up!;
  const a = distinctUp(up)!;
  const node = u.s.node!;
  if (pool.rx!.node !== node) return undefined;
  const { index, shortest: sc } = ctx;
  const base = ctx.plainMask({ f: u.s, up });
  const scan = index.scanOf(0, u.s);
  const groups = groupsOf(scan, index);
  const frames = index.strings.frames;
  const info = index.uniqueTail(index.tail(index.trie, 0));
  const { memo, memberMemo } = itemMemos(ctx, st, `r${node.id}|${sc.itemContext(a)}`);
  const m = new ItemMask(st, left, ctx, base, memo.exact, info);
  const { gen, stamp, mask } = m;
  const c = u.t === '' ? '' : decodeContent(u.t);
  const cb = canonBytes(c);
  const { first, next, label, tokStart, tokCount, ids } = index.trie;
  for (const k of a.vals ?? []) {
    if (k[0] !== 's' || !k.startsWith(c, 1)) continue;
    const rem = k.slice(1 + c.length);
    for (const id of info.closerText.get(rem) ?? []) {
      if (stamp[id] === gen) continue;
      stamp[id] = gen;
      m.clear(id);
    }
    let at = 0;
    for (const x of utf8.encode(rem)) {
      if (x === 0x22 || x === 0x5c || x < 0x20) break;
      let ch = first[at]!;
      while (ch !== -1 && label[ch] !== x) ch = next[ch]!;
      if (ch === -1) break;
      at = ch;
      for (let j = 0; j < tokCount[at]!; j++) m.exact(ids[tokStart[at]! + j]!);
    }
    if (info.escText.size) {
      const lim = Math.min(rem.length, info.escMax);
      for (let p = 0; p <= lim; p++) {
        const h = rem.charCodeAt(p - 1);
        if (p > 0 && h >= 0xd800 && h <= 0xdbff) continue;
        for (const id of info.escText.get(rem.slice(0, p)) ?? []) m.exact(id);
      }
    }
  }
  // Closers: the value c' is in the pattern's language (the pattern string closes only on a match), at its canonical length.
  const { closers, closerSuf, closerStr, suffixes } = info;
  let cc = closerCanons.get(info);
  if (!cc) {
    closerCanons.set(info, (cc = new Int32Array(closers.length)));
    for (let i = 0; i < closers.length; i++) cc[i] = canonBytes(closerStr[i]!);
  }
  const nSuf = suffixes.length;
  let closedBy: Map<number, Stack> | undefined;
  for (let i = 0; i < closers.length; i++) {
    const id = closers[i]!;
    if (stamp[id] === gen || !m.has(id)) continue;
    const sf = closerSuf[i]!;
    if (sf < 0) {
      stamp[id] = gen;
      const text = c + closerStr[i]!;
      const rest = info.closerRest[i]!;
      const key = `q${text}\u0000${String.fromCharCode(...rest)}`;
      let x = memo.exact.get(key);
      if (x === undefined) {
        const after = feedBytes([{ f: afterItem(a, -1, `s${text}`), up: up.up }], rest);
        x = after.length ? sc.ofState(after) : -1;
        memo.exact.set(key, x);
      }
      m.apply(id, x);
      continue;
    }
    const slot = cb + cc[i]! + 2;
    const key = (slot + 1) * nSuf + sf;
    let x = memo.cls.get(key);
    if (x === undefined) {
      closedBy ??= new Map();
      let closed = closedBy.get(slot);
      if (!closed) closedBy.set(slot, (closed = { f: afterItem(a, -1, `s${c}${closerStr[i]!}`), up: up.up }));
      const sfx = suffixes[sf]!;
      const after = sfx.length ? feedBytes([closed], sfx) : [closed];
      x = after.length ? sc.ofState(after) : -1;
      memo.cls.set(key, x);
    }
    m.apply(id, x);
  }
  // Inside tokens by (end state, canonical bytes): one member's shortest completion from the U frame it leads to.
  const { end, canon, members } = groups;
  for (let k = 0; k < members.length; k++) {
    const list = members[k]!;
    let rep = -1;
    for (let i = 0; i < list.length; i++) {
      if (stamp[list[i]!] !== gen) {
        rep = list[i]!;
        break;
      }
    }
    if (rep < 0 || !m.has(rep)) continue;
    const key = end[k]! * 1048576 + cb + canon[k]!;
    let x = memberMemo.get(key);
    if (x === undefined) {
      // The vocabulary's string states are shared by every grammar: its frame may hold another grammar's
      // node (with the same pattern and bounds); the item's own node keeps its pool (RegexCount) in use.
      const f = { ...(frames[end[k]!]! as StringFrameOf), node: u.s.node };
      x = sc.of({ f: { k: 'U', s: f, t: u.t + String.fromCharCode(...index.bytesOf(rep)) }, up });
      memberMemo.set(key, x);
    }
    if (x <= left) {
      if (x > m.max) m.max = x;
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      const id = list[i]!;
      if (stamp[id] === gen || !m.has(id)) continue;
      m.clear(id);
      m.removed = true;
    }
  }
  return { mask, max: m.max, removed: m.removed };
}
