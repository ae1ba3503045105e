/**
 * Which WebGPU adapters this machine has, found without loading a model: a one-node ONNX graph
 * (y = x * x, 67 bytes, built here) run on onnxruntime-node's bundled WebGPU provider (Dawn) in a
 * child process with a timeout, so a crashing driver cannot take the host down. onnxruntime-node
 * does not expose Dawn's adapter info to JavaScript (env.webgpu is the web build's), so on Linux
 * the probe runs twice with the Vulkan loader's driver filters: once with the software drivers
 * (llvmpipe, SwiftShader) disabled -- success means a hardware adapter -- and once with only them;
 * the adapter is named from /proc/driver/nvidia and /sys/class/drm. Answers are cached per process.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { acceleratorPrecheck, planProviders, type DeviceRequest, type WebGpuAdapter, type WebGpuProbeResult } from './device.js';

// ---- the probe graph: ModelProto { ir_version 8, opset 13, graph { y = Mul(x, x), x,y: float[4] } }

function varint(n: number): number[] {
  const b: number[] = [];
  while (n > 127) {
    b.push((n & 127) | 128);
    n >>>= 7;
  }
  b.push(n);
  return b;
}
const field = (no: number, wire: number, payload: number[]): number[] => [...varint((no << 3) | wire), ...payload];
const bytesField = (no: number, b: number[]): number[] => field(no, 2, [...varint(b.length), ...b]);
const strField = (no: number, s: string): number[] => bytesField(no, [...Buffer.from(s, 'utf8')]);
const intField = (no: number, n: number): number[] => field(no, 0, varint(n));

/** The probe model's ONNX bytes. */
export function probeModelBytes(): Uint8Array {
  const tensorType = bytesField(1, [...intField(1, 1 /* FLOAT */), ...bytesField(2, bytesField(1, intField(1, 4)))]);
  const valueInfo = (name: string) => [...strField(1, name), ...bytesField(2, tensorType)];
  const node = [...strField(1, 'x'), ...strField(1, 'x'), ...strField(2, 'y'), ...strField(4, 'Mul')];
  const graph = [...bytesField(1, node), ...strField(2, 'tandem-webgpu-probe'), ...bytesField(11, valueInfo('x')), ...bytesField(12, valueInfo('y'))];
  return Uint8Array.from([...intField(1, 8), ...bytesField(8, [...strField(1, ''), ...intField(2, 13)]), ...bytesField(7, graph)]);
}

/** Run in a child `node -e` (or an eval worker inside Electron): prints one JSON line. */
const PROBE_SOURCE = `
const wt = require('node:worker_threads');
const input = wt.workerData || { ort: process.env.TANDEM_PROBE_ORT, model: process.env.TANDEM_PROBE_MODEL };
const say = (o) => { if (wt.parentPort) wt.parentPort.postMessage(o); else process.stdout.write(JSON.stringify(o) + '\\n', () => process.exit(0)); };
(async () => {
  let backends = [];
  try {
    const ort = require(input.ort);
    ort.env.logLevel = 'fatal';
    backends = ort.listSupportedBackends ? ort.listSupportedBackends().map((b) => b.name) : [];
    if (!backends.includes('webgpu')) return say({ ok: false, backends, error: 'this onnxruntime-node has no WebGPU provider' });
    const s = await ort.InferenceSession.create(Buffer.from(input.model, 'base64'), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
    const y = Array.from(r.y.data);
    say(y.join() === '1,4,9,16' ? { ok: true, backends } : { ok: false, backends, error: 'the adapter computed x*x wrong: ' + y.join() });
  } catch (e) {
    say({ ok: false, backends, error: String((e && e.message) || e) });
  }
})();
`;

interface ProbeRun {
  ok: boolean;
  error?: string;
  backends?: string[];
}

/** Dawn's own error is long ("webgpu_context.cc:136 ... Failed to get a WebGPU adapter: No supported adapters"): keep its end. */
export function shortProbeError(e: string): string {
  const line = e.split('\n').find((l) => l.trim()) ?? e;
  const m = /(Failed to [^\n]*)$/.exec(line);
  return (m ? m[1]! : line).trim().slice(0, 300);
}

function ortPath(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node');
}

