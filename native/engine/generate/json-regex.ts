/**
 * `pattern` and `format` as automata over characters (issue 21): the common subset of ECMA-262
 * regular expressions with the `u` flag (what ajv uses) compiled to a DFA over Unicode code points,
 * built eagerly (subset construction, at most MAX_STATES states) and pruned to the states from which
 * a match is still reachable, so a string frame that follows it never enters a dead end.
 *
 * Supported: literals, `.`, classes (`[a-z]`, `[^...]`, `\d \w \s` and their negations), escapes
 * (`\t \n \xHH \uHHHH \u{H..}`, `\/`...), groups (`(...)`, `(?:...)`, `(?<name>...)`), alternation,
 * quantifiers `? * + {m} {m,} {m,n}` (lazy ones too: the language is the same), anchors `^ $`.
 * JSON Schema patterns are not anchored: without `^` / `$` the match may start / end anywhere.
 * Refused (RegexUnsupported, the reason named): backreferences, lookarounds, word boundaries,
 * Unicode property escapes.
 */

export class RegexUnsupported extends Error {}

/** Sorted, disjoint, inclusive code point ranges: [lo0, hi0, lo1, hi1, ...]. */
type Ranges = number[];

const MAX_CP = 0x10ffff;
const MAX_STATES = 4000;
const MAX_NFA = 50_000;

