import { hasKey, isRegexString, literalKeys, regexCountOf, valueKey, withKey } from './json-distinct.js';
import { intComplete, intFresh, intViable } from './json-int-range.js';
import { numIn, numViable } from './json-num-range.js';
import type { ArrayNode, GrammarNode, LiteralNode, NumberNode, ObjectNode, StringNode } from './json-schema-compile.js';

/**
 * An incremental recognizer of compact JSON (no whitespace between tokens) valid under a compiled
 * schema, one byte at a time. A configuration is an immutable stack of frames (a persistent list),
 * so branching costs nothing: the walk over the token trie shares prefixes, and unions (anyOf,
 * type lists, enums whose values share a prefix, a number that may end or go on) are followed as
 * several configurations at once (an NFA). Strings are checked as UTF-8 (no overlong forms, no
 * surrogates, no control characters) and `\u` escapes may not name surrogates, so every accepted
 * text decodes to the characters it counts.
 */

export type ObjPhase = 'first' | 'next' | 'keystr' | 'colon' | 'value' | 'after';
export type ArrPhase = 'first' | 'next' | 'value' | 'after';

export type Frame =
  /** Expecting the first byte of a value. */
  | { k: 'V'; node: GrammarNode }
  /** Inside one of a literal node's values (enum/const/true/false/null): candidates alive, bytes matched. */
  | { k: 'L'; node: LiteralNode; cands: number[]; pos: number }
  /** Inside a string (node null: a free object key). esc: 0 none, 1 after '\', 2..5 hex digits of \u read + 2. */
  | { k: 'S'; node: StringNode | null; n: number; esc: number; need: number; lo: number; hi: number; hex: number; rx?: number; cp?: number }
  /** Inside a number; ph: 0 after '-', 1 leading 0, 2 int digits, 3 after '.', 4 fraction, 5 after e, 6 exp sign, 7 exp digits. x: a bounded number's text so far (node.num). */
  | { k: 'N'; node: NumberNode; ph: number; d: number; neg?: boolean; v?: number; t?: string; x?: string }
  /** A string item of a distinct array (node.distinct): the string frame and its raw content bytes so far (one char per byte). */
  | { k: 'U'; s: Extract<Frame, { k: 'S' }>; t: string }
  /** n: properties written (capped: see objCap), for minProperties / maxProperties; w: the declared ones written (a bit mask, only with dependentRequired). */
  | { k: 'O'; node: ObjectNode; ph: ObjPhase; last: number; n: number; w: number }
  /** Matching `"key":` of a declared property; the frame below is the object. */
  | { k: 'K'; node: ObjectNode; cands: number[]; pos: number }
  /** u: with uniqueItems (node.unique), the indices of the item values written, ascending. With contains: c hits written (capped), hit: the item being written is one. */
  | { k: 'A'; node: ArrayNode; ph: ArrPhase; count: number; u?: number[]; c?: number; hit?: boolean; vals?: string[] }
  /** The value is complete; nothing may follow. */
  | { k: 'D' };

export interface Stack {
  readonly f: Frame;
  readonly up: Stack | null;
}

/** Digits allowed in the integer part, the fraction and the exponent (keeps numbers finite and doubles exact enough). */
export const MAX_INT_DIGITS = 15;
export const MAX_FRAC_DIGITS = 15;
export const MAX_EXP_DIGITS = 2;

const Q = 0x22; // "
const BS = 0x5c; // \

const DONE: Stack = { f: { k: 'D' }, up: null };

function push(up: Stack | null, f: Frame): Stack {
  return { f, up };
}

export function initialStack(root: GrammarNode): Stack {
  return push(null, { k: 'V', node: root });
}

/** A value has just been completed under `up` (lit: the index of the literal value it was, if one; val: its equality key, for a distinct array). */
function done(up: Stack | null, lit = -1, val?: string): Stack {
  if (up === null) return DONE;
  const f = up.f;
  if (f.k === 'O') return f.ph === 'keystr' ? push(up.up, { ...f, ph: 'colon' }) : push(up.up, { ...f, ph: 'after', n: Math.min(f.n + 1, objCap(f.node)) });
  if (f.k === 'A') return push(up.up, afterItem(f, lit, val));
  return DONE; // not reached: only objects and arrays hold values
}

/** The array frame once its item is complete (lit: the literal value index it was, if one; val: its equality key in a distinct array). */
export function afterItem(f: Extract<Frame, { k: 'A' }>, lit = -1, val?: string): Extract<Frame, { k: 'A' }> {
  const node = f.node;
  const out: Extract<Frame, { k: 'A' }> = { k: 'A', node, ph: 'after', count: Math.min(f.count + 1, arrCap(node)) };
  const u = node.unique && lit >= 0 ? withIndex(f.u, lit) : f.u;
  if (u) out.u = u;
  const vals = node.distinct && val !== undefined ? withKey(f.vals, val) : f.vals;
  if (vals) out.vals = vals;
  if (node.contains) out.c = f.hit ? Math.min((f.c ?? 0) + 1, hitCap(node)) : (f.c ?? 0);
  return out;
}

