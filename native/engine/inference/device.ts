import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { isSoftwareAdapter, type DeviceRequest } from '../common/device-text.js';

// The pure device texts and requests live in common/ (hosts and the renderer print with them).
export { DEVICE_REQUESTS, describeAdapter, describeDevice, isSoftwareAdapter, shortFallbackReason, type DeviceRequest } from '../common/device-text.js';

export type Accelerator = Exclude<DeviceRequest, 'auto' | 'cpu'>;
/** Accelerators that run on a GPU: one session owns the device, batches are cut by a larger token budget. */
export const GPU_PROVIDERS: readonly string[] = ['cuda', 'webgpu', 'dml', 'coreml'];

/** What actually ran a job, reported with every result. */
export interface DeviceReport {
  requested: DeviceRequest;
  /** The execution provider in use: 'cpu', 'cuda', 'webgpu', 'dml', 'coreml', or 'native' (Model2Vec table lookup, no ORT). */
  used: 'cpu' | Accelerator | 'native';
  /** Why an accelerator was not used (absent when none was wanted or it worked). */
  fallbackReason?: string;
  /** The WebGPU adapter a webgpu session runs on, e.g. `llvmpipe (vulkan, software)`. */
  adapter?: string;
  threads: number;
}

/** The platform accelerator this platform's onnxruntime-node offers besides WebGPU, if any. */
export function platformAccelerator(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Exclude<Accelerator, 'webgpu'> | undefined {
  if (platform === 'linux' && arch === 'x64') return 'cuda';
  if (platform === 'win32') return 'dml';
  if (platform === 'darwin') return 'coreml';
  return undefined;
}

/** A WebGPU adapter as the adapter probe found it (webgpu-probe.ts). */
export interface WebGpuAdapter {
  /** e.g. `llvmpipe`, `NVIDIA H100 80GB HBM3`, `AMD GPU (amdgpu)`. */
  name: string;
  /** Dawn's backend: vulkan, d3d12, metal. */
  backend: string;
  /** A CPU pretending to be a GPU (llvmpipe, SwiftShader, WARP, adapter type 'cpu'). */
  software: boolean;
  /** Dawn's adapter type when known ('discrete GPU', 'integrated GPU', 'cpu'). */
  type?: string;
}

/** What the adapter probe found. `adapters` empty: `reason` says why (no WebGPU provider, no adapter, probe crashed...). */
export interface WebGpuProbeResult {
  adapters: WebGpuAdapter[];
  reason?: string;
  /** Wall time of the probe, ms. */
  ms?: number;
}

/** The adapter a webgpu session gets: a hardware one when there is one (Dawn prefers it too). */
export function pickAdapter(probe: WebGpuProbeResult, allowSoftware: boolean): WebGpuAdapter | undefined {
  return probe.adapters.find((a) => !isSoftwareAdapter(a)) ?? (allowSoftware ? probe.adapters[0] : undefined);
}

/** Why WebGPU is not used for a request, or undefined when it can be. Auto never takes a software adapter. */
export function webgpuReason(probe: WebGpuProbeResult, allowSoftware: boolean): string | undefined {
  if (pickAdapter(probe, allowSoftware)) return undefined;
  const soft = probe.adapters.filter((a) => isSoftwareAdapter(a));
  if (soft.length > 0) return `only a software adapter (${soft.map((a) => a.name).join(', ')}), which auto does not use`;
  return probe.reason ?? 'no WebGPU adapter found';
}

/** A provider to try, with the adapter it will run on for webgpu. */
export interface PlannedProvider {
  provider: 'cpu' | Accelerator;
  adapter?: WebGpuAdapter;
}

/** Facts about this machine the plan depends on; `webgpu` is asked for only when the plan needs it. */
export interface ProviderFacts {
  platform?: NodeJS.Platform;
  arch?: string;
  /** Why a platform accelerator cannot load (acceleratorPrecheck), undefined = worth trying. */
  precheck: (acc: Exclude<Accelerator, 'webgpu'>) => string | undefined;
  webgpu: () => WebGpuProbeResult;
}

/**
 * Providers to try, in order, for a request, and why the others are skipped ("cuda: ...").
 * auto: the platform accelerator (CUDA when its libraries are installed), then WebGPU on a
 * hardware adapter, then CPU. A software adapter is used only when WebGPU is asked for by name.
 */
export function planProviders(req: DeviceRequest, facts: ProviderFacts): { providers: PlannedProvider[]; skipped: string[] } {
  const platform = facts.platform ?? process.platform;
  const arch = facts.arch ?? process.arch;
  const providers: PlannedProvider[] = [];
  const skipped: string[] = [];
  const tryWebgpu = (allowSoftware: boolean) => {
    const probe = facts.webgpu();
    const why = webgpuReason(probe, allowSoftware);
    if (why) skipped.push(`webgpu: ${why}`);
    else providers.push({ provider: 'webgpu', adapter: pickAdapter(probe, allowSoftware)! });
  };
  const tryNative = (acc: Exclude<Accelerator, 'webgpu'>) => {
    const why = facts.precheck(acc);
    if (why) skipped.push(`${acc}: ${why}`);
    else providers.push({ provider: acc });
  };
  if (req === 'auto') {
    const acc = platformAccelerator(platform, arch);
    if (acc) tryNative(acc);
    tryWebgpu(false);
  } else if (req === 'webgpu') tryWebgpu(true);
  else if (req !== 'cpu') tryNative(req);
  providers.push({ provider: 'cpu' });
  return { providers, skipped };
}

/** Physical cores (hyper-threads counted once) on Linux; logical count elsewhere, halved when it looks hyper-threaded. */
export function physicalCores(): number {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    let phys = '0';
    for (const line of info.split('\n')) {
      const [k, v] = line.split(':').map((s) => s.trim());
      if (k === 'physical id') phys = v ?? '0';
      if (k === 'core id') cores.add(`${phys}:${v}`);
    }
    if (cores.size > 0) return cores.size;
  } catch {
    /* not Linux */
  }
  const logical = os.availableParallelism();
  return process.platform === 'darwin' || logical < 4 ? logical : Math.max(1, Math.floor(logical / 2));
}

