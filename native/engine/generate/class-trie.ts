import type { CharDfa } from './json-regex.js';
import { grammarNodes, type GrammarNode, type StringNode } from './json-schema-compile.js';
import { scanClassRoot, type ScanTrie, type StringDfa, type StringScan } from './json-string-scan.js';
import type { TokenTrie } from './token-trie.js';

/**
 * Root scans of string frames under a `pattern` / `format` over class-compressed tries (issue 21,
 * mask speed). A broad pattern (email, hostname, uri, an unanchored one) keeps most of the byte
 * trie's ~333k nodes (Qwen2.5) alive, so a scan of it costs milliseconds for every new pattern state.
 * Instead, the tokens' plain prefixes (their bytes up to the first one that is not plain, isPlainByte:
 * 0x20..0x7f but '"' and '\') are mapped to classes of characters with the same transition from every
 * state of the pattern's CharDfa and put in a trie over class sequences (a node's label is its class's
 * smallest byte; tokens of one class sequence share a node): a few hundred to a few thousand nodes
 * instead of ~200k. The plain-ASCII tokens are that trie's tokens; every other token lies below a
 * "raw root", a byte-trie node reached from a plain prefix by a byte that is not plain, kept with the
 * class-trie node of that prefix and scanned in the byte trie itself (json-string-scan.ts,
 * scanClassRoot). The sets are the full trie's scan's.
 *
 * Why this is exact. The scan starts at a character boundary (esc 0, need 0). A plain byte there is
 * a one-byte character, and the string state after it is again at a character boundary (no quote
 * closes the string, no backslash opens an escape, no lead byte opens a multi-byte character), so
 * along a plain prefix the scan stays in that regime. There StringDfa fills a state's whole ASCII
 * row by the pattern state each character leads to: its successor after a one-byte character c
 * depends only on dfa.step(rx, c) (the length counter n grows by one for every character alike, and
 * maxLength kills alike). Characters of one class have the same dfa.step from every pattern state, so
 * from every string state their table entries are equal: stepping the class's representative gives,
 * byte for byte, the states stepping any member gives. A class-trie node stands for byte-trie nodes
 * reached through the same state sequence, so each plain token ends in the state (or is cut as DEAD
 * at the same point) that the byte-trie scan gives it, plain tokens never close the string, and each
 * raw root is scanned from the state the byte-trie scan reaches its parent in.
 */

/** One-byte characters that keep a string at a character boundary: printable ASCII and DEL, but '"' and '\' (StringDfa.step's one-byte row). */
export function isPlainByte(b: number): boolean {
  return b >= 0x20 && b < 0x80 && b !== 0x22 && b !== 0x5c;
}

/** Not a plain byte (classOf). */
const NONE = 255;

/** The plain bytes' classes under a pattern DFA: bytes with the same transition from every state. */
export interface ByteClasses {
  /** Per byte: its class, or 255 for bytes that are not plain. */
  classOf: Uint8Array;
  /** Per class: its smallest byte. */
  rep: Uint8Array;
  count: number;
  /** classOf as text (DFAs with the same classes share one class trie). */
  key: string;
}

export function byteClasses(dfa: CharDfa): ByteClasses {
  // Refine state by state: a byte's class is (its class so far, where this state sends it).
  const classOf = new Uint8Array(256).fill(NONE);
  const cur = new Int32Array(128);
  for (let s = 0; s < dfa.size; s++) {
    const ids = new Map<number, number>();
    for (let c = 0x20; c < 0x80; c++) {
      if (!isPlainByte(c)) continue;
      const k = cur[c]! * 8192 + (dfa.step(s, c) + 1);
      let v = ids.get(k);
      if (v === undefined) ids.set(k, (v = ids.size));
      cur[c] = v;
    }
  }
  const rep: number[] = [];
  const renum = new Map<number, number>();
  for (let c = 0x20; c < 0x80; c++) {
    if (!isPlainByte(c)) continue;
    let v = renum.get(cur[c]!);
    if (v === undefined) {
      renum.set(cur[c]!, (v = rep.length));
      rep.push(c);
    }
    classOf[c] = v;
  }
  return { classOf, rep: Uint8Array.from(rep), count: rep.length, key: String.fromCharCode(...classOf.subarray(0x20, 0x80)) };
}

/** A trie laid out like TokenTrie (preorder, end, depth, tokens per node) that scanString reads. */
export interface FlatTrie extends ScanTrie {
  readonly nodes: number;
}

/**
 * The class trie of a pattern's byte classes: the plain prefixes of the vocabulary's tokens over
 * classes (FlatTrie; its tokens: the plain-ASCII tokens), and per node the byte-trie nodes that
 * continue one of its plain prefixes with a byte that is not plain (raw roots: their subtrees hold
 * every other token).
 */
