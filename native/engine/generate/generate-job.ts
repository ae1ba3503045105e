/**
 * `generate-local` jobs: one prompt through the local generation worker (GenerateClient). Streamed
 * text goes to `onText`; a row error (e.g. `truncated`) fails the job with its code.
 */
import { TandemError, type JsonValue } from '../common/errors.js';
import type { JobParams, JobResultInput } from '../common/job-kinds.js';
import type { LocalJobRun } from '../inference/run-onnx-job.js';
import type { GenerateClient, GenerateRequest } from './index.js';

export const GENERATE_LOCAL_KIND = 'generate-local';

/** The params of a `generate-local` job: the request, enough to run it again (`tandem jobs retry`). */
export type GenerateLocalParams = Omit<GenerateRequest, 'prompts' | 'useCache'> & { prompt: string; schemaFile?: string };

export function generateJobRunner(client: GenerateClient, onText?: (jobId: string, text: string) => void): (run: LocalJobRun<JobParams<'generate-local'>>) => Promise<JobResultInput<'generate-local'>> {
  return async (run) => {
    // model and prompt checked by the kind's schema (common/job-kinds.ts); the rest are the request's options
    const { prompt, schemaFile: _schemaFile, ...options } = run.job.params;
    const request: GenerateRequest = { ...options, prompts: [prompt] };
    const r = await client.generate(request, { signal: run.signal, ...(onText ? { onText: (_row: number, t: string) => onText(run.job.id, t) } : {}) });
    run.setDevice(r.device.used);
    run.setTimings({ loadMs: r.loadMs, inferenceMs: r.inferenceMs });
    if (r.device.fallbackReason) run.note(`device ${r.device.used}: ${r.device.fallbackReason}`);
    const o = r.outputs[0]!;
    if (o.error) throw new TandemError(o.error.code, o.error.message, o.error.data ? { data: o.error.data } : {});
    return {
      text: o.text,
      output: (o.output ?? null) as JsonValue,
      finishReason: o.finishReason,
      ...(o.budgetForcedClose ? { budgetForcedClose: true } : {}),
      ...(r.checkedAfter ? { checkedAfter: r.checkedAfter } : {}),
      ...(r.narrowed ? { narrowed: r.narrowed } : {}),
      usage: { promptTokens: o.promptTokens, completionTokens: o.completionTokens },
      model: r.model,
      variant: r.variant,
      device: { ...r.device },
      seed: r.seed,
      timings: { loadMs: r.loadMs, prefillMs: r.prefillMs, inferenceMs: r.inferenceMs, ...(r.grammarMs !== undefined ? { grammarMs: r.grammarMs } : {}) },
    };
  };
}
