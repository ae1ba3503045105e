import { afterItem, arrCap, canClose, decodeContent, nextProps, numberComplete, numberKey, numberStep, objCap, usedInts, type Frame, type Stack } from './json-automaton.js';
import { ascii94, canonBytes, costCounts, COSTS, hasKey, jsonCharBytes, literalKeys, poolOf, REGEX_MAX_BYTES, type RegexCount } from './json-distinct.js';
import { intCount, intIn, intMoreDigits, intShortest, intSpan, MAX_DIGITS } from './json-int-range.js';
import { numMore, numShortest } from './json-num-range.js';
import type { CharDfa } from './json-regex.js';
import { grammarNodes, type ArrayNode, type GrammarNode, type LiteralNode, type ObjectNode } from './json-schema-compile.js';

/**
 * The length in bytes of the shortest completion of an automaton configuration: the fewest bytes
 * that turn the text so far into a complete value under the schema (0 when it may end here).
 *
 * Exact, not a guess: it is the length of a real path through the automaton, and along that path it
 * drops by one per byte. In a byte-level vocabulary (GPT-2 / Qwen: every byte is a token of its own)
 * each of those bytes can be generated as one token, so "shortest completion in bytes <= tokens
 * left" is a promise the decoder can always keep, one single-byte token at a time. Multi-byte tokens
 * only make completions shorter, so the bound is safe (it may be larger than the true shortest
 * completion in tokens, never smaller than what can be reached).
 *
 * Values are computed once per schema (a fixpoint over the node graph: recursive `$ref`s work; a
 * node with no finite instance is Infinity); a configuration costs one pass over its stack.
 */
const EMPTY_HIST = new Map<number, number>();
const DIGITS = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39];
const DIGITS_DOT = [...DIGITS, 0x2e];
/** The characters of the short escapes (\" \\ \/ \b \f \n \r \t). */
const SHORT_ESCAPED = [0x22, 0x5c, 0x2f, 8, 12, 10, 13, 9];

function isAscii94(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!ascii94(s.charCodeAt(i))) return false;
  return true;
}

export class ShortestCompletion {
  private readonly minV = new Map<number, number>();
  /** Per object node with declared properties: after property `last` with c properties written (index (last+1)*(cap+1)+c), with / without the comma already written. */
  private readonly objAfter = new Map<number, Map<string, number>>();
  private readonly objNext = new Map<number, Map<string, number>>();

  constructor(root: GrammarNode) {
    const nodes = grammarNodes(root);
    for (const n of nodes) this.minV.set(n.id, Infinity);
    // Relax until nothing shrinks (values only decrease from Infinity; each pass settles at least one more level).
    for (let changed = true; changed; ) {
      changed = false;
      for (const n of nodes) {
        const v = this.compute(n);
        if (v < this.minV.get(n.id)!) {
          this.minV.set(n.id, v);
          changed = true;
        }
      }
    }
    this.objAfter.clear();
    this.objNext.clear();
  }

  /** Fewest bytes of a whole value of this node. */
  value(n: GrammarNode): number {
    return this.minV.get(n.id) ?? this.compute(n);
  }

  private compute(n: GrammarNode): number {
    switch (n.t) {
      case 'union': {
        let m = Infinity;
        for (const o of n.options) m = Math.min(m, this.minV.get(o.id) ?? Infinity);
        return m;
      }
      case 'literal': {
        let m = Infinity;
        for (const v of n.values) m = Math.min(m, v.length);
        return m;
      }
      case 'string':
        return 2 + (n.regex ? n.regex.minBytesAtLeast(0, n.minLength) : n.minLength);
      case 'number':
        return n.range ? intShortest(n.range) : n.num ? numShortest(n.num) : 1;
      case 'object':
        if (n.props.length === 0) return 1 + this.mapRest(n, 'first', 0);
        this.objAfter.delete(n.id); // tables depend on the values of the properties: rebuild
        this.objNext.delete(n.id);
        return 1 + this.objFirst(n);
      case 'array': {
        if (n.unique) return n.minItems === 0 ? 2 : 1 + this.distinct(n, n.minItems, undefined) + (n.minItems - 1) + 1;
        if (n.distinct) return 1 + this.distinctRest(n, 'first', 0, undefined);
        return 1 + this.arrRest(n, 'first', 0, 0);
      }
    }
  }

