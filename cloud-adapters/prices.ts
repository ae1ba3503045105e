import { TandemError } from '../native/engine/common/errors.js';
import type { BackendId, CostEstimate, FunctionCapability, GpuSpec, PriceTable } from './contract.js';

/**
 * USD per GPU-hour by backend and GPU type (../shared/cloud-protocol.md, "Prices"). Editable in
 * settings: the job layer merges the user's table over this one.
 */
export const DEFAULT_PRICES: PriceTable = {
  modal: { A10G: 1.1, L4: 0.8, 'A100-40GB': 3.67, 'A100-80GB': 4.0, H100: 3.95 },
  'cloud-run': { L4: 0.65 },
};

/** The rate for one GPU type on one backend, or INVALID_ARGUMENT naming the missing price. */
export function ratePerGpuHour(gpu: GpuSpec, prices: PriceTable, backend: BackendId): number {
  const rate = prices[backend]?.[gpu.type];
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
    throw new TandemError('INVALID_ARGUMENT', `no price for ${gpu.type} on ${backend}: add prices.${backend}["${gpu.type}"] (USD per GPU-hour) to the cloud settings`, {
      data: { backend, gpu: gpu.type },
    });
  }
  return rate;
}

/** Cost of holding `gpu` (count GPUs) for `gpuSeconds` of wall time: seconds x count x rate / 3600. */
export function costUsd(gpu: GpuSpec, gpuSeconds: number, prices: PriceTable, backend: BackendId): number {
  if (!Number.isFinite(gpuSeconds) || gpuSeconds < 0) throw new TandemError('INVALID_ARGUMENT', `gpuSeconds must be a finite number >= 0, got ${gpuSeconds}`);
  return (gpuSeconds * gpu.count * ratePerGpuHour(gpu, prices, backend)) / 3600;
}

function fmtSeconds(s: number): string {
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}

/**
 * An estimate for `units` units of work on one function: typicalGpuS x units, plus the function's
 * cold start when `coldStart` is true. The basis reads e.g. "2 x H100 x (12 s + 420 s cold start) x $3.95/h".
 */
export function estimateCost(fn: FunctionCapability, units: number, coldStart: boolean, prices: PriceTable, backend: BackendId): CostEstimate {
  if (!Number.isFinite(units) || units < 0) throw new TandemError('INVALID_ARGUMENT', `units must be a finite number >= 0, got ${units}`);
  const work = fn.typicalGpuS * units;
  const gpuSeconds = work + (coldStart ? fn.coldStartS : 0);
  const rate = ratePerGpuHour(fn.gpu, prices, backend);
  const perUnit = units === 1 ? '' : ` (${units} x ${fmtSeconds(fn.typicalGpuS)})`;
  const time = coldStart ? `(${fmtSeconds(work)}${perUnit} + ${fmtSeconds(fn.coldStartS)} cold start)` : `${fmtSeconds(work)}${perUnit}`;
  return {
    usd: (gpuSeconds * fn.gpu.count * rate) / 3600,
    gpu: { ...fn.gpu },
    gpuSeconds,
    ratePerGpuHour: rate,
    basis: `${fn.gpu.count} x ${fn.gpu.type} x ${time} x $${rate.toFixed(2)}/h (${backend} ${fn.name})`,
  };
}
