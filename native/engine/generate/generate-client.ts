import { TandemError } from '../common/errors.js';
import { WorkerClient } from '../node/worker-client.js';
import type { GenerateRequest, GenerateResult } from './generate-engine.js';
import type { GenerateWorkerApi, GenerateWorkerEvents, PreloadResult } from './generate-protocol.js';

export interface GenerateCallOptions {
  signal?: AbortSignal;
  /** Streamed text of prompt `row` as it is generated. */
  onText?: (row: number, text: string) => void;
}

/**
 * Host side of the generation worker (engine/node/worker-client.ts): inference runs in a worker
 * thread, which keeps the loaded model (and its vocabulary index and compiled schemas) between
 * calls. Started on first use, restarted if it dies.
 */
export class GenerateClient {
  private readonly rpc: WorkerClient<GenerateWorkerApi>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.rpc = new WorkerClient<GenerateWorkerApi>({ entry: 'generate-worker', from: import.meta.url, noun: 'generation', cancelled: () => new TandemError('CANCELLED', 'generation cancelled') }, env);
  }

  /** Generate for one or more prompts; `onText` streams each prompt's text as it comes. */
  generate(request: GenerateRequest, opts: GenerateCallOptions = {}): Promise<GenerateResult> {
    const onText = opts.onText;
    return this.rpc.call(
      'generate',
      { request, stream: onText !== undefined },
      {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(onText
          ? {
              onEvent: (name: string, payload: unknown) => {
                if (name !== 'text') return;
                const t = payload as GenerateWorkerEvents['text'];
                onText(t.row, t.text);
              },
            }
          : {}),
      },
    );
  }

  /**
   * The same as `generate`, as an async iterator of streamed pieces; its return value is the result.
   * Breaking out of the loop cancels the generation.
   */
  async *stream(request: GenerateRequest, opts: { signal?: AbortSignal } = {}): AsyncGenerator<{ row: number; text: string }, GenerateResult> {
    const queue: Array<{ row: number; text: string }> = [];
    let wake: (() => void) | undefined;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) ac.abort();
    let settled = false;
    const done = this.generate(request, {
      signal: ac.signal,
      onText: (row, text) => {
        queue.push({ row, text });
        wake?.();
      },
    }).finally(() => {
      settled = true;
      wake?.();
    });
    done.catch(() => {}); // surfaced by the `await done` below
    try {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (settled) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      return await done;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!settled) ac.abort();
    }
  }

  /** Load a model ahead of the first request (the load is then not paid by a job). */
  preload(request: Omit<GenerateRequest, 'prompts'>, opts: GenerateCallOptions = {}): Promise<PreloadResult> {
    return this.rpc.call('preload', request, opts.signal ? { signal: opts.signal } : {});
  }

  /**
   * Stop the worker: running work is cancelled, the session released, the thread exits by itself
   * (terminating a thread while onnxruntime runs in it aborts the whole process). Forced after 10 s.
   */
  close(): Promise<void> {
    return this.rpc.close();
  }
}
