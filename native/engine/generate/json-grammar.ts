import type { ValidateFunction } from 'ajv';
import { ajvForSchema } from '../node/ajv-for-schema.js';
import { TandemError } from '../common/errors.js';
import { canEnd, feed, feedBytes, firstBytes, initialStack, isDone, plainString, stackKey, strFrame, stringRoom, type Stack } from './json-automaton.js';
import { ShortestCompletion } from './json-budget.js';
import { compileSchema, grammarNodes, type Deferral, type GrammarNode, type StringNode } from './json-schema-compile.js';
import { patternStrings, PatternScans } from './class-trie.js';
import { scanString, scanSize, StringDfa, type StringFrame, type StringScan } from './json-string-scan.js';
import { newMask, setBit, TokenTrie } from './token-trie.js';
import { buildUniqueTail, prepareUniqueStrings, uniqueMask, type UniqueMaskContext, type UniqueTail } from './json-unique-mask.js';

/**
 * What constrained decoding needs to know about a vocabulary, computed once per loaded model:
 * a trie over every text token, a second trie over the tokens that are not "plain string
 * content", and the plain tokens sorted by their length in characters.
 */
export class TokenIndex {
  readonly size: number;
  readonly trie: TokenTrie;
  /** Tokens with a '"', '\', a control byte or an incomplete UTF-8 character. */
  readonly impureTrie: TokenTrie;
  /** Plain tokens by ascending character count, and their counts. */
  readonly plainIds: Int32Array;
  readonly plainChars: Int32Array;
  /** Each token's length in bytes (0 for tokens without text): read without touching the token's own array. */
  readonly byteLen: Int32Array;
  /** 1 for the tokens of impureTrie (not complete plain string characters: a quote, a backslash, a control, a split character). */
  readonly impure: Uint8Array;
  readonly buildMs: number;
  private readonly tails = new Map<TokenTrie, Map<number, StringTail>>();
  /** String frames other than plain ones (patterns, escapes, split characters) as a lazy byte DFA shared by every schema, and its scans of the trie per (node, state). */
  readonly strings = new StringDfa();
  private readonly scans = new Map<string, ScanEntry>();
  private scanBytes = 0;
  /** Root scans of pattern string frames over class-compressed tries (class-trie.ts). */
  readonly patterns: PatternScans;
  private readonly uniques = new WeakMap<StringTail, UniqueTail>();
  private tailIds = 0;

  /** A token's bytes (text tokens only). */
  bytesOf(id: number): Uint8Array {
    return this.bytes[id]!;
  }

  constructor(private readonly bytes: ReadonlyArray<Uint8Array | null>) {
    const t0 = performance.now();
    this.size = bytes.length;
    const chars = new Int32Array(bytes.length).fill(-1);
    this.byteLen = new Int32Array(bytes.length);
    for (let id = 0; id < bytes.length; id++) {
      const b = bytes[id];
      if (b && b.length > 0) chars[id] = plainCharCount(b);
      if (b) this.byteLen[id] = b.length;
    }
    this.trie = new TokenTrie(bytes, () => true);
    this.patterns = new PatternScans(this.trie);
    this.impureTrie = new TokenTrie(bytes, (id) => chars[id]! < 0);
    this.impure = new Uint8Array(bytes.length);
    for (const id of this.impureTrie.ids) this.impure[id] = 1;
    const plain: number[] = [];
    for (let id = 0; id < bytes.length; id++) if (chars[id]! >= 0) plain.push(id);
    plain.sort((a, b) => chars[a]! - chars[b]! || a - b);
    this.plainIds = Int32Array.from(plain);
    this.plainChars = Int32Array.from(plain.map((id) => chars[id]!));
    // The string tails schemas need: inside a string, and after every quote that a token continues past
    // ('"', '{"', '["', ',"', '":"'...: 138 nodes in Qwen2.5, about 20 ms), so no first mask builds one.
    this.tail(this.trie, 0);
    const { label, first: firstChild } = this.trie;
    for (let c = 1; c < this.trie.nodes; c++) if (label[c] === 0x22 && firstChild[c] !== -1) this.tail(this.trie, c);
    this.buildMs = performance.now() - t0;
  }

  /**
   * The tokens below trie node `node` (their bytes after it) read as the continuation of a plain
   * string, classified once per vocabulary and node: complete characters only ("plain", by count),
   * ending inside a character or an escape ("inner"), or closing the string after c characters
   * (then their bytes after the quote, in a trie of their own). A string state's mask is then a few
   * loops over these lists instead of a walk of the trie.
   */
  tail(trie: TokenTrie, node: number): StringTail {
    let m = this.tails.get(trie);
    if (!m) this.tails.set(trie, (m = new Map()));
    let t = m.get(node);
    if (!t) m.set(node, (t = this.buildTail(trie, node)));
    return t;
  }