/** The largest item count an array frame tells apart (tuple positions are told apart too). */
export function arrCap(node: ArrayNode): number {
  return Number.isFinite(node.maxItems) ? node.maxItems : Math.max(node.minItems, node.tuple ? node.tuple.length : 0);
}

/** The largest count of contains hits an array frame tells apart. */
export function hitCap(node: ArrayNode): number {
  const k = node.contains!;
  return Number.isFinite(k.max) ? k.max : k.min;
}

/** Start an item of an array frame (a tuple position, a contains hit or miss, or the items' node). */
function startItem(f: Extract<Frame, { k: 'A' }>, up: Stack | null, b: number, out: Stack[]): void {
  const node = f.node;
  const k = node.contains;
  // The frames below an item are built only when the byte may start it (walks feed every byte of a trie level).
  if (k) {
    const c = f.c ?? 0;
    if (c < k.max && firstBytes(k.hit)[b] === 1) startValue(k.hit, push(up, { ...f, ph: 'value', hit: true }), b, out);
    // A miss only while enough items are left for the hits still needed.
    if (node.maxItems - (f.count + 1) >= k.min - c && firstBytes(k.miss)[b] === 1) startValue(k.miss, push(up, { ...f, ph: 'value', hit: false }), b, out);
    return;
  }
  const item = node.tuple && f.count < node.tuple.length ? node.tuple[f.count]! : (node.rest ?? node.items);
  if (firstBytes(item)[b] === 1) startValue(item, push(up, { ...f, ph: 'value' }), b, out);
}

/** Enough contains hits to close the array. */
function hitsOk(f: Extract<Frame, { k: 'A' }>): boolean {
  return !f.node.contains || (f.c ?? 0) >= f.node.contains.min;
}

/** The largest property count an object frame tells apart (more says nothing new). */
export function objCap(node: ObjectNode): number {
  const cap = Number.isFinite(node.maxProps) ? node.maxProps : node.minProps;
  return node.props.length ? Math.min(cap, node.props.length) : cap; // declared properties: never more than there are
}

/**
 * Declared properties that may come after property `last` with n properties written (no required
 * one skipped; minProperties still reachable with the ones after it; maxProperties still leaves
 * room for the required ones after it).
 */
export function nextProps(node: ObjectNode, last: number, n = 0, w = 0): number[] {
  const out: number[] = [];
  const len = node.props.length;
  const limited = Number.isFinite(node.maxProps);
  const dm = node.depMask;
  const need = dm ? dueMask(dm, w) : 0;
  for (let j = last + 1; j < len; j++) {
    const req = node.props[j]!.required || ((need >>> j) & 1) === 1;
    if (n + 1 + (len - 1 - j) < node.minProps) break; // too few left after j (and after any later one)
    const mine = dm ? dm[j]! : 0;
    // Writable: its dependents before it are written already (those after it become required).
    const writable = mine !== -1 && (mine & ((1 << j) - 1) & ~w) === 0;
    if (writable) {
      let reqAfter = 0;
      if (limited) for (let k = j + 1; k < len; k++) if (node.props[k]!.required || (((need | mine) >>> k) & 1) === 1) reqAfter++;
      if (!limited || n + 1 + reqAfter <= node.maxProps) out.push(j);
    }
    if (req) break;
  }
  return out;
}

/** The properties required by those written (w) under dependentRequired. */
function dueMask(dm: number[], w: number): number {
  let need = 0;
  for (let i = 0; w >>> i !== 0; i++) if ((w >>> i) & 1) need |= dm[i]!;
  return need;
}

/** May the object close after property `last` with n properties written (w: which, with dependentRequired)? */
export function canClose(node: ObjectNode, last: number, n = 0, w = 0): boolean {
  if (n < node.minProps) return false;
  const need = node.depMask ? dueMask(node.depMask, w) : 0;
  for (let j = last + 1; j < node.props.length; j++) if (node.props[j]!.required || ((need >>> j) & 1) === 1) return false;
  return true;
}

function withIndex(u: number[] | undefined, i: number): number[] {
  if (!u) return [i];
  return u.includes(i) ? u : [...u, i].sort((a, b) => a - b);
}

/** The candidate that is complete at pos (texts are distinct: at most one). */
function completeAt(node: LiteralNode, cands: number[], pos: number): number {
  for (const i of cands) if (node.values[i]!.length === pos) return i;
  return -1;
}

function emitLiteral(node: LiteralNode, cands: number[], pos: number, up: Stack | null, out: Stack[]): void {
  let longer = false;
  for (const i of cands) if (node.values[i]!.length > pos) longer = true;
  if (longer) out.push(push(up, { k: 'L', node, cands, pos }));
  else out.push(literalDone(node, completeAt(node, cands, pos), up));
}

