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
