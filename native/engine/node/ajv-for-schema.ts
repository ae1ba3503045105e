import type * as AjvDraft7 from 'ajv';
import type * as Ajv2019 from 'ajv/dist/2019.js';
import type * as Ajv2020 from 'ajv/dist/2020.js';
import type { Options } from 'ajv';
import { lazyModule } from './lazy-module.js';

const draft7 = lazyModule<typeof AjvDraft7>('ajv');
const v2019 = lazyModule<typeof Ajv2019>('ajv/dist/2019.js');
const v2020 = lazyModule<typeof Ajv2020>('ajv/dist/2020.js');
/** ajv-draft-04: an Ajv subclass with the draft-04 vocabulary and meta-schema (its module is the class). */
const draft4 = lazyModule<{ default: new (opts: Options) => Pick<AjvDraft7.Ajv, 'compile'> }>('ajv-draft-04');
const draft6Meta = lazyModule<object>('ajv/dist/refs/json-schema-draft-06.json');

/** The JSON Schema dialects told apart by `$schema`. */
export type Dialect = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

/** Keywords that exist only from 2019-09 on: a schema with no `$schema` that uses one is read as 2020-12. */
const MODERN = /"(prefixItems|\$defs|\$anchor|\$dynamicRef|\$dynamicAnchor|dependentRequired|dependentSchemas|unevaluatedProperties|unevaluatedItems|minContains|maxContains)"\s*:/;

/**
 * The dialect a schema declares with `$schema` (draft-04, -06, -07, 2019-09, 2020-12). Without one
 * (or with one not recognised): draft-07, or 2020-12 when the schema uses a keyword that only
 * exists from 2019-09 on. `declared` says whether `$schema` named a known dialect.
 */
export function schemaDialect(schema: unknown): { dialect: Dialect; declared: boolean } {
  const raw = (schema as { $schema?: unknown } | null)?.$schema;
  const s = typeof raw === 'string' ? raw : '';
  const m = /^https?:\/\/json-schema\.org\/(draft-0?4|draft-0?6|draft-0?7|draft\/2019-09|draft\/2020-12)\/schema#?$/.exec(s.trim());
  if (m) {
    const d = m[1]!.replace('draft/', '').replace('draft-0', 'draft-').replace('draft-', 'draft-0') as Dialect;
    return { dialect: d, declared: true };
  }
  let modern = false;
  try {
    modern = MODERN.test(JSON.stringify(schema) ?? '');
  } catch {
    modern = false;
  }
  return { dialect: modern ? '2020-12' : 'draft-07', declared: false };
}

type Compiler = Pick<AjvDraft7.Ajv, 'compile'>;
type Checker = Pick<AjvDraft7.Ajv, 'validateSchema' | 'errorsText' | 'errors'>;

/**
 * A new ajv 8 instance of a dialect. From draft-06 on, `id` is not a keyword (draft-04's `$id`): the
 * specification ignores unknown keywords, but ajv 8 throws 'NOT SUPPORTED: keyword "id"' on it (Nx
 * and Angular option schemas still carry one), so the keyword is removed and ajv ignores it too.
 */
function newAjv(dialect: Dialect, opts: Options): Compiler & Checker {
  switch (dialect) {
    case 'draft-04':
      return new (draft4().default)(opts) as unknown as Compiler & Checker;
    case 'draft-06': {
      const a = new (draft7().Ajv)(opts).removeKeyword('id');
      a.addMetaSchema(draft6Meta());
      return a;
    }
    case '2019-09':
      return new (v2019().Ajv2019)(opts).removeKeyword('id');
    case '2020-12':
      return new (v2020().Ajv2020)(opts).removeKeyword('id');
    default:
      return new (draft7().Ajv)(opts).removeKeyword('id');
  }
}

/**
 * One instance per dialect and options that only checks schemas against the dialect's meta-schema
 * (ajv compiles a meta-schema once per instance: checking with a fresh instance cost most of a
 * schema's compile time, ~6 of 7 ms at the median of the JSON Schema Test Suite). It holds no user
 * schema: `validateSchema` adds nothing to it.
 */
const checkers = new Map<string, Checker>();

function metaCheck(dialect: Dialect, opts: Options, schema: unknown): void {
  const key = `${dialect}|${JSON.stringify(opts)}`;
  let c = checkers.get(key);
  if (!c) checkers.set(key, (c = newAjv(dialect, opts)));
  // Same outcome and message as ajv's own check inside compile (validateSchema: true).
  if (!(c.validateSchema(schema as object) as boolean)) throw new Error(`schema is invalid: ${c.errorsText(c.errors)}`);
}

/**
 * An ajv 8 compiler for the schema's dialect (`schemaDialect`), loaded on first use: ajv-draft-04
 * for draft-04, ajv with the draft-06 meta-schema for draft-06, Ajv2019, Ajv2020, else ajv (draft-07).
 * A `$schema` naming no known dialect is not looked up (ajv would fail with "no schema with key or
 * ref"): `forAjv(schema)` is compiled instead of the schema itself. The schema is checked against the
 * meta-schema by a shared instance, then compiled by a fresh one (schemas' `$id`s never meet).
 */
export function ajvForSchema(schema: unknown, opts: Options): Compiler {
  const { dialect } = schemaDialect(schema);
  return {
    compile: ((s: unknown) => {
      const target = forAjv(s) as object;
      if (opts.validateSchema !== false) metaCheck(dialect, opts, target);
      return newAjv(dialect, { ...opts, validateSchema: false }).compile(target);
    }) as AjvDraft7.Ajv['compile'],
  };
}

/** The schema without a root `$schema` that names no known dialect (so ajv uses its own). */
export function forAjv(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema) || !('$schema' in schema) || schemaDialect(schema).declared) return schema;
  const { $schema: _drop, ...rest } = schema as Record<string, unknown>;
  return rest;
}