/** A literal value complete under `up` (its key recorded in a distinct array). */
function literalDone(node: LiteralNode, i: number, up: Stack | null): Stack {
  return done(up, i, i >= 0 && distinctUp(up) ? literalKeys(node)[i] : undefined);
}

/** The array frame below an item of a distinct array (node.distinct: the values written are remembered by key). */
export function distinctUp(up: Stack | null): Extract<Frame, { k: 'A' }> | undefined {
  const f = up?.f;
  return f && f.k === 'A' && f.node.distinct ? f : undefined;
}

/** Item values already written in a uniqueItems array whose items are this literal node. */
export function usedItems(up: Stack | null, node: LiteralNode): number[] | undefined {
  const f = up?.f;
  return f && f.k === 'A' && f.node.unique && f.node.items === node ? (f.u ?? []) : undefined;
}

function isBounded(node: StringNode | null): node is StringNode {
  return node !== null && (node.minLength > 0 || Number.isFinite(node.maxLength));
}

/** A string frame after n characters at a character boundary (a pattern string's: its DFA at its start state). */
export function strFrame(node: StringNode | null, n: number): Extract<Frame, { k: 'S' }> {
  if (node?.regex && !node.regex.universal[0]) return { k: 'S', node, n, esc: 0, need: 0, lo: 0, hi: 0, hex: 0, rx: 0, cp: 0 };
  return { k: 'S', node, n, esc: 0, need: 0, lo: 0, hi: 0, hex: 0 };
}

const firstCache = new WeakMap<GrammarNode, Uint8Array>();
const firstPending = new Set<GrammarNode>();
const ALL_BYTES = new Uint8Array(256).fill(1);

/** The bytes a value of this node may start with, 1 or 0 (a superset: literal values already used in a uniqueItems array are not left out). */
export function firstBytes(node: GrammarNode): Uint8Array {
  const hit = firstCache.get(node);
  if (hit) return hit;
  // A union reached again while its own options are read (a $ref cycle without a container in between): every byte, then nothing partial is cached.
  if (firstPending.has(node)) return ALL_BYTES;
  firstPending.add(node);
  const out = new Uint8Array(256);
  const set = (bs: string): void => {
    for (let i = 0; i < bs.length; i++) out[bs.charCodeAt(i)] = 1;
  };
  switch (node.t) {
    case 'union':
      for (const o of node.options) {
        const fb = firstBytes(o);
        for (let b = 0; b < 256; b++) out[b]! |= fb[b]!;
      }
      break;
    case 'literal':
      for (const v of node.values) if (v.length) out[v[0]!] = 1;
      break;
    case 'string':
      set('"');
      break;
    case 'number':
      set('-0123456789');
      break;
    case 'object':
      set('{');
      break;
    case 'array':
      set('[');
      break;
    default:
      out.fill(1);
  }
  firstPending.delete(node);
  firstCache.set(node, out);
  return out;
}

const byFirstCache = new WeakMap<LiteralNode, Array<number[] | undefined>>();

/** A literal node's value indices by first byte (ascending; a 500-value enum is not scanned for every byte fed). */
function literalsByFirst(node: LiteralNode): Array<number[] | undefined> {
  let t = byFirstCache.get(node);
  if (!t) {
    t = new Array<number[] | undefined>(256);
    node.values.forEach((v, i) => {
      if (v.length) (t![v[0]!] ??= []).push(i);
    });
    byFirstCache.set(node, t);
  }
  return t;
}

