import { TandemError } from '../engine/common/errors.js';

/**
 * A JSON Schema compiled to the shapes constrained decoding enforces byte by byte. Keywords
 * outside this set that restrict values (minimum, pattern, uniqueItems...) are not enforced
 * while decoding; the final output is still validated against the whole schema (ajv).
 */
export type GrammarNode = UnionNode | LiteralNode | StringNode | NumberNode | ObjectNode | ArrayNode;

interface Base {
  /** Unique per compiled schema: part of automaton state keys. */
  id: number;
}
export interface UnionNode extends Base {
  t: 'union';
  options: GrammarNode[];
}
/** enum / const / boolean / null: the values' compact JSON texts, as UTF-8. */
export interface LiteralNode extends Base {
  t: 'literal';
  values: Uint8Array[];
}
export interface StringNode extends Base {
  t: 'string';
  minLength: number;
  /** Infinity when unbounded. */
  maxLength: number;
}
export interface NumberNode extends Base {
  t: 'number';
  integer: boolean;
}
export interface PropertyNode {
  name: string;
  /** `"name":` as UTF-8 (the key, its quotes and the colon: matched as one literal). */
  keyBytes: Uint8Array;
  node: GrammarNode;
  required: boolean;
}
export interface ObjectNode extends Base {
  t: 'object';
  /** Declared properties in declaration order; generated in that order. */
  props: PropertyNode[];
  /** Free-form keys (a map) when there are no declared properties: the schema of each value. */
  additional: GrammarNode | null;
}
export interface ArrayNode extends Base {
  t: 'array';
  items: GrammarNode;
  minItems: number;
  maxItems: number;
}

