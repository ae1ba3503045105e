/** The app part of the typed API (merged into API_METHODS in ../api-contract.ts): app.info: what the engine is and where it keeps its data; app.doctor: versions, providers, GPU status and models on disk. Pure zod. */
import { z } from 'zod';
import { deviceInfoSchema, empty } from './shapes.js';

const webGpuAdapterSchema = z.object({ name: z.string(), backend: z.string(), software: z.boolean(), type: z.string().optional() });

/** `tandem doctor`: what this machine offers for inference and what `--device auto` runs on. */
export const doctorReportSchema = z.object({
  node: z.string(),
  platform: z.string(),
  cpus: z.object({ logical: z.number(), physical: z.number() }),
  memoryGiB: z.number(),
  onnxruntime: z.string(),
  providers: z.array(z.object({ name: z.string(), bundled: z.boolean() })),
  accelerator: z.object({ name: z.string().nullable(), usable: z.boolean(), reason: z.string().nullable() }),
  gpu: z.object({ nvidiaDevice: z.boolean(), cudaProviderLib: z.boolean(), cudaRuntimeLibs: z.array(z.string()), notes: z.array(z.string()) }),
  /** WebGPU adapters found by the probe (software ones included; auto uses only hardware ones). */
  webgpu: z.object({ adapters: z.array(webGpuAdapterSchema), reason: z.string().optional(), ms: z.number().optional() }),
  /** What `--device auto` runs on here, and why the providers before it are skipped. */
  auto: z.object({ used: z.string(), adapter: z.string().nullable(), skipped: z.array(z.string()) }),
  tandemHome: z.string(),
  modelDirs: z.array(z.string()),
  /** Where the built-in models are (always searched last). */
  builtinDir: z.string(),
  models: z.array(z.object({ id: z.string(), dir: z.string(), variants: z.array(z.string()), builtin: z.boolean() })),
});
export type ApiDoctorReport = z.infer<typeof doctorReportSchema>;

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
  /** Versions, execution providers, GPU/CUDA and WebGPU status, and the models on disk (`tandem doctor`). */
  'app.doctor': {
    input: empty,
    output: doctorReportSchema,
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
