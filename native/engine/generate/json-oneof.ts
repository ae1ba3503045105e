import type { GrammarNode, ObjectNode } from './json-schema-compile.js';
import { isObj, type SchemaDocument } from './json-schema-document.js';

/**
 * Which branches of a oneOf may both match one value (json-schema-compile.ts makes those exclude each
 * other; branches no value can match twice need nothing): read from the branches' schemas (their
 * declared types, through $ref and applicators) and their compiled nodes (discriminating enum / const
 * properties, scalar enums, closed shapes).
 */
export class OneOfOverlap {
  private readonly typesMemo = new WeakMap<object, Set<string> | null>();

  constructor(
    private readonly doc: SchemaDocument,
    /** The draft has `const`. */
    private readonly hasConst: boolean,
    /** draft-04 to -07: $ref replaces its siblings. */
    private readonly legacyRef: boolean,
    /** $ref placeholders still being compiled: kept as they are. */
    private readonly pending: ReadonlySet<GrammarNode>,
  ) {}

  /** The non-union options of a node (through unions); a pending $ref placeholder or an exclusion stays as it is. */
  flat(n: GrammarNode, out: GrammarNode[] = [], seen = new Set<GrammarNode>()): GrammarNode[] {
    if (seen.has(n)) return out;
    seen.add(n);
    if (n.t === 'union' && !n.exclude && !this.pending.has(n)) for (const x of n.options) this.flat(x, out, seen);
    else out.push(n);
    return out;
  }

