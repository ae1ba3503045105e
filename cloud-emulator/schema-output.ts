import type { JsonValue } from '../native/engine/common/errors.js';
import { intBetween, pick, type Rng } from './seeded-random.js';

/**
 * A small JSON Schema driven value generator: what a constrained decoder (vLLM + XGrammar) would
 * emit, minus the meaning. Covers object/array/string/number/integer/boolean/null, type lists,
 * enum, const, anyOf/oneOf (first branch), allOf (merged), local $ref, and the common keywords
 * (required, minItems/maxItems, uniqueItems, minLength/maxLength, format, minimum/maximum,
 * exclusive bounds, multipleOf).
 */

type Schema = { [k: string]: JsonValue };

const WORDS = ['alpha', 'binding', 'cell', 'domain', 'enzyme', 'fold', 'gene', 'helix', 'ion', 'kinase', 'ligand', 'motif', 'protein', 'residue', 'sample', 'target'];
const MAX_DEPTH = 12;

function isSchema(v: JsonValue | undefined): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: JsonValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: JsonValue | undefined = root;
  for (const raw of ref.slice(1).split('/').filter((p) => p.length > 0)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isSchema(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
  }
  return isSchema(node) ? node : undefined;
}

/** allOf merged into its parent: properties and required joined, other keywords last-wins. */
function mergeAllOf(s: Schema): Schema {
  const parts = Array.isArray(s.allOf) ? s.allOf.filter(isSchema) : [];
  if (parts.length === 0) return s;
  const merged: Schema = { ...s };
  delete merged.allOf;
  const props: Schema = isSchema(s.properties) ? { ...s.properties } : {};
  const required = new Set<string>(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
  for (const p of parts.map(mergeAllOf)) {
    for (const [k, v] of Object.entries(p)) {
      if (k === 'properties' && isSchema(v)) Object.assign(props, v);
      else if (k === 'required' && Array.isArray(v)) v.forEach((r) => typeof r === 'string' && required.add(r));
      else if (!(k in merged)) merged[k] = v;
    }
  }
  if (Object.keys(props).length > 0) merged.properties = props;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function inferType(s: Schema): string {
  const t = s.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const types = t.filter((x): x is string => typeof x === 'string');
    return types.find((x) => x !== 'null') ?? types[0] ?? 'string';
  }
  if (isSchema(s.properties) || Array.isArray(s.required)) return 'object';
  if (s.items !== undefined || s.prefixItems !== undefined) return 'array';
  if (s.minimum !== undefined || s.maximum !== undefined || s.multipleOf !== undefined) return 'number';
  return 'string';
}

function text(rng: Rng, minLength: number, maxLength: number): string {
  const target = intBetween(rng, minLength, Math.max(minLength, Math.min(maxLength, minLength + 24)));
  let out = '';
  while (out.length < target) out += (out ? ' ' : '') + pick(rng, WORDS);
  out = out.slice(0, target).trimEnd();
  while (out.length < minLength) out += 'x';
  return out;
}

function formatted(format: string, rng: Rng): string | undefined {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${2000 + intBetween(rng, 0, 25)}-${pad(intBetween(rng, 1, 12))}-${pad(intBetween(rng, 1, 28))}`;
  const time = `${pad(intBetween(rng, 0, 23))}:${pad(intBetween(rng, 0, 59))}:${pad(intBetween(rng, 0, 59))}`;
  const hex = (n: number) => Array.from({ length: n }, () => intBetween(rng, 0, 15).toString(16)).join('');
  switch (format) {
    case 'date':
      return date;
    case 'date-time':
      return `${date}T${time}Z`;
    case 'time':
      return `${time}Z`;
    case 'email':
      return `${pick(rng, WORDS)}@example.org`;
    case 'uri':
    case 'url':
      return `https://example.org/${pick(rng, WORDS)}`;
    case 'uuid':
      return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    default:
      return undefined;
  }
}

