/**
 * Local generation (issue 6): decoder-only ONNX models with a KV cache, streaming, seeded sampling,
 * chat templates and JSON-Schema-constrained decoding, run in a worker. The cloud layer calls the
 * `LocalGenerator` made by `createLocalGenerator` as its offline / fallback backend.
 */
import { fromWire } from '../common/errors.js';
import type { DeviceRequest } from '../inference/device.js';
import type { Variant } from '../models/catalog.js';
import { GenerateClient } from './generate-client.js';
import type { FinishReason } from './generate-loop.js';

export { GenerateClient, type GenerateCallOptions } from './generate-client.js';
export { GenerateEngine, DEFAULT_MAX_TOKENS, type GenerateRequest, type GenerateResult, type GenerateOutput } from './generate-engine.js';
export type { FinishReason } from './generate-loop.js';

export interface LocalGenerateRequest {
  model: string;
  prompt: string;
  schema?: object;
  /** Decode keywords the grammar cannot enforce without them; the output is checked against the schema anyway. */
  lenient?: boolean;
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

export interface LocalGenerateResult {
  text: string;
  /** The parsed JSON, validated against `schema` (null without a schema). */
  output: unknown | null;
  usage: { promptTokens: number; completionTokens: number };
  /** The execution provider used: cpu, cuda, dml, coreml. */
  device: string;
  model: string;
  loadMs: number;
  inferenceMs: number;
  /** Why an accelerator was not used, when one was wanted. */
  deviceReason?: string;
  finishReason?: FinishReason;
  /** The seed used (drawn at random when the request had none). */
  seed?: number;
}

/**
 * Generate locally for one prompt. Errors are TandemErrors: `INVALID_INPUT` with a message
 * starting "truncated:" (and `data.reason = 'truncated'`) when max tokens ran out before the JSON
 * value was complete; `CANCELLED` when the signal fired; `MODEL_NOT_FOUND` when the model is not
 * on disk.
 */
export type LocalGenerator = (
  req: LocalGenerateRequest,
  opts: { signal: AbortSignal; onToken?: (text: string) => void },
) => Promise<LocalGenerateResult>;

export interface LocalGeneratorDefaults {
  variant?: Variant;
  device?: DeviceRequest;
  allowFallback?: boolean;
  threads?: number;
}

/** A LocalGenerator over a GenerateClient (its worker keeps the model loaded between calls). */
export function createLocalGenerator(client: GenerateClient, defaults: LocalGeneratorDefaults = {}): LocalGenerator {
  return async (req, opts) => {
    const r = await client.generate(
      {
        ...defaults,
        model: req.model,
        prompts: [req.prompt],
        ...(req.schema !== undefined ? { schema: req.schema } : {}),
        ...(req.lenient ? { lenient: true } : {}),
        ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.topK !== undefined ? { topK: req.topK } : {}),
        ...(req.topP !== undefined ? { topP: req.topP } : {}),
        ...(req.seed !== undefined ? { seed: req.seed } : {}),
        ...(req.stop !== undefined ? { stop: req.stop } : {}),
      },
      { signal: opts.signal, ...(opts.onToken ? { onText: (_row: number, text: string) => opts.onToken!(text) } : {}) },
    );
    const o = r.outputs[0]!;
    if (o.error) throw fromWire(o.error);
    const res: LocalGenerateResult = {
      text: o.text,
      output: o.output ?? null,
      usage: { promptTokens: o.promptTokens, completionTokens: o.completionTokens },
      device: r.device.used,
      model: r.model,
      loadMs: r.loadMs,
      inferenceMs: r.inferenceMs,
      finishReason: o.finishReason,
      seed: r.seed,
    };
    if (r.device.fallbackReason) res.deviceReason = r.device.fallbackReason;
    return res;
  };
}