  /**
   * The scan of the trie below `node` from a string frame (cached per vocabulary: the keys are
   * structural; least recently used dropped first past SCAN_CACHE_BYTES). From the root, a pattern
   * frame at a character boundary is scanned over class-compressed tries (the same sets, class-trie.ts).
   */
  scanOf(node: number, f: StringFrame): ScanEntry {
    const s0 = this.strings.state(f);
    const key = `${node}|${s0}`;
    const hit = this.scans.get(key);
    if (hit) {
      this.scans.delete(key);
      this.scans.set(key, hit);
      return hit;
    }
    const scan: ScanEntry = {
      ...(node === 0 && f.rx !== undefined && f.esc === 0 && f.need === 0
        ? this.patterns.scanRoot(f.node!.regex!, this.strings, s0)
        : scanString(this.trie, node, this.strings, s0)),
      key,
    };
    // Large scans keep their inside tokens as a bitset too (a word-wise OR in every mask that reads them), built with the scan.
    if (scan.insideIds.length > LARGE_SCAN) {
      const m = (scan.insideMask = newMask(this.size));
      const ids = scan.insideIds;
      for (let i = 0; i < ids.length; i++) setBit(m, ids[i]!);
    }
    this.scans.set(key, scan);
    this.scanBytes += scanSize(scan, this.size);
    for (const [k, old] of this.scans) {
      if (this.scanBytes <= SCAN_CACHE_BYTES || old === scan) break;
      this.scans.delete(k);
      this.scanBytes -= scanSize(old, this.size);
    }
    return scan;
  }

  /**
   * The root string tail read for string items of a uniqueItems array (built on first use): its
   * tokens that stay inside the string grouped into classes whose shortest completion is the same
   * from any content none of the written values starts with (characters added, whether they are all
   * printable ASCII, the shape of a character or escape left open), keyed by their decoded text for
   * finding the few that can meet a written value, and the tokens that close the string.
   */
  uniqueTail(tail: StringTail): UniqueTail {
    let u = this.uniques.get(tail);
    if (!u) this.uniques.set(tail, (u = buildUniqueTail(tail, this.bytes, this)));
    return u;
  }

  private buildTail(trie: TokenTrie, node: number): StringTail {
    const plain: Array<[number, number]> = [];
    const inner: Array<[number, number, number]> = [];
    const close: Array<[number, number]> = [];
    const sufIds: number[] = [];
    const sufChars: number[] = [];
    const sufBytes: Uint8Array[] = [];
    const { first, next, label, tokStart, tokCount, ids, depth } = trie;
    const tokensBelow = (c: number, visit: (id: number) => void): void => {
      for (let k = 0; k < tokCount[c]!; k++) visit(ids[tokStart[c]! + k]!);
      for (let x = first[c]!; x !== -1; x = next[x]!) tokensBelow(x, visit);
    };
    const dfs = (at: number, st: Stack): void => {
      for (let c = first[at]!; c !== -1; c = next[c]!) {
        const out: Stack[] = [];
        feed(st, label[c]!, out);
        if (out.length === 0) continue;
        const s2 = out[0]!;
        const f = st.f as Extract<Stack['f'], { k: 'S' }>;
        if (s2.f.k === 'D') {
          const chars = f.n;
          const cut = depth[c]!;
          tokensBelow(c, (id) => {
            const b = this.bytes[id]!;
            if (b.length === cut) close.push([id, chars]);
            else {
              sufIds.push(id);
              sufChars.push(chars);
              sufBytes.push(b.subarray(cut));
            }
          });
          continue;
        }
        const g = s2.f as Extract<Stack['f'], { k: 'S' }>;
        for (let k = 0; k < tokCount[c]!; k++) {
          const id = ids[tokStart[c]! + k]!;
          if (g.esc === 0 && g.need === 0) plain.push([id, g.n]);
          else inner.push([id, g.n, g.need > 0 ? g.need : g.esc === 1 ? 1 : 6 - g.esc]);
        }
        if (first[c] !== -1) dfs(c, s2);
      }
    };
    dfs(node, { f: { k: 'S', node: TAIL_STRING, n: 0, esc: 0, need: 0, lo: 0, hi: 0, hex: 0 }, up: null });
    plain.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    let plainAll: Uint32Array | null = null;
    if (plain.length > 4096) {
      plainAll = newMask(this.size);
      for (const [id] of plain) setBit(plainAll, id);
    }
    return {
      id: this.tailIds++,
      plainIds: Int32Array.from(plain.map((x) => x[0])),
      plainChars: Int32Array.from(plain.map((x) => x[1])),
      plainAll,
      byRoom: new Map(),
      innerIds: Int32Array.from(inner.map((x) => x[0])),
      innerChars: Int32Array.from(inner.map((x) => x[1])),
      innerPend: Int32Array.from(inner.map((x) => x[2])),
      closeIds: Int32Array.from(close.map((x) => x[0])),
      closeChars: Int32Array.from(close.map((x) => x[1])),
      suffix: sufBytes.length ? new TokenTrie(sufBytes, () => true) : null,
      sufIds: Int32Array.from(sufIds),
      sufChars: Int32Array.from(sufChars),
    };
  }
}