export interface ClassTrie extends FlatTrie {
  /** The raw roots of node n: rawRoots[rawStart[n] .. rawStart[n + 1]), nodes of the byte trie. */
  readonly rawStart: Int32Array;
  readonly rawRoots: Int32Array;
}

/**
 * The part of a token trie that the tokens' plain prefixes use (nodes whose path is all plain bytes),
 * in preorder with parents in its own numbering, the nodes that end tokens, and the raw roots of each
 * node (its children in the byte trie by a byte that is not plain): what every class trie is built
 * from (once per token trie).
 */
export interface PlainTrie {
  readonly nodes: number;
  readonly label: Uint8Array;
  readonly parent: Int32Array;
  /** Nodes with tokens: the node, and its tokens ids[tokFrom[i] .. tokFrom[i] + tokN[i]) of the token trie. */
  readonly tokNode: Int32Array;
  readonly tokFrom: Int32Array;
  readonly tokN: Int32Array;
  readonly ids: Int32Array;
  /** Raw roots: node rawNode[i] (plain-trie numbering) continues into byte-trie node rawRoot[i]. */
  readonly rawNode: Int32Array;
  readonly rawRoot: Int32Array;
}

export function plainTrie(trie: TokenTrie): PlainTrie {
  const { label, parent, end, tokCount, tokStart, ids, nodes } = trie;
  const map = new Int32Array(nodes);
  const outLabel = new Uint8Array(nodes);
  const outParent = new Int32Array(nodes);
  const tokNode: number[] = [];
  const tokFrom: number[] = [];
  const tokN: number[] = [];
  const rawNode: number[] = [];
  const rawRoot: number[] = [];
  let m = 1;
  for (let c = 1; c < nodes; ) {
    if (!isPlainByte(label[c]!)) {
      rawNode.push(map[parent[c]!]!);
      rawRoot.push(c);
      c = end[c]!;
      continue;
    }
    const q = m++;
    map[c] = q;
    outLabel[q] = label[c]!;
    outParent[q] = map[parent[c]!]!;
    if (tokCount[c]! > 0) {
      tokNode.push(q);
      tokFrom.push(tokStart[c]!);
      tokN.push(tokCount[c]!);
    }
    c++;
  }
  return {
    nodes: m,
    label: outLabel.slice(0, m),
    parent: outParent.slice(0, m),
    tokNode: Int32Array.from(tokNode),
    tokFrom: Int32Array.from(tokFrom),
    tokN: Int32Array.from(tokN),
    ids,
    rawNode: Int32Array.from(rawNode),
    rawRoot: Int32Array.from(rawRoot),
  };
}

/** Work arrays of buildClassTrie, one entry per plain-trie node. */
export interface ClassScratch {
  map: Int32Array;
  first: Int32Array;
  next: Int32Array;
  up: Int32Array;
  klass: Uint8Array;
}

export function newScratch(nodes: number): ClassScratch {
  return { map: new Int32Array(nodes), first: new Int32Array(nodes), next: new Int32Array(nodes), up: new Int32Array(nodes), klass: new Uint8Array(nodes) };
}

/**
 * The class trie: one pass over the plain trie mapping each node to a class-trie node (children found
 * by class among the siblings), then a numbering in preorder (subtree sizes, each child placed after
 * its parent's earlier children), the tokens laid out in that order, and the raw roots grouped by
 * class-trie node.
 */
