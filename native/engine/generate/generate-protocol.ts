import type { GenerateRequest, GenerateResult } from './generate-engine.js';

/** What a preload reports: the model is in memory, on this device. */
export interface PreloadResult {
  model: string;
  variant: GenerateResult['variant'];
  device: GenerateResult['device'];
  loadMs: number;
}

/** The generation worker's methods (generate-service.ts serves them in generate-worker.ts; GenerateClient calls them). */
export interface GenerateWorkerApi {
  /** Generate for one or more prompts; with `stream`, a `text` event per piece as it is generated. */
  generate(input: { request: GenerateRequest; stream: boolean }): Promise<GenerateResult>;
  /** Load a model ahead of the first request. */
  preload(request: Omit<GenerateRequest, 'prompts'>): Promise<PreloadResult>;
}

/** Progress events of a `generate` call. */
export interface GenerateWorkerEvents {
  text: { row: number; text: string };
}