/** A cached string scan and its cache key (closeAt's nodes are nodes of the index's trie). */
type ScanEntry = StringScan & { key: string };

/** A string with no limits that counts its characters: the reader of string tails. */
const TAIL_STRING: StringNode = { t: 'string', id: -1, minLength: 0, maxLength: 2 ** 30 };

/** Tokens below a trie node as the continuation of a plain string (TokenIndex.tail). */
export interface StringTail {
  id: number;
  /** Complete characters only, by ascending count; plainAll: all of them as a mask (large tails). */
  plainIds: Int32Array;
  plainChars: Int32Array;
  plainAll: Uint32Array | null;
  /** Masks of the plain tokens of at most r characters (large tails, bounded strings). */
  byRoom: Map<number, Uint32Array>;
  /** Ending inside a character or escape: complete characters, and the bytes still pending. */
  innerIds: Int32Array;
  innerChars: Int32Array;
  innerPend: Int32Array;
  /** Closing the string with nothing after the quote: characters before it. */
  closeIds: Int32Array;
  closeChars: Int32Array;
  /** Closing with bytes after the quote: a trie over those bytes (its ids index sufIds / sufChars). */
  suffix: TokenTrie | null;
  sufIds: Int32Array;
  sufChars: Int32Array;
}

/** Characters in a token made only of whole, valid UTF-8 characters other than '"', '\' and controls; -1 otherwise. */
function plainCharCount(b: Uint8Array): number {
  let n = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x20 || c === 0x22 || c === 0x5c) return -1;
    let need = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) need = 0;
    else if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return -1;
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if (x === undefined || x < lo || x > hi) return -1;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
    n++;
  }
  return n;
}

/** Where decoding stands under a grammar: the live configurations. */
export type GrammarState = readonly Stack[];

const MASK_CACHE_ENTRIES = 1024;
/** Union masks of multi-configuration states (64 masks of 19 KB on Qwen2.5's vocabulary). */
const UNION_CACHE_ENTRIES = 64;
/** String scans kept (their arrays, suffix tries and the masks of large ones), per vocabulary. */
const SCAN_CACHE_BYTES = 32 * 1024 * 1024;

/** String states (and their table rows) a grammar fills per pattern string when it is compiled (StringDfa.prepare). */
const PREPARED_STATES = 2048;
/** Scans with more inside tokens than this keep them as a bitset too. */
const LARGE_SCAN = 4096;
/** Pattern strings per grammar whose start scan is built when it is compiled (a scan of a permissive pattern holds ~1.2 MB: within SCAN_CACHE_BYTES). */
const PREPARED_SCANS = 8;

/** A free key string: fed a quote with frames below, it gives what closing any string gives (the value done). */
const CLOSER: StringFrame = { k: 'S', node: null, n: 0, esc: 0, need: 0, lo: 0, hi: 0, hex: 0 };

/** A state's mask, and the largest shortest-completion (bytes) any of its tokens leads to: budgets at least this large need no filtering. */
interface MaskEntry {
  mask: Uint32Array;
  maxAfter: number;
}

/** A mask under a token budget, and whether the budget removed tokens the schema alone allows. */
export interface BudgetMask {
  mask: Uint32Array;
  forced: boolean;
}

/** The refusal of a schema whose keywords the grammar cannot all enforce: the first named, the others listed. */
export function deferredError(list: readonly Deferral[]): TandemError {
  const [first, ...more] = list;
  const also = more.length ? `; also ${more.slice(0, 5).map((d) => `${d.keyword} at ${d.pointer || '(root)'}`).join(', ')}${more.length > 5 ? ` and ${more.length - 5} more` : ''}` : '';
  return new TandemError(
    'INVALID_ARGUMENT',
    `schema: unsupported keyword "${first!.keyword}" at ${first!.pointer || '(root)'} (${first!.why})${also}. Local constrained decoding cannot enforce it; generate with --lenient (API: lenient: true) to decode without it and check it on the output`,
    { data: { keyword: first!.keyword, pointer: first!.pointer, deferred: list.map((d) => ({ keyword: d.keyword, pointer: d.pointer })) } },
  );
}

