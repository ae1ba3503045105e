import { TandemError } from '../common/errors.js';
import { schemaDialect, type Dialect } from '../node/ajv-for-schema.js';
import { canEnd, feedBytes, initialStack } from './json-automaton.js';
import { DistinctPool, scalarLeaves } from './json-distinct.js';
import { intersectRanges, type IntRange } from './json-int-range.js';
import { intersectNum, numEmpty, numPasses, numRangeOf, type NumRange } from './json-num-range.js';
import { complementDfa, FORMATS, intersectDfa, literalDfa, RegexUnsupported, regexDfa, unionDfa, type CharDfa } from './json-regex.js';
import { OneOfOverlap } from './json-oneof.js';
import { bad, isObj, SchemaDocument, unsupported, type ResolvedRef } from './json-schema-document.js';

/**
 * A JSON Schema compiled to the shapes constrained decoding enforces byte by byte. The grammar
 * accepts a superset of the engine's sub-language of the schema (declared properties in order, no
 * undeclared keys beside declared ones, a type inferred from the keywords when `type` is absent);
 * keywords that restrict values beyond these shapes (minimum, pattern, uniqueItems...) are checked
 * on the final output (ajv, the schema's own draft).
 */
export type GrammarNode = UnionNode | LiteralNode | StringNode | NumberNode | ObjectNode | ArrayNode;

interface Base {
  /** Unique per compiled schema: part of automaton state keys. */
  id: number;
}
export interface UnionNode extends Base {
  t: 'union';
  options: GrammarNode[];
  /**
   * Compile time only (`not` of enum / const): these compact texts are excluded. The automaton
   * reads the options (a superset); intersecting with literals drops the excluded values.
   */
  exclude?: string[];
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
  /** `pattern` and / or a known `format`, as a DFA over characters (json-regex.ts). */
  regex?: CharDfa;
}
export interface NumberNode extends Base {
  t: 'number';
  integer: boolean;
  /** Integers only: minimum / maximum / exclusive* / multipleOf, enforced digit by digit. */
  range?: IntRange;
  /** Compile time only: the bounds of a non-integer number, as the integer range they leave: enforced once intersected with an integer. */
  bounds?: IntRange;
  /** Non-integers only: minimum / maximum / exclusive* exactly (json-num-range.ts): written plainly, a byte only while the bounds can still be met. */
  num?: NumRange;
}
export interface PropertyNode {
  name: string;
  /** `"name":` as UTF-8 (the key, its quotes and the colon: matched as one literal). */
  keyBytes: Uint8Array;
  node: GrammarNode;
  required: boolean;
  /** dependentRequired / dependencies (array form): properties required once this one is written. */
  requires?: string[];
}
export interface ObjectNode extends Base {
  t: 'object';
  /** Declared properties in declaration order; generated in that order. */
  props: PropertyNode[];
  /** Free-form keys (a map) when there are no declared properties: the schema of each value. */
  additional: GrammarNode | null;
  /** The keys such a map may write (propertyNames, the patterns of patternProperties); absent: any string. */
  key?: StringNode;
  /** `key` is exactly the keys the schema allows (propertyNames; patterns with additionalProperties false), not only those written. */
  keyExact?: boolean;
  /** minProperties / maxProperties (0 / Infinity when absent): the object frame counts its properties. */
  minProps: number;
  maxProps: number;
  /**
   * Per declared property (when some property has dependents): the bit mask of the properties
   * required once it is written (bit k: props[k]); -1: it can never be written (a dependent cannot be).
   */
  depMask?: number[];
  /** Compile time only: keys that may not appear (`properties: {k: false}`, `not: {required}`); dropped when intersected with declared properties. */
  forbid?: string[];
  /**
   * Compile time only, with declared properties: what the value of a key this object does not declare
   * must meet (additionalProperties, patternProperties, unevaluatedProperties; NEVER: not allowed).
   * Absent: anything. Read when an intersection brings in another side's properties.
   */
  undeclared?: (name: string) => GrammarNode;
}

/** Objects with dependentRequired track written properties in a 31-bit mask. */
export const MAX_DEP_PROPS = 31;
export interface ArrayNode extends Base {
  t: 'array';
  /** Every node an item may be (with tuple / contains: the union of theirs; what traversals see). */
  items: GrammarNode;
  minItems: number;
  maxItems: number;
  /** uniqueItems over scalar literal items (enum / const / boolean / null): the frame remembers the values written. */
  unique?: boolean;
  /**
   * uniqueItems over other scalar items (strings without pattern, numbers, bounded integers, literals;
   * json-distinct.ts): the frame remembers the values written by key, and an item may not end equal
   * to one of them.
   */
  distinct?: boolean;
  /** uniqueItems: true was asked (kept through intersections, which then enforce it when the items allow). */
  uniqueAsked?: boolean;
  /** prefixItems / draft-04..2019 `items` lists: item i (i < tuple.length) is tuple[i], the others rest. */
  tuple?: GrammarNode[];
  /** The schema of the items past the tuple (with contains: of every item, hit or miss). */
  rest?: GrammarNode;
  /**
   * contains / minContains / maxContains: each item is a hit (items and the contains schema) or a
   * miss (items and not the contains schema; just the items when that cannot be expressed, and then
   * max is Infinity); the frame counts hits.
   */
  contains?: ContainsSpec;
}

/** A keyword the grammar does not enforce at some place: refused unless the caller decodes leniently (checked on the output then). */
export interface Deferral {
  keyword: string;
  /** JSON pointer of the keyword (or of the schema holding it). */
  pointer: string;
  why: string;
}

export interface ContainsSpec {
  hit: GrammarNode;
  miss: GrammarNode;
  min: number;
  /** Infinity: not counted (absent, or left to the final validation). */
  max: number;
}

const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;
type JsonType = (typeof TYPES)[number];

/**
 * The keywords of each draft, by what local constrained decoding does with them. Anything else is
 * not a keyword of that draft (or an annotation: title, description, examples, format, default,
 * readOnly, `x-...`, `id` in 2020-12...) and is ignored, as the specification says.
 */
interface Vocabulary {
  /** Shapes the grammar enforces while decoding (and containers: $defs, definitions). */
  handled: Set<string>;
  /** Restrict values; checked on the final output by ajv (the matching draft). */
  post: Set<string>;
  /** Restrict values in ways neither the grammar nor a post-check can reasonably meet: refused by name. */
  refused: Set<string>;
}

const BASE_HANDLED = ['$schema', 'type', 'enum', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties', 'anyOf', 'oneOf', 'allOf', '$ref', 'definitions'];
const BASE_POST = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'pattern', 'uniqueItems', 'patternProperties', 'dependencies'];

function vocabulary(d: Dialect): Vocabulary {
  // not, if/then/else, dependentSchemas and schema dependencies reduce to unions and intersections (negate below).
  const handled = new Set([...BASE_HANDLED, 'not']);
  const post = new Set(BASE_POST);
  const refused = new Set<string>();
  if (d === 'draft-04') {
    handled.add('id').add('additionalItems');
    return { handled, post, refused };
  }
  handled.add('$id').add('const').add('contains');
  post.add('propertyNames');
  if (d === 'draft-06') return { handled: handled.add('additionalItems'), post, refused };
  handled.add('if').add('then').add('else');
  if (d === 'draft-07') return { handled: handled.add('additionalItems'), post, refused };
  handled.add('$defs').add('$anchor').add('$recursiveAnchor').add('minContains').add('maxContains').add('dependentSchemas');
  post.add('dependentRequired').add('unevaluatedProperties');
  // unevaluatedItems: ajv's check misses cases (contains, nested items), so it is not left to the final validation.
  refused.add('unevaluatedItems');
  if (d === '2019-09') return { handled: handled.add('additionalItems'), post, refused: refused.add('$recursiveRef') };
  handled.add('prefixItems').add('$dynamicAnchor');
  return { handled, post, refused: refused.add('$dynamicRef') };
}

const utf8 = new TextEncoder();

function nonNegInt(v: unknown, where: string, key: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(where, `${key} must be a non-negative integer`);
  return v;
}

/** Negations follow at most this many nested references from the first (their schemas grow with each). */
const NEGATION_STEPS = 24;
/** ... and at most this many grammar nodes per oneOf (else the oneOf is refused, or lenient). */
const WEAK_NODES = 20_000;
/** Private marker of `negate`'s output: `{[NOT_ENUM]: values}` is any value but these (no JSON schema can spell it). */
const NOT_ENUM = Symbol('not enum');
/** Private marker of `negate`'s output: `{type: 'string', [NOT_REGEX]: patterns}` is a string matching none of these patterns. */
const NOT_REGEX = Symbol('not regex');
const ALL_TYPES = ['string', 'number', 'boolean', 'null', 'object', 'array'];