/** One probe run; `env` adds to this process's environment (the Vulkan loader's driver filters). */
function runProbe(env: Record<string, string>, timeoutMs: number): Promise<ProbeRun> {
  const model = Buffer.from(probeModelBytes()).toString('base64');
  const ort = ortPath();
  if (process.versions.electron) {
    // Electron's binary cannot run as plain Node here (the RunAsNode fuse is off): a worker thread
    // instead; the loader filters cannot apply (they are read from the process environment).
    return new Promise((resolve) => {
      const w = new Worker(PROBE_SOURCE, { eval: true, workerData: { ort, model } });
      const timer = setTimeout(() => {
        void w.terminate();
        resolve({ ok: false, error: `the probe did not answer in ${timeoutMs} ms` });
      }, timeoutMs);
      w.once('message', (m: ProbeRun) => {
        clearTimeout(timer);
        void w.terminate();
        resolve(m);
      });
      w.once('error', (e) => {
        clearTimeout(timer);
        resolve({ ok: false, error: e.message });
      });
    });
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', PROBE_SOURCE],
      {
        env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? os.tmpdir(), ...env, TANDEM_PROBE_ORT: ort, TANDEM_PROBE_MODEL: model },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 1 << 20,
      },
      (err, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          try {
            resolve(JSON.parse(line) as ProbeRun);
            return;
          } catch {
            /* fall through */
          }
        }
        const e = err as (Error & { signal?: string | null; killed?: boolean }) | null;
        if (e?.killed && e.signal === 'SIGKILL') resolve({ ok: false, error: `the probe did not answer in ${timeoutMs} ms` });
        else if (e?.signal) resolve({ ok: false, error: `the probe crashed (${e.signal})` });
        else resolve({ ok: false, error: e ? e.message.split('\n')[0]! : 'the probe printed nothing' });
      },
    );
  });
}

/** Software Vulkan drivers by ICD manifest name; `glob` is for VK_LOADER_DRIVERS_SELECT/DISABLE. */
const SOFTWARE_ICDS = [
  { glob: '*lvp_icd*', re: /^lvp_icd/, name: 'llvmpipe' },
  { glob: '*swiftshader*', re: /swiftshader/i, name: 'SwiftShader' },
];

/** Vulkan ICD manifests the loader reads (file names). */
export function vulkanIcds(): string[] {
  const dirs = new Set<string>(['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d']);
  for (const d of (process.env.XDG_DATA_DIRS ?? '').split(':').filter(Boolean)) dirs.add(path.join(d, 'vulkan/icd.d'));
  const names: string[] = [];
  for (const d of dirs) {
    try {
      for (const n of fs.readdirSync(d)) if (n.endsWith('.json')) names.push(n);
    } catch {
      /* absent */
    }
  }
  for (const f of (process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean)) names.push(path.basename(f));
  return [...new Set(names)];
}

const PCI_VENDORS: Record<string, string> = { '0x10de': 'NVIDIA', '0x1002': 'AMD', '0x8086': 'Intel', '0x1af4': 'virtio', '0x5143': 'Qualcomm', '0x15ad': 'VMware' };

/** GPUs visible to this process on Linux (NVIDIA's proc files, DRM render nodes): names, empty when none. */
export function hardwareGpus(): string[] {
  const gpus: string[] = [];
  try {
    for (const id of fs.readdirSync('/proc/driver/nvidia/gpus')) {
      const info = fs.readFileSync(path.join('/proc/driver/nvidia/gpus', id, 'information'), 'utf8');
      const model = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim();
      gpus.push(model ?? 'NVIDIA GPU');
    }
  } catch {
    /* no NVIDIA driver */
  }
  let nodes: string[] = [];
  try {
    nodes = fs.readdirSync('/sys/class/drm').filter((n) => /^renderD\d+$/.test(n));
  } catch {
    /* no DRM */
  }
  for (const n of nodes) {
    const dev = path.join('/sys/class/drm', n, 'device');
    let driver = '';
    try {
      driver = path.basename(fs.readlinkSync(path.join(dev, 'driver')));
    } catch {
      /* unknown */
    }
    if (['vgem', 'vkms'].includes(driver)) continue;
    if (driver === 'nvidia' && gpus.length > 0) continue; // named from /proc already
    let vendor = '';
    try {
      vendor = fs.readFileSync(path.join(dev, 'vendor'), 'utf8').trim();
    } catch {
      /* not PCI */
    }
    gpus.push(`${PCI_VENDORS[vendor] ?? (vendor || 'unknown')} GPU${driver ? ` (${driver})` : ''}`);
  }
  if (gpus.length === 0 && fs.existsSync('/dev/nvidia0')) gpus.push('NVIDIA GPU');
  return gpus;
}

export interface WebGpuProbeOptions {
  /** Also run the software-only probe (doctor, --device webgpu). Auto needs only the hardware answer. */
  software: boolean;
  timeoutMs?: number;
}

const cache = new Map<string, Promise<WebGpuProbeResult>>();