/** A JSON Schema compiled for constrained decoding over one vocabulary, with its per-state mask cache. */
export class JsonGrammar {
  readonly root: GrammarNode;
  private readonly validate: ValidateFunction;
  private readonly cache = new Map<string, MaskEntry>();
  private readonly budgetCache = new Map<string, BudgetMask>();
  private readonly unionCache = new Map<string, Uint32Array>();
  /** Per string tail and configuration after the closing quote: the suffix-trie entries accepted, and the shortest completion after each. */
  private readonly suffixCache = new Map<string, { idx: Int32Array; after: Float64Array }>();
  /** Shortest completions in bytes (json-budget.ts). */
  readonly shortest: ShortestCompletion;
  /**
   * The shortest instance's length in bytes, and whether the vocabulary has a one-byte token for every
   * byte such a completion may need (then it is also a bound in tokens, and the budget is enforced).
   */
  readonly minBytes: number;
  readonly budgeted: boolean;
  cacheHits = 0;
  cacheMisses = 0;
  /** String items of a uniqueItems array (json-unique-mask.ts): the plain string state's mask is this grammar's cached one. */
  private readonly uniqueCtx: UniqueMaskContext;

  /** Keywords the grammar does not enforce and the final validation checks (lenient decoding only; empty otherwise). */
  readonly checkedAfter: readonly Deferral[];
  /** Keywords enforced on a subset of their values (a oneOf whose branches exclude what they can tell of each other): every output valid, some valid values never written. */
  readonly narrowed: readonly Deferral[];

  /**
   * Strict by default: a schema with a keyword the grammar cannot enforce somewhere (see Deferral) is
   * refused, naming the keyword and its pointer. `lenient` (or the schema's own `"x-guidance":
   * {"lenient": true}`; `coerce_one_of` for oneOf alone, as LLGuidance spells them) decodes without
   * those keywords and checks them on the output.
   */
  constructor(
    readonly schema: object,
    private readonly index: TokenIndex,
    opts: { lenient?: boolean } = {},
  ) {
    const report: { deferred: Deferral[]; narrowed: Deferral[]; validationSchema?: unknown } = { deferred: [], narrowed: [] };
    this.root = compileSchema(schema, report);
    const { deferred } = report;
    this.narrowed = report.narrowed;
    const guidance = (schema as Record<string, unknown>)['x-guidance'];
    const g = typeof guidance === 'object' && guidance !== null ? (guidance as Record<string, unknown>) : {};
    const lenient = opts.lenient === true || g.lenient === true;
    const refused = lenient ? [] : deferred.filter((d) => !(d.keyword === 'oneOf' && g.coerce_one_of === true));
    if (refused.length > 0) throw deferredError(refused);
    this.checkedAfter = deferred;
    try {
      // The schema as compiled: a $dynamicRef that resolves statically is read as its $ref (compileSchema).
      const checked = (report.validationSchema ?? schema) as object;
      this.validate = ajvForSchema(checked, { strict: false, allErrors: false, validateFormats: false, logger: false }).compile(checked);
    } catch (e) {
      throw new TandemError('INVALID_ARGUMENT', `the schema does not compile: ${(e as Error).message}`, { cause: e });
    }
    this.shortest = new ShortestCompletion(this.root);
    this.minBytes = this.shortest.ofState(this.initial());
    this.budgeted = hasByteTokens(index.trie, this.root);
    this.uniqueCtx = { index, shortest: this.shortest, plainMask: (st) => this.maskOf(st).mask };
    // The class tries of the patterns' root scans (once per set of byte classes per vocabulary) and the
    // string states they reach (their table rows) are built here rather than in a first mask.
    const patterned = patternStrings(this.root);
    for (const node of patterned) {
      index.patterns.classTrie(node.regex!);
      index.strings.prepare(node, PREPARED_STATES);
    }
    // The scan of the whole vocabulary from each pattern string's start (the mask right after its opening
    // quote, a few ms for patterns most tokens satisfy) is built here too, for the first PREPARED_SCANS.
    for (const node of patterned.slice(0, PREPARED_SCANS)) {
      if (!node.regex!.universal[0]) index.scanOf(0, strFrame(node, 0));
    }
    // String items of uniqueItems arrays read the vocabulary's tokens by class (once per vocabulary): built here too.
    if (hasDistinctStrings(this.root)) prepareUniqueStrings(index, patterned.length > 0);
  }

  initial(): GrammarState {
    return [initialStack(this.root)];
  }

  /** Token ids that keep the output a valid prefix (a bitset; shared, do not modify). */
  mask(state: GrammarState): Uint32Array {
    if (state.length === 1) return this.maskOf(state[0]!).mask;
    return this.unionOf(state, state.map((s) => this.maskOf(s)));
  }

  /** Several configurations (a number that may end or go on, a union): the union of their masks, cached too. */
  private unionOf(state: GrammarState, entries: MaskEntry[]): Uint32Array {
    const key = state.map(stackKey).join('\n');
    const hit = this.unionCache.get(key);
    if (hit) {
      this.unionCache.delete(key);
      this.unionCache.set(key, hit);
      return hit;
    }
    const out = newMask(this.index.size);
    for (const e of entries) {
      const m = e.mask;
      for (let i = 0; i < out.length; i++) out[i]! |= m[i]!;
    }
    this.unionCache.set(key, out);
    if (this.unionCache.size > UNION_CACHE_ENTRIES) this.unionCache.delete(this.unionCache.keys().next().value!);
    return out;
  }