  /** uniqueItems over literal items: the fewest bytes of k values not yet used (no commas). */
  private distinct(n: ArrayNode, k: number, used: number[] | undefined): number {
    const values = (n.items as LiteralNode).values;
    const lens = values.map((v, i) => (used?.includes(i) ? Infinity : v.length)).sort((a, b) => a - b);
    let sum = 0;
    for (let i = 0; i < k; i++) sum += lens[i] ?? Infinity;
    return sum;
  }

  /** The rest of a uniqueItems array of literals (u: values written). */
  private uniqueRest(n: ArrayNode, ph: 'first' | 'next' | 'after', count: number, u: number[] | undefined): number {
    if (ph === 'first') return n.minItems === 0 ? 1 : this.distinct(n, n.minItems, u) + (n.minItems - 1) + 1;
    if (ph === 'next') {
      const k = Math.max(1, n.minItems - count);
      return this.distinct(n, k, u) + (k - 1) + 1;
    }
    if (count >= n.minItems) return 1;
    const k = n.minItems - count;
    return this.distinct(n, k, u) + k + 1;
  }

  /**
   * The rest of a distinct array (json-distinct.ts) after '[' (first), ',' (next) or an item
   * (after), with count items and the values `vals` written: the cheapest values of its pool not
   * written (extra: the pool length of one more value taken, the item being finished), commas and ']'.
   */
  private distinctRest(n: ArrayNode, ph: 'first' | 'next' | 'after', count: number, vals: string[] | undefined, extra = -1): number {
    const pool = poolOf(n);
    const hist = this.histOf(n, vals);
    const m = n.minItems;
    if (ph === 'first') return m === 0 ? 1 : pool.cheapest(hist, m, extra) + (m - 1) + 1;
    if (ph === 'next') {
      const k = Math.max(1, m - count);
      return pool.cheapest(hist, k, extra) + (k - 1) + 1;
    }
    const k = Math.max(0, m - count);
    return k === 0 ? 1 : k + pool.cheapest(hist, k, extra) + 1;
  }

  /**
   * What an item being written under distinct array frame `a` (ph 'value') sees of the array in its
   * shortest completion, as a key: the rest after the item (distinctRest's 'after' phase, whatever
   * extra slot the item takes) reads the written values only as counts per pool length, and only
   * while minItems is not met. Two frames with the same key (and the same frames below) give the
   * same shortest completion to the same item content, provided no written value extends that
   * content (stringItem then compares it with none). Keep in step with distinctRest.
   */
  itemContext(a: Extract<Frame, { k: 'A' }>): string {
    const n = a.node;
    const k = Math.max(0, n.minItems - Math.min(a.count + 1, arrCap(n)));
    if (k === 0) return `${n.id}|0`;
    return `${n.id}|${k}|${[...this.histOf(n, a.vals)].sort((x, y) => x[0] - y[0]).join(';')}`;
  }

  /**
   * Whether minItems is met once the item being written under `a` ends: then the rest after it does
   * not read which value it became, and a string item whose content meets minLength and which no
   * written value extends has a shortest completion that depends only on what its last token left
   * open (nothing, an escape, a UTF-8 character: stringItem closes it or finishes that character
   * in its cheapest way, then closes). Keep in step with distinctRest and stringItem.
   */
  itemRestFixed(a: Extract<Frame, { k: 'A' }>): boolean {
    return a.node.minItems <= Math.min(a.count + 1, arrCap(a.node));
  }

  private readonly strs = new WeakMap<string[], string[]>();
  /** The string values written (cached per list). */
  private stringsOf(vals: string[] | undefined): string[] {
    if (!vals) return [];
    let out = this.strs.get(vals);
    if (!out) {
      out = [];
      for (const k of vals) if (k[0] === 's') out.push(k.slice(1));
      this.strs.set(vals, out);
    }
    return out;
  }