type Ast =
  | { t: 'set'; r: Ranges }
  | { t: 'cat'; xs: Ast[] }
  | { t: 'alt'; xs: Ast[] }
  | { t: 'rep'; x: Ast; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

function norm(r: Ranges): Ranges {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    if (out.length && lo <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(r: Ranges): Ranges {
  const n = norm(r);
  const out: Ranges = [];
  let at = 0;
  for (let i = 0; i < n.length; i += 2) {
    if (n[i]! > at) out.push(at, n[i]! - 1);
    at = n[i + 1]! + 1;
  }
  if (at <= MAX_CP) out.push(at, MAX_CP);
  return out;
}

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: Ranges = norm([0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff]);
const DOT: Ranges = complement([0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]);
const ANY: Ranges = [0, MAX_CP];

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Ast {
    const a = this.alt();
    if (this.i < this.src.length) throw new RegexUnsupported(`unbalanced ")" at ${this.i}`);
    return a;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alt(): Ast {
    const xs = [this.seq()];
    while (this.peek() === '|') {
      this.i++;
      xs.push(this.seq());
    }
    return xs.length === 1 ? xs[0]! : { t: 'alt', xs };
  }

  private seq(): Ast {
    const xs: Ast[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      let a = this.atom();
      for (;;) {
        const q = this.quant();
        if (!q) break;
        if (a.t === 'bol' || a.t === 'eol') throw new RegexUnsupported('a quantified anchor');
        a = { t: 'rep', x: a, min: q[0], max: q[1] };
      }
      xs.push(a);
    }
    return { t: 'cat', xs };
  }

  private quant(): [number, number] | undefined {
    const c = this.peek();
    let q: [number, number] | undefined;
    if (c === '*') q = [0, Infinity];
    else if (c === '+') q = [1, Infinity];
    else if (c === '?') q = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return undefined;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new RegexUnsupported('a quantifier {m,n} with n < m');
      if (min > 1000 || (max !== Infinity && max > 1000)) throw new RegexUnsupported('a repeat count above 1000');
      this.i += m[0].length - 1;
      q = [min, max];
    }
    if (!q) return undefined;
    this.i++;
    if (this.peek() === '?') this.i++; // lazy: same language
    return q;
  }

  private atom(): Ast {
    const c = this.src[this.i++]!;
    switch (c) {
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '.':
        return { t: 'set', r: DOT };
      case '(': {
        if (this.src.startsWith('?:', this.i)) this.i += 2;
        else if (this.src.startsWith('?=', this.i) || this.src.startsWith('?!', this.i) || this.src.startsWith('?<=', this.i) || this.src.startsWith('?<!', this.i)) throw new RegexUnsupported('a lookaround');
        else if (this.src.startsWith('?<', this.i)) {
          const end = this.src.indexOf('>', this.i);
          if (end < 0) throw new RegexUnsupported('an unterminated group name');
          this.i = end + 1;
        } else if (this.peek() === '?') throw new RegexUnsupported('a group modifier');
        const a = this.alt();
        if (this.src[this.i++] !== ')') throw new RegexUnsupported('an unclosed group');
        return a;
      }
      case '[':
        return { t: 'set', r: this.cls() };
      case '\\':
        return { t: 'set', r: this.escape(false) };
      case ')':
      case '*':
      case '+':
      case '?':
        throw new RegexUnsupported(`a stray "${c}"`);
      default: {
        const cp = this.src.codePointAt(this.i - 1)!;
        if (cp > 0xffff) this.i++;
        return { t: 'set', r: [cp, cp] };
      }
    }
  }

  private cls(): Ranges {
    let neg = false;
    if (this.peek() === '^') {
      neg = true;
      this.i++;
    }
    const r: Ranges = [];
    while (this.i < this.src.length && this.peek() !== ']') {
      const lo = this.classAtom();
      if (this.peek() === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length && lo.length === 2 && lo[0] === lo[1]) {
        this.i++;
        const hi = this.classAtom();
        if (hi.length !== 2 || hi[0] !== hi[1]) throw new RegexUnsupported('a class range to a class');
        if (hi[0]! < lo[0]!) throw new RegexUnsupported('a class range out of order');
        r.push(lo[0]!, hi[0]!);
      } else r.push(...lo);
    }
    if (this.src[this.i++] !== ']') throw new RegexUnsupported('an unclosed class');
    return neg ? complement(r) : norm(r);
  }

  private classAtom(): Ranges {
    const c = this.src[this.i++]!;
    if (c === '\\') return this.escape(true);
    const cp = this.src.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return [cp, cp];
  }

  private escape(inClass: boolean): Ranges {
    const c = this.src[this.i++];
    if (c === undefined) throw new RegexUnsupported('a trailing "\\"');
    const one = (cp: number): Ranges => [cp, cp];
    switch (c) {
      case 'd':
        return DIGIT;
      case 'D':
        return complement(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return complement(WORD);
      case 's':
        return SPACE;
      case 'S':
        return complement(SPACE);
      case 't':
        return one(9);
      case 'n':
        return one(10);
      case 'v':
        return one(11);
      case 'f':
        return one(12);
      case 'r':
        return one(13);
      case '0':
        if (/\d/.test(this.peek() ?? '')) throw new RegexUnsupported('an octal escape');
        return one(0);
      case 'b':
        if (inClass) return one(8);
        throw new RegexUnsupported('a word boundary (\\b)');
      case 'B':
        throw new RegexUnsupported('a word boundary (\\B)');
      case 'k':
        throw new RegexUnsupported('a backreference (\\k)');
      case 'p':
      case 'P':
        throw new RegexUnsupported('a Unicode property escape (\\p)');
      case 'c': {
        const l = this.src[this.i++];
        if (!l || !/[A-Za-z]/.test(l)) throw new RegexUnsupported('a bad \\c escape');
        return one(l.charCodeAt(0) % 32);
      }
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.i));
        if (!m) throw new RegexUnsupported('a bad \\x escape');
        this.i += 2;
        return one(parseInt(m[0], 16));
      }
      case 'u': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.src.slice(this.i));
        if (braced) {
          this.i += braced[0].length;
          return one(parseInt(braced[1]!, 16));
        }
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.i));
        if (!m) throw new RegexUnsupported('a bad \\u escape');
        this.i += 4;
        let cp = parseInt(m[0], 16);
        const lo = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(this.src.slice(this.i));
        if (cp >= 0xd800 && cp <= 0xdbff && lo) {
          this.i += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(lo[1]!, 16) - 0xdc00);
        }
        return one(cp);
      }
      default:
        if (/[1-9]/.test(c)) throw new RegexUnsupported('a backreference');
        if (/[A-Za-z]/.test(c)) throw new RegexUnsupported(`an unknown escape \\${c}`);
        return one(this.src.codePointAt(this.i - 1)!);
    }
  }
}

