import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];
export type Accelerator = Exclude<DeviceRequest, 'auto' | 'cpu'>;

/** What actually ran a job, reported with every result. */
export interface DeviceReport {
  requested: DeviceRequest;
  /** The execution provider in use: 'cpu', 'cuda', 'dml', 'coreml', or 'native' (Model2Vec table lookup, no ORT). */
  used: 'cpu' | Accelerator | 'native';
  /** Why an accelerator was not used (absent when none was wanted or it worked). */
  fallbackReason?: string;
  threads: number;
}

/** A one-line device description: `cpu`, or `cpu (cuda: why not)`. */
export function describeDevice(d: { used: string; fallbackReason?: string | undefined }): string {
  return d.fallbackReason ? `${d.used} (${d.fallbackReason})` : d.used;
}

/** The accelerator this platform's onnxruntime-node offers, if any. */
export function platformAccelerator(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Accelerator | undefined {
  if (platform === 'linux' && arch === 'x64') return 'cuda';
  if (platform === 'win32') return 'dml';
  if (platform === 'darwin') return 'coreml';
  return undefined;
}

/** Providers to try, in order, for a request. */
export function providerOrder(req: DeviceRequest, platform: NodeJS.Platform = process.platform, arch: string = process.arch): Array<'cpu' | Accelerator> {
  if (req === 'cpu') return ['cpu'];
  if (req === 'auto') {
    const acc = platformAccelerator(platform, arch);
    return acc ? [acc, 'cpu'] : ['cpu'];
  }
  return [req, 'cpu'];
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
export function acceleratorPrecheck(acc: Accelerator): string | undefined {
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
