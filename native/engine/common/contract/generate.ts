/**
 * The local generation part of the typed API (merged into API_METHODS in ../api-contract.ts):
 * `generate.run` generates text (or schema-valid JSON) with a local model as a `generate-local`
 * job; its text streams as `generate.token` events and the call answers when the job ends. Pure zod.
 */
import { z } from 'zod';
import { DEVICE_REQUEST_VALUES } from './inference.js';
import { jobSchema, nonEmpty } from './shapes.js';

export const GENERATE_API_METHODS = {
  'generate.run': {
    input: z
      .object({
        model: nonEmpty,
        prompt: z.string(),
        /** A JSON Schema: the output is constrained to JSON valid under it. `schemaFile`: where it was read from (recorded). */
        schema: z.record(z.string(), z.unknown()).optional(),
        schemaFile: nonEmpty.optional(),
        /**
         * Decode a schema whose keywords the grammar cannot all enforce (oneOf branches it cannot tell apart,
         * uniqueItems of objects...) without them, and check them on the output. Default false: such a schema is
         * refused, naming the keyword and its JSON pointer. The result lists them (checkedAfter).
         */
        lenient: z.boolean().optional(),
        maxTokens: z.number().int().positive().optional(),
        temperature: z.number().nonnegative().optional(),
        topK: z.number().int().nonnegative().optional(),
        topP: z.number().gt(0).max(1).optional(),
        seed: z.number().int().nonnegative().optional(),
        stop: z.array(z.string()).optional(),
        /** false: the prompt as raw text, without the chat template. */
        chat: z.boolean().optional(),
        system: z.string().optional(),
        variant: z.enum(['fp32', 'int8', 'fp16']).optional(),
        device: z.enum(DEVICE_REQUEST_VALUES).default('auto'),
        allowFallback: z.boolean().default(true),
        threads: z.number().int().positive().optional(),
      })
      .strict()
      .refine((i) => i.lenient !== true || i.schema !== undefined, { message: 'lenient applies to a schema\'s keywords: give a schema too (tandem generate --schema FILE --lenient)', path: ['lenient'] }),
    /** The job's final record: its result holds text, output, usage, device, seed and timings. */
    output: z.object({ job: jobSchema }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
