/**
 * generate.run: local generation (text, or JSON valid under a schema) as a `generate-local` job in
 * the engine's queue; its text streams as `generate.token` events and the call answers with the
 * job's final record. The runner is registered in the queue (`generateRunners`), so `jobs.retry`
 * and `jobs.resume` re-run such jobs.
 */
import { GENERATE_LOCAL_KIND, generateJobRunner, type GenerateLocalParams } from '../../generate/generate-job.js';
import type { GenerateClient } from '../../generate/index.js';
import type { JobRunFn } from '../../jobs/job-queue.js';
import type { ApiEventEmitter } from '../api-events.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';

/** The runners of this area, by kind: the generation worker is started when a job needs it. */
export function generateRunners(generateClient: () => GenerateClient, events: ApiEventEmitter): { [GENERATE_LOCAL_KIND]: JobRunFn<typeof GENERATE_LOCAL_KIND> } {
  return { [GENERATE_LOCAL_KIND]: (run) => generateJobRunner(generateClient(), (jobId, text) => events.emit('generate.token', { jobId, text }))(run) };
}

export function generateHandlers(ctx: EngineContext): HandlersOf<MethodsOf<'generate.'>> {
  const { queue, jobs, events } = ctx;
  return {
    'generate.run': async (input) => {
      const { model, prompt, device, allowFallback, schema, schemaFile, ...options } = input;
      // The params as the CLI always recorded them (model, prompt, device, fallback, schema, options).
      const params: GenerateLocalParams & { schema?: object } = { model, prompt, device, allowFallback, ...(schema ? { schema, ...(schemaFile ? { schemaFile } : {}) } : {}), ...options };
      const handle = queue.submit(
        { kind: GENERATE_LOCAL_KIND, backend: 'local', params, input: { prompt, schema: schema ?? null } },
        jobs.observed(() => generateJobRunner(ctx.generateClient(), (jobId, text) => events.emit('generate.token', { jobId, text }))),
      );
      jobs.track(handle);
      jobs.publish(handle.id);
      return { job: jobs.shown(await handle.done) };
    },
  };
}
