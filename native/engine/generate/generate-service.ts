import { TandemError, toWire } from '../common/errors.js';
import type { GenerateEngine } from './generate-engine.js';
import type { GenerateHostMessage, GeneratePort } from './generate-protocol.js';

/**
 * Serve a GenerateEngine over a port: one job at a time (a session already uses every core),
 * FIFO; streamed text per token; cancel for queued and running jobs (checked between steps).
 */
export function serveGenerateEngine(port: GeneratePort, engine: GenerateEngine, onShutdown: () => void = () => {}): void {
  const controllers = new Map<number, AbortController>();
  let chain: Promise<void> = Promise.resolve();

  port.onMessage((msg: GenerateHostMessage) => {
    if (msg.type === 'cancel') {
      const c = controllers.get(msg.jobId) ?? new AbortController();
      controllers.set(msg.jobId, c);
      c.abort();
      return;
    }
    if (msg.type === 'shutdown') {
      chain = chain.then(async () => {
        await engine.dispose();
        onShutdown();
      });
      return;
    }
    const { jobId } = msg;
    if (!controllers.has(jobId)) controllers.set(jobId, new AbortController());
    chain = chain.then(async () => {
      const ctl = controllers.get(jobId)!;
      try {
        if (ctl.signal.aborted) throw new TandemError('CANCELLED', 'generation cancelled');
        if (msg.type === 'preload') {
          const { gen, loadMs } = await engine.preload(msg.request);
          port.post({ type: 'preloaded', jobId, result: { model: gen.id, variant: gen.variant, device: gen.lm.device, loadMs } });
          return;
        }
        const result = await engine.generate(msg.request, {
          signal: ctl.signal,
          ...(msg.stream ? { onText: (row: number, text: string) => port.post({ type: 'text', jobId, row, text }) } : {}),
        });
        port.post({ type: 'result', jobId, result });
      } catch (e) {
        port.post({ type: 'error', jobId, error: toWire(e) });
      } finally {
        controllers.delete(jobId);
      }
    });
  });
}
