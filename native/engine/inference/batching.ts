import type { TandemError } from '../common/errors.js';
import { GPU_PROVIDERS } from './device.js';

/**
 * Length-bucketed dynamic batching: sort by token count, cut batches by a token budget
 * (rows x longest row, i.e. the padded tensor size), keep the map back to input order.
 */
export interface BatchPlan {
  /** Input indices of each batch, shortest first. */
  batches: number[][];
}

export interface BatchOptions {
  /** Max padded tokens (rows x longest) per batch. */
  tokenBudget: number;
  /** Max rows per batch. */
  maxRows: number;
}

export const DEFAULT_BATCH: BatchOptions = { tokenBudget: 512, maxRows: 256 };

/** On a GPU one session runs every batch: fewer, larger batches (padded tokens per batch). */
export const GPU_BATCH: BatchOptions = { tokenBudget: 8192, maxRows: 256 };

/** The batch shape for a provider: CPU runners take small batches in parallel, a GPU one large batch at a time. */
export function batchFor(used: string, batchTokens?: number): BatchOptions {
  const base = GPU_PROVIDERS.includes(used) ? GPU_BATCH : DEFAULT_BATCH;
  return { tokenBudget: batchTokens ?? base.tokenBudget, maxRows: base.maxRows };
}

export function planBatches(lengths: ArrayLike<number>, opts: BatchOptions = DEFAULT_BATCH): BatchPlan {
  const order = Array.from({ length: lengths.length }, (_, i) => i);
  order.sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const len = lengths[i]!;
    if (cur.length > 0 && ((cur.length + 1) * len > opts.tokenBudget || cur.length >= opts.maxRows)) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) batches.push(cur);
  return { batches };
}

/**
 * Run every batch of a plan with up to `concurrency` in flight (one lane per runner), taking
 * batches in plan order. `run` places its results itself; `progress` gets the rows done so far.
 * Before each batch `cancelled()` may stop the job; the first failure stops the other lanes from
 * taking more batches and is what this rejects with.
 */
export async function runBatches(
  plan: BatchPlan,
  concurrency: number,
  run: (batch: number[]) => Promise<void>,
  hooks: { cancelled?: () => TandemError | undefined; progress?: (done: number) => void } = {},
): Promise<void> {
  let done = 0;
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < plan.batches.length && !failed) {
      const stop = hooks.cancelled?.();
      if (stop) throw stop;
      const batch = plan.batches[next++]!;
      await run(batch);
      done += batch.length;
      hooks.progress?.(done);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, () =>
      lane().catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
}
