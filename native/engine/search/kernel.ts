/**
 * The scan kernels: the native addon (native/addons, AVX2 or portable scalar C++) when it is built
 * and loads, else pure JS. Every kernel has the same contract:
 *
 *   scanF32(db, dims, queries, nq, start, end, k, outRows, outScores, mask) -> filled
 *   scanI8(db, scales, dims, queries, nq, start, end, k, outRows, outScores, mask) -> filled
 *   quantizeI8(src, dims, start, end, outI8, outScales)
 *
 * db holds rows x dims values row-major; rows [start, end) are scanned; for query q the best k
 * rows go to outRows/outScores[q*k .. q*k+k) best first (ties: lower row first), unused slots get
 * row -1 / score -Infinity; `filled` = slots used per query. mask: Uint8Array indexed by row,
 * 0 = skip (null = all). scanI8 scores are dot(q8, v8) * scales[row] (candidates only).
 *
 * Environment: TANDEM_SEARCH_KERNEL=js|native-scalar|native-avx2 forces a kernel (a native one
 * falls back to JS when the addon is missing); TANDEM_SEARCH_ADDON=/path/tandem_search.node
 * overrides where the addon is looked for.
 */
import { addonPaths, loadAddon, type AddonState } from '../node/native-addon.js';
import * as js from './js-kernel.js';

export type KernelName = 'native-avx2' | 'native-scalar' | 'js';

export interface ScanKernel {
  readonly name: KernelName;
  scanF32(
    db: Float32Array,
    dims: number,
    queries: Float32Array,
    nq: number,
    start: number,
    end: number,
    k: number,
    outRows: Int32Array,
    outScores: Float32Array,
    mask: Uint8Array | null,
  ): number;
  scanI8(
    db: Int8Array,
    scales: Float32Array,
    dims: number,
    queries: Int8Array,
    nq: number,
    start: number,
    end: number,
    k: number,
    outRows: Int32Array,
    outScores: Float32Array,
    mask: Uint8Array | null,
  ): number;
  quantizeI8(src: Float32Array, dims: number, start: number, end: number, out: Int8Array, scales: Float32Array): void;
}

interface Addon {
  kernel(): 'avx2' | 'scalar';
  scanF32(...args: [Float32Array, number, Float32Array, number, number, number, number, Int32Array, Float32Array, Uint8Array | null, boolean]): number;
  scanI8(
    ...args: [Int8Array, Float32Array, number, Int8Array, number, number, number, number, Int32Array, Float32Array, Uint8Array | null, boolean]
  ): number;
  quantizeI8(src: Float32Array, dims: number, start: number, end: number, out: Int8Array, scales: Float32Array, simd: boolean): void;
}

export const jsKernel: ScanKernel = {
  name: 'js',
  scanF32: js.scanF32,
  scanI8: js.scanI8,
  quantizeI8: js.quantizeI8,
};

/** Where the addon may be (TANDEM_SEARCH_ADDON first). */
export function addonCandidates(): string[] {
  return addonPaths('tandem_search.node', process.env.TANDEM_SEARCH_ADDON);
}

let addonState: AddonState<Addon> | undefined;

function loadSearchAddon(): AddonState<Addon> {
  addonState ??= loadAddon(addonCandidates(), (m): m is Addon => typeof (m as Addon).scanI8 === 'function' && typeof (m as Addon).kernel === 'function', 'tandem_search');
  return addonState;
}

function nativeKernel(addon: Addon, simd: boolean): ScanKernel {
  return {
    name: simd && addon.kernel() === 'avx2' ? 'native-avx2' : 'native-scalar',
    scanF32: (db, dims, q, nq, s, e, k, r, sc, m) => addon.scanF32(db, dims, q, nq, s, e, k, r, sc, m, simd),
    scanI8: (db, scales, dims, q, nq, s, e, k, r, sc, m) => addon.scanI8(db, scales, dims, q, nq, s, e, k, r, sc, m, simd),
    quantizeI8: (src, dims, s, e, out, scales) => addon.quantizeI8(src, dims, s, e, out, scales, simd),
  };
}

/** Why the addon is not in use ('' when it is). */
export function addonStatus(): { loaded: boolean; path?: string; error?: string } {
  const st = loadSearchAddon();
  return 'addon' in st ? { loaded: true, path: st.path } : { loaded: false, error: st.error };
}

/**
 * The kernel to use. 'auto' (default): TANDEM_SEARCH_KERNEL if set, else the best native kernel,
 * else JS. Asking for a native kernel when the addon is not available gives the JS kernel.
 */
export function selectKernel(prefer: KernelName | 'auto' = 'auto'): ScanKernel {
  let want = prefer;
  if (want === 'auto') {
    const env = process.env.TANDEM_SEARCH_KERNEL;
    if (env === 'js' || env === 'native-scalar' || env === 'native-avx2') want = env;
  }
  if (want === 'js') return jsKernel;
  const st = loadSearchAddon();
  if (!('addon' in st)) return jsKernel;
  return nativeKernel(st.addon, want !== 'native-scalar');
}