  private readonly hists = new WeakMap<string[], Map<number, number>>();
  private histOf(n: ArrayNode, vals: string[] | undefined): Map<number, number> {
    if (!vals) return EMPTY_HIST;
    let h = this.hists.get(vals);
    if (!h) this.hists.set(vals, (h = poolOf(n).histogram(vals)));
    return h;
  }

  /** An item of a distinct array being written, and the rest of the array after it: the cheapest way to end it as a new value. */
  private distinctItem(f: Frame, a: Extract<Frame, { k: 'A' }>): number {
    const pool = poolOf(a.node);
    const count = Math.min(a.count + 1, arrCap(a.node));
    const after = (key: string | undefined): number => this.distinctRest(a.node, 'after', count, a.vals, key === undefined ? -1 : pool.slot(key));
    if (f.k === 'L') {
      const keys = literalKeys(f.node);
      let best = Infinity;
      for (const i of f.cands) if (!hasKey(a.vals, keys[i]!)) best = Math.min(best, f.node.values[i]!.length - f.pos + after(keys[i]));
      return best;
    }
    if (f.k === 'N') return f.node.range ? this.rangedItem(f, a) : this.numberItem(f, a, after);
    if (f.k === 'U') return this.stringItem(f, a, after);
    return Infinity;
  }

  /** A number item: it ends now, or after more digits (or '.' and digits), as a value not written; breadth first by bytes added. */
  private numberItem(f: Extract<Frame, { k: 'N' }>, a: Extract<Frame, { k: 'A' }>, after: (key: string | undefined) => number): number {
    const base = after(undefined);
    let best = Infinity;
    let layer = [f];
    for (let e = 0; layer.length > 0 && e + base < best; e++) {
      const next: Array<Extract<Frame, { k: 'N' }>> = [];
      for (const g of layer) {
        if (numberComplete(g)) {
          const key = numberKey(g.t!);
          if (!hasKey(a.vals, key)) best = Math.min(best, e + after(key));
        }
        const bytes = (g.ph === 1 || g.ph === 2) && !g.node.integer ? DIGITS_DOT : DIGITS;
        for (const b of bytes) {
          const h = numberStep(g, b);
          if (h) next.push({ ...h, t: g.t! + String.fromCharCode(b) });
        }
      }
      layer = next;
    }
    return best;
  }

  /**
   * A bounded integer item: k more digits (k = 0: it ends now) give the span of values with that
   * prefix; it can end as one not written when the range holds more of them than were written. Every
   * such value takes the pool slot of its length, but 0 (reached as "-0"), which takes one byte's.
   */
  private rangedItem(f: Extract<Frame, { k: 'N' }>, a: Extract<Frame, { k: 'A' }>): number {
    const r = f.node.range!;
    const used = usedInts(a.vals);
    const count = Math.min(a.count + 1, arrCap(a.node));
    const rest = (slot: number): number => this.distinctRest(a.node, 'after', count, a.vals, slot);
    let best = Infinity;
    for (let k = 0; f.d + k <= MAX_DIGITS && k + 1 < best; k++) {
      const s = intSpan(f.neg!, f.v!, f.d, k);
      if (!s) continue;
      const c = intCount(r, s[0], s[1]);
      if (c === 0) continue;
      let u = 0;
      for (const x of used) if (x >= s[0] && x <= s[1] && intIn(r, x)) u++;
      if (c <= u) continue;
      const zero = f.neg! && s[0] <= 0 && s[1] >= 0 && intIn(r, 0); // "-0": the value 0, one byte in the pool
      const zeroFree = zero && !used.includes(0);
      if (zeroFree) best = Math.min(best, k + rest(1));
      if (c - (zero ? 1 : 0) > u - (zero && !zeroFree ? 1 : 0)) best = Math.min(best, k + rest((f.neg ? 1 : 0) + f.d + k));
    }
    return best;
  }