function startValue(node: GrammarNode, up: Stack | null, b: number, out: Stack[]): void {
  switch (node.t) {
    case 'union':
      for (const o of node.options) if (firstBytes(o)[b] === 1) startValue(o, up, b, out);
      return;
    case 'literal': {
      const starting = literalsByFirst(node)[b];
      if (!starting) return;
      const used = usedItems(up, node);
      const vals = distinctUp(up)?.vals;
      if (!used && !vals) {
        emitLiteral(node, starting, 1, up, out);
        return;
      }
      const keys = vals ? literalKeys(node) : undefined;
      const cands: number[] = [];
      for (const i of starting) if (!used?.includes(i) && !(keys && hasKey(vals, keys[i]!))) cands.push(i);
      if (cands.length) emitLiteral(node, cands, 1, up, out);
      return;
    }
    case 'string':
      if (b === Q) {
        const a = distinctUp(up);
        if (!a) out.push(push(up, strFrame(node, 0)));
        else {
          const s = strFrame(node, 0);
          if (s.rx === undefined || !a.vals || regexAlive(s, '', a.vals)) out.push(push(up, { k: 'U', s, t: '' }));
        }
      }
      return;
    case 'number':
      if (node.range) {
        startRangedInt(node, up, b, out);
        return;
      }
      {
        let f: Extract<Frame, { k: 'N' }> | undefined;
        if (b === 0x2d) f = { k: 'N', node, ph: 0, d: 0 };
        else if (b === 0x30) f = { k: 'N', node, ph: 1, d: 1 };
        else if (b >= 0x31 && b <= 0x39) f = { k: 'N', node, ph: 2, d: 1 };
        if (!f) return;
        if (node.num) {
          // Bounded (json-num-range.ts): only while some plain number with this prefix is in the bounds.
          f.x = String.fromCharCode(b);
          if (numViable(node.num, f.x)) out.push(push(up, f));
          return;
        }
        const a = distinctUp(up);
        if (a) {
          f.t = String.fromCharCode(b);
          if (!numberAlive(f, a.vals)) return;
        }
        out.push(push(up, f));
      }
      return;
    case 'object':
      if (b === 0x7b) out.push(push(up, { k: 'O', node, ph: 'first', last: -1, n: 0, w: 0 }));
      return;
    case 'array':
      if (b === 0x5b) out.push(push(up, node.contains ? { k: 'A', node, ph: 'first', count: 0, c: 0 } : { k: 'A', node, ph: 'first', count: 0 }));
      return;
  }
}

const SHORT_ESC: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };

/** A string under `pattern` / `format` (json-regex.ts): each whole character (raw UTF-8 or an escape) steps the DFA; partial characters must still have a live continuation. */
function feedRegexString(st: Stack, f: Extract<Frame, { k: 'S' }>, b: number, out: Stack[]): void {
  const node = f.node!;
  const dfa = node.regex!;
  const up = st.up;
  const rx = f.rx!;
  const max = node.maxLength;
  const cap = Math.max(node.minLength, Number.isFinite(max) ? max : 0);
  // Characters left after the one being read (a match must still fit in them).
  const room = Number.isFinite(max) ? max - f.n - 1 : Infinity;
  /** Some \uXXXX (no lone surrogate) can still step the DFA to a state that fits. */
  const anyU = (lo: number, hi: number): boolean => dfa.anyIn(rx, lo, Math.min(hi, 0xd7ff), room) || dfa.anyIn(rx, Math.max(lo, 0xe000), hi, room);
  const take = (cp: number, base: Extract<Frame, { k: 'S' }>): void => {
    const to = dfa.step(rx, cp);
    if (to < 0) return;
    const n = f.n + 1;
    if (n > max || dfa.minChars[to]! > max - n) return;
    // Once every continuation matches, the rest is a plain string (and the mask's fast path applies).
    if (dfa.universal[to]) out.push(push(up, { ...base, rx: undefined, cp: undefined, n: Math.min(n, cap) }));
    else out.push(push(up, { ...base, rx: to, cp: 0, n: Math.min(n, cap) }));
  };
  if (f.need > 0) {
    if (b < f.lo || b > f.hi) return;
    const cp = (f.cp! << 6) | (b & 0x3f);
    const need = f.need - 1;
    if (need === 0) take(cp, { ...f, need: 0, lo: 0x80, hi: 0xbf });
    else if (dfa.anyIn(rx, cp << (6 * need), ((cp + 1) << (6 * need)) - 1, room)) out.push(push(up, { ...f, need, lo: 0x80, hi: 0xbf, cp }));
    return;
  }
  if (f.esc === 1) {
    const c = SHORT_ESC[b];
    if (c !== undefined) take(c, { ...f, esc: 0 });
    else if (b === 0x75 && anyU(0, 0xffff)) out.push(push(up, { ...f, esc: 2, hex: 0 }));
    return;
  }
  if (f.esc >= 2) {
    const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
    if (d < 0) return;
    const hex = f.hex * 16 + d;
    const read = f.esc - 1;
    if (read === 2 && hex >= 0xd8 && hex <= 0xdf) return;
    if (read === 4) take(hex, { ...f, esc: 0, hex: 0 });
    else if (anyU(hex << (4 * (4 - read)), ((hex + 1) << (4 * (4 - read))) - 1)) out.push(push(up, { ...f, esc: f.esc + 1, hex }));
    return;
  }
  if (b === Q) {
    if (f.n >= node.minLength && dfa.accept[rx] === 1) out.push(done(up));
    return;
  }
  if (f.n >= max) return;
  if (b === BS) {
    // Only when some escape can still go on: a short one, or \uXXXX.
    let live = anyU(0, 0xffff);
    for (const k in SHORT_ESC) {
      if (live) break;
      const to = dfa.step(rx, SHORT_ESC[k]!);
      live = to >= 0 && dfa.minChars[to]! <= room;
    }
    if (live) out.push(push(up, { ...f, esc: 1 }));
    return;
  }
  if (b < 0x20) return;
  if (b < 0x80) {
    take(b, f);
    return;
  }
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  let cp = 0;
  if (b >= 0xc2 && b <= 0xdf) {
    need = 1;
    cp = b & 0x1f;
  } else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    cp = b & 0x0f;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    cp = b & 0x07;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return;
  // The code points this lead byte can still begin (no overlong forms, no surrogates: E0 starts at U+0800, F0 at U+10000, ED ends at U+D7FF).
  const first = Math.max(cp << (6 * need), need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000);
  const last = Math.min(((cp + 1) << (6 * need)) - 1, b === 0xed ? 0xd7ff : 0x10ffff);
  if (dfa.anyIn(rx, first, last, room)) out.push(push(up, { ...f, need, lo, hi, cp }));
}