  /**
   * Token ids that keep the output a valid prefix AND leave a completion that fits: token t only if
   * the shortest completion after it (bytes, one token each) is at most `left` (the tokens that may
   * still follow it). Filtering starts only when some token could overrun the budget.
   */
  maskWithin(state: GrammarState, left: number): BudgetMask {
    if (!this.budgeted) return { mask: this.mask(state), forced: false };
    if (state.length === 1) {
      const e = this.maskOf(state[0]!);
      return e.maxAfter <= left ? { mask: e.mask, forced: false } : this.budgetMaskOf(state[0]!, left);
    }
    const entries = state.map((s) => this.maskOf(s));
    // No configuration needs filtering: the (cached) union.
    if (entries.every((e) => e.maxAfter <= left)) return { mask: this.unionOf(state, entries), forced: false };
    const parts: BudgetMask[] = state.map((s, i) => (entries[i]!.maxAfter <= left ? { mask: entries[i]!.mask, forced: false } : this.budgetMaskOf(s, left)));
    const out = newMask(this.index.size);
    for (const p of parts) for (let i = 0; i < out.length; i++) out[i]! |= p.mask[i]!;
    // A token one configuration drops may be kept by another: forced when the union lost tokens.
    const all = this.unionOf(state, entries);
    let forced = false;
    for (let i = 0; i < out.length && !forced; i++) if (out[i] !== all[i]) forced = true;
    return { mask: out, forced };
  }

  /** Fewest bytes (= tokens, one byte each) that complete the output from here. */
  shortestFrom(state: GrammarState): number {
    return this.shortest.ofState(state);
  }

  advance(state: GrammarState, bytes: Uint8Array): GrammarState {
    return feedBytes(state, bytes);
  }

  canEnd(state: GrammarState): boolean {
    return state.some(canEnd);
  }

  /** Nothing can follow: the value is complete. */
  isDone(state: GrammarState): boolean {
    return state.length > 0 && state.every(isDone);
  }