  /**
   * A string item: its decoded content so far, then the cheapest new value it can become: printable
   * ASCII characters after it (one byte each), or first the character being written (an escape, a
   * multi-byte character) in its cheapest way, each way checked against the values written.
   */
  private stringItem(f: Extract<Frame, { k: 'U' }>, a: Extract<Frame, { k: 'A' }>, after: (key: string | undefined) => number): number {
    const s = f.s;
    const node = s.node!;
    const min = node.minLength;
    const max = node.maxLength;
    const used = this.stringsOf(a.vals);
    /** Content c (n characters, all complete): the fewest bytes to end it as a new value, the rest of the array included. */
    const plain = (c: string, n: number): number => {
      const canon = isAscii94(c);
      const ext = new Map<number, number>();
      for (const v of used) {
        if (v.length > c.length && v.startsWith(c) && isAscii94(v.slice(c.length))) ext.set(v.length - c.length, (ext.get(v.length - c.length) ?? 0) + 1);
      }
      for (let j = Math.max(0, min - n); n + j <= max; j++) {
        if (j === 0) {
          if (!used.includes(c)) return 1 + after(`s${c}`);
        } else if (94 ** j > (ext.get(j) ?? 0)) return j + 1 + (canon ? this.distinctRest(a.node, 'after', Math.min(a.count + 1, arrCap(a.node)), a.vals, n + j + 2) : after(undefined));
      }
      return Infinity;
    };
    let tail = 0;
    if (s.esc === 1) tail = 1;
    else if (s.esc >= 2) tail = s.esc;
    else if (s.need > 0) {
      let i = f.t.length - 1;
      while (i > 0 && f.t.charCodeAt(i) >= 0x80 && f.t.charCodeAt(i) <= 0xbf) i--;
      tail = f.t.length - i;
    }
    const raw = f.t.slice(0, f.t.length - tail);
    const simple = isAscii94(raw); // printable ASCII without escapes: the content is the bytes
    const c = simple ? raw : decodeContent(raw);
    const rc = poolOf(a.node).rx;
    if (rc && rc.node === node) return this.regexItem(f, a, rc, c, tail);
    const n = simple ? c.length : [...c].length;
    if (tail === 0) return plain(c, n);
    // Characters later values start with right after c.
    const interesting = new Set<number>();
    for (const v of used) if (v.length > c.length && v.startsWith(c)) interesting.add(v.codePointAt(c.length)!);
    // A character no value written goes on with, and not printable ASCII: nothing used and no pool value can follow it.
    const generic = Math.max(0, min - n - 1) + 1 + after(undefined);
    const one = (cp: number): number => plain(c + String.fromCodePoint(cp), n + 1);
    if (s.esc === 1) {
      let best = 5 + generic; // \uXXXX of a character nothing starts with
      for (const ch of SHORT_ESCAPED) best = Math.min(best, 1 + one(ch));
      return best;
    }
    let lo: number;
    let hi: number;
    let r: number;
    if (s.esc >= 2) {
      const read = s.esc - 2;
      lo = s.hex << (4 * (4 - read));
      hi = ((s.hex + 1) << (4 * (4 - read))) - 1;
      r = 6 - s.esc;
    } else {
      const t = f.t.slice(f.t.length - tail);
      const lead = t.charCodeAt(0);
      const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      let cp = lead & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
      for (let i = 1; i < t.length; i++) cp = (cp << 6) | (t.charCodeAt(i) & 0x3f);
      r = s.need;
      lo = Math.max(cp << (6 * r), len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000);
      hi = Math.min(((cp + 1) << (6 * r)) - 1, 0x10ffff);
    }
    const inRange = (cp: number): boolean => cp >= lo && cp <= hi && (cp < 0xd800 || cp > 0xdfff);
    let best = Infinity;
    let asciiRep = -1;
    let ascii = 0;
    for (let cp = Math.max(lo, 0x20); cp <= Math.min(hi, 0x7f); cp++) {
      if (!ascii94(cp)) continue;
      ascii++;
      if (!interesting.has(cp) && asciiRep < 0) asciiRep = cp;
    }
    if (asciiRep >= 0) best = Math.min(best, r + one(asciiRep));
    let otherInteresting = 0;
    for (const cp of interesting) {
      if (!inRange(cp)) continue;
      best = Math.min(best, r + one(cp));
      if (!ascii94(cp)) otherInteresting++;
    }
    const surrogates = Math.max(0, Math.min(hi, 0xdfff) - Math.max(lo, 0xd800) + 1);
    if (hi - lo + 1 - surrogates - ascii - otherInteresting > 0) best = Math.min(best, r + generic);
    return best;
  }

