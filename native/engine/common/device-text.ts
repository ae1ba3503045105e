/**
 * Device requests and the one-line texts hosts print about devices (`cpu — no NVIDIA GPU`,
 * `llvmpipe (vulkan, software)`). Pure: the engine's inference/device.ts re-exports them.
 */
export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

/** A one-line device description: `cpu`, `webgpu: llvmpipe (vulkan, software)`, or `cpu (cuda: why not)`. */
export function describeDevice(d: { used: string; fallbackReason?: string | undefined; adapter?: string | undefined }): string {
  const used = d.adapter ? `${d.used}: ${d.adapter}` : d.used;
  if (!d.fallbackReason) return used;
  const short = shortFallbackReason(d.fallbackReason);
  return short === d.fallbackReason ? `${used} (${d.fallbackReason})` : `${used} — ${short}`;
}

/**
 * A fallback reason in a few words for device lines: on a machine without an NVIDIA GPU, CPU is
 * simply the device ("cpu — no NVIDIA GPU"); why CUDA is absent in detail (provider libraries,
 * /dev/nvidia0, CUDA runtime) is `tandem doctor`'s job. Other reasons are kept whole.
 */
export function shortFallbackReason(reason: string): string {
  // One segment per provider skipped ("cuda: ...; webgpu: ..."); a segment may hold '; ' itself.
  const parts = reason.split(/; (?=(?:cuda|webgpu|dml|coreml): )/);
  const short = parts.map((p) => {
    if (/no NVIDIA GPU/.test(p)) return 'no NVIDIA GPU';
    // What auto found for WebGPU stays on the line: 'webgpu: only a software adapter (llvmpipe)'.
    const soft = /^(webgpu: only a software adapter \([^)]*\))/.exec(p);
    return soft ? soft[1]! : p;
  });
  // No GPU of any kind (no NVIDIA device, no GPU device or Vulkan driver for WebGPU): two words.
  const noGpu = short.indexOf('no NVIDIA GPU');
  const webgpuNone = short.findIndex((p) => /^webgpu: no (GPU device|Vulkan driver installed)/.test(p));
  if (noGpu >= 0 && webgpuNone >= 0) return short.filter((_, i) => i !== webgpuNone).map((p, i) => (i === noGpu ? 'no GPU' : p)).join('; ');
  return short.join('; ');
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|\bwarp\b|microsoft basic render/i;

/** Whether an adapter is software: named like one (llvmpipe, SwiftShader, WARP) or typed 'cpu'. */
export function isSoftwareAdapter(a: { name: string; type?: string | undefined; software?: boolean }): boolean {
  return a.software === true || SOFTWARE_ADAPTER.test(a.name) || /^cpu$/i.test(a.type ?? '');
}

/** `llvmpipe (vulkan, software)` / `NVIDIA H100 (vulkan)`. */
export function describeAdapter(a: { name: string; backend: string; type?: string | undefined; software?: boolean }): string {
  return `${a.name} (${a.backend}${isSoftwareAdapter(a) ? ', software' : ''})`;
}
