import { TandemError } from '../common/errors.js';
import { addonPaths, loadAddon, type AddonState } from './native-addon.js';

/**
 * Float32 vectors as JSON text lines: row i is heads[i] + its values joined by ',' + tails[i] +
 * '\n'. The native addon (native/addons/src/tandem_io.cc) writes each value as the shortest decimal
 * that reads back as the same float32, about 2x faster than JSON.stringify and about 40% fewer
 * bytes; without the addon, JavaScript prints the float32 as a double (more digits, the very same
 * float32 values when read back). NaN or Infinity (no JSON form) is an INTERNAL error: the engine
 * fails a job with such a vector before it gets here.
 */
export type F32RowsFormatter = (vectors: Float32Array, dims: number, heads: readonly string[], tails: readonly string[]) => string | Buffer;

interface IoAddon {
  formatF32Rows(vectors: Float32Array, dims: number, heads: readonly string[], tails: readonly string[]): Buffer;
}

export const jsF32Rows: F32RowsFormatter = (vectors, dims, heads, tails) => {
  const parts: string[] = new Array(heads.length);
  for (let i = 0; i < heads.length; i++) {
    const row = vectors.subarray(i * dims, (i + 1) * dims);
    for (const x of row) if (!Number.isFinite(x)) throw new TandemError('INTERNAL', `row ${i} holds ${x}, which JSON cannot hold`);
    parts[i] = heads[i]! + row.join(',') + tails[i]! + '\n';
  }
  return parts.join('');
};

let state: AddonState<IoAddon> | undefined;

/** The native formatter when its addon loads (TANDEM_IO_ADDON overrides where it is looked for), else JavaScript. */
export function f32RowsFormatter(): { format: F32RowsFormatter; native: boolean; error?: string } {
  state ??= loadAddon(addonPaths('tandem_io.node', process.env.TANDEM_IO_ADDON), (m): m is IoAddon => typeof (m as IoAddon).formatF32Rows === 'function', 'tandem_io');
  if (!('addon' in state)) return { format: jsF32Rows, native: false, error: state.error };
  const addon = state.addon;
  return {
    native: true,
    format: (vectors, dims, heads, tails) => {
      try {
        return addon.formatF32Rows(vectors, dims, heads, tails);
      } catch (e) {
        throw new TandemError('INTERNAL', `cannot write the vectors as text: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}