export function buildClassTrie(plain: PlainTrie, cls: ByteClasses, scratch: ClassScratch = newScratch(plain.nodes)): ClassTrie {
  const { label, parent, nodes, tokNode, tokFrom, tokN, ids, rawNode, rawRoot } = plain;
  const { classOf, rep } = cls;
  // Work arrays (reused across builds: no plain-trie-sized allocations per pattern); only first[] needs resetting.
  const { map, first, next, up, klass } = scratch;
  first.fill(-1);
  let m = 1;
  for (let c = 1; c < nodes; c++) {
    const k = classOf[label[c]!]!;
    const p = map[parent[c]!]!;
    let q = first[p]!;
    while (q !== -1 && klass[q] !== k) q = next[q]!;
    if (q === -1) {
      q = m++;
      klass[q] = k;
      up[q] = p;
      next[q] = first[p]!;
      first[p] = q;
    }
    map[c] = q;
  }
  // Nodes were made after their parents: subtree sizes bottom-up, then preorder positions top-down.
  const size = new Int32Array(m).fill(1);
  for (let q = m - 1; q > 0; q--) size[up[q]!]! += size[q]!;
  const pre = new Int32Array(m);
  const fill = new Int32Array(m);
  fill[0] = 1;
  const outLabel = new Uint8Array(m);
  const outDepth = new Int32Array(m);
  const outEnd = new Int32Array(m);
  const outCount = new Int32Array(m);
  outEnd[0] = m;
  for (let q = 1; q < m; q++) {
    const p = up[q]!;
    const at = fill[p]!;
    fill[p] = at + size[q]!;
    pre[q] = at;
    fill[q] = at + 1;
    outLabel[at] = rep[klass[q]!]!;
    outDepth[at] = outDepth[pre[p]!]! + 1;
    outEnd[at] = at + size[q]!;
  }
  for (let i = 0; i < tokNode.length; i++) outCount[pre[map[tokNode[i]!]!]!]! += tokN[i]!;
  const outStart = new Int32Array(m);
  let total = 0;
  for (let n = 0; n < m; n++) {
    outStart[n] = total;
    total += outCount[n]!;
  }
  const outIds = new Int32Array(total);
  const put = outStart.slice();
  for (let i = 0; i < tokNode.length; i++) {
    const at = pre[map[tokNode[i]!]!]!;
    let to = put[at]!;
    for (let k = tokFrom[i]!, e = k + tokN[i]!; k < e; k++) outIds[to++] = ids[k]!;
    put[at] = to;
  }
  // Raw roots by class-trie node (map[0] is 0: the root's own).
  const rawStart = new Int32Array(m + 1);
  for (let i = 0; i < rawNode.length; i++) rawStart[pre[map[rawNode[i]!]!]! + 1]!++;
  for (let n = 0; n < m; n++) rawStart[n + 1]! += rawStart[n]!;
  const rawRoots = new Int32Array(rawNode.length);
  const rput = rawStart.slice(0, m);
  for (let i = 0; i < rawNode.length; i++) rawRoots[rput[pre[map[rawNode[i]!]!]!]!++] = rawRoot[i]!;
  return { label: outLabel, depth: outDepth, end: outEnd, tokStart: outStart, tokCount: outCount, ids: outIds, nodes: m, rawStart, rawRoots };
}

/** Bytes a class trie holds (its typed arrays). */
function trieBytes(t: ClassTrie): number {
  return t.nodes * 21 + t.ids.length * 4 + t.rawRoots.length * 4;
}

/** Class tries kept per token trie (all DFAs together), least recently used dropped first. */
const CLASS_TRIE_BYTES = 32 * 1024 * 1024;

/**
 * Root scans of pattern string frames over one token trie: the class trie of each set of byte classes
 * (built when a grammar with the pattern is compiled, from the plain trie, shared by DFAs with the
 * same classes), its raw roots' subtrees read in the token trie itself.
 */
export class PatternScans {
  private readonly plain: PlainTrie;
  private scratch: ClassScratch | null = null;
  private readonly classes = new WeakMap<CharDfa, ByteClasses>();
  private readonly tries = new Map<string, ClassTrie>();
  private bytes = 0;
  /** Time spent building class tries (ms), and how many were built. */
  buildMs = 0;
  built = 0;

  constructor(private readonly trie: TokenTrie) {
    this.plain = plainTrie(trie);
  }

  /** The class trie of a pattern DFA. */
  classTrie(dfa: CharDfa): ClassTrie {
    let cls = this.classes.get(dfa);
    if (!cls) this.classes.set(dfa, (cls = byteClasses(dfa)));
    let t = this.tries.get(cls.key);
    if (t) {
      this.tries.delete(cls.key);
      this.tries.set(cls.key, t);
      return t;
    }
    const t0 = performance.now();
    t = buildClassTrie(this.plain, cls, (this.scratch ??= newScratch(this.plain.nodes)));
    this.buildMs += performance.now() - t0;
    this.built++;
    this.tries.set(cls.key, t);
    this.bytes += trieBytes(t);
    for (const [k, old] of this.tries) {
      if (this.bytes <= CLASS_TRIE_BYTES || old === t) break;
      this.tries.delete(k);
      this.bytes -= trieBytes(old);
    }
    return t;
  }

  /**
   * The scan of the whole vocabulary from string state s0, a state at a character boundary under
   * pattern `dfa` (its frame: rx set, esc 0, need 0): the same sets as scanString over the full trie
   * from its root (ids in another order; closeAt: nodes of the token trie).
   */
  scanRoot(dfa: CharDfa, strings: StringDfa, s0: number): StringScan {
    return scanClassRoot(this.classTrie(dfa), this.trie, strings, s0);
  }
}

/** A grammar's string nodes under a pattern (each once): what a grammar prepares class tries and string states for when it is compiled. */
export function patternStrings(root: GrammarNode): StringNode[] {
  return grammarNodes(root).filter((n): n is StringNode => n.t === 'string' && n.regex !== undefined);
}