/** Folder holding onnxruntime-node's native binding and its provider libraries. */
export function ortBinaryDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = path.dirname(req.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/**
 * Cheap checks that explain why an accelerator cannot load, before ORT is asked (ORT's own
 * failure is a native log line, not a reason). Undefined = worth trying.
 */
export function acceleratorPrecheck(acc: Exclude<Accelerator, 'webgpu'>): string | undefined {
  if (acc !== platformAccelerator()) return `${acc} is not offered by onnxruntime-node on ${process.platform}-${process.arch}`;
  if (acc === 'cuda') {
    const dir = ortBinaryDir();
    if (dir && !fs.existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'))) {
      const gpu = fs.existsSync('/dev/nvidia0') ? 'an NVIDIA device is present' : 'no NVIDIA GPU found (/dev/nvidia0 absent)';
      return `CUDA provider libraries are not installed (no libonnxruntime_providers_cuda.so in ${dir}; onnxruntime-node was installed with ONNXRUNTIME_NODE_INSTALL_CUDA=skip or offline); ${gpu}`;
    }
    if (!fs.existsSync('/dev/nvidia0')) return 'no NVIDIA GPU found (/dev/nvidia0 absent)';
  }
  return undefined;
}

export interface GpuProbe {
  nvidiaDevice: boolean;
  cudaProviderLib: boolean;
  cudaRuntimeLibs: string[];
  notes: string[];
}

/** For `tandem doctor`: what is there for CUDA, and what is not. */
export function probeGpu(): GpuProbe {
  const notes: string[] = [];
  const dir = ortBinaryDir();
  const cudaProviderLib = !!dir && fs.existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  const nvidiaDevice = fs.existsSync('/dev/nvidia0');
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/local/cuda/lib64', '/usr/lib64', ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)];
  const wanted = [/^libcudart\.so\.1\d/, /^libcublas\.so\.1\d/, /^libcudnn\.so\.\d/];
  const cudaRuntimeLibs: string[] = [];
  for (const d of libDirs) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (wanted.some((w) => w.test(n))) cudaRuntimeLibs.push(path.join(d, n));
  }
  if (process.platform !== 'linux') notes.push(`CUDA is used on linux-x64 only; this is ${process.platform}-${process.arch}`);
  if (!nvidiaDevice) notes.push('no NVIDIA GPU device (/dev/nvidia0)');
  if (!cudaProviderLib) notes.push('onnxruntime-node CUDA provider not installed (reinstall without ONNXRUNTIME_NODE_INSTALL_CUDA=skip on a machine with internet)');
  if (cudaRuntimeLibs.length === 0) notes.push('no CUDA runtime / cuBLAS / cuDNN libraries found on the library path');
  return { nvidiaDevice, cudaProviderLib, cudaRuntimeLibs, notes };
}