/** The adapters this process can use through onnxruntime-node's WebGPU provider (cached per process). */
export function probeWebGpu(opts: WebGpuProbeOptions = { software: true }): Promise<WebGpuProbeResult> {
  const full = cache.get('full');
  if (full) return full;
  const key = opts.software ? 'full' : 'hardware';
  let p = cache.get(key);
  if (!p) {
    p = probeUncached(opts);
    cache.set(key, p);
  }
  return p;
}

async function probeUncached(opts: WebGpuProbeOptions): Promise<WebGpuProbeResult> {
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const done = (r: WebGpuProbeResult): WebGpuProbeResult => ({ ...r, ms: Math.round(performance.now() - t0) });
  if (process.platform !== 'linux') {
    const backend = process.platform === 'win32' ? 'd3d12' : process.platform === 'darwin' ? 'metal' : 'unknown';
    const r = await runProbe({}, timeoutMs);
    if (!r.ok) return done({ adapters: [], reason: shortProbeError(r.error ?? 'no adapter') });
    return done({ adapters: [{ name: backend === 'metal' ? 'Metal GPU' : backend === 'd3d12' ? 'Direct3D 12 GPU' : 'GPU', backend, software: false }] });
  }
  const icds = vulkanIcds();
  const softIcds = SOFTWARE_ICDS.filter((s) => icds.some((n) => s.re.test(n)));
  const hardIcds = icds.filter((n) => !SOFTWARE_ICDS.some((s) => s.re.test(n)));
  const gpus = hardwareGpus();
  const adapters: WebGpuAdapter[] = [];
  const reasons: string[] = [];
  const disable = SOFTWARE_ICDS.map((s) => s.glob).join(',');
  const hardware = gpus.length > 0 && hardIcds.length > 0 ? runProbe({ VK_LOADER_DRIVERS_DISABLE: disable }, timeoutMs) : undefined;
  const software = opts.software && softIcds.length > 0 ? runProbe({ VK_LOADER_DRIVERS_SELECT: softIcds.map((s) => s.glob).join(',') }, timeoutMs) : undefined;
  if (icds.length === 0) reasons.push('no Vulkan driver installed (no ICD manifest in /usr/share/vulkan/icd.d)');
  else if (gpus.length === 0) reasons.push('no GPU device (no /dev/nvidia0, no DRM render node)');
  else if (hardIcds.length === 0) reasons.push(`a GPU (${gpus.join(', ')}) but no hardware Vulkan driver (ICDs: ${icds.join(', ')})`);
  const h = await hardware;
  if (h?.ok) adapters.push({ name: gpus[0]!, backend: 'vulkan', software: false });
  else if (h) reasons.push(`${gpus.join(', ')}: ${shortProbeError(h.error ?? 'no adapter')}`);
  const s = await software;
  if (s?.ok) adapters.push(...softIcds.map((i) => ({ name: i.name, backend: 'vulkan', software: true })));
  else if (s) reasons.push(`${softIcds.map((i) => i.name).join(', ')}: ${shortProbeError(s.error ?? 'no adapter')}${softIcds.some((i) => i.name === 'llvmpipe') ? ' (Dawn takes llvmpipe from Mesa 24 on)' : ''}`);
  else if (!opts.software && softIcds.length > 0) {
    // Auto never uses a software adapter: named from its driver manifest without running it.
    adapters.push(...softIcds.map((i) => ({ name: i.name, backend: 'vulkan', software: true })));
  }
  const backends = h?.backends ?? s?.backends;
  if (backends && !backends.includes('webgpu')) return done({ adapters: [], reason: 'this onnxruntime-node has no WebGPU provider' });
  return done(reasons.length > 0 ? { adapters, reason: reasons.join('; ') } : { adapters });
}

/** What the plan for `device` needs to know about WebGPU: probed only for auto and webgpu (auto: hardware only). */
export async function webgpuFacts(device: DeviceRequest, known?: WebGpuProbeResult): Promise<WebGpuProbeResult> {
  if (known) return known;
  if (device !== 'auto' && device !== 'webgpu') return { adapters: [] };
  return probeWebGpu({ software: device === 'webgpu' });
}

/** The providers `device` will try here, in order, and why others are skipped (probes WebGPU when needed). */
export async function resolveProviders(device: DeviceRequest, known?: WebGpuProbeResult): Promise<ReturnType<typeof planProviders> & { webgpu: WebGpuProbeResult }> {
  const webgpu = await webgpuFacts(device, known);
  return { ...planProviders(device, { precheck: acceleratorPrecheck, webgpu: () => webgpu }), webgpu };
}