  /**
   * A string item under a pattern (the pool counts its values exactly, json-distinct.ts RegexCount):
   * the cheapest completion from the DFA state and character counter, by content bytes j, among those
   * of j bytes not written (the pattern's completions of j bytes outnumber the values written that
   * extend the content by j bytes), then the rest of the array with the value at its canonical
   * length. Inside an escape or a UTF-8 character, each character the rest of it can be: the ones
   * written values go on with exactly, the others by DFA transition and byte cost (nothing written
   * extends them). c: the decoded content of the complete characters; tail: raw bytes after them.
   */
  private regexItem(f: Extract<Frame, { k: 'U' }>, a: Extract<Frame, { k: 'A' }>, rc: RegexCount, c: string, tail: number): number {
    const s = f.s;
    const count = Math.min(a.count + 1, arrCap(a.node));
    const restAt = (slot: number): number => this.distinctRest(a.node, 'after', count, a.vals, slot);
    const low = restAt(-1);
    const used = this.stringsOf(a.vals);
    const st0 = s.rx ?? rc.univ;
    const n0 = s.n;
    const cb0 = canonBytes(c);
    /** Content c at DFA state st, counter n, canonical length cb (free: no value written extends it). */
    const boundary = (cc: string, st: number, n: number, cb: number, free: boolean): number => {
      const ext = new Map<number, number>();
      if (!free) {
        for (const v of used) {
          if (!v.startsWith(cc)) continue;
          const rest = v.slice(cc.length);
          const e = rc.run(st, n, rest);
          if (e && rc.accepts(e[0], e[1])) {
            const j = canonBytes(rest);
            ext.set(j, (ext.get(j) ?? 0) + 1);
          }
        }
      }
      const m = Math.min(rc.maxBytes(st, n), REGEX_MAX_BYTES);
      let best = Infinity;
      for (let j = 0; j <= m && j + 1 + low < best; j++) {
        if (rc.count(st, n, j) > (ext.get(j) ?? 0)) best = Math.min(best, j + 1 + restAt(cb + j + 2));
      }
      return best;
    };
    if (tail === 0) return boundary(c, st0, n0, cb0, false);
    const interesting = new Set<number>();
    for (const v of used) if (v.length > c.length && v.startsWith(c)) interesting.add(v.codePointAt(c.length)!);
    /** The character cp, then rem more bytes of its spelling. */
    const one = (cp: number, rem: number): number => {
      const e = rc.run(st0, n0, String.fromCodePoint(cp));
      return e ? rem + boundary(c + String.fromCodePoint(cp), e[0], e[1], cb0 + jsonCharBytes(cp), false) : Infinity;
    };
    /** Any character of [lo, hi], then rem more bytes of its spelling. */
    const range = (lo: number, hi: number, rem: number): number => {
      if (n0 + 1 > s.node!.maxLength) return Infinity;
      const n2 = Math.min(n0 + 1, rc.cap);
      const dfa = rc.dfa;
      const starts = dfa.start[st0]!;
      let best = Infinity;
      for (let i = 0; i < starts.length; i++) {
        const x = Math.max(starts[i]!, lo);
        const y = Math.min(dfa.end[st0]![i]!, hi);
        if (x > y) continue;
        const cc = costCounts(x, y);
        const met = [0, 0, 0, 0, 0];
        for (const cp of interesting) {
          if (cp < x || cp > y || (cp >= 0xd800 && cp <= 0xdfff)) continue;
          best = Math.min(best, one(cp, rem));
          met[COSTS.indexOf(jsonCharBytes(cp) as 1)]!++;
        }
        for (let q = 0; q < COSTS.length; q++) if (cc[q]! > met[q]!) best = Math.min(best, rem + boundary('', dfa.to[st0]![i]!, n2, cb0 + COSTS[q]!, true));
      }
      return best;
    };
    if (s.esc === 1) {
      let best = range(0, 0xffff, 5);
      for (const ch of SHORT_ESCAPED) best = Math.min(best, one(ch, 1));
      return best;
    }
    if (s.esc >= 2) {
      const read = s.esc - 2;
      return range(s.hex << (4 * (4 - read)), ((s.hex + 1) << (4 * (4 - read))) - 1, 6 - s.esc);
    }
    const t = f.t.slice(f.t.length - tail);
    const lead = t.charCodeAt(0);
    const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    let cp = lead & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
    for (let i = 1; i < t.length; i++) cp = (cp << 6) | (t.charCodeAt(i) & 0x3f);
    const r = s.need;
    return range(Math.max(cp << (6 * r), len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000), Math.min(((cp + 1) << (6 * r)) - 1, 0x10ffff), r);
  }