  /** Parse and validate a finished output against the full schema. */
  check(text: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new TandemError('INTERNAL', `constrained output does not parse (a grammar bug): ${(e as Error).message}`);
    }
    if (!this.validate(value)) {
      const err = this.validate.errors?.[0];
      const how = this.checkedAfter.length > 0 ? 'checked after decoding: lenient' : 'not enforced while decoding';
      throw new TandemError('INVALID_INPUT', `the output does not satisfy the schema: ${err ? `${err.instancePath || '(root)'} ${err.message ?? ''} (keyword ${err.keyword}, ${how})` : 'invalid'}`, {
        data: { reason: 'schema', keyword: err?.keyword ?? null },
      });
    }
    return value;
  }

  private maskOf(st: Stack): MaskEntry {
    const key = stackKey(st);
    const hit = this.cache.get(key);
    if (hit) {
      this.cacheHits++;
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    this.cacheMisses++;
    const uniq = uniqueMask(st, Infinity, this.uniqueCtx);
    if (uniq) {
      const entry: MaskEntry = { mask: uniq.mask, maxAfter: uniq.max };
      this.cache.set(key, entry);
      if (this.cache.size > MASK_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      return entry;
    }
    const mask = newMask(this.index.size);
    const acc = { max: 0 };
    if (plainString(st)) this.applyTail(this.index.tail(this.index.trie, 0), st, mask, acc);
    else if (st.f.k === 'S') this.applyScan(this.index.scanOf(0, st.f), st, mask, acc, Infinity);
    else this.walk(this.index.trie, 0, [st], mask, acc);
    const entry: MaskEntry = { mask, maxAfter: acc.max };
    this.cache.set(key, entry);
    if (this.cache.size > MASK_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  /** Depth-first over the trie below `node`, carrying the configurations alive after each prefix; acc.max: the largest shortest completion after a token. A lone plain string reads the rest of the subtree from its string tail. */
  private walk(trie: TokenTrie, node: number, configs: Stack[], mask: Uint32Array, acc: { max: number }): void {
    const { first, next, label, tokStart, tokCount, ids } = trie;
    const sc = this.shortest;
    const only = nextBytes(configs);
    for (let c = first[node]!; c !== -1; c = next[c]!) {
      const b = label[c]!;
      if (only && only[b] === 0) continue;
      const alive: Stack[] = [];
      for (const s of configs) feed(s, b, alive);
      if (alive.length === 0) continue;
      const n = tokCount[c]!;
      if (n > 0) {
        const s0 = tokStart[c]!;
        for (let k = 0; k < n; k++) setBit(mask, ids[s0 + k]!);
        const after = alive.length === 1 ? sc.of(alive[0]!) : sc.ofState(alive);
        if (after > acc.max) acc.max = after;
      }
      if (first[c] === -1) continue;
      if (trie === this.index.trie && alive.some((s) => s.f.k === 'S')) {
        // Strings (one, or a union of them, beside other configurations such as declared keys next to free
        // ones): each reads the rest from its tail or scan, and the others walk on without them. The mask is
        // the union either way; acc.max may exceed the walk's (the max over configurations rather than over
        // tokens of the min), which only starts budget filtering earlier (budget masks are computed exactly).
        const rest: Stack[] = [];
        for (const s of alive) {
          if (s.f.k !== 'S') rest.push(s);
          else if (plainString(s)) this.applyTail(this.index.tail(trie, c), s, mask, acc);
          else this.applyScan(this.index.scanOf(c, s.f), s, mask, acc, Infinity);
        }
        if (rest.length) this.walk(trie, c, rest, mask, acc);
      } else this.walk(trie, c, alive, mask, acc);
    }
  }

  /** The tokens of a string tail that a plain string configuration accepts (its room, its minLength, then what may follow the closing quote). */
  private applyTail(tail: StringTail, st: Stack, mask: Uint32Array, acc: { max: number }): void {
    const f = plainString(st)!;
    const room = stringRoom(f);
    const min = f.node?.minLength ?? 0;
    const n = f.n;
    const sc = this.shortest;
    const base = sc.of(st);
    const above = base - (Math.max(0, min - n) + 1);
    // Plain characters never lengthen a string's shortest completion.
    const { plainIds, plainChars } = tail;
    if (plainIds.length) {
      if (base > acc.max) acc.max = base;
      let pm: Uint32Array | undefined;
      if (tail.plainAll && room >= plainChars[plainChars.length - 1]!) pm = tail.plainAll;
      else if (tail.plainAll) {
        pm = tail.byRoom.get(room);
        if (!pm) {
          // The plain tokens of at most `room` characters: all of them less the (few) longer ones, or the short ones set one by one.
          let cut = plainChars.length;
          while (cut > 0 && plainChars[cut - 1]! > room) cut--;
          if (plainChars.length - cut < cut) {
            pm = tail.plainAll.slice();
            for (let i = cut; i < plainIds.length; i++) pm[plainIds[i]! >>> 5]! &= ~(1 << (plainIds[i]! & 31));
          } else {
            pm = newMask(this.index.size);
            for (let i = 0; i < cut; i++) setBit(pm, plainIds[i]!);
          }
          tail.byRoom.set(room, pm);
        }
      }
      if (pm) for (let i = 0; i < mask.length; i++) mask[i]! |= pm[i]!;
      else for (let i = 0; i < plainIds.length && plainChars[i]! <= room; i++) setBit(mask, plainIds[i]!);
    }
    const { innerIds, innerChars, innerPend } = tail;
    for (let i = 0; i < innerIds.length; i++) {
      const c = innerChars[i]!;
      if (c + 1 > room) continue;
      setBit(mask, innerIds[i]!);
      const after = above + innerPend[i]! + Math.max(0, min - n - c - 1) + 1;
      if (after > acc.max) acc.max = after;
    }
    if (tail.closeIds.length === 0 && !tail.suffix) return;
    // What the closing quote leads to (the string's own n does not matter once it closes).
    const closed: Stack[] = [];
    feed({ f: { ...f, n: Math.max(n, min) }, up: st.up }, 0x22, closed);
    if (closed.length === 0) return;
    const { closeIds, closeChars } = tail;
    const afterClose = sc.ofState(closed);
    for (let i = 0; i < closeIds.length; i++) {
      const c = closeChars[i]!;
      if (c > room || n + c < min) continue;
      setBit(mask, closeIds[i]!);
      if (afterClose > acc.max) acc.max = afterClose;
    }
    if (!tail.suffix) return;
    const key = `${tail.id}|${closed.map(stackKey).join('/')}`;
    let hits = this.suffixCache.get(key);
    if (!hits) {
      const idx: number[] = [];
      const after: number[] = [];
      collect(tail.suffix, 0, closed, sc, idx, after);
      hits = { idx: Int32Array.from(idx), after: Float64Array.from(after) };
      this.suffixCache.set(key, hits);
      if (this.suffixCache.size > MASK_CACHE_ENTRIES) this.suffixCache.delete(this.suffixCache.keys().next().value!);
    }
    const { sufIds, sufChars } = tail;
    for (let i = 0; i < hits.idx.length; i++) {
      const k = hits.idx[i]!;
      const c = sufChars[k]!;
      if (c > room || n + c < min) continue;
      setBit(mask, sufIds[k]!);
      if (hits.after[i]! > acc.max) acc.max = hits.after[i]!;
    }
  }

  /**
   * The tokens of a string scan that string configuration `st` accepts: those staying inside the
   * string, then those closing it (what follows the quote read from the frames below). With a finite
   * `left`, only the tokens after which a completion of at most `left` bytes remains (acc.removed: some
   * were dropped).
   */
  private applyScan(scan: ScanEntry, st: Stack, mask: Uint32Array, acc: { max: number; removed?: boolean }, left: number): void {
    const sc = this.shortest;
    const up = st.up;
    const frames = this.index.strings.frames;
    const { insideIds, insideTo, ends } = scan;
    // A string frame's shortest completion is its own rest plus what the frames below it add (the same
    // for every end state): that sum once, then each end state's rest alone.
    let below = ends.length > 1 ? sc.of({ f: frames[ends[0]!]!, up }) - sc.of({ f: frames[ends[0]!]!, up: null }) : NaN;
    if (!Number.isFinite(below)) below = NaN;
    const afterEnd = (e: number): number => (Number.isNaN(below) ? sc.of({ f: frames[e]!, up }) : sc.of({ f: frames[e]!, up: null }) + below);
    if (left === Infinity) {
      const m = scan.insideMask;
      if (m) {
        for (let i = 0; i < mask.length; i++) mask[i]! |= m[i]!;
      } else for (let i = 0; i < insideIds.length; i++) setBit(mask, insideIds[i]!);
      for (let i = 0; i < ends.length; i++) {
        const a = afterEnd(ends[i]!);
        if (a > acc.max) acc.max = a;
      }
    } else {
      const after = new Map<number, number>();
      for (let i = 0; i < ends.length; i++) after.set(ends[i]!, afterEnd(ends[i]!));
      for (let i = 0; i < insideIds.length; i++) {
        if (after.get(insideTo[i]!)! <= left) setBit(mask, insideIds[i]!);
        else acc.removed = true;
      }
    }
    const { closeIds, closeAt } = scan;
    if (closeIds.length === 0 && closeAt.length === 0) return;
    const closed: Stack[] = [];
    feed({ f: CLOSER, up }, 0x22, closed);
    const afterClose = sc.ofState(closed);
    if (afterClose <= left) {
      for (let i = 0; i < closeIds.length; i++) setBit(mask, closeIds[i]!);
      if (closeIds.length && afterClose > acc.max) acc.max = afterClose;
    } else if (closeIds.length) acc.removed = true;
    if (closeAt.length === 0) return;
    // The tokens below each closing node (of the index's trie), read from what the quote leads to: cached
    // per node and configuration, so the states of one string (and its patterns) that close through the
    // same node share them.
    const closedKey = closed.map(stackKey).join('/');
    for (let j = 0; j < closeAt.length; j++) {
      const c = closeAt[j]!;
      const key = `q${c}|${closedKey}`;
      let hits = this.suffixCache.get(key);
      if (!hits) {
        const idx: number[] = [];
        const after: number[] = [];
        collect(this.index.trie, c, closed, sc, idx, after);
        hits = { idx: Int32Array.from(idx), after: Float64Array.from(after) };
        this.suffixCache.set(key, hits);
        if (this.suffixCache.size > MASK_CACHE_ENTRIES) this.suffixCache.delete(this.suffixCache.keys().next().value!);
      }
      for (let i = 0; i < hits.idx.length; i++) {
        const a = hits.after[i]!;
        if (a > left) {
          acc.removed = true;
          continue;
        }
        setBit(mask, hits.idx[i]!);
        if (a > acc.max) acc.max = a;
      }
    }
  }

  private budgetMaskOf(st: Stack, left: number): BudgetMask {
    const key = `${stackKey(st)}#${left}`;
    const hit = this.budgetCache.get(key);
    if (hit) {
      this.budgetCache.delete(key);
      this.budgetCache.set(key, hit);
      return hit;
    }
    const uniq = uniqueMask(st, left, this.uniqueCtx);
    if (uniq) {
      const out: BudgetMask = { mask: uniq.mask, forced: uniq.removed };
      this.budgetCache.set(key, out);
      if (this.budgetCache.size > MASK_CACHE_ENTRIES) this.budgetCache.delete(this.budgetCache.keys().next().value!);
      return out;
    }
    const mask = newMask(this.index.size);
    const sc = this.shortest;
    const acc = { removed: false, max: 0 };
    const plain = plainString(st);
    if (plain) {
      const room = stringRoom(plain);
      // After c more plain characters: the string needs max(0, minLength - n - c) more, then '"', then the rest above it.
      const above = sc.of(st) - (Math.max(0, (plain.node?.minLength ?? 0) - plain.n) + 1);
      const min = plain.node?.minLength ?? 0;
      const { plainIds, plainChars } = this.index;
      for (let i = 0; i < plainIds.length && plainChars[i]! <= room; i++) {
        if (above + Math.max(0, min - plain.n - plainChars[i]!) + 1 <= left) setBit(mask, plainIds[i]!);
        else acc.removed = true;
      }
      walkWithin(this.index.impureTrie, 0, [st], mask, sc, left, acc);
    } else if (st.f.k === 'S') this.applyScan(this.index.scanOf(0, st.f), st, mask, acc, left);
    else walkWithin(this.index.trie, 0, [st], mask, sc, left, acc);
    const out: BudgetMask = { mask, forced: acc.removed };
    this.budgetCache.set(key, out);
    if (this.budgetCache.size > MASK_CACHE_ENTRIES) this.budgetCache.delete(this.budgetCache.keys().next().value!);
    return out;
  }
}

/**
 * The only bytes that can follow, when every configuration is inside an enum/const value that is not
 * complete yet or inside a declared key (their candidates' next bytes); null when any other frame may
 * take more (then every child is fed). Lets a walk skip the trie children no candidate starts with
 * instead of filtering hundreds of candidates for each.
 */
/** Some uniqueItems array remembers its values (distinct) and may hold a string item. */
function hasDistinctStrings(root: GrammarNode): boolean {
  return grammarNodes(root).some((n) => n.t === 'array' && n.distinct === true && grammarNodes(n.items).some((x) => x.t === 'string'));
}

function nextBytes(configs: Stack[]): Uint8Array | null {
  let out: Uint8Array | null = null;
  for (const st of configs) {
    const f = st.f;
    if (f.k === 'L') {
      if (f.cands.length < 8) return null;
      out ??= new Uint8Array(256);
      for (const i of f.cands) {
        const v = f.node.values[i]!;
        if (v.length === f.pos) return null; // complete: what follows it may come next
        out[v[f.pos]!] = 1;
      }
    } else if (f.k === 'K') {
      if (f.cands.length < 8) return null;
      out ??= new Uint8Array(256);
      for (const j of f.cands) {
        const kb = f.node.props[j]!.keyBytes;
        if (kb.length > f.pos) out[kb[f.pos]!] = 1;
      }
    } else if (f.k === 'V') {
      out ??= new Uint8Array(256);
      const fb = firstBytes(f.node);
      for (let b = 0; b < 256; b++) out[b]! |= fb[b]!;
    } else return null;
  }
  return out;
}

/** Whether every byte a shortest completion may write is a token of its own: printable ASCII, UTF-8 continuation bytes, and the bytes of the schema's keys and literals. */
function hasByteTokens(trie: TokenTrie, root: GrammarNode): boolean {
  const single = new Uint8Array(256);
  for (let c = trie.first[0]!; c !== -1; c = trie.next[c]!) if (trie.tokCount[c]! > 0) single[trie.label[c]!] = 1;
  for (let b = 0x20; b < 0x7f; b++) if (!single[b]) return false;
  for (let b = 0x80; b < 0xc0; b++) if (!single[b]) return false;
  const seen = new Set<number>();
  const bytesOk = (a: Uint8Array): boolean => a.every((b) => single[b] === 1);
  const ok = (n: GrammarNode): boolean => {
    if (seen.has(n.id)) return true;
    seen.add(n.id);
    switch (n.t) {
      case 'union':
        return n.options.every(ok);
      case 'literal':
        return n.values.every(bytesOk);
      case 'object':
        return n.props.every((p) => bytesOk(p.keyBytes) && ok(p.node)) && (!n.additional || ok(n.additional)) && (!n.key || ok(n.key));
      case 'array':
        return ok(n.items);
      default:
        return true;
    }
  };
  return ok(root);
}

/** Every token (trie index) below `node` that the configurations accept, with the shortest completion after it. */
function collect(trie: TokenTrie, node: number, configs: Stack[], sc: ShortestCompletion, idx: number[], after: number[]): void {
  const { first, next, label, tokStart, tokCount, ids } = trie;
  for (let c = first[node]!; c !== -1; c = next[c]!) {
    const alive: Stack[] = [];
    for (const s of configs) feed(s, label[c]!, alive);
    if (alive.length === 0) continue;
    const n = tokCount[c]!;
    if (n > 0) {
      const a = sc.ofState(alive);
      for (let k = 0; k < n; k++) {
        idx.push(ids[tokStart[c]! + k]!);
        after.push(a);
      }
    }
    if (first[c] !== -1) collect(trie, c, alive, sc, idx, after);
  }
}

/** `walk`, keeping only the tokens after which a completion of at most `left` bytes remains. */
function walkWithin(trie: TokenTrie, node: number, configs: Stack[], mask: Uint32Array, sc: ShortestCompletion, left: number, acc: { removed: boolean }): void {
  const { first, next, label, tokStart, tokCount, ids } = trie;
  for (let c = first[node]!; c !== -1; c = next[c]!) {
    const b = label[c]!;
    const alive: Stack[] = [];
    for (const s of configs) feed(s, b, alive);
    if (alive.length === 0) continue;
    const n = tokCount[c]!;
    if (n > 0) {
      if (sc.ofState(alive) <= left) {
        const s0 = tokStart[c]!;
        for (let k = 0; k < n; k++) setBit(mask, ids[s0 + k]!);
      } else acc.removed = true;
    }
    if (first[c] !== -1) walkWithin(trie, c, alive, mask, sc, left, acc);
  }
}