function escapePointer(k: string): string {
  return k.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Keywords whose presence (without `type`) says which type a schema is about. */
const TYPE_HINTS: Array<[JsonType, string[]]> = [
  ['object', ['properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties', 'propertyNames', 'dependentRequired', 'dependencies']],
  ['array', ['items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'contains', 'uniqueItems']],
  ['string', ['minLength', 'maxLength', 'pattern']],
  ['number', ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']],
];

/** Every node reachable from `root`, each once ($ref cycles included), in visiting order. */
export function grammarNodes(root: GrammarNode): GrammarNode[] {
  const nodes: GrammarNode[] = [];
  const seen = new Set<GrammarNode>();
  const visit = (n: GrammarNode): void => {
    if (seen.has(n)) return;
    seen.add(n);
    nodes.push(n);
    switch (n.t) {
      case 'union':
        n.options.forEach(visit);
        break;
      case 'object':
        for (const p of n.props) visit(p.node);
        if (n.additional) visit(n.additional);
        if (n.key) visit(n.key);
        break;
      case 'array':
        visit(n.items);
        n.tuple?.forEach(visit);
        if (n.rest) visit(n.rest);
        if (n.contains) {
          visit(n.contains.hit);
          visit(n.contains.miss);
        }
        break;
      default:
        break;
    }
  };
  visit(root);
  return nodes;
}

/**
 * Compile a JSON Schema (draft-04, -06, -07, 2019-09, 2020-12, by its `$schema`; see
 * `schemaDialect`) for constrained decoding. Refuses, naming the keyword and its JSON pointer,
 * only keywords that restrict values and that local decoding cannot enforce (`not`, `if`...),
 * and `$ref`s outside the schema (nothing is fetched).
 */
export function compileSchema(schema: unknown, report?: { deferred?: Deferral[]; narrowed?: Deferral[]; validationSchema?: unknown }): GrammarNode {
  const { dialect } = schemaDialect(schema);
  const vocab = vocabulary(dialect);
  const legacyRef = dialect === 'draft-04' || dialect === 'draft-06' || dialect === 'draft-07';
  let nextId = 0;

  // --- what the grammar leaves to the final validation (refused unless decoding is lenient) -----
  const deferrals: Deferral[] = [];
  /** The pointer of the schema being compiled: where an intersection's deferral is reported. */
  let here = '';
  /** Above 0 inside trial compiles whose result may be discarded (their deferrals are not reported). */
  let trial = 0;
  /** Deferrals met inside trial compiles (a narrowed oneOf that meets one is not used). */
  let trialDeferred = 0;
  const defer = (keyword: string, pointer: string, why: string): void => {
    if (trial > 0) trialDeferred++;
    if (trial === 0 && !deferrals.some((d) => d.keyword === keyword && d.pointer === pointer)) deferrals.push({ keyword, pointer, why });
  };
  /** Counts the supersets negate has made (a negation the grammar can only approximate). */
  let loose = 0;
  /**
   * Narrowed negation (oneOf's exclusions when the exact one cannot be said): keywords negate cannot
   * negate add nothing, `not integer` drops numbers, unfilterable exclusions drop their values: a subset
   * of the negation, so the grammar stays sound and only writes fewer values. Where it applied: `narrowed`.
   */
  let weakNeg = false;
  /** Above 0 inside a window that reads `loose` (not, if, oneOf, contains): approximations are reported there. */
  let checking = 0;
  let negSteps = 0;
  let weakFrom = 0;
  const narrowed: Deferral[] = [];
  /** Where each array's uniqueItems and each exclusion (`not` of enum / const) came from. */
  const uniqueAt = new WeakMap<GrammarNode, string>();
  const excludeAt = new WeakMap<GrammarNode, string>();
  const forbidAt = new WeakMap<GrammarNode, string>();
  const minPropsAt = new WeakMap<GrammarNode, string>();

  // --- identifiers: every resource ($id / id) and anchor in the document (json-schema-document.ts)
  const doc = new SchemaDocument(schema, dialect);
  if (report && doc.validationSchema !== schema) report.validationSchema = doc.validationSchema;
  const { rootBase } = doc;
  const baseOf = (o: Record<string, unknown>, base: string): string => doc.baseOf(o, base);
  const resolveRef = (ref: string, where: string, base: string): ResolvedRef => doc.resolveRef(ref, where, base);

  // --- nodes -----------------------------------------------------------------------------------
  /** Accepts nothing (the schema `false`, an empty intersection): dropped from unions. */
  const NEVER: UnionNode = { t: 'union', id: nextId++, options: [] };
  /** $ref placeholders not yet filled (a recursive reference being compiled). */
  const pending = new Set<GrammarNode>();

  let anyNode: UnionNode | undefined;
  const any = (): UnionNode => {
    if (anyNode) return anyNode;
    const u: UnionNode = { t: 'union', id: nextId++, options: [] };
    anyNode = u;
    u.options = [
      { t: 'literal', id: nextId++, values: ['true', 'false', 'null'].map((x) => utf8.encode(x)) },
      { t: 'string', id: nextId++, minLength: 0, maxLength: Infinity },
      { t: 'number', id: nextId++, integer: false },
      { t: 'object', id: nextId++, props: [], additional: u, minProps: 0, maxProps: Infinity },
      { t: 'array', id: nextId++, items: u, minItems: 0, maxItems: Infinity },
    ];
    return u;
  };

  const union = (options: GrammarNode[]): GrammarNode => {
    const live = options.filter((o) => o !== NEVER);
    if (live.length === 0) return NEVER;
    if (anyNode && live.includes(anyNode)) return anyNode;
    return live.length === 1 ? live[0]! : { t: 'union', id: nextId++, options: live };
  };

  /** Any string matching a DFA (pattern keys, names, complements). */
  const stringOf = (regex: CharDfa): StringNode => ({ t: 'string', id: nextId++, minLength: 0, maxLength: Infinity, regex });
  /** A key matching any of these patterns (throws RegexUnsupported beyond the string automaton). */
  const patternsDfa = (entries: ReadonlyArray<{ source: string }>): CharDfa => entries.map((e) => regexDfa(e.source)).reduce((a, b) => unionDfa(a, b));

  const accepts = (node: GrammarNode, bytes: Uint8Array): boolean => feedBytes([initialStack(node)], bytes).some(canEnd) || boundedLiteral(node, bytes);
  /** A number literal (an enum / const value, maybe with an exponent) meeting a bounded number: ajv's comparisons decide, not the plain spelling the automaton writes. */
  const boundedLiteral = (node: GrammarNode, bytes: Uint8Array, seen = new Set<GrammarNode>()): boolean => {
    if (seen.has(node)) return false;
    seen.add(node);
    if (node.t === 'union') return node.options.some((o) => boundedLiteral(o, bytes, seen));
    if (node.t !== 'number' || !node.num || !(bytes[0] === 0x2d || (bytes[0]! >= 0x30 && bytes[0]! <= 0x39))) return false;
    const loose: NumberNode = { t: 'number', id: node.id, integer: false };
    return feedBytes([initialStack(loose)], bytes).some(canEnd) && numPasses(node.num, Number(new TextDecoder().decode(bytes)));
  };

  /** A node accepting (a superset of) what both accept. */
  const memo = new Map<string, GrammarNode>();
  const intersect = (a: GrammarNode, b: GrammarNode): GrammarNode => {
    if (a === NEVER || b === NEVER) return NEVER;
    if (a.t === 'union' && a.exclude) return withExclude(b, a.exclude);
    if (b.t === 'union' && b.exclude) return withExclude(a, b.exclude);
    if (a === anyNode || pending.has(a)) return b === anyNode ? a : pending.has(a) ? a : b;
    if (b === anyNode || pending.has(b)) return a;
    if (a === b) return a;
    const key = `${weakNeg ? 'w' : ''}${a.id}&${b.id}`;
    const hit = memo.get(key);
    if (hit) return hit;
    let out: GrammarNode;
    if (a.t === 'union') {
      const slot: UnionNode = { t: 'union', id: nextId++, options: [] };
      memo.set(key, slot);
      pending.add(slot);
      const r = union(a.options.map((o) => intersect(o, b)));
      pending.delete(slot);
      slot.options = r === NEVER ? [] : [r];
      out = r === NEVER ? NEVER : slot;
    } else if (b.t === 'union') out = intersect(b, a);
    else if (a.t === 'literal') {
      const values = a.values.filter((v) => accepts(b, v));
      out = values.length ? { t: 'literal', id: nextId++, values } : NEVER;
    } else if (b.t === 'literal') out = intersect(b, a);
    else if (a.t !== b.t) out = NEVER;
    else if (a.t === 'string' && b.t === 'string') {
      const minLength = Math.max(a.minLength, b.minLength);
      const maxLength = Math.min(a.maxLength, b.maxLength);
      const regex = a.regex && b.regex ? bothRegex(a.regex, b.regex) : (a.regex ?? b.regex);
      out = minLength > maxLength || (regex && regex.accept.length > 0 && regex.minChars[0] === Infinity) ? NEVER : { t: 'string', id: nextId++, minLength, maxLength, ...(regex ? { regex } : {}) };
    } else if (a.t === 'number' && b.t === 'number') {
      const integer = a.integer || b.integer;
      const range = integer ? intersectRanges(a.range ?? a.bounds, b.range ?? b.bounds) : intersectRanges(a.range, b.range);
      const bounds = integer ? undefined : intersectRanges(a.bounds, b.bounds);
      const num = integer ? undefined : intersectNum(a.num, b.num);
      out = (range && range.min > range.max) || (num && numEmpty(num)) ? NEVER : { t: 'number', id: nextId++, integer, ...(range ? { range } : {}), ...(bounds ? { bounds } : {}), ...(num ? { num } : {}) };
    }
    else if (a.t === 'array' && b.t === 'array' && (a.tuple || a.contains || b.tuple || b.contains)) {
      // Position by position; one contains is counted (a second one is left to the final validation).
      const slot: UnionNode = { t: 'union', id: nextId++, options: [] };
      memo.set(key, slot);
      pending.add(slot);
      const restOf = (x: ArrayNode): GrammarNode => x.rest ?? x.items;
      const at = (x: ArrayNode, i: number): GrammarNode => (x.tuple && i < x.tuple.length ? x.tuple[i]! : restOf(x));
      const minItems = Math.max(a.minItems, b.minItems);
      let maxItems = Math.min(a.maxItems, b.maxItems);
      const rest = intersect(restOf(a), restOf(b));
      const len = Math.max(a.tuple?.length ?? 0, b.tuple?.length ?? 0);
      let tuple: GrammarNode[] | undefined;
      if (len > 0) {
        tuple = [];
        for (let i = 0; i < len && i < maxItems; i++) tuple.push(intersect(at(a, i), at(b, i)));
        const firstNever = tuple.indexOf(NEVER);
        if (firstNever >= 0) maxItems = Math.min(maxItems, firstNever);
        if (rest === NEVER) maxItems = Math.min(maxItems, len);
        tuple = tuple.slice(0, Math.min(tuple.length, maxItems));
        if (tuple.length === 0) tuple = undefined;
      }
      if (!tuple && rest === NEVER) maxItems = 0;
      let contains: ContainsSpec | undefined;
      const k = a.contains ?? b.contains;
      // Two contains on one array: only one is counted (a superset). Inside a negation's check that is an
      // approximation it reports (loose); narrowed, such arrays are left out; elsewhere it is refused by name.
      if (a.contains && b.contains) {
        if (weakNeg) maxItems = -1;
        else {
          loose++;
          if (checking === 0) defer('contains', here, 'two contains on one array: only one is counted while decoding');
        }
      }
      if (k && !tuple) {
        const other = a.contains ? restOf(b) : restOf(a);
        const hit = intersect(k.hit, other);
        const miss = intersect(k.miss, other);
        if (hit === NEVER && k.min > 0) maxItems = -1;
        else if (hit !== NEVER) {
          contains = { hit, miss, min: k.min, max: k.max };
          if (miss === NEVER) maxItems = Math.min(maxItems, k.max);
          if (k.min > maxItems) maxItems = -1;
        }
      }
      pending.delete(slot);
      if (minItems > maxItems) out = NEVER;
      else {
        const arr = arrayNode({ minItems, maxItems, rest, ...(tuple ? { tuple } : {}), ...(contains ? { contains } : {}) });
        slot.options = [arr];
        out = slot;
      }
    } else if (a.t === 'array' && b.t === 'array') {
      const arr: ArrayNode = { t: 'array', id: nextId++, items: NEVER, minItems: Math.max(a.minItems, b.minItems), maxItems: Math.min(a.maxItems, b.maxItems) };
      memo.set(key, arr);
      arr.items = intersect(a.items, b.items);
      if (arr.items === NEVER) arr.maxItems = 0;
      if (a.unique || b.unique || a.distinct || b.distinct || a.uniqueAsked || b.uniqueAsked) {
        arr.uniqueAsked = true;
        uniqueAt.set(arr, uniqueAt.get(a.unique || a.distinct || a.uniqueAsked ? a : b) ?? here);
        const lit = uniqueLiteral(arr.items);
        if (lit) {
          arr.items = lit;
          arr.unique = true;
          arr.maxItems = Math.min(arr.maxItems, lit.values.length);
        } else if (arr.items !== anyNode && scalarLeaves(arr.items, pending)) {
          arr.distinct = true;
          arr.maxItems = Math.min(arr.maxItems, new DistinctPool(arr.items).total());
        }
      }
      out = arr.minItems > arr.maxItems ? NEVER : arr;
    } else {
      const oa = a as ObjectNode;
      const ob = b as ObjectNode;
      const obj: ObjectNode = { t: 'object', id: nextId++, props: [], additional: null, minProps: Math.max(oa.minProps, ob.minProps), maxProps: Math.min(oa.maxProps, ob.maxProps) };
      memo.set(key, obj);
      if (obj.minProps > 1) minPropsAt.set(obj, minPropsAt.get(oa.minProps >= ob.minProps ? oa : ob) ?? here);
      const props: PropertyNode[] = oa.props.map((p) => ({ ...p }));
      for (const q of ob.props) {
        const p = props.find((x) => x.name === q.name);
        if (p) {
          p.node = intersect(p.node, q.node);
          p.required ||= q.required;
          if (q.requires) p.requires = [...new Set([...(p.requires ?? []), ...q.requires])];
        } else props.push({ ...q });
      }
      // A key one side declares and the other does not: the other's rule for undeclared keys applies.
      for (const p of props) {
        for (const side of [oa, ob]) {
          if (side.props.length > 0 && side.undeclared && !side.props.some((x) => x.name === p.name)) p.node = intersect(p.node, side.undeclared(p.name));
          // No declared property and no map: `{}` only (additionalProperties false), so no key the other side declares.
          if (side.props.length === 0 && !side.additional) p.node = NEVER;
        }
      }
      if (oa.undeclared || ob.undeclared) {
        const ua = oa.undeclared;
        const ub = ob.undeclared;
        obj.undeclared = (name) => (ua && ub ? intersect(ua(name), ub(name)) : (ua ?? ub)!(name));
      }
      // A key that only a free-form side allows takes that side's value schema too.
      for (const p of props) {
        for (const side of [oa, ob]) {
          if (side.props.length !== 0 || !side.additional || side.props.some((x) => x.name === p.name)) continue;
          // The map's keys may be restricted (propertyNames, patterns): a name they refuse cannot be written when
          // that is the schema's rule (keyExact); else it is only not written by the map, and its value is free there.
          const named = !side.key || accepts(side.key, utf8.encode(JSON.stringify(p.name)));
          p.node = named ? intersect(p.node, side.additional) : side.keyExact ? NEVER : p.node;
        }
      }
      const forbid = [...new Set([...(oa.forbid ?? []), ...(ob.forbid ?? [])])];
      for (const p of props) if (forbid.includes(p.name)) p.node = NEVER;
      if (forbid.length) {
        obj.forbid = forbid;
        forbidAt.set(obj, forbidAt.get(oa.forbid?.length ? oa : ob) ?? here);
      }
      if (props.some((p) => p.required && p.node === NEVER)) out = NEVER;
      else {
        obj.props = props.filter((p) => p.node !== NEVER);
        obj.additional = obj.props.length ? null : oa.additional && ob.additional ? intersect(oa.additional, ob.additional) : null;
        if (obj.additional === NEVER) obj.additional = null;
        if (obj.additional && (oa.key || ob.key)) {
          const k = oa.key && ob.key ? intersect(oa.key, ob.key) : (oa.key ?? ob.key)!;
          if (k.t === 'string') {
            obj.key = k;
            if ((!oa.key || oa.keyExact) && (!ob.key || ob.keyExact)) obj.keyExact = true;
          } else obj.additional = null; // no key both allow
        }
        // A free-form map does not write the keys either side forbids: excluded now, as when a map is built,
        // so that what reads this node before the end (enum filtering, negations) sees it.
        if (obj.additional && forbid.length) {
          const k = keyWithout(obj.key, forbid);
          if (k === null) obj.additional = null;
          else if (k !== undefined) obj.key = k; // beyond the string automaton: the last walk refuses it
        }
        out = finishDeps(obj, '') && objectViable(obj) && !(weakNeg && obj.props.length === 0 && obj.additional && obj.minProps > 1) ? obj : NEVER;
      }
    }
    memo.set(key, out);
    return out;
  };

  /**
   * Dependents of required properties become required; the others become bit masks (ObjectNode.depMask).
   * False when a required property needs one that cannot be written.
   */
  const finishDeps = (o: ObjectNode, where: string): boolean => {
    if (!o.props.some((p) => p.requires?.length)) {
      delete o.depMask;
      return true;
    }
    const at = new Map(o.props.map((p, i) => [p.name, i]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const p of o.props) {
        if (!p.required || !p.requires) continue;
        for (const d of p.requires) {
          const i = at.get(d);
          if (i === undefined) return false;
          if (!o.props[i]!.required) o.props[i]!.required = changed = true;
        }
      }
    }
    if (o.props.length > MAX_DEP_PROPS) throw unsupported(dialect === 'draft-04' || dialect === 'draft-06' || dialect === 'draft-07' ? 'dependencies' : 'dependentRequired', where, `tracked for at most ${MAX_DEP_PROPS} declared properties, this object has ${o.props.length}`);
    o.depMask = o.props.map((p) => {
      let m = 0;
      for (const d of p.requires ?? []) {
        const i = at.get(d);
        if (i === undefined) return -1;
        m |= 1 << i;
      }
      return m;
    });
    return true;
  };

  /** Can an object node hold enough, and few enough, properties (required ones included)? */
  const objectViable = (o: ObjectNode): boolean => {
    if (o.minProps > o.maxProps) return false;
    if (o.props.length === 0) return o.minProps === 0 || o.additional !== null;
    return o.props.length >= o.minProps && o.props.filter((p) => p.required).length <= o.maxProps;
  };

  /**
   * Items that are scalar literals only (enum / const / boolean / null, through unions): one literal
   * node, so uniqueItems is enforced by remembering which values were written. Compact texts of
   * scalars are equal exactly when the values are (objects and arrays are left to the final check).
   */
  const uniqueLiteral = (node: GrammarNode): LiteralNode | undefined => {
    const opts: GrammarNode[] = [];
    const seen = new Set<GrammarNode>();
    const walk = (n: GrammarNode): boolean => {
      if (seen.has(n)) return true;
      seen.add(n);
      if (n.t === 'union') return !pending.has(n) && n.options.every(walk);
      opts.push(n);
      return n.t === 'literal';
    };
    if (node === anyNode || !walk(node) || opts.length === 0) return undefined;
    const texts = new Map<string, Uint8Array>();
    for (const o of opts) for (const v of (o as LiteralNode).values) texts.set(new TextDecoder().decode(v), v);
    if ([...texts.keys()].some((t) => t.startsWith('{') || t.startsWith('['))) return undefined;
    if (opts.length === 1) return opts[0] as LiteralNode;
    return { t: 'literal', id: nextId++, values: [...texts.values()] };
  };

  const literal = (values: unknown[], where: string): GrammarNode => {
    if (values.length === 0) throw bad(where, 'no value is valid (enum is empty)');
    const texts = [...new Set(values.map((v) => JSON.stringify(v)))];
    return { t: 'literal', id: nextId++, values: texts.map((x) => utf8.encode(x)) };
  };

  const typeNode = (type: JsonType, s: Record<string, unknown>, where: string, base: string): GrammarNode => {
    switch (type) {
      case 'string': {
        const minLength = nonNegInt(s.minLength, where, 'minLength') ?? 0;
        const maxLength = nonNegInt(s.maxLength, where, 'maxLength') ?? Infinity;
        if (minLength > maxLength) return NEVER;
        const regex = stringRegex(s, where);
        if (regex && regex.minChars[0] === Infinity) return NEVER;
        return { t: 'string', id: nextId++, minLength, maxLength, ...(regex ? { regex } : {}) };
      }
      case 'number':
      case 'integer': {
        const range = intRange(s, where, type === 'integer');
        if (range === null) {
          const bounds = type === 'number' ? intRange(s, where, true) : null;
          const num = bounds ? numRangeOf(s, dialect === 'draft-04') : undefined;
          if (num && numEmpty(num)) return NEVER;
          return { t: 'number', id: nextId++, integer: type === 'integer', ...(bounds ? { bounds } : {}), ...(num ? { num } : {}) };
        }
        if (range.min > range.max) return NEVER;
        return { t: 'number', id: nextId++, integer: true, range };
      }
      case 'boolean':
        return { t: 'literal', id: nextId++, values: [utf8.encode('true'), utf8.encode('false')] };
      case 'null':
        return { t: 'literal', id: nextId++, values: [utf8.encode('null')] };
      case 'object': {
        const propsRaw = s.properties ?? {};
        if (!isObj(propsRaw)) throw bad(where, 'properties must be an object');
        const required = s.required ?? [];
        if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) throw bad(where, 'required must be a list of names');
        const req = new Set(required as string[]);
        const patterns = isObj(s.patternProperties) && Object.keys(s.patternProperties).length > 0;
        const ap = s.additionalProperties;
        // patternProperties: a key's value also satisfies the schema of every pattern it matches (ajv tests
        // them as JavaScript regular expressions with the u flag). A pattern JavaScript cannot read leaves
        // the keyword to the final validation (any value, as before).
        const keyPatterns = patterns ? patternEntries(s.patternProperties as Record<string, unknown>, where) : null;
        /** A value under every one of these patterns' schemas. */
        const underAll = (entries: NonNullable<typeof keyPatterns>): GrammarNode => entries.reduce<GrammarNode>((acc, e) => intersect(acc, compile(e.sub, e.where, base)), any());
        const additionalNode = (): GrammarNode => (ap === undefined || ap === true ? any() : ap === false ? NEVER : compile(ap, `${where}/additionalProperties`, base));
        const free = (name?: string): GrammarNode => {
          if (!patterns) return additionalNode();
          if (!keyPatterns || name === undefined) return any();
          const hit = keyPatterns.filter((e) => e.re.test(name));
          if (hit.length === 0) return additionalNode();
          return underAll(hit);
        };
        const props: PropertyNode[] = [];
        const forbid: string[] = [];
        for (const [name, sub] of Object.entries(propsRaw)) {
          let node = compile(sub, `${where}/properties/${escapePointer(name)}`, base);
          if (keyPatterns && node !== NEVER) node = intersect(node, underAll(keyPatterns.filter((e) => e.re.test(name))));
          if (node === NEVER) {
            if (req.has(name)) return NEVER;
            forbid.push(name);
            continue;
          }
          props.push({ name, keyBytes: utf8.encode(`${JSON.stringify(name)}:`), node, required: req.has(name) });
        }
        for (const r of req) {
          if (props.some((p) => p.name === r) || Object.hasOwn(propsRaw, r)) continue;
          // Required but undeclared: its value is what additionalProperties (or the patterns it matches) allows.
          const node = free(r);
          if (node === NEVER) return NEVER;
          props.push({ name: r, keyBytes: utf8.encode(`${JSON.stringify(r)}:`), node, required: true });
        }
        const depKey = legacyRef ? 'dependencies' : 'dependentRequired';
        const depsRaw = s[depKey];
        if (props.length > 0 && isObj(depsRaw)) {
          for (const [name, list] of Object.entries(depsRaw)) {
            if (!Array.isArray(list)) continue; // a schema dependency: true / {} (others are refused)
            if (list.some((x) => typeof x !== 'string')) throw bad(where, `${depKey} must list property names`);
            const p = props.find((x) => x.name === name);
            if (!p) continue; // an undeclared key is never written
            for (const dep of list as string[]) {
              if (dep === name || props.some((x) => x.name === dep)) continue;
              // A dependent that is not declared: an optional property with what additionalProperties (or its patterns) allows.
              const node = free(dep);
              if (node !== NEVER) props.push({ name: dep, keyBytes: utf8.encode(`${JSON.stringify(dep)}:`), node, required: false });
            }
            p.requires = [...new Set([...(p.requires ?? []), ...(list as string[])])].filter((d) => d !== name);
          }
        }
        let additional: GrammarNode | null = null;
        let key: StringNode | undefined;
        /** Keys the schema allows are left out (dependentRequired triggers): key is not exactly the allowed keys. */
        let keySubset = false;
        if (props.length === 0) {
          let m = mapKeys(s, keyPatterns, where, base);
          // Patterns: only keys matching one are written, each value satisfying every pattern's schema (a key may
          // match several). When no value satisfies them all, the keys written match only patterns whose schemas
          // hold together (a subset): every pattern but the false ones, else the first pattern alone.
          let all = m && keyPatterns ? underAll(keyPatterns) : undefined;
          if (m && keyPatterns && all === NEVER) {
            const live = keyPatterns.filter((e) => compile(e.sub, e.where, base) !== NEVER);
            const tries = [live, ...live.map((e) => [e])];
            for (const use of tries) {
              const value = use.length ? underAll(use) : NEVER;
              if (value === NEVER) continue;
              const rest = keyPatterns.filter((e) => !use.includes(e));
              const names = mapKeys({ ...s, patternProperties: undefined }, null, where, base);
              let rx: CharDfa | undefined;
              try {
                rx = patternsDfa(use);
                if (rest.length) rx = intersectDfa(rx, complementDfa(patternsDfa(rest)));
              } catch (e) {
                if (!(e instanceof RegexUnsupported)) throw e;
                break;
              }
              if (!names) break;
              const k = names.key === null ? NEVER : names.key ? intersect(names.key, stringOf(rx)) : stringOf(rx);
              m = { key: k.t === 'string' ? k : null };
              all = value;
              keySubset = true;
              break;
            }
          }
          if (m && all !== NEVER) {
            key = m.key ?? undefined;
            const f = m.key === null ? NEVER : (all ?? additionalNode());
            additional = f === NEVER ? null : f;
          } else {
            const f = free();
            additional = f === NEVER ? null : f;
            const names = s.propertyNames !== undefined && dialect !== 'draft-04' && s.propertyNames !== true;
            if (additional && (patterns || names)) defer(patterns ? 'patternProperties' : 'propertyNames', `${where}/${patterns ? 'patternProperties' : 'propertyNames'}`, patterns ? 'the keys of this map are not restricted to the patterns while decoding (a pattern beyond the string automaton, or values no schema of theirs allows at once)' : 'the keys of this map are not restricted while decoding (an enum of names, or a schema beyond the string automaton)');
          }
          // dependentRequired on a free-form map: it does not write the keys that require others (a subset, exact).
          const triggers = isObj(depsRaw) ? Object.entries(depsRaw).filter(([, l]) => Array.isArray(l) && l.length > 0).map(([k]) => k) : [];
          if (additional && triggers.length) {
            const k = keyWithout(key, triggers);
            if (k === undefined) defer(depKey, `${where}/${depKey}`, 'a free-form map may write a key without the keys it requires');
            else if (k === null) additional = null;
            else {
              key = k;
              keySubset = true;
            }
          }
        } else if (s.propertyNames !== undefined && s.propertyNames !== true && dialect !== 'draft-04') {
          // Declared names propertyNames refuses cannot be written.
          let names: GrammarNode | undefined;
          trial++;
          try {
            names = compile(s.propertyNames, `${where}/propertyNames`, base);
          } catch {
            names = undefined;
          } finally {
            trial--;
          }
          if (!names || pending.has(names)) defer('propertyNames', `${where}/propertyNames`, 'declared names are not checked against it while decoding');
          else {
            const ex = names.t === 'union' ? names.exclude : undefined;
            const ok = (p: PropertyNode): boolean => accepts(names, utf8.encode(JSON.stringify(p.name))) && !ex?.includes(JSON.stringify(p.name));
            if (props.some((p) => p.required && !ok(p))) return NEVER;
            props.splice(0, props.length, ...props.filter(ok));
          }
        }
        const minProps = nonNegInt(s.minProperties, where, 'minProperties') ?? 0;
        const maxProps = nonNegInt(s.maxProperties, where, 'maxProperties') ?? Infinity;
        // Undeclared keys are not generated beside declared ones: more properties than are declared cannot be written.
        if (props.length > 0 && minProps > props.length && free() !== NEVER) throw unsupported('minProperties', `${where}/minProperties`, `${minProps} properties but only ${props.length} declared, and undeclared keys are not generated beside declared ones`);
        // A free-form map does not write the keys the schema forbids (`properties: {k: false}`, `not: {required}`):
        // its keys exclude them now, so that what reads the automaton before the end (enum filtering) sees it.
        if (props.length === 0 && additional && forbid.length) {
          const k = keyWithout(key, forbid);
          if (k === null) additional = null;
          else if (k !== undefined) key = k; // beyond the string automaton: the last walk refuses it
        }
        // Patterns beside an additionalProperties that allows other keys: only the written keys are restricted.
        const keyExact = key !== undefined && !keySubset && (!keyPatterns || ap === false);
        const obj: ObjectNode = { t: 'object', id: nextId++, props, additional, minProps, maxProps, ...(key && additional ? { key, ...(keyExact ? { keyExact } : {}) } : {}), ...(forbid.length ? { forbid } : {}) };
        if (forbid.length) forbidAt.set(obj, `${where}/properties`);
        if (minProps > 1) minPropsAt.set(obj, `${where}/minProperties`);
        // Narrowed: a free-form map needing two keys or more is left out (its keys are not kept apart).
        if (weakNeg && obj.props.length === 0 && obj.additional && minProps > 1) return NEVER;
        // Declared properties beside additionalProperties / patternProperties: what other keys must meet, for intersections.
        if (props.length > 0 && ((ap !== undefined && ap !== true) || patterns)) obj.undeclared = (name) => free(name);
        return finishDeps(obj, where) && objectViable(obj) ? obj : NEVER;
      }
      case 'array': {
        const prefix = dialect === '2020-12' ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
        const rest = dialect === '2020-12' || !Array.isArray(s.items) ? s.items : s.additionalItems;
        if (dialect === '2020-12' && Array.isArray(s.items)) throw bad(where, 'items must be a schema in 2020-12 (a list of schemas is prefixItems)');
        let minItems = nonNegInt(s.minItems, where, 'minItems') ?? 0;
        let maxItems = nonNegInt(s.maxItems, where, 'maxItems') ?? Infinity;
        const restNode = rest === undefined || rest === true ? any() : compile(rest, `${where}/${dialect === '2020-12' || !Array.isArray(s.items) ? 'items' : 'additionalItems'}`, base);
        let tuple: GrammarNode[] | undefined;
        if (Array.isArray(prefix)) {
          const key = dialect === '2020-12' ? 'prefixItems' : 'items';
          // Positions are tracked: item i is tuple[i] (the array frame counts its items up to the tuple's length).
          tuple = prefix.map((p, i) => compile(p, `${where}/${key}/${i}`, base));
          if (restNode === NEVER) maxItems = Math.min(maxItems, prefix.length);
          const firstNever = tuple.indexOf(NEVER);
          if (firstNever >= 0) maxItems = Math.min(maxItems, firstNever);
          tuple = tuple.slice(0, Math.min(tuple.length, maxItems));
          if (tuple.length === 0) tuple = undefined;
        } else if (prefix !== undefined) throw bad(where, `${dialect === '2020-12' ? 'prefixItems' : 'items'} must be a list of schemas`);
        if (!tuple && restNode === NEVER) maxItems = 0;
        if (minItems > maxItems) return NEVER;
        minItems = Math.min(minItems, maxItems);
        const lit = s.uniqueItems === true && !tuple ? uniqueLiteral(restNode) : undefined;
        if (lit) {
          // Distinct values only: no more items than there are values; fewer values than minItems can never do.
          if (minItems > lit.values.length) throw unsupported('uniqueItems', `${where}/uniqueItems`, `minItems ${minItems} but only ${lit.values.length} distinct items are allowed`);
          if (vocab.handled.has('contains') && s.contains !== undefined) defer('contains', `${where}/contains`, 'beside uniqueItems of enum / const values, contains is not counted while decoding');
          return { t: 'array', id: nextId++, items: lit, minItems, maxItems: Math.min(maxItems, lit.values.length), unique: true };
        }
        // Other scalar items (free strings, numbers...): the values written are remembered by key (beside contains: uniqueItems is left to the final validation).
        if (s.uniqueItems === true && !tuple && s.contains === undefined && restNode !== anyNode && scalarLeaves(restNode, pending)) {
          // Bounded integers and literals only: as many items as values at most.
          const total = new DistinctPool(restNode).total();
          if (minItems > total) throw unsupported('uniqueItems', `${where}/uniqueItems`, `minItems ${minItems} but only ${total} distinct items are allowed`);
          return { t: 'array', id: nextId++, items: restNode, minItems, maxItems: Math.min(maxItems, total), distinct: true };
        }
        if (vocab.handled.has('contains') && s.contains !== undefined && !tuple) {
          const min = (vocab.handled.has('minContains') ? nonNegInt(s.minContains, where, 'minContains') : undefined) ?? 1;
          const max = (vocab.handled.has('maxContains') ? nonNegInt(s.maxContains, where, 'maxContains') : undefined) ?? Infinity;
          const spec = containsSpec(restNode, s.contains, min, max, `${where}/contains`, base);
          if (spec === null) return NEVER;
          if (spec !== undefined) {
            if (spec.min > maxItems) return NEVER;
            // Every item a hit: no more items than hits allowed.
            if (spec.miss === NEVER) maxItems = Math.min(maxItems, spec.max);
            if (minItems > maxItems) return NEVER;
            return arrayNode({ minItems, maxItems, rest: restNode, contains: spec });
          }
        }
        const arr = arrayNode({ minItems, maxItems, rest: restNode, ...(tuple ? { tuple } : {}) });
        if (s.uniqueItems === true) {
          arr.uniqueAsked = true;
          uniqueAt.set(arr, `${where}/uniqueItems`);
        }
        return arr;
      }
    }
  };

  /**
   * The enforced range of an integer (or of a number whose multipleOf is an integer: only integers
   * are multiples then, in compact JSON); null when nothing restricts it (numbers' bounds are checked
   * on the final output). A multipleOf that local decoding cannot enforce is refused.
   */
  const intRange = (s: Record<string, unknown>, where: string, integer: boolean): IntRange | null => {
    const m = s.multipleOf;
    let mult = 1;
    if (m !== undefined) {
      if (typeof m !== 'number' || !(m > 0)) throw bad(where, 'multipleOf must be a number above 0');
      if (Number.isInteger(m)) mult = m;
      else if (!(integer && Number.isInteger(1 / m))) throw unsupported('multipleOf', `${where}/multipleOf`, `a fractional multipleOf (${m}) is only enforced when every integer is a multiple of it`);
    } else if (!integer) return null;
    if (!integer && mult === 1) return null;
    const num = (k: string): number | undefined => {
      const v = s[k];
      if (v === undefined || typeof v === 'boolean') return undefined;
      if (typeof v !== 'number') throw bad(where, `${k} must be a number`);
      return v;
    };
    let min = -Infinity;
    let max = Infinity;
    const lo = num('minimum');
    const hi = num('maximum');
    if (dialect === 'draft-04') {
      if (lo !== undefined) min = s.exclusiveMinimum === true ? Math.floor(lo) + 1 : Math.ceil(lo);
      if (hi !== undefined) max = s.exclusiveMaximum === true ? Math.ceil(hi) - 1 : Math.floor(hi);
    } else {
      if (lo !== undefined) min = Math.ceil(lo);
      if (hi !== undefined) max = Math.floor(hi);
      const xlo = num('exclusiveMinimum');
      const xhi = num('exclusiveMaximum');
      if (xlo !== undefined) min = Math.max(min, Math.floor(xlo) + 1);
      if (xhi !== undefined) max = Math.min(max, Math.ceil(xhi) - 1);
    }
    if (min === -Infinity && max === Infinity && mult === 1) return null;
    return { min, max, mult };
  };

  /**
   * oneOf's branches are offered as anyOf's ("exactly one" is the final validation's). One overlap is
   * common and removable: closed object shapes (no free keys) with disjoint property names, each
   * allowing `{}` (ESLint's option objects). A non-empty object then fits one of them at most (its keys
   * tell which), and `{}` fits them all, so it is not valid: each needs a property (a subset, exact).
   */
  const oneOfEmpty = (branches: GrammarNode[]): GrammarNode[] => {
    const closed = branches.filter((b): b is ObjectNode => b.t === 'object' && b.additional === null && b.minProps === 0 && b.props.every((p) => !p.required));
    if (closed.length < 2) return branches;
    const names = new Set<string>();
    for (const b of closed) {
      for (const p of b.props) {
        if (names.has(p.name)) return branches;
        names.add(p.name);
      }
    }
    return branches.map((b) => (b.t === 'object' && closed.includes(b) ? (b.props.length > 0 ? { ...b, id: nextId++, minProps: 1 } : NEVER) : b));
  };

  /** patternProperties as JavaScript regular expressions (u flag, as ajv tests them) with their schemas; null when one does not compile there. */
  const patternEntries = (pp: Record<string, unknown>, where: string): Array<{ source: string; re: RegExp; sub: unknown; where: string }> | null => {
    const out: Array<{ source: string; re: RegExp; sub: unknown; where: string }> = [];
    for (const [source, sub] of Object.entries(pp)) {
      try {
        out.push({ source, re: new RegExp(source, 'u'), sub, where: `${where}/patternProperties/${escapePointer(source)}` });
      } catch {
        return null;
      }
    }
    return out;
  };

  /**
   * The keys a free-form map may write, when propertyNames or patternProperties restrict them: a
   * string node (the union of the patterns' DFAs, within propertyNames' string constraints), or
   * null when no key is possible. Undefined: keys stay free (the keywords are left to the final
   * validation), as when a pattern or propertyNames is beyond the string automaton.
   */
  const mapKeys = (s: Record<string, unknown>, keyPatterns: Array<{ source: string }> | null, where: string, base: string): { key: StringNode | null | undefined } | undefined => {
    let key: StringNode | null | undefined;
    const trivial = s.propertyNames === true || (isObj(s.propertyNames) && Object.keys(s.propertyNames).length === 0);
    if (s.propertyNames !== undefined && dialect !== 'draft-04' && !trivial) {
      let names: GrammarNode | undefined;
      try {
        names = compile(s.propertyNames, `${where}/propertyNames`, base);
      } catch {
        names = undefined; // beyond the grammar: left to the final validation
      }
      if (names === NEVER) return { key: null };
      if (!names || pending.has(names)) return undefined;
      // Keys are strings: the string option of propertyNames is exact. Enums of names and approximations stay free.
      const options = names.t === 'union' ? (names.exclude ? null : names.options) : [names];
      if (!options || options.some((o) => o.t === 'union')) return undefined;
      const str = options.find((o): o is StringNode => o.t === 'string');
      const named = options.flatMap((o) => (o.t === 'literal' ? o.values.filter((v) => v[0] === 0x22).map((v) => JSON.parse(new TextDecoder().decode(v)) as string) : []));
      if (named.length && str) return undefined; // free names beside an enum of names: beyond one string node
      if (named.length) key = stringOf(literalDfa(named));
      else if (!str) return { key: null };
      else if (str.minLength > 0 || str.maxLength < Infinity || str.regex) key = str;
    }
    if (keyPatterns && keyPatterns.length) {
      let rx: CharDfa;
      try {
        rx = patternsDfa(keyPatterns);
      } catch (e) {
        if (e instanceof RegexUnsupported) return undefined;
        throw e;
      }
      if (key) {
        const both = intersect(key, stringOf(rx));
        return { key: both === NEVER ? null : both.t === 'string' ? both : null };
      }
      key = stringOf(rx);
    }
    return { key };
  };

  /** Keys (within `key`, when given) other than these names; null: no key is left; undefined: beyond the string automaton. */
  const keyWithout = (key: StringNode | undefined, names: readonly string[]): StringNode | null | undefined => {
    let rx: CharDfa;
    try {
      const not = complementDfa(literalDfa(names));
      rx = key?.regex ? intersectDfa(key.regex, not) : not;
    } catch (e) {
      if (e instanceof RegexUnsupported) return undefined;
      throw e;
    }
    if (rx.minChars[0] === Infinity) return null;
    return { t: 'string', id: nextId++, minLength: key?.minLength ?? 0, maxLength: key?.maxLength ?? Infinity, regex: rx };
  };

  /** `pattern` and a known `format` (others are annotations) of a string schema, as one DFA. */
  const stringRegex = (s: Record<string, unknown>, where: string): CharDfa | undefined => {
    let out: CharDfa | undefined;
    const not = (s as Record<symbol, unknown>)[NOT_REGEX];
    if (Array.isArray(not)) {
      // A negated pattern / format: the complement of its DFA.
      for (const src of not as string[]) {
        try {
          const d = complementDfa(regexDfa(src));
          out = out ? bothRegex(out, d, where) : d;
        } catch (e) {
          if (e instanceof RegexUnsupported) throw unsupported('not', where, `its negation of pattern ${JSON.stringify(src)} has ${e.message}, which local constrained decoding cannot enforce`);
          throw e;
        }
      }
    }
    if (s.pattern !== undefined) {
      if (typeof s.pattern !== 'string') throw bad(where, 'pattern must be a string');
      try {
        out = regexDfa(s.pattern);
      } catch (e) {
        if (e instanceof RegexUnsupported) throw unsupported('pattern', `${where}/pattern`, `${JSON.stringify(s.pattern)} has ${e.message}, which local constrained decoding cannot enforce`);
        throw e;
      }
    }
    if (typeof s.format === 'string' && Object.hasOwn(FORMATS, s.format)) {
      const f = regexDfa(FORMATS[s.format]!);
      out = out ? bothRegex(out, f, `${where}/format`) : f;
    }
    return out;
  };
  const bothRegex = (a: CharDfa, b: CharDfa, where = ''): CharDfa => {
    try {
      return intersectDfa(a, b);
    } catch (e) {
      if (e instanceof RegexUnsupported) throw unsupported('pattern', where, `patterns together give ${e.message}`);
      throw e;
    }
  };

  /**
   * A schema accepting what `s` rejects (JSON Schema semantics, no type inferred from keywords): the
   * union, over s's keywords, of the values each keyword rejects. Exact where the grammar can say
   * it; a superset where only the final validation can (the `integer` of `not: {type: integer}`
   * keeps every number; `not: {const: v}` excludes v from enums it meets, else allows any value).
   * Keywords whose negation is neither are refused, naming `kw` (the keyword being reduced) and
   * the pointer of the schema that has it.
   */
  const negating = new Set<string>();
  /** Does a reference inside `target` lead back to `uri` (a recursive schema: its negation is not reduced)? At most 200 targets read. */
  const cycleMemo = new Map<string, boolean>();
  const refCycle = (uri: string, target: unknown, pointer: string, base: string): boolean => {
    const known = cycleMemo.get(uri);
    if (known !== undefined) return known;
    const seen = new Set<string>();
    const todo: Array<{ t: unknown; at: string; b: string }> = [{ t: target, at: pointer, b: base }];
    let cyclic = false;
    while (todo.length && !cyclic) {
      const { t, at, b } = todo.pop()!;
      for (const m of (JSON.stringify(t) ?? '').matchAll(/"\$ref"\s*:\s*"((?:[^"\\]|\\.)*)"/g)) {
        let r: ReturnType<typeof resolveRef>;
        try {
          r = resolveRef(JSON.parse(`"${m[1]}"`) as string, at, b);
        } catch {
          continue;
        }
        if (r.uri === uri) cyclic = true;
        else if (!seen.has(r.uri)) {
          seen.add(r.uri);
          if (seen.size > 200) cyclic = true;
          todo.push({ t: r.target, at: r.pointer, b: r.base });
        }
      }
    }
    cycleMemo.set(uri, cyclic);
    return cyclic;
  };
  const negate = (s: unknown, where: string, kw: string, holder = where.slice(0, where.lastIndexOf('/')), base = ''): unknown => {
    if (s === true) return false;
    if (s === false) return true;
    if (!isObj(s)) throw bad(where, 'a schema must be an object or a boolean');
    const ex = (s as Record<symbol, unknown>)[NOT_ENUM];
    if (Array.isArray(ex)) return { enum: ex };
    const nr = (s as Record<symbol, unknown>)[NOT_REGEX];
    if (Array.isArray(nr)) return { anyOf: [{ type: ALL_TYPES.filter((t) => t !== 'string') }, ...nr.map((p) => ({ type: 'string', pattern: p }))] };
    const no = (what: string): TandemError => unsupported(kw, holder, `its negation of ${what} at ${where} cannot be enforced while decoding`);
    if (typeof s.$ref === 'string') {
      // A reference is negated through its target when it stays in the same document base (the negation
      // is compiled where the `not` is), sets no new base, and no reference inside leads back to it (a
      // recursive schema's negation is not reduced); draft-04..07: $ref replaces its siblings.
      if (!base) {
        if (weakNeg) return false;
        throw no('"$ref"');
      }
      const r = resolveRef(s.$ref, where, base);
      const text = JSON.stringify(r.target) ?? '';
      // Nested references are negated too, through the same path (a cycle or a new base cannot be: refused, or nothing
      // when narrowed), at most NEGATION_STEPS references deep from the first.
      const rebases = dialect === 'draft-04' ? /"(\$dynamicRef|\$recursiveRef|\$id|id)"\s*:/ : /"(\$dynamicRef|\$recursiveRef|\$id)"\s*:/;
      if (r.base !== base || negating.has(r.uri) || rebases.test(text) || refCycle(r.uri, r.target, r.pointer, r.base)) {
        if (weakNeg) return false;
        throw no('"$ref"');
      }
      if (negating.size === 0) negSteps = 0;
      if (++negSteps > NEGATION_STEPS) {
        if (weakNeg) return false;
        throw no('"$ref" (too many nested references)');
      }
      negating.add(r.uri);
      try {
        const target = negate(r.target, r.pointer, kw, holder, base);
        if (legacyRef) return target;
        const rest = { ...s };
        delete rest.$ref;
        return { anyOf: [negate(rest, where, kw, holder, base), target] };
      } finally {
        negating.delete(r.uri);
      }
    }
    const alts: unknown[] = [];
    const count = (k: string): number => {
      const v = nonNegInt(s[k], where, k)!;
      return v;
    };
    const num = (k: string): number => {
      if (typeof s[k] !== 'number') throw bad(where, `${k} must be a number`);
      return s[k];
    };
    for (const k of Object.keys(s)) {
      const v = s[k];
      if (!vocab.handled.has(k) && !vocab.post.has(k) && !vocab.refused.has(k)) continue; // annotations and unknown keywords
      switch (k) {
        case 'type': {
          const list = Array.isArray(v) ? v : [v];
          // not integer: every number stays (the grammar cannot tell 1.5 from 1 before the end; the final validation does).
          // Narrowed (weakNeg): numbers are dropped instead, a subset.
          const notInt = list.includes('integer') && !list.includes('number');
          const keep = ALL_TYPES.filter((t) => !list.includes(t) && !(weakNeg && notInt && t === 'number'));
          if (notInt && !weakNeg) loose++;
          if (keep.length) alts.push({ type: keep });
          break;
        }
        case 'enum':
        case 'const':
          if (k === 'enum' && !Array.isArray(v)) throw bad(where, 'enum must be a list');
          alts.push({ [NOT_ENUM]: k === 'enum' ? v : [v] });
          break;
        case 'minLength':
        case 'minItems':
        case 'minProperties': {
          const n = count(k);
          const type = k === 'minLength' ? 'string' : k === 'minItems' ? 'array' : 'object';
          if (n > 0) alts.push({ type, [k.replace('min', 'max')]: n - 1 });
          break;
        }
        case 'maxLength':
        case 'maxItems':
        case 'maxProperties': {
          const type = k === 'maxLength' ? 'string' : k === 'maxItems' ? 'array' : 'object';
          alts.push({ type, [k.replace('max', 'min')]: count(k) + 1 });
          break;
        }
        case 'minimum':
        case 'maximum': {
          const m = num(k);
          const lower = k === 'minimum';
          if (dialect === 'draft-04') {
          const strict = s[lower ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true;
            alts.push(lower ? { type: 'number', maximum: m, ...(strict ? {} : { exclusiveMaximum: true }) } : { type: 'number', minimum: m, ...(strict ? {} : { exclusiveMinimum: true }) });
          } else alts.push(lower ? { type: 'number', exclusiveMaximum: m } : { type: 'number', exclusiveMinimum: m });
          break;
        }
        case 'exclusiveMinimum':
        case 'exclusiveMaximum':
          if (dialect === 'draft-04') break; // modifies minimum / maximum
          alts.push(k === 'exclusiveMinimum' ? { type: 'number', maximum: num(k) } : { type: 'number', minimum: num(k) });
          break;
        case 'required':
          if (!Array.isArray(v) || v.some((r) => typeof r !== 'string')) throw bad(where, 'required must be a list of names');
          for (const r of v as string[]) alts.push({ type: 'object', properties: { [r]: false } });
          // Exact: a free-form map does not write a forbidden key (compileSchema's last walk).
          break;
        case 'properties':
          if (!isObj(v)) throw bad(where, 'properties must be an object');
          for (const [p, sub] of Object.entries(v)) alts.push({ type: 'object', required: [p], properties: { [p]: negate(sub, `${where}/properties/${escapePointer(p)}`, kw, holder, base) } });
          break;
        case 'not':
          alts.push(v);
          break;
        case 'anyOf':
        case 'allOf': {
          if (!Array.isArray(v) || v.length === 0) throw bad(where, `${k} must be a non-empty list`);
          const negs = v.map((x, i) => negate(x, `${where}/${k}/${i}`, kw, holder, base));
          if (k === 'anyOf') alts.push({ allOf: negs });
          else alts.push(...negs);
          break;
        }
        case 'if':
          if (s.then === undefined && s.else === undefined) break;
          // not ((if and then) or (not if and else)) = (not if or not then) and (if or not else)
          alts.push({ allOf: [{ anyOf: [negate(v, `${where}/if`, kw, holder, base), negate(s.then ?? true, `${where}/then`, kw, holder, base)] }, { anyOf: [v, negate(s.else ?? true, `${where}/else`, kw, holder, base)] }] });
          break;
        case 'then':
        case 'else':
          break;
        case 'items':
          if (Array.isArray(v) || !vocab.handled.has('contains')) {
            if (weakNeg) break;
            throw no('"items"');
          }
          if (v !== true) alts.push({ type: 'array', contains: negate(v, `${where}/items`, kw, holder, base) });
          break;
        case 'contains':
          if (s.minContains !== undefined || s.maxContains !== undefined) {
            if (weakNeg) break;
            throw no('"contains" with minContains / maxContains');
          }
          alts.push({ type: 'array', items: negate(v, `${where}/contains`, kw, holder, base) });
          break;
        case 'uniqueItems':
          if (v !== false && !weakNeg) throw no('"uniqueItems"');
          break;
        case 'additionalProperties':
          if (v === true || (isObj(v) && Object.keys(v).length === 0)) break;
          if (v !== false || s.properties !== undefined || s.patternProperties !== undefined) {
            if (weakNeg) break;
            throw no('"additionalProperties"');
          }
          alts.push({ type: 'object', minProperties: 1 });
          break;
        case '$schema':
        case '$id':
        case 'id':
        case '$defs':
        case 'definitions':
        case '$anchor':
        case '$dynamicAnchor':
        case '$recursiveAnchor':
          break;
        case 'pattern':
          if (typeof v !== 'string') throw bad(where, 'pattern must be a string');
          alts.push({ type: 'string', [NOT_REGEX]: [v] });
          break;
        default:
          if (weakNeg) break; // narrowed: what this keyword rejects is not added (a subset of the negation)
          throw no(`"${k}"`);
      }
    }
    if (alts.length === 0) return false;
    return alts.length === 1 ? alts[0] : { anyOf: alts };
  };

  /** `s` exactly (no type inferred from its keywords): not (not s). */
  const exact = (s: unknown, where: string, kw: string): unknown => negate(negate(s, where, kw), where, kw);

  /** A node excluding these compact texts (intersecting with literals filters them; otherwise a superset). */
  const excluding = (values: unknown[]): GrammarNode => {
    const texts = values.map((v) => JSON.stringify(v));
    // Narrowed, or scalars only: the exact exclusion from each option of any value (no exclude marker left).
    if (weakNeg || texts.every((t) => !t.startsWith('{') && !t.startsWith('['))) return withExclude(any(), texts);
    const u: UnionNode = { t: 'union', id: nextId++, options: [any()], exclude: values.map((v) => JSON.stringify(v)) };
    excludeAt.set(u, here);
    return u;
  };
  const withExclude = (n: GrammarNode, ex: string[], seen = new Set<GrammarNode>()): GrammarNode => {
    if (n === NEVER) return NEVER;
    const containers = ex.some((t) => t.startsWith('{') || t.startsWith('['));
    if (n === anyNode) {
      // Scalars excluded: each scalar option excludes them (objects and arrays are untouched); else the exclusion is left to the final validation.
      if (!containers) return union(n.options.map((o) => (o.t === 'object' || o.t === 'array' ? o : withExclude(o, ex, seen))));
      if (weakNeg) return union(n.options.filter((o) => o.t !== 'object' && o.t !== 'array').map((o) => withExclude(o, ex, seen)));
      const u: UnionNode = { t: 'union', id: nextId++, options: [n], exclude: ex };
      excludeAt.set(u, here);
      return u;
    }
    if (pending.has(n)) {
      if (weakNeg) return NEVER;
      loose++; // a $ref being compiled: its values are not filtered
      return n;
    }
    if (seen.has(n)) return n;
    seen.add(n);
    if (n.t === 'string') {
      // A string other than these: the complement of their names as a DFA, within the node's own pattern.
      const names = ex.filter((t) => t.startsWith('"')).map((t) => JSON.parse(t) as string);
      if (names.length === 0) return n;
      try {
        return intersect(n, stringOf(complementDfa(literalDfa(names))));
      } catch (e) {
        if (!(e instanceof TandemError) && !(e instanceof RegexUnsupported)) throw e;
        if (weakNeg) return NEVER;
        loose++;
        return n;
      }
    }
    if (n.t === 'number') {
      // A number other than these: the open intervals between them (bounds are enforced exactly).
      const vals = [...new Set(ex.filter((t) => /^-?\d/.test(t)).map(Number))].sort((a, b) => a - b);
      if (vals.length === 0) return n;
      const type = n.integer ? 'integer' : 'number';
      const parts: GrammarNode[] = [];
      for (let i = 0; i <= vals.length; i++) {
        const lo = vals[i - 1];
        const hi = vals[i];
        const between: Record<string, unknown> =
          dialect === 'draft-04'
            ? { type, ...(lo !== undefined ? { minimum: lo, exclusiveMinimum: true } : {}), ...(hi !== undefined ? { maximum: hi, exclusiveMaximum: true } : {}) }
            : { type, ...(lo !== undefined ? { exclusiveMinimum: lo } : {}), ...(hi !== undefined ? { exclusiveMaximum: hi } : {}) };
        parts.push(intersect(n, compile(between, here, rootBase)));
      }
      return union(parts);
    }
    if (n.t === 'object' || n.t === 'array') {
      if (ex.some((t) => t.startsWith(n.t === 'object' ? '{' : '['))) {
        if (weakNeg) return NEVER;
        loose++;
      }
      return n;
    }
    if (n.t === 'literal') {
      const dec = new TextDecoder();
      const values = n.values.filter((v) => !ex.includes(dec.decode(v)));
      return values.length === n.values.length ? n : values.length ? { t: 'literal', id: nextId++, values } : NEVER;
    }
    if (n.t === 'union') {
      if (n.exclude) {
        const u: UnionNode = { t: 'union', id: nextId++, options: n.options, exclude: [...new Set([...n.exclude, ...ex])] };
        excludeAt.set(u, excludeAt.get(n) ?? here);
        return u;
      }
      return union(n.options.map((o) => withExclude(o, ex, seen)));
    }
    return n;
  };

  /** An array node; items: the union of every node an item may be (not collapsed, so traversals see each). */
  const arrayNode = (a: { minItems: number; maxItems: number; rest: GrammarNode; tuple?: GrammarNode[]; contains?: ContainsSpec }): ArrayNode => {
    const parts = [...new Set(a.contains ? [a.contains.hit, a.contains.miss] : [...(a.tuple ?? []), a.rest])].filter((n) => n !== NEVER);
    const items: GrammarNode = parts.length === 1 ? parts[0]! : { t: 'union', id: nextId++, options: parts };
    if (!a.tuple && !a.contains) return { t: 'array', id: nextId++, items: a.rest, minItems: a.minItems, maxItems: a.maxItems };
    return { t: 'array', id: nextId++, items, minItems: a.minItems, maxItems: a.maxItems, rest: a.rest, ...(a.tuple ? { tuple: a.tuple } : {}), ...(a.contains ? { contains: a.contains } : {}) };
  };

  /**
   * contains under items `rest`: hits are items matching the schema (exactly: not (not contains)),
   * misses items matching its negation. When that negation is not exact (an enum exclusion over
   * non-literals, `not integer`...) or cannot be said, misses are any item and maxContains is left
   * to the final validation. null: no array can do; undefined: nothing to enforce.
   */
  const containsSpec = (rest: GrammarNode, schema: unknown, min: number, max: number, where: string, base: string): ContainsSpec | null | undefined => {
    if (min > max) return null;
    let hitSchema: unknown = schema;
    // Hits: exactly the contains schema (no type inferred), else the schema as compiled (a subset: hits written are hits).
    const lh = loose;
    try {
      hitSchema = exact(schema, where, 'contains');
    } catch (e) {
      if (!(e instanceof TandemError)) throw e;
    }
    let hit = intersect(rest, compile(hitSchema, where, base));
    if (loose > lh) {
      loose = lh;
      hit = intersect(rest, compile(schema, where, base));
    }
    if (hit === NEVER) return min > 0 ? null : undefined;
    let miss = rest;
    let counted = false;
    trial++;
    checking++;
    const l0 = loose;
    try {
      miss = intersect(rest, compile(negate(schema, where, 'contains'), where, base));
      counted = loose === l0;
    } catch (e) {
      if (!(e instanceof TandemError)) throw e;
    } finally {
      trial--;
      checking--;
      loose = l0; // handled here: misses not counted (max left out, refused below when it matters)
    }
    if (!counted) {
      miss = rest;
      if (min === 0) return undefined;
      if (max < Infinity) defer('maxContains', where.replace(/\/contains$/, '/maxContains'), 'items that are not hits cannot be told from hits while decoding, so the most hits allowed is not counted');
      max = Infinity;
    }
    if (min === 0 && max === Infinity) return undefined;
    return { hit, miss, min, max };
  };

  /** Which oneOf branches may both match one value (json-oneof.ts). */
  const overlap = new OneOfOverlap(doc, vocab.handled.has('const'), legacyRef, pending);
  const flat = (n: GrammarNode): GrammarNode[] => overlap.flat(n);

  const byRef = new Map<string, GrammarNode>();
  const refNode = (ref: string, where: string, base: string): GrammarNode => {
    const r = resolveRef(ref, where, base);
    const known = byRef.get(r.uri);
    if (known) return known;
    // Placeholder first, so recursive schemas terminate; filled in place below.
    const slot: UnionNode = { t: 'union', id: nextId++, options: [] };
    byRef.set(r.uri, slot);
    pending.add(slot);
    const target = compile(r.target, r.pointer, r.base);
    pending.delete(slot);
    if (target === NEVER) {
      byRef.set(r.uri, NEVER);
      return NEVER;
    }
    slot.options = [target];
    return slot;
  };

  /** Is `k` of `o` a keyword that takes effect (e.g. `if` without `then`/`else` does nothing)? */
  const active = (o: Record<string, unknown>, k: string): boolean => {
    if (k === 'if') return o.then !== undefined || o.else !== undefined;
    if (k === 'not') return o.not !== undefined;
    return true;
  };

  function compile(s: unknown, where: string, base: string): GrammarNode {
    const outer = here;
    here = where;
    try {
      return compileAt(s, where, base);
    } finally {
      here = outer;
    }
  }

  function compileAt(s: unknown, where: string, base: string): GrammarNode {
    if (weakNeg && nextId - weakFrom > WEAK_NODES) throw unsupported('oneOf', where, 'its branches\' exclusions grow too large');
    if (s === true) return any();
    if (s === false) return NEVER;
    if (!isObj(s)) throw bad(where, 'a schema must be an object or a boolean');
    const o = s;
    base = baseOf(o, base);
    if (dialect === '2020-12' && typeof o.$dynamicRef === 'string') {
      doc.staticDynamicRef(o.$dynamicRef, `${where}/$dynamicRef`, base);
      const target = refNode(o.$dynamicRef, `${where}/$dynamicRef`, base);
      const rest = { ...o };
      delete rest.$dynamicRef;
      return intersect(compile(rest, where, base), target);
    }
    for (const k of Object.keys(o)) if (vocab.refused.has(k) && active(o, k) && !(legacyRef && typeof o.$ref === 'string')) throw unsupported(k, where);
    const ex = (o as Record<symbol, unknown>)[NOT_ENUM];
    if (Array.isArray(ex)) return excluding(ex);
    if (typeof o.$ref === 'string') {
      const target = refNode(o.$ref, where, base);
      // draft-04 to -07: $ref replaces its siblings. 2019-09 on: it applies beside them.
      if (legacyRef) return target;
      const rest = { ...o };
      delete rest.$ref;
      return intersect(compile(rest, where, base), target);
    }
    let node = local(o, where, base);
    if (o.allOf !== undefined) {
      if (!Array.isArray(o.allOf) || o.allOf.length === 0) throw bad(where, 'allOf must be a non-empty list');
      o.allOf.forEach((x, i) => (node = intersect(node, compile(x, `${where}/allOf/${i}`, base))));
    }
    for (const k of ['anyOf', 'oneOf'] as const) {
      const list = o[k];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0) throw bad(where, `${k} must be a non-empty list`);
      const branches = list.map((x, i) => compile(x, `${where}/${k}/${i}`, base));
      let shaped = k === 'oneOf' ? oneOfEmpty(branches) : branches;
      if (k === 'oneOf') {
        const pairs = list.length > 64 ? [[0, 1] as [number, number]] : overlap.overlapping(list, branches, shaped, where, base);
        if (pairs.length) {
          // Branches that may overlap exclude each other: branch i and not branch j, exact where the negations are.
          const l0 = loose;
          let failed = pairs.length > 64 ? 'too many branches overlap' : '';
          const next = shaped.slice();
          checking++;
          for (const [i, j] of failed ? [] : pairs) {
            for (const [x, y] of [[i, j], [j, i]] as const) {
              if (next[x] === NEVER) continue;
              try {
                next[x] = intersect(next[x]!, compile(negate(list[y], `${where}/oneOf/${y}`, 'oneOf', `${where}/oneOf`, base), `${where}/oneOf/${y}`, base));
              } catch (e) {
                if (!(e instanceof TandemError)) throw e;
                failed ||= e.message;
              }
            }
          }
          checking--;
          if (!failed && loose === l0) shaped = next;
          else {
            loose = l0; // the exact attempt's approximations are not used
            // Narrowed: each branch excludes a subset of the others' negations (fewer values written, all valid).
            const weak = shaped.slice();
            let broke = false;
            weakNeg = true;
            weakFrom = nextId;
            const d0 = trialDeferred;
            trial++;
            try {
              for (const [i, j] of pairs.length > 64 ? [] : pairs) {
                for (const [x, y] of [[i, j], [j, i]] as const) {
                  if (weak[x] !== NEVER) weak[x] = intersect(weak[x]!, compile(negate(list[y], `${where}/oneOf/${y}`, 'oneOf', `${where}/oneOf`, base), `${where}/oneOf/${y}`, base));
                }
              }
            } catch (e) {
              if (!(e instanceof TandemError) && !(e instanceof RegexUnsupported)) throw e;
              broke = true;
            } finally {
              weakNeg = false;
              trial--;
            }
            if (trialDeferred > d0) broke = true;
            if (!broke && pairs.length <= 64 && loose === l0 && union(weak) !== NEVER) {
              shaped = weak;
              narrowed.push({ keyword: 'oneOf', pointer: `${where}/oneOf`, why: `branches ${pairs[0]![0]} and ${pairs[0]![1]} may both match one value; each excludes what it can tell of the other (${failed ? 'their full negation cannot be enforced' : 'their full negation is only approximated'}), so some valid values are not written` });
            } else defer('oneOf', `${where}/oneOf`, `branches ${pairs[0]![0]} and ${pairs[0]![1]} may both match one value, and ${failed ? 'their negation cannot be enforced' : 'their negation is only approximated'} while decoding ("exactly one" is only checked on the output)`);
            loose = l0;
          }
        }
      }
      node = intersect(node, union(shaped));
    }
    if (o.not !== undefined && vocab.handled.has('not')) {
      const l0 = loose;
      checking++;
      try {
        node = intersect(node, compile(negate(o.not, `${where}/not`, 'not', undefined, base), `${where}/not`, base));
      } finally {
        checking--;
      }
      if (loose > l0) defer('not', `${where}/not`, 'its negation is only approximated while decoding (not integer, or object / array values excluded)');
      loose = l0; // reported here, not again by an enclosing negation
    }
    if (o.if !== undefined && vocab.handled.has('if') && (o.then !== undefined || o.else !== undefined)) {
      // ajv counts the properties a failing `if` looked at as evaluated: its final check would pass unevaluated ones.
      if (o.unevaluatedProperties !== undefined && o.unevaluatedProperties !== true) throw unsupported('unevaluatedProperties', where, 'beside if/then/else the final validation (ajv) misses unevaluated properties');
      // (if and then) or (not if and else); `if` exactly (not (not if)): no type inferred from its keywords.
      const thenNode = o.then === undefined ? any() : compile(o.then, `${where}/then`, base);
      const elseNode = o.else === undefined ? any() : compile(o.else, `${where}/else`, base);
      const l0 = loose;
      checking++;
      try {
        const yes = intersect(compile(exact(o.if, `${where}/if`, 'if'), `${where}/if`, base), thenNode);
        const no = intersect(compile(negate(o.if, `${where}/if`, 'if'), `${where}/if`, base), elseNode);
        node = intersect(node, union([yes, no]));
      } finally {
        checking--;
      }
      if (loose > l0) defer('if', `${where}/if`, 'whether a value matches it is only approximated while decoding (not integer, or object / array values excluded)');
      loose = l0;
    }
    // dependentSchemas / schema dependencies: non-objects, objects without the key, or objects with it under the schema.
    const depKey = vocab.handled.has('dependentSchemas') ? 'dependentSchemas' : 'dependencies';
    const deps = o[depKey];
    if (isObj(deps)) {
      for (const [name, dep] of Object.entries(deps)) {
        if (Array.isArray(dep) || dep === true || (isObj(dep) && Object.keys(dep).length === 0)) continue; // lists: dependentRequired (typeNode)
        const at = `${where}/${depKey}/${escapePointer(name)}`;
        const others = compile({ type: ALL_TYPES.filter((t) => t !== 'object') }, at, base);
        const absent = compile({ type: 'object', properties: { [name]: false } }, at, base);
        const present = intersect(compile({ type: 'object', required: [name] }, at, base), compile(dep, at, base));
        node = intersect(node, union([others, absent, present]));
      }
    }
    // unevaluatedProperties: the properties this schema's node declares are the ones it evaluates (its in-place
    // applicators' included); keys brought in later by other schemas, and free-form maps' keys, meet it (a subset).
    if (vocab.post.has('unevaluatedProperties') && o.unevaluatedProperties !== undefined && o.unevaluatedProperties !== true) {
      if (o.not !== undefined) defer('unevaluatedProperties', `${where}/unevaluatedProperties`, 'beside not, properties the negation names would count as evaluated while decoding, and they are not');
      const extra = compile(o.unevaluatedProperties, `${where}/unevaluatedProperties`, base);
      node = union(
        flat(node).map((n): GrammarNode => {
          if (n.t !== 'object') return n;
          if (n.props.length === 0) {
            if (!n.additional) return n;
            const additional = intersect(n.additional, extra);
            return { ...n, id: nextId++, additional: additional === NEVER ? null : additional };
          }
          const before = n.undeclared;
          return { ...n, id: nextId++, undeclared: (name) => (before ? intersect(before(name), extra) : extra) };
        }),
      );
    }
    return node;
  }

  /** type / enum / const and the structural keywords of one schema object (no applicators). */
  function local(o: Record<string, unknown>, where: string, base: string): GrammarNode {
    let types: JsonType[] | undefined;
    if (o.type !== undefined) {
      const list = Array.isArray(o.type) ? o.type : [o.type];
      for (const t of list) if (!TYPES.includes(t as JsonType)) throw bad(where, `unknown type ${JSON.stringify(t)}`);
      types = [...new Set(list as JsonType[])];
      // OpenAPI's nullable (ajv applies it beside type): null is one more type.
      if (o.nullable === true && !types.includes('null')) types.push('null');
      if (types.includes('number') && types.includes('integer')) types = types.filter((t) => t !== 'integer');
    } else {
      // No type: the types its keywords are about (a schema with `properties` is meant to be an object).
      const hinted = TYPE_HINTS.filter(([, keys]) => keys.some((k) => o[k] !== undefined && (vocab.handled.has(k) || vocab.post.has(k)))).map(([t]) => t);
      if (hinted.length) types = hinted;
    }
    const shaped = types ? union(types.map((t) => typeNode(t, o, where, base))) : any();
    const hasConst = vocab.handled.has('const') && o.const !== undefined;
    if (!hasConst && o.enum === undefined) return shaped;
    if (o.enum !== undefined && !Array.isArray(o.enum)) throw bad(where, 'enum must be a list');
    let lit = hasConst ? literal([o.const], where) : literal(o.enum as unknown[], where);
    if (hasConst && Array.isArray(o.enum)) lit = intersect(lit, literal(o.enum, where));
    // Only the values the type and shape allow (a superset when they were unconstrained).
    return o.type !== undefined ? intersect(lit, shaped) : lit;
  }

  const root = compile(schema, '', rootBase);
  if (root === NEVER) throw bad('', 'no value is valid under this schema');
  for (const n of grammarNodes(root)) {
    if (n.t === 'array' && n.uniqueAsked && !n.unique && !n.distinct && n.maxItems > 1) {
      // Items the grammar cannot keep apart (objects, arrays; beside prefixItems or contains): one item is always distinct.
      if (n.minItems <= 1 && !(n.contains && n.contains.min > 1)) n.maxItems = 1;
      else defer('uniqueItems', uniqueAt.get(n) ?? '', `items that are objects or arrays (or beside prefixItems / contains) are not kept distinct while decoding, and this array needs ${Math.max(n.minItems, n.contains?.min ?? 0)}`);
    }
    if (n.t === 'union' && n.exclude) defer('not', excludeAt.get(n) ?? '', 'excluding enum / const values from free values is only checked on the output');
    // The automaton does not keep a free-form map's keys apart, and a key written twice counts once.
    if (n.t === 'object' && n.props.length === 0 && n.additional && n.minProps > 1) defer('minProperties', minPropsAt.get(n) ?? '', `a free-form map may write one key twice, and JSON keeps one: ${n.minProps} distinct keys are not guaranteed while decoding`);
    if (n.t === 'object' && n.forbid?.length && n.props.length === 0 && n.additional && !n.forbid.every((x) => n.key && !accepts(n.key, utf8.encode(JSON.stringify(x))))) {
      // A free-form map does not write the keys the schema forbids.
      const k = keyWithout(n.key, n.forbid);
      if (k === undefined) defer('properties', forbidAt.get(n) ?? '', `a free-form map may write ${n.forbid.map((x) => JSON.stringify(x)).join(', ')}, which the schema forbids`);
      else if (k === null) n.additional = null;
      else n.key = k;
    }
  }
  report?.deferred?.push(...deferrals);
  report?.narrowed?.push(...narrowed);
  return root;
}