/** A string frame's character count after one more character (counted up to max(minLength, maxLength) when bounded, else 0). */
function countChar(node: StringNode | null, bounded: boolean, n: number): number {
  if (!bounded) return 0;
  const max = node!.maxLength;
  return Math.min(n + 1, Math.max(node!.minLength, Number.isFinite(max) ? max : 0));
}

function feedString(st: Stack, f: Extract<Frame, { k: 'S' }>, b: number, out: Stack[]): void {
  if (f.rx !== undefined) {
    feedRegexString(st, f, b, out);
    return;
  }
  const up = st.up;
  const max = f.node ? f.node.maxLength : Infinity;
  const bounded = isBounded(f.node);
  if (f.need > 0) {
    if (b < f.lo || b > f.hi) return;
    const need = f.need - 1;
    out.push(push(up, { ...f, need, lo: 0x80, hi: 0xbf, n: need === 0 ? countChar(f.node, bounded, f.n) : f.n }));
    return;
  }
  if (f.esc === 1) {
    if (b === Q || b === BS || b === 0x2f || b === 0x62 || b === 0x66 || b === 0x6e || b === 0x72 || b === 0x74) out.push(push(up, { ...f, esc: 0, n: countChar(f.node, bounded, f.n) }));
    else if (b === 0x75) out.push(push(up, { ...f, esc: 2, hex: 0 }));
    return;
  }
  if (f.esc >= 2) {
    const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
    if (d < 0) return;
    const hex = f.hex * 16 + d;
    const read = f.esc - 1; // digits read including this one
    if (read === 2 && hex >= 0xd8 && hex <= 0xdf) return; // a surrogate: never
    if (read === 4) out.push(push(up, { ...f, esc: 0, hex: 0, n: countChar(f.node, bounded, f.n) }));
    else out.push(push(up, { ...f, esc: f.esc + 1, hex }));
    return;
  }
  if (b === Q) {
    if (!f.node || f.n >= f.node.minLength) out.push(done(up));
    return;
  }
  if (bounded && f.n >= max) return; // no room for another character
  if (b === BS) {
    out.push(push(up, { ...f, esc: 1 }));
    return;
  }
  if (b < 0x20) return;
  if (b < 0x80) {
    out.push(bounded ? push(up, { ...f, n: countChar(f.node, bounded, f.n) }) : st);
    return;
  }
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return;
  out.push(push(up, { ...f, need, lo, hi }));
}

/** An integer with a range / multipleOf (json-int-range.ts): its sign and magnitude are part of the frame. */
function startRangedInt(node: NumberNode, up: Stack | null, b: number, out: Stack[]): void {
  const r = node.range!;
  // An item of a distinct array: some value with this prefix is not written yet (the frame's sign and magnitude are its text: one spelling per value).
  const used = distinctUp(up) ? usedInts(distinctUp(up)!.vals) : undefined;
  if (b === 0x2d) {
    if (used ? intFresh(r, true, 0, 0, used) : intViable(r, true, 0, 0)) out.push(push(up, { k: 'N', node, ph: 0, d: 0, neg: true, v: 0 }));
  } else if (b >= 0x30 && b <= 0x39) {
    const v = b - 0x30;
    if (used ? intFresh(r, false, v, 1, used) : intViable(r, false, v, 1)) out.push(push(up, { k: 'N', node, ph: v === 0 ? 1 : 2, d: 1, neg: false, v }));
  }
}

function feedRangedInt(st: Stack, f: Extract<Frame, { k: 'N' }>, b: number, out: Stack[]): void {
  const r = f.node.range!;
  const a = distinctUp(st.up);
  if (b >= 0x30 && b <= 0x39 && (f.ph === 0 || f.ph === 2)) {
    const v = f.v! * 10 + (b - 0x30);
    const d = f.d + 1;
    if (a ? intFresh(r, f.neg!, v, d, usedInts(a.vals)) : intViable(r, f.neg!, v, d)) out.push(push(st.up, { ...f, ph: f.ph === 0 && v === 0 ? 1 : 2, d, v }));
    return;
  }
  if (!numberComplete(f)) return;
  if (a) {
    const key = rangedKey(f);
    if (!hasKey(a.vals, key)) feed(done(st.up, -1, key), b, out);
  } else feed(done(st.up), b, out);
}

