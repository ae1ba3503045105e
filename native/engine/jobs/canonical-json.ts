import { createHash } from 'node:crypto';
import { TandemError, type JsonValue } from '../common/errors.js';
import type { JsonObject } from './job-types.js';

/**
 * Check that `value` is plain JSON (null, booleans, finite numbers, strings, arrays, plain
 * objects) and return it typed. Anything else (undefined, NaN, Date, Map, class instances,
 * cycles) is an INVALID_ARGUMENT naming where it was found.
 */
export function assertJson(value: unknown, what: string): JsonValue {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TandemError('INVALID_ARGUMENT', `${what}: ${at} is ${v}, which JSON cannot hold`);
      return;
    }
    if (typeof v !== 'object') throw new TandemError('INVALID_ARGUMENT', `${what}: ${at} is a ${typeof v}, which JSON cannot hold`);
    if (seen.has(v)) throw new TandemError('INVALID_ARGUMENT', `${what}: ${at} refers back to itself`);
    seen.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new TandemError('INVALID_ARGUMENT', `${what}: ${at} is not a plain object`);
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) throw new TandemError('INVALID_ARGUMENT', `${what}: ${at}.${k} is undefined`);
        walk(x, `${at}.${k}`);
      }
    }
    seen.delete(v);
  };
  walk(value, '$');
  return value as JsonValue;
}

export function assertJsonObject(value: unknown, what: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TandemError('INVALID_ARGUMENT', `${what} must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  return assertJson(value, what) as JsonObject;
}

/** JSON with object keys sorted (by UTF-16 code units) and no whitespace: equal values, equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}

/** sha256 (lowercase hex) of the canonical JSON of `input`. */
export function inputDigest(input: unknown): string {
  const json = assertJson(input, 'job input');
  return createHash('sha256').update(canonicalJson(json), 'utf8').digest('hex');
}
