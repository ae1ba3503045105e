/** The app part of the typed API (merged into API_METHODS in ../api-contract.ts): app.info: what the engine is and where it keeps its data. Pure zod. */
import { z } from 'zod';
import { deviceInfoSchema, empty } from './shapes.js';

export const APP_API_METHODS = {
  'app.info': {
    input: empty,
    output: z.object({
      version: z.string(),
      host: z.enum(['web', 'electron', 'cli', 'test']),
      dataDir: z.string(),
      modelDirs: z.array(z.string()),
      platform: z.string(),
      device: deviceInfoSchema,
      /** Whether `files.open` opens files on this machine (a desktop host) or only returns the path. */
      opensFiles: z.boolean(),
    }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