  /** The rest of an array (not uniqueItems) after '[' (first), ',' (next) or an item (after), with count items and c contains hits written: ']' included. */
  private arrRest(n: ArrayNode, ph: 'first' | 'next' | 'after', count: number, c: number): number {
    const k = n.contains;
    let need = Math.max(0, n.minItems - count);
    const hitsNeeded = k ? Math.max(0, k.min - c) : 0;
    need = Math.max(need, hitsNeeded);
    if (ph === 'next') need = Math.max(1, need);
    if (need === 0) return 1;
    const commas = ph === 'after' ? need : need - 1;
    let items: number;
    if (k) {
      // hits h in [hitsNeeded, min(need, max - c)], misses need - h: the cost is linear in h, so one of the ends.
      const hMax = Math.min(need, k.max - c);
      if (hMax < hitsNeeded) return Infinity;
      const vh = this.value(k.hit);
      const vm = this.value(k.miss);
      const cost = (h: number): number => (h === 0 ? 0 : h * vh) + (need - h === 0 ? 0 : (need - h) * vm);
      items = Math.min(cost(hitsNeeded), cost(hMax));
    } else if (n.tuple && count < n.tuple.length) {
      items = 0;
      for (let i = count; i < count + need; i++) items += this.value(i < n.tuple.length ? n.tuple[i]! : (n.rest ?? n.items));
    } else items = need * this.value(n.rest ?? n.items);
    return items + commas + 1;
  }

  /** After property `last` with c properties written (w: which, with dependentRequired), the comma not yet written: the rest, '}' included. */
  private objAfterRest(n: ObjectNode, last: number, c: number, w: number): number {
    let memo = this.objAfter.get(n.id);
    if (!memo) this.objAfter.set(n.id, (memo = new Map()));
    const key = `${last}:${c}:${w}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const v = Math.min(canClose(n, last, c, w) ? 1 : Infinity, 1 + this.objNextRest(n, last, c, w));
    memo.set(key, v);
    return v;
  }

  /** The same with the comma (or '{') written: a property must follow. */
  private objNextRest(n: ObjectNode, last: number, c: number, w: number): number {
    let memo = this.objNext.get(n.id);
    if (!memo) this.objNext.set(n.id, (memo = new Map()));
    const key = `${last}:${c}:${w}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let best = Infinity;
    const c1 = Math.min(c + 1, objCap(n));
    for (const j of nextProps(n, last, c, w)) {
      const p = n.props[j]!;
      best = Math.min(best, p.keyBytes.length + this.value(p.node) + this.objAfterRest(n, j, c1, n.depMask ? w | (1 << j) : 0));
    }
    memo.set(key, best);
    return best;
  }

  /** Just after '{' of an object with declared properties. */
  private objFirst(n: ObjectNode): number {
    return Math.min(canClose(n, -1, 0, 0) ? 1 : Infinity, this.objNextRest(n, -1, 0, 0));
  }