/** Keywords with no effect on which texts are valid, or checked only by the final validation. */
const IGNORED = new Set([
  '$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'format', 'contentMediaType', 'contentEncoding',
  '$defs', 'definitions',
  // checked after decoding (ajv), not enforced token by token:
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'pattern', 'uniqueItems', 'minProperties', 'maxProperties', 'patternProperties', 'propertyNames', 'dependentRequired', 'contains', 'minContains', 'maxContains',
]);
const HANDLED = new Set(['type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'anyOf', 'oneOf', 'allOf', '$ref']);
const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;
type JsonType = (typeof TYPES)[number];

const utf8 = new TextEncoder();

function bad(where: string, msg: string): TandemError {
  return new TandemError('INVALID_ARGUMENT', `schema ${where || '(root)'}: ${msg}`);
}

function nonNegInt(v: unknown, where: string, key: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(where, `${key} must be a non-negative integer`);
  return v;
}

/** Compile a JSON Schema (draft 7 / 2019-09 / 2020-12 subset) for constrained decoding. */
export function compileSchema(schema: unknown): GrammarNode {
  let nextId = 0;
  const byRef = new Map<string, GrammarNode>();
  const root = schema;

  const resolvePointer = (ref: string, where: string): unknown => {
    if (!ref.startsWith('#')) throw bad(where, `only local $ref ("#/...") is supported, got ${JSON.stringify(ref)}`);
    let cur: unknown = root;
    for (const raw of ref.slice(1).split('/').filter((s) => s.length > 0)) {
      const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      if (!cur || typeof cur !== 'object' || !(part in (cur as Record<string, unknown>))) throw bad(where, `$ref ${ref} points nowhere`);
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  };

  // Any JSON value: one recursive union shared by every place that allows anything.
  let anyNode: UnionNode | undefined;
  const any = (): UnionNode => {
    if (anyNode) return anyNode;
    const u: UnionNode = { t: 'union', id: nextId++, options: [] };
    anyNode = u;
    u.options = [
      { t: 'literal', id: nextId++, values: ['true', 'false', 'null'].map((x) => utf8.encode(x)) },
      { t: 'string', id: nextId++, minLength: 0, maxLength: Infinity },
      { t: 'number', id: nextId++, integer: false },
      { t: 'object', id: nextId++, props: [], additional: u },
      { t: 'array', id: nextId++, items: u, minItems: 0, maxItems: Infinity },
    ];
    return u;
  };

  const typeNode = (type: JsonType, s: Record<string, unknown>, where: string): GrammarNode => {
    switch (type) {
      case 'string': {
        const minLength = nonNegInt(s.minLength, where, 'minLength') ?? 0;
        const maxLength = nonNegInt(s.maxLength, where, 'maxLength') ?? Infinity;
        if (minLength > maxLength) throw bad(where, 'minLength > maxLength: no string fits');
        return { t: 'string', id: nextId++, minLength, maxLength };
      }
      case 'number':
      case 'integer':
        return { t: 'number', id: nextId++, integer: type === 'integer' };
      case 'boolean':
        return { t: 'literal', id: nextId++, values: [utf8.encode('true'), utf8.encode('false')] };
      case 'null':
        return { t: 'literal', id: nextId++, values: [utf8.encode('null')] };
      case 'object': {
        const propsRaw = s.properties ?? {};
        if (typeof propsRaw !== 'object' || propsRaw === null || Array.isArray(propsRaw)) throw bad(where, 'properties must be an object');
        const required = s.required ?? [];
        if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) throw bad(where, 'required must be a list of names');
        const req = new Set(required as string[]);
        const props: PropertyNode[] = Object.entries(propsRaw as Record<string, unknown>).map(([name, sub]) => ({
          name,
          keyBytes: utf8.encode(`${JSON.stringify(name)}:`),
          node: compile(sub, `${where}/properties/${name}`),
          required: req.has(name),
        }));
        for (const r of req) {
          if (!props.some((p) => p.name === r)) {
            // Required but undeclared: any value, and the schema's additionalProperties (if a schema) decides.
            const ap = s.additionalProperties;
            if (ap === false) throw bad(where, `"${r}" is required but additionalProperties is false and it is not in properties`);
            props.push({ name: r, keyBytes: utf8.encode(`${JSON.stringify(r)}:`), node: ap && typeof ap === 'object' ? compile(ap, `${where}/additionalProperties`) : any(), required: true });
          }
        }
        let additional: GrammarNode | null = null;
        if (props.length === 0) {
          const ap = s.additionalProperties;
          if (ap === undefined || ap === true) additional = any();
          else if (ap && typeof ap === 'object') additional = compile(ap, `${where}/additionalProperties`);
        }
        return { t: 'object', id: nextId++, props, additional };
      }
      case 'array': {
        const items = s.items === undefined || s.items === true ? any() : compile(s.items, `${where}/items`);
        if (Array.isArray(s.items)) throw bad(where, 'tuple items (an array of schemas) are not supported; use prefixItems-free schemas');
        const minItems = nonNegInt(s.minItems, where, 'minItems') ?? 0;
        const maxItems = nonNegInt(s.maxItems, where, 'maxItems') ?? Infinity;
        if (minItems > maxItems) throw bad(where, 'minItems > maxItems: no array fits');
        return { t: 'array', id: nextId++, items, minItems, maxItems };
      }
    }
  };

  const literal = (values: unknown[], where: string): LiteralNode => {
    if (values.length === 0) throw bad(where, 'enum is empty: no value fits');
    const texts = [...new Set(values.map((v) => JSON.stringify(v)))];
    return { t: 'literal', id: nextId++, values: texts.map((x) => utf8.encode(x)) };
  };

  const union = (options: GrammarNode[]): GrammarNode => (options.length === 1 ? options[0]! : { t: 'union', id: nextId++, options });

  function compile(s: unknown, where: string): GrammarNode {
    if (s === true || (s && typeof s === 'object' && Object.keys(s).length === 0)) return any();
    if (s === false) throw bad(where, 'the schema false accepts nothing');
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw bad(where, 'a schema must be an object or a boolean');
    const o = s as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!HANDLED.has(k) && !IGNORED.has(k)) throw bad(where, `keyword "${k}" is not supported by local constrained decoding`);
    }
    if (typeof o.$ref === 'string') {
      const ref = o.$ref;
      const known = byRef.get(ref);
      if (known) return known;
      // Placeholder first, so recursive schemas terminate; filled in place below.
      const slot: UnionNode = { t: 'union', id: nextId++, options: [] };
      byRef.set(ref, slot);
      const target = compile(resolvePointer(ref, where), ref);
      slot.options = [target];
      return slot;
    }
    if (o.const !== undefined) return literal([o.const], where);
    if (Array.isArray(o.enum)) return literal(o.enum, where);
    if (o.enum !== undefined) throw bad(where, 'enum must be a list');
    if (Array.isArray(o.allOf)) {
      if (o.allOf.length !== 1) throw bad(where, 'allOf is supported with exactly one schema (e.g. a wrapped $ref)');
      return compile(o.allOf[0], `${where}/allOf/0`);
    }
    for (const k of ['anyOf', 'oneOf'] as const) {
      const list = o[k];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0) throw bad(where, `${k} must be a non-empty list`);
      return union(list.map((x, i) => compile(x, `${where}/${k}/${i}`)));
    }
    let types: JsonType[];
    if (o.type === undefined) {
      // No type: infer from the structural keywords, else anything.
      if (o.properties !== undefined || o.required !== undefined || o.additionalProperties !== undefined) types = ['object'];
      else if (o.items !== undefined || o.minItems !== undefined || o.maxItems !== undefined) types = ['array'];
      else if (o.minLength !== undefined || o.maxLength !== undefined) types = ['string'];
      else return any();
    } else {
      const list = Array.isArray(o.type) ? o.type : [o.type];
      for (const t of list) if (!TYPES.includes(t as JsonType)) throw bad(where, `unknown type ${JSON.stringify(t)}`);
      types = [...new Set(list as JsonType[])];
      if (types.includes('number') && types.includes('integer')) types = types.filter((t) => t !== 'integer');
    }
    return union(types.map((t) => typeNode(t, o, where)));
  }

  return compile(schema, '');
}