// ---- NFA --------------------------------------------------------------------------------------
interface NState {
  eps: number[];
  bol: number[];
  eol: number[];
  sets: Array<[Ranges, number]>;
}

class Nfa {
  readonly s: NState[] = [];
  add(): number {
    if (this.s.length >= MAX_NFA) throw new RegexUnsupported('too large an automaton');
    this.s.push({ eps: [], bol: [], eol: [], sets: [] });
    return this.s.length - 1;
  }
  /** Wire `a` from `from` and return its end state. */
  build(a: Ast, from: number): number {
    switch (a.t) {
      case 'set': {
        const to = this.add();
        this.s[from]!.sets.push([a.r, to]);
        return to;
      }
      case 'bol':
      case 'eol': {
        const to = this.add();
        this.s[from]![a.t].push(to);
        return to;
      }
      case 'cat': {
        let at = from;
        for (const x of a.xs) at = this.build(x, at);
        return at;
      }
      case 'alt': {
        const end = this.add();
        for (const x of a.xs) {
          const st = this.add();
          this.s[from]!.eps.push(st);
          this.s[this.build(x, st)]!.eps.push(end);
        }
        return end;
      }
      case 'rep': {
        let at = from;
        for (let k = 0; k < a.min; k++) at = this.build(a.x, at);
        if (a.max === Infinity) {
          const loop = this.add();
          this.s[at]!.eps.push(loop);
          const body = this.add();
          this.s[loop]!.eps.push(body);
          this.s[this.build(a.x, body)]!.eps.push(loop);
          return loop;
        }
        const end = this.add();
        this.s[at]!.eps.push(end);
        for (let k = a.min; k < a.max; k++) {
          at = this.build(a.x, at);
          this.s[at]!.eps.push(end);
        }
        return end;
      }
    }
  }
}

// ---- DFA --------------------------------------------------------------------------------------
/** Bytes a character takes inside a JSON string (escaped when it must be). */
function jsonBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2;
  if (cp < 0x20) return cp === 8 || cp === 9 || cp === 10 || cp === 12 || cp === 13 ? 2 : 6;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The fewest bytes of a character in [lo, hi] (surrogates excluded) inside a JSON string. */
function minBytesIn(lo: number, hi: number): number {
  const probe = [0x20, 0x21, 0x23, 0x5d, 0x7f, 8, 9, 10, 12, 13, 0x22, 0x5c, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff, 0];
  let best = Infinity;
  // The cost is piecewise constant; its pieces start at these points, so the interval's min is at lo or at one of them inside it.
  for (const p of [lo, ...probe]) if (p >= lo && p <= hi && !(p >= 0xd800 && p <= 0xdfff)) best = Math.min(best, jsonBytes(p));
  if (lo <= 0x7e && hi >= 0x20) {
    for (let c = Math.max(lo, 0x20); c <= Math.min(hi, 0x7e); c++) if (c !== 0x22 && c !== 0x5c) return 1;
  }
  return best;
}

/** A DFA over code points: per state, sorted disjoint intervals [start[i], end[i]] -> to[i] (live targets only). */
export class CharDfa {
  readonly start: Int32Array[];
  readonly end: Int32Array[];
  readonly to: Int32Array[];
  readonly accept: Uint8Array;
  /** Fewest characters / JSON-string bytes from a state to a match. */
  readonly minChars: Float64Array;
  readonly minBytes: Float64Array;
  /** The fewest bytes after one more character (a lower bound of minBytes of any successor). */
  readonly minNext: Float64Array;
  /** States from which every string matches (an unanchored pattern once matched): the rest of the string is free. */
  readonly universal: Uint8Array;