/** The equality key of a complete ranged integer frame ("-0" is 0). */
export function rangedKey(f: Extract<Frame, { k: 'N' }>): string {
  return valueKey(f.neg ? -f.v! : f.v!);
}

const usedIntCache = new WeakMap<readonly string[], number[]>();
const NO_INTS: number[] = [];

/** The integer values among the keys written in a distinct array (cached per list). */
export function usedInts(vals: readonly string[] | undefined): number[] {
  if (!vals) return NO_INTS;
  let out = usedIntCache.get(vals);
  if (!out) {
    out = [];
    for (const k of vals) {
      if (k[0] !== 'n') continue;
      const x = Number(k.slice(1));
      if (Number.isInteger(x)) out.push(x);
    }
    usedIntCache.set(vals, out);
  }
  return out;
}

function feedNumber(st: Stack, f: Extract<Frame, { k: 'N' }>, b: number, out: Stack[]): void {
  if (f.node.range) {
    feedRangedInt(st, f, b, out);
    return;
  }
  const up = st.up;
  if (f.node.num) {
    feedBoundedNumber(st, f, b, out);
    return;
  }
  const next = numberStep(f, b);
  const a = f.t !== undefined ? distinctUp(up) : undefined;
  if (next) {
    if (a) {
      next.t = f.t + String.fromCharCode(b);
      if (!numberAlive(next, a.vals)) return;
    }
    out.push(push(up, next));
    return;
  }
  if (!numberComplete(f)) return;
  if (a) {
    const key = numberKey(f.t!);
    if (!hasKey(a.vals, key)) feed(done(up, -1, key), b, out);
  } else feed(done(up), b, out);
}

/** A bounded number (node.num): written plainly (no exponent); a byte only while some completion is in the bounds; it ends only in them. */
function feedBoundedNumber(st: Stack, f: Extract<Frame, { k: 'N' }>, b: number, out: Stack[]): void {
  const next = b === 0x65 || b === 0x45 ? undefined : numberStep(f, b);
  if (next) {
    next.x = f.x! + String.fromCharCode(b);
    if (numViable(f.node.num!, next.x)) out.push(push(st.up, next));
    return;
  }
  if (numberComplete(f)) feed(done(st.up), b, out);
}

/** The number frame after byte b within the number (a digit, '.', 'e', a sign), if it takes it. */
export function numberStep(f: Extract<Frame, { k: 'N' }>, b: number): Extract<Frame, { k: 'N' }> | undefined {
  const digit = b >= 0x30 && b <= 0x39;
  const int = f.node.integer;
  let next: Extract<Frame, { k: 'N' }> | undefined;
  switch (f.ph) {
    case 0:
      if (b === 0x30) next = { ...f, ph: 1, d: 1 };
      else if (digit) next = { ...f, ph: 2, d: 1 };
      break;
    case 1:
    case 2:
      if (f.ph === 2 && digit && f.d < MAX_INT_DIGITS) next = { ...f, d: f.d + 1 };
      else if (!int && b === 0x2e) next = { ...f, ph: 3, d: 0 };
      else if (!int && (b === 0x65 || b === 0x45)) next = { ...f, ph: 5, d: 0 };
      break;
    case 3:
      if (digit) next = { ...f, ph: 4, d: 1 };
      break;
    case 4:
      if (digit && f.d < MAX_FRAC_DIGITS) next = { ...f, d: f.d + 1 };
      else if (b === 0x65 || b === 0x45) next = { ...f, ph: 5, d: 0 };
      break;
    case 5:
      if (b === 0x2b || b === 0x2d) next = { ...f, ph: 6, d: 0 };
      else if (digit) next = { ...f, ph: 7, d: 1 };
      break;
    case 6:
      if (digit) next = { ...f, ph: 7, d: 1 };
      break;
    case 7:
      if (digit && f.d < MAX_EXP_DIGITS) next = { ...f, d: f.d + 1 };
      break;
  }
  return next;
}

export function numberKey(text: string): string {
  return valueKey(Number(text));
}

/**
 * A number item of a distinct array can still end as a value not written before: it may end now
 * with a new value, or take more characters (digits, or '.' where fractions are allowed; a
 * finite number of values used cannot cover all the ways on).
 */
export function numberAlive(f: Extract<Frame, { k: 'N' }>, vals: readonly string[] | undefined): boolean {
  if (numberComplete(f) && !hasKey(vals, numberKey(f.t!))) return true;
  const int = f.node.integer;
  switch (f.ph) {
    case 1:
      return !int;
    case 2:
      return f.d < MAX_INT_DIGITS || !int;
    case 7:
      return f.d < MAX_EXP_DIGITS;
    default:
      return true;
  }
}