function numberValue(s: Schema, integer: boolean, rng: Rng): number {
  const exMin = num(s.exclusiveMinimum);
  const exMax = num(s.exclusiveMaximum);
  const step = integer ? 1 : 0.01;
  let lo = num(s.minimum) ?? (exMin !== undefined ? exMin + step : undefined);
  let hi = num(s.maximum) ?? (exMax !== undefined ? exMax - step : undefined);
  if (exMin !== undefined && lo !== undefined && lo <= exMin) lo = exMin + step;
  if (exMax !== undefined && hi !== undefined && hi >= exMax) hi = exMax - step;
  lo ??= hi !== undefined ? Math.min(0, hi) - 100 : 0;
  hi ??= Math.max(lo, 0) + 100;
  if (integer) {
    lo = Math.ceil(lo);
    hi = Math.floor(hi);
  }
  const m = num(s.multipleOf);
  if (m !== undefined && m > 0) {
    const kLo = Math.ceil(lo / m);
    const kHi = Math.floor(hi / m);
    const start = intBetween(rng, kLo, kHi);
    // x / m must be an exact integer in floating point (how ajv checks multipleOf).
    for (let i = 0; i <= kHi - kLo && i < 1000; i++) {
      const k = kLo + ((start - kLo + i) % (kHi - kLo + 1));
      const decimals = Math.min(15, (String(m).split('.')[1] ?? '').length);
      for (const x of [k * m, Number((k * m).toFixed(decimals))]) {
        if (x >= lo && x <= hi && Number.isInteger(x / m) && (!integer || Number.isInteger(x))) return x;
      }
    }
    return kLo <= 0 && kHi >= 0 ? 0 : kLo * m;
  }
  if (integer) return intBetween(rng, lo, hi);
  return Math.min(hi, Math.max(lo, Math.round((lo + rng() * (hi - lo)) * 100) / 100));
}

function arrayValue(s: Schema, root: Schema, rng: Rng, depth: number): JsonValue[] {
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
  const itemSchema: JsonValue | undefined = Array.isArray(s.items) ? s.additionalItems : s.items;
  const minItems = Math.max(num(s.minItems) ?? 0, 0);
  const maxItems = num(s.maxItems) ?? Number.POSITIVE_INFINITY;
  let count = Math.min(intBetween(rng, minItems, Math.max(minItems, 2)), maxItems);
  if (itemSchema === false) count = Math.min(count, prefix.length);
  if (depth >= MAX_DEPTH) count = Math.min(count, minItems);
  const out: JsonValue[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < count && i < count * 20; i++) {
    const sub = out.length < prefix.length ? prefix[out.length] : itemSchema;
    const v = generate(sub ?? {}, root, rng, depth + 1);
    if (s.uniqueItems === true) {
      const key = JSON.stringify(v);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(v);
  }
  return out;
}

function objectValue(s: Schema, root: Schema, rng: Rng, depth: number): { [k: string]: JsonValue } {
  const props = isSchema(s.properties) ? s.properties : {};
  const required = Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : [];
  const out: { [k: string]: JsonValue } = {};
  const keys = depth >= MAX_DEPTH ? required : [...new Set([...required, ...Object.keys(props)])];
  for (const k of keys) out[k] = generate(props[k] ?? {}, root, rng, depth + 1);
  return out;
}

function generate(schemaIn: JsonValue, root: Schema, rng: Rng, depth: number): JsonValue {
  if (schemaIn === true || !isSchema(schemaIn)) return pick(rng, WORDS);
  let s = mergeAllOf(schemaIn);
  if (typeof s.$ref === 'string') {
    const target = depth < MAX_DEPTH ? resolveRef(root, s.$ref) : undefined;
    if (target) s = mergeAllOf({ ...target, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) });
  }
  if ('const' in s) return s.const ?? null;
  if (Array.isArray(s.enum) && s.enum.length > 0) return pick(rng, s.enum);
  for (const k of ['anyOf', 'oneOf'] as const) {
    const branches = s[k];
    if (Array.isArray(branches) && branches.length > 0) {
      const rest: Schema = Object.fromEntries(Object.entries(s).filter(([key]) => key !== k));
      const first = branches[0];
      return generate(isSchema(first) ? { ...rest, ...first } : (first ?? {}), root, rng, depth);
    }
  }
  switch (inferType(s)) {
    case 'object':
      return objectValue(s, root, rng, depth);
    case 'array':
      return arrayValue(s, root, rng, depth);
    case 'integer':
      return numberValue(s, true, rng);
    case 'number':
      return numberValue(s, false, rng);
    case 'boolean':
      return rng() < 0.5;
    case 'null':
      return null;
    default: {
      const minLength = Math.max(num(s.minLength) ?? 1, 0);
      const maxLength = Math.max(num(s.maxLength) ?? Math.max(minLength, 40), minLength);
      const f = typeof s.format === 'string' ? formatted(s.format, rng) : undefined;
      return f !== undefined && f.length >= minLength && f.length <= maxLength ? f : text(rng, minLength, maxLength);
    }
  }
}

/** A value valid under `schema` (for the supported keywords), fully determined by `rng`'s seed. */
export function valueForSchema(schema: { [k: string]: JsonValue }, rng: Rng): JsonValue {
  return generate(schema, schema, rng, 0);
}