  constructor(trans: Array<Array<[number, number, number]>>, accept: boolean[]) {
    const n = accept.length;
    // Live states: those from which an accepting state is reachable.
    const rev: number[][] = Array.from({ length: n }, () => []);
    trans.forEach((ts, s) => ts.forEach(([, , t]) => rev[t]!.push(s)));
    const live = new Uint8Array(n);
    const stack = accept.flatMap((a, s) => (a ? [s] : []));
    for (const s of stack) live[s] = 1;
    while (stack.length) {
      for (const p of rev[stack.pop()!]!) {
        if (!live[p]) {
          live[p] = 1;
          stack.push(p);
        }
      }
    }
    this.start = [];
    this.end = [];
    this.to = [];
    for (let s = 0; s < n; s++) {
      const ts = live[s] ? trans[s]!.filter(([, , t]) => live[t]).sort((a, b) => a[0] - b[0]) : [];
      this.start.push(Int32Array.from(ts.map((x) => x[0])));
      this.end.push(Int32Array.from(ts.map((x) => x[1])));
      this.to.push(Int32Array.from(ts.map((x) => x[2])));
    }
    this.accept = Uint8Array.from(accept.map((a, s) => (a && live[s] ? 1 : 0)));
    this.minChars = this.shortest(() => 1);
    this.minBytes = this.shortest((lo, hi) => minBytesIn(lo, hi));
    this.minNext = new Float64Array(n).fill(Infinity);
    for (let s = 0; s < n; s++) for (const t of this.to[s]!) this.minNext[s] = Math.min(this.minNext[s]!, this.minBytes[t]!);
    // Greatest fixpoint: accepting, every character covered, every successor universal.
    const covers = (s: number): boolean => {
      let at = 0;
      const st = this.start[s]!;
      for (let i = 0; i < st.length; i++) {
        if (st[i]! > at && !(at >= 0xd800 && st[i]! <= 0xe000)) return false;
        at = this.end[s]![i]! + 1;
      }
      return at > MAX_CP;
    };
    this.universal = Uint8Array.from(this.accept, (a, s) => (a && covers(s) ? 1 : 0));
    for (let changed = true; changed; ) {
      changed = false;
      for (let s = 0; s < n; s++) {
        if (this.universal[s] && this.to[s]!.some((t) => !this.universal[t])) {
          this.universal[s] = 0;
          changed = true;
        }
      }
    }
  }

  get size(): number {
    return this.accept.length;
  }

  /** minBytesAtLeast's layers: [k][s] = fewest bytes from s to a match writing at least k more characters. */
  private atLeast: Float64Array[] | undefined;

  /**
   * Fewest JSON-string bytes from state s to a match that writes at least k more characters (what a
   * minLength still asks for): layer k from layer k - 1 through one more character, the cheapest of
   * each transition's range. Above 1,024 characters, the larger of k and minBytes (a lower bound).
   */
  minBytesAtLeast(s: number, k: number): number {
    if (k <= 0) return this.minBytes[s]!;
    if (k > 1024) return Math.max(k, this.minBytes[s]!);
    const layers = (this.atLeast ??= [this.minBytes]);
    while (layers.length <= k) {
      const prev = layers[layers.length - 1]!;
      const cur = new Float64Array(this.size).fill(Infinity);
      for (let x = 0; x < this.size; x++) {
        const st = this.start[x]!;
        const en = this.end[x]!;
        const to = this.to[x]!;
        for (let i = 0; i < st.length; i++) {
          const c = minBytesIn(st[i]!, en[i]!) + prev[to[i]!]!;
          if (c < cur[x]!) cur[x] = c;
        }
      }
      layers.push(cur);
    }
    return layers[k]![s]!;
  }

  /** Bellman-Ford style relaxation (small DFAs): the cheapest path to an accepting state. */
  private shortest(cost: (lo: number, hi: number) => number): Float64Array {
    const n = this.size;
    const d = new Float64Array(n).fill(Infinity);
    for (let s = 0; s < n; s++) if (this.accept[s]) d[s] = 0;
    const w = this.start.map((st, s) => Array.from(st, (lo, i) => cost(lo, this.end[s]![i]!)));
    for (let changed = true; changed; ) {
      changed = false;
      for (let s = 0; s < n; s++) {
        const to = this.to[s]!;
        for (let i = 0; i < to.length; i++) {
          const v = w[s]![i]! + d[to[i]!]!;
          if (v < d[s]!) {
            d[s] = v;
            changed = true;
          }
        }
      }
    }
    return d;
  }

