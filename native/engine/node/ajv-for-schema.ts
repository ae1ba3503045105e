import type * as AjvDraft7 from 'ajv';
import type * as Ajv2019 from 'ajv/dist/2019.js';
import type * as Ajv2020 from 'ajv/dist/2020.js';
import type { Options } from 'ajv';
import { lazyModule } from './lazy-module.js';

const draft7 = lazyModule<typeof AjvDraft7>('ajv');
const v2019 = lazyModule<typeof Ajv2019>('ajv/dist/2019.js');
const v2020 = lazyModule<typeof Ajv2020>('ajv/dist/2020.js');

/** An ajv 8 instance for the schema's dialect (`$schema` 2020-12, 2019-09, else draft-07), loaded on first use. */
export function ajvForSchema(schema: unknown, opts: Options): Pick<AjvDraft7.Ajv, 'compile'> {
  const declared = (schema as { $schema?: unknown } | null)?.$schema;
  const dialect = typeof declared === 'string' ? declared : '';
  if (dialect.includes('2020-12')) return new (v2020().Ajv2020)(opts);
  if (dialect.includes('2019-09')) return new (v2019().Ajv2019)(opts);
  return new (draft7().Ajv)(opts);
}
