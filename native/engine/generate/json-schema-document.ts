import { TandemError } from '../common/errors.js';
import type { Dialect } from '../node/ajv-for-schema.js';

/**
 * A JSON Schema as a document: its schema resources (`$id`, draft-04's `id`) and anchors, and the
 * resolution of its references (`$ref`, a `$dynamicRef` that resolves statically), for the compiler
 * (json-schema-compile.ts). Nothing is fetched: a reference outside the document is refused by name.
 */

/** The base URI of a schema without `$id`. */
export const DEFAULT_BASE = 'tandem://schema/root.json';

/** Values that are data, not subschemas: never searched for `$id` / `$anchor`. */
export const DATA_KEYS = new Set(['enum', 'const', 'examples', 'default']);

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A schema that is not well formed (`INVALID_ARGUMENT`, with its JSON pointer). */
export function bad(where: string, msg: string): TandemError {
  return new TandemError('INVALID_ARGUMENT', `schema ${where || '(root)'}: ${msg}`);
}

/** A keyword local constrained decoding does not enforce there (`INVALID_ARGUMENT`; data: keyword and pointer). */
export function unsupported(keyword: string, where: string, why = 'local constrained decoding cannot enforce it'): TandemError {
  return new TandemError('INVALID_ARGUMENT', `schema: unsupported keyword "${keyword}" at ${where || '(root)'} (${why})`, { data: { keyword, pointer: where } });
}

function noHash(u: URL): string {
  const c = new URL(u.href);
  c.hash = '';
  return c.href;
}

/** A reference resolved: the schema it points to, its URI, the base inside it, and the pointer its errors name. */
export interface ResolvedRef {
  target: unknown;
  uri: string;
  base: string;
  pointer: string;
}

/** A copy of a schema where each of these objects' $dynamicRef is the $ref it resolves as (beside a $ref of its own: one more allOf entry). */
function withStaticRefs(s: unknown, refs: ReadonlyMap<object, string>): unknown {
  if (Array.isArray(s)) return s.map((x) => withStaticRefs(x, refs));
  if (!isObj(s)) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) Object.defineProperty(out, k, { value: DATA_KEYS.has(k) ? v : withStaticRefs(v, refs), enumerable: true, writable: true, configurable: true });
  const ref = refs.get(s);
  if (ref !== undefined) {
    delete out.$dynamicRef;
    if (typeof out.$ref === 'string') out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), { $ref: ref }];
    else out.$ref = ref;
  }
  return out;
}

export class SchemaDocument {
  /** The root's base URI (its `$id`, else DEFAULT_BASE). */
  readonly rootBase: string;
  /**
   * The schema as the final validation (ajv) should read it: the schema itself, or a copy where each
   * $dynamicRef that resolves statically to a $dynamicAnchor below a resource's root is that $ref (ajv
   * resolves such a reference to the resource's root, OpenAPI 3.1's "#meta"; one to a resource's root
   * it resolves as the specification does).
   */
  readonly validationSchema: unknown;
  private readonly legacyRef: boolean;
  private readonly idKey: string;
  private readonly resources = new Map<string, unknown>();
  private readonly anchors = new Map<string, unknown>();
  /** The schema resources defining each $dynamicAnchor name (a $dynamicRef to a name only one defines is a $ref). */
  private readonly dynamicAnchors = new Map<string, Set<string>>();
  /** Every $dynamicRef (2020-12) with its base. */
  private readonly dynamicRefs: Array<{ o: Record<string, unknown>; base: string }> = [];

  constructor(
    readonly schema: unknown,
    readonly dialect: Dialect,
  ) {
    this.legacyRef = dialect === 'draft-04' || dialect === 'draft-06' || dialect === 'draft-07';
    this.idKey = dialect === 'draft-04' ? 'id' : '$id';
    this.resources.set(DEFAULT_BASE, schema);
    this.rootBase = isObj(schema) ? this.baseOf(schema, DEFAULT_BASE) : DEFAULT_BASE;
    if (this.rootBase !== DEFAULT_BASE) this.resources.set(this.rootBase, schema);
    this.index(schema, DEFAULT_BASE);
    const staticRefs = new Map<object, string>();
    for (const { o, base } of this.dynamicRefs) {
      try {
        const { target } = this.staticDynamicRef(o.$dynamicRef as string, '', base);
        if (target !== schema && !(isObj(target) && typeof target[this.idKey] === 'string')) staticRefs.set(o, o.$dynamicRef as string);
      } catch {
        // resolved by the dynamic scope, or nowhere: refused where compiled
      }
    }
    this.validationSchema = staticRefs.size > 0 ? withStaticRefs(schema, staticRefs) : schema;
  }