  /** The state after character cp, or -1. */
  step(s: number, cp: number): number {
    const st = this.start[s]!;
    const en = this.end[s]!;
    let lo = 0;
    let hi = st.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cp < st[mid]!) hi = mid - 1;
      else if (cp > en[mid]!) lo = mid + 1;
      else return this.to[s]![mid]!;
    }
    return -1;
  }

  /** Does some character in [lo, hi] lead somewhere? */
  anyIn(s: number, lo: number, hi: number, room = Infinity): boolean {
    const st = this.start[s]!;
    const en = this.end[s]!;
    const to = this.to[s]!;
    for (let i = 0; i < st.length; i++) if (st[i]! <= hi && en[i]! >= lo && this.minChars[to[i]!]! <= room) return true;
    return false;
  }
}

function closure(nfa: Nfa, set: Iterable<number>, atStart: boolean, withEol: boolean): Set<number> {
  const out = new Set<number>();
  const stack = [...set];
  for (const s of stack) out.add(s);
  while (stack.length) {
    const s = nfa.s[stack.pop()!]!;
    const nexts = [...s.eps, ...(atStart ? s.bol : []), ...(withEol ? s.eol : [])];
    for (const t of nexts) {
      if (!out.has(t)) {
        out.add(t);
        stack.push(t);
      }
    }
  }
  return out;
}

/** Split overlapping (ranges -> target) pairs into disjoint intervals with their target sets. */
function partition(moves: Array<[Ranges, number]>): Array<[number, number, number[]]> {
  const points = new Set<number>();
  for (const [r] of moves) {
    for (let i = 0; i < r.length; i += 2) {
      points.add(r[i]!);
      points.add(r[i + 1]! + 1);
    }
  }
  const cuts = [...points].sort((a, b) => a - b);
  const out: Array<[number, number, number[]]> = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const lo = cuts[i]!;
    const hi = cuts[i + 1]! - 1;
    const targets: number[] = [];
    for (const [r, t] of moves) {
      for (let k = 0; k < r.length; k += 2) {
        if (r[k]! <= lo && r[k + 1]! >= hi) {
          targets.push(t);
          break;
        }
      }
    }
    if (targets.length) out.push([lo, hi, targets]);
  }
  return out;
}

