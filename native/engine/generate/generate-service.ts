import { TandemError } from '../common/errors.js';
import type { RpcHandlers } from '../common/rpc.js';
import { oneAtATime } from '../node/worker-serve.js';
import type { GenerateEngine } from './generate-engine.js';
import type { GenerateWorkerApi, GenerateWorkerEvents } from './generate-protocol.js';

/**
 * GenerateWorkerApi over a GenerateEngine: one call at a time (a session already uses every core),
 * FIFO; streamed text per token; cancel for queued and running calls (checked between steps).
 * `drain` resolves when the calls made so far are done (the worker's shutdown waits for it).
 */
export function generateHandlers(engine: GenerateEngine): RpcHandlers<GenerateWorkerApi> & { drain(): Promise<void> } {
  return oneAtATime<GenerateWorkerApi>(
    {
      preload: async (request) => {
        const { gen, loadMs } = await engine.preload(request);
        return { model: gen.id, variant: gen.variant, device: gen.lm.device, loadMs };
      },
      generate: ({ request, stream }, ctx) =>
        engine.generate(request, {
          signal: ctx.signal,
          ...(stream ? { onText: (row: number, text: string) => ctx.emit('text', { row, text } satisfies GenerateWorkerEvents['text']) } : {}),
        }),
    },
    () => new TandemError('CANCELLED', 'generation cancelled'),
  );
}