  /** A free-form map (no declared properties) with c entries written: the rest, '}' included. */
  private mapRest(n: ObjectNode, ph: 'first' | 'next' | 'colon' | 'after', c: number): number {
    const v = n.additional ? this.value(n.additional) : Infinity;
    const entry = (n.key ? this.value(n.key) : 2) + 1 + v; // "key":v (the shortest key: "" when free)
    const more = (k: number): number => (k <= 0 ? 0 : k * (entry + 1)); // k more entries, each after a comma
    if (ph === 'first') return n.minProps === 0 ? 1 : entry + more(n.minProps - 1) + 1;
    if (ph === 'next') return entry + more(n.minProps - c - 1) + 1;
    if (ph === 'colon') return 1 + v + more(n.minProps - c - 1) + 1;
    return more(n.minProps - c) + 1;
  }

  /** Bytes to finish the value a frame stands for (its children already complete). */
  private rest(f: Frame): number {
    switch (f.k) {
      case 'D':
        return 0;
      case 'V':
        return this.value(f.node);
      case 'L': {
        let m = Infinity;
        for (const i of f.cands) m = Math.min(m, f.node.values[i]!.length - f.pos);
        return m;
      }
      case 'S': {
        const min = f.node ? f.node.minLength : 0;
        if (f.rx !== undefined) {
          // Under a pattern (and a minLength: the pattern's fewest bytes writing at least the characters it
          // still asks for, CharDfa.minBytesAtLeast). Inside a
          // character (an escape, a UTF-8 sequence) only the characters its rest can still be count: after
          // '\' a short escape's character (one byte) or any BMP character by \uXXXX (five), inside \uXXXX
          // or a UTF-8 sequence the code points its digits / bytes so far begin. (The pattern's cheapest next
          // character, minNext, undercounted: `\` where only \u escapes fit, e.g. an email's domain.)
          const dfa = f.node!.regex!;
          const after = Math.max(0, min - (f.n + 1));
          const via = (lo: number, hi: number): number => minThrough(dfa, f.rx!, lo, hi, after);
          if (f.need > 0) {
            const low = (f.need - 1) * 6;
            return f.need + via((((f.cp! << 6) | (f.lo & 0x3f)) * 2 ** low), (((f.cp! << 6) | (f.hi & 0x3f)) + 1) * 2 ** low - 1) + 1;
          }
          if (f.esc === 1) {
            let best = 5 + via(0, 0xffff);
            for (const ch of SHORT_ESCAPED) {
              const to = dfa.step(f.rx, ch);
              if (to >= 0) best = Math.min(best, 1 + dfa.minBytesAtLeast(to, after));
            }
            return best + 1;
          }
          if (f.esc >= 2) {
            const left = 4 - (f.esc - 2);
            return left + via(f.hex * 16 ** left, (f.hex + 1) * 16 ** left - 1) + 1;
          }
          return dfa.minBytesAtLeast(f.rx, min - f.n) + 1;
        }
        if (f.need > 0) return f.need + Math.max(0, min - (f.n + 1)) + 1;
        if (f.esc === 1) return 1 + Math.max(0, min - (f.n + 1)) + 1;
        if (f.esc >= 2) return 6 - f.esc + Math.max(0, min - (f.n + 1)) + 1;
        return Math.max(0, min - f.n) + 1;
      }
      case 'N':
        if (f.node.range) return intMoreDigits(f.node.range, f.neg!, f.v!, f.d);
        if (f.node.num) return numMore(f.node.num, f.x!);
        return f.ph === 0 || f.ph === 3 || f.ph === 5 || f.ph === 6 ? 1 : 0;
      case 'O': {
        const n = f.node;
        if (n.props.length === 0) {
          // first, next, colon, after (keystr / value: below a child, see afterChild)
          const ph = f.ph === 'keystr' ? 'colon' : f.ph === 'value' ? 'after' : f.ph;
          return this.mapRest(n, ph, f.n);
        }
        if (f.ph === 'first') return this.objFirst(n);
        if (f.ph === 'next') return this.objNextRest(n, f.last, f.n, f.w);
        return this.objAfterRest(n, f.last, f.n, f.w);
      }
      case 'K':
      case 'U':
        return Infinity; // handled with its object / array in of()
      case 'A': {
        const n = f.node;
        if (n.unique && f.ph !== 'value') return this.uniqueRest(n, f.ph, f.count, f.u);
        if (n.distinct && f.ph !== 'value') return this.distinctRest(n, f.ph, f.count, f.vals);
        if (f.ph === 'value') return Infinity; // below a child: see afterChild
        return this.arrRest(n, f.ph, f.count, f.c ?? 0);
      }
    }
  }