/** A string item of a distinct array: the string frame steps; the closing quote only when the value is new. */
function feedDistinctString(st: Stack, f: Extract<Frame, { k: 'U' }>, b: number, out: Stack[]): void {
  const inner: Stack[] = [];
  feedString({ f: f.s, up: null }, f.s, b, inner);
  if (inner.length === 0) return;
  const g = inner[0]!.f;
  const a = distinctUp(st.up)!;
  if (g.k === 'D') {
    const key = valueKey(decodeContent(f.t));
    if (!hasKey(a.vals, key)) out.push(done(st.up, -1, key));
    return;
  }
  const s = g as Extract<Frame, { k: 'S' }>;
  const t = f.t + String.fromCharCode(b);
  // At its maximum length a value already written has no way on.
  if (s.esc === 0 && s.need === 0 && isBounded(s.node) && s.n >= s.node.maxLength && hasKey(a.vals, valueKey(decodeContent(t)))) return;
  // Under a pattern: only while the DFA has more completions from here than the values written that extend the content.
  if (s.rx !== undefined && s.esc === 0 && s.need === 0 && a.vals && !regexAlive(s, t, a.vals)) return;
  out.push(push(st.up, { k: 'U', s, t }));
}

/** A pattern string item at a character boundary (content t, raw bytes) can still end as a value not written. */
export function regexAlive(s: Extract<Frame, { k: 'S' }>, t: string, vals: readonly string[]): boolean {
  const node = s.node!;
  if (!isRegexString(node)) return true;
  const rc = regexCountOf(node);
  const total = rc.total(s.rx!, s.n);
  let strs = 0;
  for (const k of vals) if (k[0] === 's') strs++;
  if (total > strs) return true;
  const c = decodeContent(t);
  let met = 0;
  for (const k of vals) {
    if (k[0] !== 's' || !k.startsWith(c, 1)) continue;
    const e = rc.run(s.rx!, s.n, k.slice(1 + c.length));
    if (e && rc.accepts(e[0], e[1])) met++;
  }
  return total > met;
}

/** The string value of complete raw content bytes (one char per byte). */
export function decodeContent(t: string): string {
  return JSON.parse(`"${Buffer.from(t, 'latin1').toString('utf8')}"`) as string;
}

export function numberComplete(f: Extract<Frame, { k: 'N' }>): boolean {
  if (f.node.range) return (f.ph === 1 || f.ph === 2) && intComplete(f.node.range, f.neg!, f.v!, f.d);
  if (f.node.num) return (f.ph === 1 || f.ph === 2 || f.ph === 4) && numIn(f.node.num, f.x!);
  return f.ph === 1 || f.ph === 2 || f.ph === 4 || f.ph === 7;
}

function literalComplete(f: Extract<Frame, { k: 'L' }>): boolean {
  for (const i of f.cands) if (f.node.values[i]!.length === f.pos) return true;
  return false;
}

/** Every configuration reachable from `st` by one more byte, appended to `out`. */
export function feed(st: Stack, b: number, out: Stack[]): void {
  const f = st.f;
  const up = st.up;
  switch (f.k) {
    case 'D':
      return;
    case 'V':
      startValue(f.node, up, b, out);
      return;
    case 'L': {
      const next: number[] = [];
      for (const i of f.cands) {
        const v = f.node.values[i]!;
        if (v.length > f.pos && v[f.pos] === b) next.push(i);
      }
      if (next.length) emitLiteral(f.node, next, f.pos + 1, up, out);
      if (literalComplete(f)) feed(literalDone(f.node, completeAt(f.node, f.cands, f.pos), up), b, out);
      return;
    }
    case 'S':
      feedString(st, f, b, out);
      return;
    case 'U':
      feedDistinctString(st, f, b, out);
      return;
    case 'N':
      feedNumber(st, f, b, out);
      return;
    case 'O': {
      const node = f.node;
      if (f.ph === 'first' || f.ph === 'next') {
        if (b === Q) {
          if (node.props.length) {
            const cands = nextProps(node, f.last, f.n, f.w);
            if (cands.length) out.push(push(st, { k: 'K', node, cands, pos: 1 }));
          } else if (node.additional && f.n < node.maxProps) out.push(push(push(up, { ...f, ph: 'keystr' }), strFrame(node.key ?? null, 0)));
        } else if (b === 0x7d && f.ph === 'first' && canClose(node, f.last, f.n, f.w)) out.push(done(up));
      } else if (f.ph === 'after') {
        if (b === 0x2c && (node.props.length ? nextProps(node, f.last, f.n, f.w).length > 0 : node.additional !== null && f.n < node.maxProps)) out.push(push(up, { ...f, ph: 'next' }));
        else if (b === 0x7d && canClose(node, f.last, f.n, f.w)) out.push(done(up));
      } else if (f.ph === 'colon') {
        if (b === 0x3a && node.additional) out.push(push(push(up, { ...f, ph: 'value' }), { k: 'V', node: node.additional }));
      }
      return;
    }
    case 'K': {
      const obj = up!; // the object frame below the key
      for (const j of f.cands) {
        const kb = f.node.props[j]!.keyBytes;
        if (kb[f.pos] !== b) continue;
        if (kb.length === f.pos + 1) {
          const o = obj.f as Extract<Frame, { k: 'O' }>;
          out.push(push(push(obj.up, { ...o, ph: 'value', last: j, w: f.node.depMask ? o.w | (1 << j) : 0 }), { k: 'V', node: f.node.props[j]!.node }));
        }
      }
      const rest = f.cands.filter((j) => {
        const kb = f.node.props[j]!.keyBytes;
        return kb.length > f.pos + 1 && kb[f.pos] === b;
      });
      if (rest.length) out.push(push(obj, { k: 'K', node: f.node, cands: rest, pos: f.pos + 1 }));
      return;
    }
    case 'A': {
      const node = f.node;
      if (f.ph === 'first') {
        if (b === 0x5d && node.minItems === 0 && hitsOk(f)) out.push(done(up));
        else if (node.maxItems > 0) startItem(f, up, b, out);
      } else if (f.ph === 'next') startItem(f, up, b, out);
      else if (f.ph === 'after') {
        if (b === 0x2c && f.count < node.maxItems) out.push(push(up, { ...f, ph: 'next' }));
        else if (b === 0x5d && f.count >= node.minItems && hitsOk(f)) out.push(done(up));
      }
      return;
    }
  }
}

