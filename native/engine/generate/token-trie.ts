/**
 * A prefix trie over token byte strings, laid out in flat arrays (first child / next sibling,
 * children in byte order). Walking it with an automaton visits each shared prefix once, so
 * "which tokens keep this prefix valid" costs the size of the part of the trie still alive,
 * not the size of the vocabulary.
 */
export class TokenTrie {
  /** Node 0 is the root. -1 = none. */
  readonly first: Int32Array;
  readonly next: Int32Array;
  readonly label: Uint8Array;
  /** Tokens ending at a node: ids[tokStart[n] .. tokStart[n] + tokCount[n]). */
  readonly tokStart: Int32Array;
  readonly tokCount: Int32Array;
  readonly ids: Int32Array;
  readonly nodes: number;
  /** Bytes from the root to each node (the root: 0). */
  readonly depth: Int32Array;
  /**
   * Nodes are numbered in preorder (children in byte order), so a node's subtree is the range
   * [n, end[n]) and parent[n] < n: a walk may scan nodes in order and skip a dead subtree at once.
   */
  readonly parent: Int32Array;
  readonly end: Int32Array;

  constructor(bytes: ReadonlyArray<Uint8Array | null>, include: (id: number, b: Uint8Array) => boolean) {
    const order: number[] = [];
    let totalBytes = 0;
    for (let id = 0; id < bytes.length; id++) {
      const b = bytes[id];
      if (b && b.length > 0 && include(id, b)) {
        order.push(id);
        totalBytes += b.length;
      }
    }
    order.sort((x, y) => compareBytes(bytes[x]!, bytes[y]!));
    const cap = totalBytes + 1;
    const first = new Int32Array(cap).fill(-1);
    const next = new Int32Array(cap).fill(-1);
    const last = new Int32Array(cap).fill(-1);
    const label = new Uint8Array(cap);
    const tokStart = new Int32Array(cap).fill(-1);
    const tokCount = new Int32Array(cap);
    const depth = new Int32Array(cap);
    const parent = new Int32Array(cap).fill(-1);
    const ids = new Int32Array(order.length);
    let nodes = 1;
    const path: number[] = [0]; // path[d] = node at depth d for the previous token
    let prev: Uint8Array | null = null;
    order.forEach((id, i) => {
      const b = bytes[id]!;
      let lcp = 0;
      if (prev) while (lcp < b.length && lcp < prev.length && b[lcp] === prev[lcp]) lcp++;
      path.length = lcp + 1;
      let node = path[lcp]!;
      for (let d = lcp; d < b.length; d++) {
        const child = nodes++;
        label[child] = b[d]!;
        depth[child] = d + 1;
        parent[child] = node;
        if (first[node] === -1) first[node] = child;
        else next[last[node]!] = child;
        last[node] = child;
        node = child;
        path.push(node);
      }
      if (tokStart[node] === -1) tokStart[node] = i;
      tokCount[node]!++;
      ids[i] = id;
      prev = b;
    });
    this.first = first.subarray(0, nodes);
    this.next = next.subarray(0, nodes);
    this.label = label.subarray(0, nodes);
    this.tokStart = tokStart.subarray(0, nodes);
    this.tokCount = tokCount.subarray(0, nodes);
    this.ids = ids;
    this.nodes = nodes;
    this.depth = depth.subarray(0, nodes);
    this.parent = parent.subarray(0, nodes);
    const end = new Int32Array(nodes);
    end[0] = nodes;
    for (let c = 1; c < nodes; c++) end[c] = next[c] !== -1 ? next[c]! : end[parent[c]!]!;
    this.end = end;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Bitset helpers over token ids. */
export function newMask(size: number): Uint32Array {
  return new Uint32Array((size + 31) >>> 5);
}

export function setBit(mask: Uint32Array, id: number): void {
  mask[id >>> 5]! |= 1 << (id & 31);
}

export function countBits(mask: Uint32Array): number {
  let n = 0;
  for (let w of mask) {
    while (w) {
      w &= w - 1;
      n++;
    }
  }
  return n;
}