/** Compile a JSON Schema `pattern` (search semantics: unanchored unless ^ / $ say so). */
export function compileRegex(source: string): CharDfa {
  const ast = new Parser(source).parse();
  const nfa = new Nfa();
  const start = nfa.add();
  nfa.s[start]!.sets.push([ANY, start]); // the match may start anywhere
  const body = nfa.add();
  nfa.s[start]!.eps.push(body);
  const fin = nfa.build(ast, body);
  const acc = nfa.add();
  nfa.s[fin]!.eps.push(acc);
  nfa.s[acc]!.sets.push([ANY, acc]); // ... and end anywhere
  const ids = new Map<string, number>();
  const sets: Array<Set<number>> = [];
  const trans: Array<Array<[number, number, number]>> = [];
  const accept: boolean[] = [];
  const idOf = (set: Set<number>, atStart: boolean): number => {
    const key = `${atStart ? 1 : 0}:${[...set].sort((a, b) => a - b).join(',')}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.length;
      if (id >= MAX_STATES) throw new RegexUnsupported(`more than ${MAX_STATES} automaton states`);
      ids.set(key, id);
      sets.push(set);
      accept.push(closure(nfa, set, atStart, true).has(acc));
      trans.push([]);
      queue.push(id);
    }
    return id;
  };
  const queue: number[] = [];
  idOf(closure(nfa, [start], true, false), true);
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q]!;
    const moves: Array<[Ranges, number]> = [];
    for (const s of sets[id]!) for (const m of nfa.s[s]!.sets) moves.push(m);
    for (const [lo, hi, targets] of partition(moves)) trans[id]!.push([lo, hi, idOf(closure(nfa, targets, false, false), false)]);
  }
  return new CharDfa(trans, accept);
}

/**
 * The product of two DFAs: states are pairs (x, y) discovered from (0, 0), -1 standing for a side that
 * is dead; `moves` lists a pair's transitions as [lo, hi, x', y'] and `accepts` decides acceptance.
 */
function productDfa(a: CharDfa, b: CharDfa, accepts: (x: number, y: number) => boolean, moves: (x: number, y: number) => Array<[number, number, number, number]>): CharDfa {
  const ids = new Map<number, number>();
  const pairs: Array<[number, number]> = [];
  const trans: Array<Array<[number, number, number]>> = [];
  const accept: boolean[] = [];
  const idOf = (x: number, y: number): number => {
    const key = (x + 1) * (b.size + 1) + (y + 1);
    let id = ids.get(key);
    if (id === undefined) {
      id = pairs.length;
      if (id >= MAX_STATES) throw new RegexUnsupported(`more than ${MAX_STATES} automaton states`);
      ids.set(key, id);
      pairs.push([x, y]);
      accept.push(accepts(x, y));
      trans.push([]);
    }
    return id;
  };
  idOf(0, 0);
  for (let q = 0; q < pairs.length; q++) {
    const [x, y] = pairs[q]!;
    for (const [lo, hi, tx, ty] of moves(x, y)) trans[q]!.push([lo, hi, idOf(tx, ty)]);
  }
  return new CharDfa(trans, accept);
}

/** A DFA accepting what both accept (pattern and format together; allOf of patterns). */
export function intersectDfa(a: CharDfa, b: CharDfa): CharDfa {
  return productDfa(
    a,
    b,
    (x, y) => a.accept[x] === 1 && b.accept[y] === 1,
    (x, y) => {
      const out: Array<[number, number, number, number]> = [];
      const as = a.start[x]!;
      const bs = b.start[y]!;
      for (let i = 0; i < as.length; i++) {
        for (let j = 0; j < bs.length; j++) {
          const lo = Math.max(as[i]!, bs[j]!);
          const hi = Math.min(a.end[x]![i]!, b.end[y]![j]!);
          if (lo <= hi) out.push([lo, hi, a.to[x]![i]!, b.to[y]![j]!]);
        }
      }
      return out;
    },
  );
}

/** A DFA accepting what either accepts (the keys of patternProperties: a key matching any of the patterns). */
export function unionDfa(a: CharDfa, b: CharDfa): CharDfa {
  const target = (d: CharDfa, s: number, c: number): number => {
    if (s < 0) return -1;
    const st = d.start[s]!;
    const en = d.end[s]!;
    for (let i = 0; i < st.length; i++) if (st[i]! <= c && c <= en[i]!) return d.to[s]![i]!;
    return -1;
  };
  return productDfa(
    a,
    b,
    (x, y) => (x >= 0 && a.accept[x] === 1) || (y >= 0 && b.accept[y] === 1),
    (x, y) => {
      // The elementary intervals of both sides' ranges: each has one target per side (-1: that side dies).
      const cuts = new Set<number>();
      for (const [d, s] of [[a, x], [b, y]] as const) {
        if (s < 0) continue;
        for (let i = 0; i < d.start[s]!.length; i++) {
          cuts.add(d.start[s]![i]!);
          cuts.add(d.end[s]![i]! + 1);
        }
      }
      const at = [...cuts].sort((u, v) => u - v);
      const out: Array<[number, number, number, number]> = [];
      for (let i = 0; i + 1 < at.length; i++) {
        const tx = target(a, x, at[i]!);
        const ty = target(b, y, at[i]!);
        if (tx >= 0 || ty >= 0) out.push([at[i]!, at[i + 1]! - 1, tx, ty]);
      }
      return out;
    },
  );
}

/** A DFA accepting what `a` does not (over strings of code points, lone surrogates excluded): `not: {pattern}`, keys a map may not write. */
export function complementDfa(a: CharDfa): CharDfa {
  const sink = a.size;
  const trans: Array<Array<[number, number, number]>> = [];
  const gaps = (out: Array<[number, number, number]>, lo: number, hi: number): void => {
    if (lo < 0xd800 && hi >= lo) out.push([lo, Math.min(hi, 0xd7ff), sink]);
    if (hi > 0xdfff) out.push([Math.max(lo, 0xe000), hi, sink]);
  };
  for (let s = 0; s < a.size; s++) {
    const out: Array<[number, number, number]> = [];
    let at = 0;
    const st = a.start[s]!;
    for (let i = 0; i < st.length; i++) {
      if (st[i]! > at) gaps(out, at, st[i]! - 1);
      out.push([st[i]!, a.end[s]![i]!, a.to[s]![i]!]);
      at = a.end[s]![i]! + 1;
    }
    if (at <= MAX_CP) gaps(out, at, MAX_CP);
    trans.push(out);
  }
  const all: Array<[number, number, number]> = [];
  gaps(all, 0, MAX_CP);
  trans.push(all);
  return new CharDfa(trans, [...Array.from(a.accept, (x) => x === 0), true]);
}

/** A DFA accepting exactly these strings (a trie): enums of names, the keys a map may not write. */
export function literalDfa(names: readonly string[]): CharDfa {
  const trans: Array<Array<[number, number, number]>> = [[]];
  const accept: boolean[] = [false];
  for (const name of names) {
    let s = 0;
    for (const ch of name) {
      const c = ch.codePointAt(0)!;
      const hit = trans[s]!.find((t) => t[0] === c);
      if (hit) s = hit[2];
      else {
        trans.push([]);
        accept.push(false);
        trans[s]!.push([c, c, trans.length - 1]);
        s = trans.length - 1;
      }
    }
    accept[s] = true;
  }
  return new CharDfa(trans, accept);
}

/** `format`s enforced while decoding, as anchored patterns (simplified where the RFCs are large). */
const DATE = '\\d{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31|02-29)';
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:(?:[0-5]\\d|60)(?:\\.\\d+)?(?:[Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** RFC 3986's IPv6address (no zone id): eight 16-bit pieces, one run of zeros compressed to '::', an IPv4 tail. */
const H16 = '[0-9A-Fa-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|(?:${OCTET}\\.){3}${OCTET})`;
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|');
/** RFC 3339 appendix A's duration: P, then dates (Y M D, or W alone) and / or T with H M S, each part in order. */
const DUR_TIME = 'T(?:\\d+H(?:\\d+M(?:\\d+S)?)?|\\d+M(?:\\d+S)?|\\d+S)';
export const FORMATS: Record<string, string> = {
  date: `^${DATE}$`,
  time: `^${TIME}$`,
  'date-time': `^${DATE}[Tt]${TIME}$`,
  uuid: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  ipv4: `^(?:${OCTET}\\.){3}${OCTET}$`,
  email: "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}$",
  hostname: `^${LABEL}(?:\\.${LABEL})*$`,
  uri: "^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]*$",
  ipv6: `^(?:${IPV6})$`,
  duration: `^P(?:(?:\\d+D|\\d+M(?:\\d+D)?|\\d+Y(?:\\d+M(?:\\d+D)?)?)(?:${DUR_TIME})?|${DUR_TIME}|\\d+W)$`,
};

const cache = new Map<string, CharDfa>();

/** Forget every compiled pattern (their DFAs are built again on next use): for benchmarks that measure first-use costs. */
export function clearCompiledPatterns(): void {
  cache.clear();
}

/** A compiled pattern (cached by source: suites and schemas repeat them). */
export function regexDfa(source: string): CharDfa {
  let d = cache.get(source);
  if (!d) {
    d = compileRegex(source);
    if (cache.size > 256) cache.delete(cache.keys().next().value!);
    cache.set(source, d);
  }
  return d;
}