/** Whether the text so far is a complete value (end of generation allowed here). */
export function canEnd(st: Stack): boolean {
  if (st.f.k === 'D') return true;
  if (st.up !== null) return false;
  if (st.f.k === 'N') return numberComplete(st.f);
  if (st.f.k === 'L') return literalComplete(st.f);
  return false;
}

export function isDone(st: Stack): boolean {
  return st.f.k === 'D';
}

/** A string frame in its plain state: whole UTF-8 characters other than '"', '\' and controls just add to its length. */
export function plainString(st: Stack): Extract<Frame, { k: 'S' }> | undefined {
  const f = st.f;
  return f.k === 'S' && f.esc === 0 && f.need === 0 && f.rx === undefined ? f : undefined;
}

/** Characters a plain string frame may still take (Infinity when unbounded). */
export function stringRoom(f: Extract<Frame, { k: 'S' }>): number {
  return isBounded(f.node) ? f.node.maxLength - f.n : Infinity;
}

function frameKey(f: Frame): string {
  switch (f.k) {
    case 'D':
      return 'D';
    case 'V':
      return `V${f.node.id}`;
    case 'L':
      return `L${f.node.id}:${f.cands.join(',')}:${f.pos}`;
    case 'S':
      return `S${f.node ? f.node.id : 'k'}:${f.n}:${f.esc}:${f.need}:${f.lo}:${f.hi}:${f.hex}${f.rx === undefined ? '' : `:${f.rx}:${f.cp}`}`;
    case 'N':
      return (f.v === undefined ? `N${f.node.id}:${f.ph}:${f.d}` : `N${f.node.id}:${f.ph}:${f.d}:${f.neg ? '-' : ''}${f.v}`) + (f.t === undefined ? '' : `:${f.t}`) + (f.x === undefined ? '' : `:${f.x}`);
    case 'U':
      return `U${frameKey(f.s)}:${JSON.stringify(f.t)}`;
    case 'O':
      return `O${f.node.id}:${f.ph}:${f.last}:${f.n}:${f.w}`;
    case 'K':
      return `K${f.node.id}:${f.cands.join(',')}:${f.pos}`;
    case 'A':
      return `A${f.node.id}:${f.ph}:${f.count}${f.u ? `:${f.u.join(',')}` : ''}${f.c === undefined ? '' : `:c${f.c}${f.hit ? 'h' : ''}`}${f.vals ? `:${JSON.stringify(f.vals)}` : ''}`;
  }
}

/** A canonical key of a configuration (equal keys accept exactly the same continuations). */
export function stackKey(st: Stack): string {
  const parts: string[] = [];
  for (let s: Stack | null = st; s; s = s.up) parts.push(frameKey(s.f));
  return parts.join('|');
}

/** Feed a whole byte string to a set of configurations; duplicates are merged. */
export function feedBytes(configs: readonly Stack[], bytes: Uint8Array): Stack[] {
  let cur: Stack[] = [...configs];
  for (const b of bytes) {
    const next: Stack[] = [];
    for (const s of cur) feed(s, b, next);
    if (next.length === 0) return [];
    cur = next;
  }
  if (cur.length < 2) return cur;
  const seen = new Map<string, Stack>();
  for (const s of cur) seen.set(stackKey(s), s);
  return [...seen.values()];
}