  /** The base URI inside schema object `o` whose parent's base is `base`. */
  baseOf(o: Record<string, unknown>, base: string): string {
    const id = o[this.idKey];
    if (typeof id !== 'string' || (this.legacyRef && typeof o.$ref === 'string')) return base;
    let u: URL;
    try {
      u = new URL(id, base);
    } catch {
      return base;
    }
    // A plain-name id ("#foo"): an anchor, not a new base.
    if (u.hash && u.hash !== '#') return base;
    return noHash(u);
  }

  private index(s: unknown, base: string): void {
    if (Array.isArray(s)) {
      for (const x of s) this.index(x, base);
      return;
    }
    if (!isObj(s)) return;
    const b = this.baseOf(s, base);
    if (b !== base) this.resources.set(b, s);
    const id = s[this.idKey];
    if (this.legacyRef && typeof id === 'string' && typeof s.$ref !== 'string') {
      try {
        const u = new URL(id, base);
        if (u.hash && u.hash !== '#') this.anchors.set(u.href, s);
      } catch {
        /* not a URI: ignored */
      }
    }
    for (const k of ['$anchor', '$dynamicAnchor']) {
      const a = s[k];
      if (!this.legacyRef && typeof a === 'string') this.anchors.set(`${b}#${a}`, s);
      if (k === '$dynamicAnchor' && typeof a === 'string') this.dynamicAnchors.set(a, (this.dynamicAnchors.get(a) ?? new Set()).add(b));
    }
    if (this.dialect === '2020-12' && typeof s.$dynamicRef === 'string') this.dynamicRefs.push({ o: s, base: b });
    for (const [k, v] of Object.entries(s)) if (!DATA_KEYS.has(k)) this.index(v, b);
  }

  /** Resolve a reference from base `base` (`where`: the pointer refusals name). */
  resolveRef(ref: string, where: string, base: string): ResolvedRef {
    let u: URL;
    try {
      u = new URL(ref, base);
    } catch {
      throw unsupported('$ref', where, `${JSON.stringify(ref)} is not a URI reference`);
    }
    const doc = noHash(u);
    const frag = decodeURIComponent(u.hash.slice(1));
    const res = this.resources.get(doc);
    if (res === undefined) throw unsupported('$ref', where, `${JSON.stringify(ref)} is outside this schema; remote references are not fetched`);
    if (frag === '') return { target: res, uri: doc, base: doc, pointer: where };
    if (!frag.startsWith('/')) {
      const t = this.anchors.get(`${doc}#${frag}`);
      if (t === undefined) throw unsupported('$ref', where, `${JSON.stringify(ref)} names no anchor in this schema`);
      return { target: t, uri: `${doc}#${frag}`, base: doc, pointer: where };
    }
    let cur: unknown = res;
    let b = doc;
    for (const raw of frag.slice(1).split('/')) {
      const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (isObj(cur) && part in cur) cur = cur[part];
      else if (Array.isArray(cur) && /^\d+$/.test(part) && Number(part) < cur.length) cur = cur[Number(part)];
      else throw unsupported('$ref', where, `${JSON.stringify(ref)} points nowhere`);
      if (isObj(cur)) b = this.baseOf(cur, b);
    }
    return { target: cur, uri: `${doc}#${frag}`, base: b, pointer: res === this.schema ? frag : where };
  }

  /**
   * A $dynamicRef (2020-12) that resolves the same from any dynamic scope, as the $ref it then is: one
   * to a JSON pointer or to a plain $anchor; or to a $dynamicAnchor that no other schema resource of
   * this document defines (the dynamic scope's outermost definition is then that one, and remote
   * resources are never entered): resolved as that $ref. Else refused: which resource answers depends on
   * the path taken.
   */
  staticDynamicRef(ref: string, where: string, base: string): ResolvedRef {
    const r = this.resolveRef(ref, where, base);
    const name = r.uri.includes('#') ? r.uri.slice(r.uri.indexOf('#') + 1) : '';
    if (name === '' || name.startsWith('/') || !isObj(r.target) || r.target.$dynamicAnchor !== name) return r;
    const defined = this.dynamicAnchors.get(name)?.size ?? 0;
    if (defined > 1) throw unsupported('$dynamicRef', where, `${defined} schema resources define $dynamicAnchor ${JSON.stringify(name)}: which one answers depends on the dynamic scope`);
    return r;
  }
}