  /** Bytes to finish a container once the child value above it is complete (what `done` makes of it). */
  private afterChild(f: Frame): number {
    if (f.k === 'O') {
      if (f.ph === 'keystr') return this.rest({ ...f, ph: 'colon' });
      return this.rest({ ...f, ph: 'after', n: Math.min(f.n + 1, objCap(f.node)) });
    }
    if (f.k === 'A') return this.rest(afterItem(f));
    return 0;
  }

  /** Fewest bytes that complete this configuration. */
  of(st: Stack): number {
    let total: number;
    let s: Stack | null;
    const below = st.up?.f;
    if (below?.k === 'A' && below.node.distinct && (st.f.k === 'L' || st.f.k === 'N' || st.f.k === 'U')) {
      total = this.distinctItem(st.f, below);
      s = st.up!.up;
    } else if (st.f.k === 'L' && below?.k === 'A' && below.node.unique && below.node.items === st.f.node) {
      // A literal item of a uniqueItems array: which value it becomes decides what is left for the others.
      const f = st.f;
      const a = below;
      const cap = Number.isFinite(a.node.maxItems) ? a.node.maxItems : a.node.minItems;
      total = Infinity;
      for (const i of f.cands) {
        const left = f.node.values[i]!.length - f.pos;
        const u = a.u?.includes(i) ? a.u : [...(a.u ?? []), i];
        total = Math.min(total, left + this.uniqueRest(a.node, 'after', Math.min(a.count + 1, cap), u));
      }
      s = st.up!.up;
    } else if (st.f.k === 'K') {
      const f = st.f;
      const obj = st.up!;
      const o = obj.f as Extract<Frame, { k: 'O' }>;
      const c1 = Math.min(o.n + 1, objCap(f.node));
      total = Infinity;
      for (const j of f.cands) {
        const p = f.node.props[j]!;
        total = Math.min(total, p.keyBytes.length - f.pos + this.value(p.node) + this.objAfterRest(f.node, j, c1, f.node.depMask ? o.w | (1 << j) : 0));
      }
      s = obj.up;
    } else {
      total = this.rest(st.f);
      s = st.up;
    }
    for (; s; s = s.up) total += this.afterChild(s.f);
    return total;
  }

  /** Fewest bytes that complete any of these configurations. */
  ofState(state: readonly Stack[]): number {
    let m = Infinity;
    for (const s of state) m = Math.min(m, this.of(s));
    return m;
  }
}

/**
 * Fewest bytes after one more character in [lo, hi] (surrogates excluded) read from pattern state
 * rx: from the state that character leads to, writing at least `chars` more characters (what
 * minLength still asks for after it). Infinity when no such character is allowed.
 */
function minThrough(dfa: CharDfa, rx: number, lo: number, hi: number, chars: number): number {
  let m = Infinity;
  const st = dfa.start[rx]!;
  const en = dfa.end[rx]!;
  const to = dfa.to[rx]!;
  for (let i = 0; i < st.length; i++) {
    const a = Math.max(st[i]!, lo);
    const b = Math.min(en[i]!, hi);
    if (a > b || (a >= 0xd800 && b <= 0xdfff)) continue;
    m = Math.min(m, dfa.minBytesAtLeast(to[i]!, chars));
  }
  return m;
}
