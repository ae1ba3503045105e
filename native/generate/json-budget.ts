import { nextProps, type Frame, type Stack } from './json-automaton.js';
import { intMoreDigits, intShortest } from './json-int-range.js';
import type { GrammarNode, ObjectNode } from './json-schema-compile.js';

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
export class ShortestCompletion {
  private readonly minV = new Map<number, number>();
  /** Per object node with declared properties: after property `last` (index last+1), with / without the comma already written. */
  private readonly objAfter = new Map<number, Float64Array>();
  private readonly objNext = new Map<number, Float64Array>();

  constructor(root: GrammarNode) {
    const nodes: GrammarNode[] = [];
    const seen = new Set<number>();
    const visit = (n: GrammarNode): void => {
      if (seen.has(n.id)) return;
      seen.add(n.id);
      nodes.push(n);
      switch (n.t) {
        case 'union':
          n.options.forEach(visit);
          break;
        case 'object':
          for (const p of n.props) visit(p.node);
          if (n.additional) visit(n.additional);
          break;
        case 'array':
          visit(n.items);
          break;
        default:
          break;
      }
    };
    visit(root);
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
        return 2 + (n.regex ? Math.max(n.minLength, n.regex.minBytes[0]!) : n.minLength);
      case 'number':
        return n.range ? intShortest(n.range) : 1;
      case 'object':
        if (n.props.length === 0) return 2;
        this.objAfter.delete(n.id); // tables depend on the values of the properties: rebuild
        this.objNext.delete(n.id);
        return 1 + this.objFirst(n);
      case 'array': {
        if (n.minItems === 0) return 2;
        return 1 + this.items(n.minItems, this.minV.get(n.items.id) ?? Infinity) + 1;
      }
    }
  }

  /** k items and the commas between them. */
  private items(k: number, item: number): number {
    return k * item + (k - 1);
  }

  private tables(n: ObjectNode): { after: Float64Array; next: Float64Array } {
    let after = this.objAfter.get(n.id);
    let next = this.objNext.get(n.id);
    if (after && next) return { after, next };
    const len = n.props.length;
    after = new Float64Array(len + 1);
    next = new Float64Array(len + 1);
    // From the last property backwards: index i = state after property i-1 (i = 0: none yet).
    let requiredAhead = false;
    for (let i = len; i >= 0; i--) {
      const last = i - 1;
      let bestNext = Infinity;
      for (const j of nextProps(n, last)) {
        const p = n.props[j]!;
        bestNext = Math.min(bestNext, p.keyBytes.length + this.value(p.node) + after[j + 1]!);
      }
      next[i] = bestNext;
      after[i] = Math.min(requiredAhead ? Infinity : 1, 1 + bestNext);
      if (i > 0 && n.props[i - 1]!.required) requiredAhead = true;
    }
    this.objAfter.set(n.id, after);
    this.objNext.set(n.id, next);
    return { after, next };
  }

  /** Just after '{' of an object with declared properties. */
  private objFirst(n: ObjectNode): number {
    const { after, next } = this.tables(n);
    return Math.min(after[0]! === 1 ? 1 : Infinity, next[0]!);
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
          // Under a pattern: a lower bound when minLength and the pattern both ask for more (rare).
          const dfa = f.node!.regex!;
          if (f.need > 0) return f.need + Math.max(0, min - (f.n + 1), dfa.minNext[f.rx]!) + 1;
          if (f.esc === 1) return 1 + Math.max(0, min - (f.n + 1), dfa.minNext[f.rx]!) + 1;
          if (f.esc >= 2) return 6 - f.esc + Math.max(0, min - (f.n + 1), dfa.minNext[f.rx]!) + 1;
          return Math.max(0, min - f.n, dfa.minBytes[f.rx]!) + 1;
        }
        if (f.need > 0) return f.need + Math.max(0, min - (f.n + 1)) + 1;
        if (f.esc === 1) return 1 + Math.max(0, min - (f.n + 1)) + 1;
        if (f.esc >= 2) return 6 - f.esc + Math.max(0, min - (f.n + 1)) + 1;
        return Math.max(0, min - f.n) + 1;
      }
      case 'N':
        if (f.node.range) return intMoreDigits(f.node.range, f.neg!, f.v!, f.d);
        return f.ph === 0 || f.ph === 3 || f.ph === 5 || f.ph === 6 ? 1 : 0;
      case 'O': {
        const n = f.node;
        if (n.props.length === 0) {
          const v = n.additional ? this.value(n.additional) : Infinity;
          if (f.ph === 'next') return 2 + 1 + v + 1;
          if (f.ph === 'colon') return 1 + v + 1;
          return 1; // first, after (keystr / value: below a child, see afterChild)
        }
        const { after, next } = this.tables(n);
        if (f.ph === 'first') return this.objFirst(n);
        if (f.ph === 'next') return next[f.last + 1]!;
        return after[f.last + 1]!;
      }
      case 'K':
        return Infinity; // handled with its object in of()
      case 'A': {
        const n = f.node;
        const item = this.value(n.items);
        if (f.ph === 'first') return n.minItems === 0 ? 1 : this.items(n.minItems, item) + 1;
        if (f.ph === 'next') return this.items(Math.max(1, n.minItems - f.count), item) + 1;
        return f.count >= n.minItems ? 1 : (n.minItems - f.count) * (1 + item) + 1;
      }
    }
  }

  /** Bytes to finish a container once the child value above it is complete (what `done` makes of it). */
  private afterChild(f: Frame): number {
    if (f.k === 'O') {
      if (f.ph === 'keystr') return this.rest({ ...f, ph: 'colon' });
      return this.rest({ ...f, ph: 'after' });
    }
    if (f.k === 'A') {
      const cap = Number.isFinite(f.node.maxItems) ? f.node.maxItems : f.node.minItems;
      return this.rest({ ...f, ph: 'after', count: Math.min(f.count + 1, cap) });
    }
    return 0;
  }

  /** Fewest bytes that complete this configuration. */
  of(st: Stack): number {
    let total: number;
    let s: Stack | null;
    if (st.f.k === 'K') {
      const f = st.f;
      const obj = st.up!;
      const { after } = this.tables(f.node);
      total = Infinity;
      for (const j of f.cands) {
        const p = f.node.props[j]!;
        total = Math.min(total, p.keyBytes.length - f.pos + this.value(p.node) + after[j + 1]!);
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