  /** The JSON types a schema's values may have (integer counted as number), from type / const / enum through $ref and applicators; null: any. */
  typesOfSchema(s: unknown, where: string, base: string, depth = 0): Set<string> | null {
    if (s === false) return new Set();
    if (!isObj(s) || depth > 16) return null;
    if (this.typesMemo.has(s)) return this.typesMemo.get(s)!;
    const b = this.doc.baseOf(s, base);
    let out: Set<string> | null = null;
    const meet = (t: Set<string> | null): void => {
      if (t) out = out === null ? t : new Set([...out].filter((x) => t.has(x)));
    };
    const valueType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v);
    let done = false;
    if (typeof s.$ref === 'string') {
      let t: Set<string> | null = null;
      try {
        const r = this.doc.resolveRef(s.$ref, where, b);
        t = this.typesOfSchema(r.target, r.pointer, r.base, depth + 1);
      } catch {
        t = null;
      }
      meet(t);
      done = this.legacyRef;
    }
    if (!done) {
      if (s.type !== undefined) {
        const t = new Set((Array.isArray(s.type) ? s.type : [s.type]).map((x) => (x === 'integer' ? 'number' : String(x))));
        if (s.nullable === true) t.add('null');
        meet(t);
      }
      if (this.hasConst && s.const !== undefined) meet(new Set([valueType(s.const)]));
      if (Array.isArray(s.enum)) meet(new Set(s.enum.map(valueType)));
      if (Array.isArray(s.allOf)) s.allOf.forEach((x, i) => meet(this.typesOfSchema(x, `${where}/allOf/${i}`, b, depth + 1)));
      for (const k of ['anyOf', 'oneOf']) {
        const list = s[k];
        if (!Array.isArray(list)) continue;
        const u = new Set<string>();
        let all = false;
        list.forEach((x, i) => {
          const t = this.typesOfSchema(x, `${where}/${k}/${i}`, b, depth + 1);
          if (t === null) all = true;
          else t.forEach((y) => u.add(y));
        });
        if (!all) meet(u);
      }
    }
    this.typesMemo.set(s, out);
    return out;
  }

  /** Required properties whose values are scalar enum / const values, by name: every option must be an object that has them. Null: not such objects. */
  private tags(n: GrammarNode): Map<string, Set<string>> | null {
    let out: Map<string, Set<string>> | null = null;
    for (const o of this.flat(n)) {
      if (o.t !== 'object') return null;
      const mine = new Map<string, Set<string>>();
      for (const p of o.props) {
        if (!p.required || p.node.t !== 'literal') continue;
        const texts = p.node.values.map((v) => new TextDecoder().decode(v));
        if (texts.some((t) => t.startsWith('{') || t.startsWith('['))) continue;
        mine.set(p.name, new Set(texts));
      }
      if (out === null) out = mine;
      else {
        const prev: Map<string, Set<string>> = out;
        for (const k of [...prev.keys()]) {
          const m = mine.get(k);
          if (!m) prev.delete(k);
          else m.forEach((t) => prev.get(k)!.add(t));
        }
      }
    }
    return out;
  }

  /** Scalar enum / const values only: their compact texts. */
  private scalars(n: GrammarNode): Set<string> | null {
    const out = new Set<string>();
    for (const o of this.flat(n)) {
      if (o.t !== 'literal') return null;
      for (const v of o.values) {
        const t = new TextDecoder().decode(v);
        if (t.startsWith('{') || t.startsWith('[')) return null;
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The pairs of oneOf branches that may both match one value. None when no value can match two:
   * their types differ (read from the schemas: no type is inferred), they are objects told apart by a
   * required property's enum / const values, scalar enums with no value in common, one is closed and
   * the other requires a name it lacks, or closed shapes the compiler made disjoint (`shaped[i]` is not
   * `branches[i]`: oneOfEmpty gave it a required property).
   */
  overlapping(list: unknown[], branches: GrammarNode[], shaped: GrammarNode[], where: string, base: string): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    const types = list.map((x, i) => this.typesOfSchema(x, `${where}/oneOf/${i}`, base));
    const tagged = shaped.map((n) => this.tags(n));
    const lits = shaped.map((n, i) => (types[i] ? this.scalars(n) : null));
    // Shapes oneOfEmpty gave a required property, whose schemas allow no other key.
    const closedApart = shaped.map((n, i) => n !== branches[i] && this.closedProps(list[i], `${where}/oneOf/${i}`, base) !== null);
    // Objects only: the names every option requires; and a closed schema's own property names.
    const objectsOnly = shaped.map((n) => this.flat(n).every((o) => o.t === 'object'));
    const requiredNames = shaped.map((n, i) => {
      const opts = objectsOnly[i] ? (this.flat(n) as ObjectNode[]) : [];
      return opts.length ? opts.map((o) => new Set(o.props.filter((p) => p.required).map((p) => p.name))).reduce((a, b) => new Set([...a].filter((x) => b.has(x)))) : new Set<string>();
    });
    const closedNames = list.map((x, i) => this.closedProps(x, `${where}/oneOf/${i}`, base));
    /** Branch i is closed and branch j requires a name i does not declare: no value fits both. */
    const shut = (i: number, j: number): boolean => objectsOnly[i]! && objectsOnly[j]! && closedNames[i] !== null && [...requiredNames[j]!].some((x) => !closedNames[i]!.has(x));
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const ti = types[i];
        const tj = types[j];
        if (ti && tj && ![...ti].some((x) => tj.has(x))) continue;
        if (closedApart[i] && closedApart[j]) continue;
        if (shut(i, j) || shut(j, i)) continue;
        const a = tagged[i];
        const b = tagged[j];
        if (a && b && [...a].some(([k, va]) => b.has(k) && ![...va].some((x) => b.get(k)!.has(x)))) continue;
        const la = lits[i];
        const lb = lits[j];
        if (la && lb && ![...la].some((x) => lb.has(x))) continue;
        pairs.push([i, j]);
      }
    }
    return pairs;
  }

  /** The property names a closed schema (additionalProperties false, no patterns) allows; null: not closed. */
  private closedProps(s: unknown, where: string, base: string): Set<string> | null {
    if (!isObj(s)) return null;
    if (typeof s.$ref === 'string' && this.legacyRef) {
      try {
        const r = this.doc.resolveRef(s.$ref, where, base);
        return isObj(r.target) && typeof r.target.$ref !== 'string' ? this.closedProps(r.target, r.pointer, r.base) : null;
      } catch {
        return null;
      }
    }
    if (s.additionalProperties !== false || s.patternProperties !== undefined || typeof s.$ref === 'string') return null;
    return new Set(isObj(s.properties) ? Object.keys(s.properties) : []);
  }
}
