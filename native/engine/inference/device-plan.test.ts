import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { describeAdapter, describeDevice, isSoftwareAdapter, planProviders, shortFallbackReason, type ProviderFacts, type WebGpuProbeResult } from './device.js';
import { batchFor, DEFAULT_BATCH, GPU_BATCH } from './batching.js';
import { probeModelBytes, shortProbeError } from './webgpu-probe.js';

const LLVMPIPE: WebGpuProbeResult = { adapters: [{ name: 'llvmpipe', backend: 'vulkan', software: true }] };
const H100: WebGpuProbeResult = { adapters: [{ name: 'NVIDIA H100 80GB HBM3', backend: 'vulkan', software: false }] };
const NONE: WebGpuProbeResult = { adapters: [], reason: 'no GPU device (no /dev/nvidia0, no DRM render node)' };

/** Facts with a faked probe and CUDA precheck; counts how often the probe is asked. */
function facts(webgpu: WebGpuProbeResult, cuda: string | undefined, platform: NodeJS.Platform = 'linux'): ProviderFacts & { probes: number } {
  const f = {
    platform,
    arch: 'x64',
    probes: 0,
    precheck: (acc: string) => (acc === 'cuda' ? cuda : `${acc} is not offered on ${platform}`),
    webgpu: () => {
      f.probes++;
      return webgpu;
    },
  };
  return f;
}

const order = (p: ReturnType<typeof planProviders>) => p.providers.map((x) => x.provider);
const NO_CUDA = 'CUDA provider libraries are not installed';

test('auto: CUDA when its libraries are installed, then WebGPU on a hardware adapter, then CPU', () => {
  assert.deepEqual(order(planProviders('auto', facts(H100, undefined))), ['cuda', 'webgpu', 'cpu'], 'CUDA usable and a hardware adapter');
  const noCuda = planProviders('auto', facts(H100, NO_CUDA));
  assert.deepEqual(order(noCuda), ['webgpu', 'cpu'], 'no CUDA libraries: WebGPU first');
  assert.equal(noCuda.providers[0]!.adapter?.name, 'NVIDIA H100 80GB HBM3', 'the adapter travels with the plan');
  assert.deepEqual(noCuda.skipped, [`cuda: ${NO_CUDA}`], 'why CUDA was skipped');
  // macOS/Windows: the platform's own accelerator (CoreML/DirectML) first, then WebGPU.
  assert.deepEqual(order(planProviders('auto', { ...facts(H100, undefined, 'darwin'), precheck: () => undefined })), ['coreml', 'webgpu', 'cpu']);
  assert.deepEqual(order(planProviders('auto', { ...facts(H100, undefined, 'win32'), precheck: () => undefined })), ['dml', 'webgpu', 'cpu']);
});

test('auto never takes a software adapter, and says what it found', () => {
  const p = planProviders('auto', facts(LLVMPIPE, NO_CUDA));
  assert.deepEqual(order(p), ['cpu'], 'llvmpipe alone: CPU');
  assert.equal(p.skipped[1], 'webgpu: only a software adapter (llvmpipe), which auto does not use');
  const line = describeDevice({ used: 'cpu', fallbackReason: p.skipped.join('; ') });
  assert.doesNotMatch(line, /device[: ]+webgpu|used[: ]+webgpu|on webgpu/i, 'the summary cannot be read as running on webgpu');
  for (const a of [
    { name: 'SwiftShader Device (Subzero)', backend: 'vulkan', software: false },
    { name: 'Microsoft Basic Render Driver', backend: 'd3d12', software: false },
    { name: 'WARP', backend: 'd3d12', software: false },
    { name: 'Some Adapter', backend: 'vulkan', software: false, type: 'cpu' },
  ]) {
    assert.ok(isSoftwareAdapter(a), `${a.name} is software`);
    assert.deepEqual(order(planProviders('auto', facts({ adapters: [a] }, NO_CUDA))), ['cpu'], `auto skips ${a.name}`);
    assert.deepEqual(order(planProviders('webgpu', facts({ adapters: [a] }, NO_CUDA))), ['webgpu', 'cpu'], `asked by name, ${a.name} runs`);
  }
  assert.ok(!isSoftwareAdapter({ name: 'AMD Radeon RX 7900 XTX', type: 'discrete GPU' }), 'a discrete GPU is hardware');
  const none = planProviders('auto', facts(NONE, NO_CUDA));
  assert.deepEqual(none.skipped, [`cuda: ${NO_CUDA}`, `webgpu: ${NONE.reason}`], 'no adapter: the probe says why');
});

test('webgpu by name takes a software adapter; a hardware one is preferred; cpu never probes', () => {
  const p = planProviders('webgpu', facts(LLVMPIPE, NO_CUDA));
  assert.deepEqual(order(p), ['webgpu', 'cpu'], 'llvmpipe when asked by name (CPU stays the fallback)');
  assert.deepEqual(p.skipped, [], 'nothing skipped');
  assert.equal(describeAdapter(p.providers[0]!.adapter!), 'llvmpipe (vulkan, software)');
  assert.equal(describeDevice({ used: 'webgpu', adapter: 'llvmpipe (vulkan, software)' }), 'webgpu: llvmpipe (vulkan, software)');
  const both = planProviders('webgpu', facts({ adapters: [...LLVMPIPE.adapters, ...H100.adapters] }, NO_CUDA));
  assert.equal(both.providers[0]!.adapter!.name, 'NVIDIA H100 80GB HBM3', 'hardware first');
  assert.equal(describeAdapter(both.providers[0]!.adapter!), 'NVIDIA H100 80GB HBM3 (vulkan)');
  const none = planProviders('webgpu', facts(NONE, NO_CUDA));
  assert.deepEqual(order(none), ['cpu'], 'no adapter: CPU fallback');
  assert.deepEqual(none.skipped, [`webgpu: ${NONE.reason}`]);
  const cpu = facts(H100, undefined);
  assert.deepEqual(order(planProviders('cpu', cpu)), ['cpu']);
  assert.equal(cpu.probes, 0, 'cpu does not ask for the probe');
  const cuda = facts(H100, undefined);
  assert.deepEqual(order(planProviders('cuda', cuda)), ['cuda', 'cpu']);
  assert.equal(cuda.probes, 0, 'cuda does not ask for the probe');
});

test('on a GPU batches are cut by a larger token budget; an explicit budget wins', () => {
  assert.deepEqual(batchFor('cpu'), DEFAULT_BATCH);
  assert.deepEqual(batchFor('webgpu'), GPU_BATCH);
  assert.deepEqual(batchFor('cuda'), GPU_BATCH);
  assert.equal(batchFor('webgpu', 300).tokenBudget, 300);
  assert.ok(GPU_BATCH.tokenBudget >= 8 * DEFAULT_BATCH.tokenBudget);
});

test('the probe graph is a valid ONNX model under 1 KB: y = x * x on the CPU provider', async () => {
  const bytes = probeModelBytes();
  assert.ok(bytes.length < 1024, `${bytes.length} bytes`);
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
  assert.deepEqual(Array.from(r.y!.data as Float32Array), [1, 4, 9, 16]);
  await s.release();
  assert.equal(
    shortProbeError('/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 x adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n'),
    'Failed to get a WebGPU adapter: No supported adapters',
  );
});

test('the device line keeps what auto found for WebGPU beside the short CUDA reason', () => {
  const p = planProviders('auto', facts(LLVMPIPE, 'CUDA provider libraries are not installed (no libonnxruntime_providers_cuda.so in /x); no NVIDIA GPU found (/dev/nvidia0 absent)'));
  const line = describeDevice({ used: 'cpu', fallbackReason: p.skipped.join('; ') });
  assert.equal(line, 'cpu — no NVIDIA GPU; webgpu: only a software adapter (llvmpipe)');
  assert.equal(shortFallbackReason(`webgpu: ${NONE.reason}`), `webgpu: ${NONE.reason}`, 'other WebGPU reasons are kept whole');
});

test('no GPU of any kind: the device line says so in two words', () => {
  const p = planProviders('auto', facts(NONE, 'CUDA provider libraries are not installed (...); no NVIDIA GPU found (/dev/nvidia0 absent)'));
  assert.equal(describeDevice({ used: 'cpu', fallbackReason: p.skipped.join('; ') }), 'cpu — no GPU');
  const noVulkan = planProviders('auto', facts({ adapters: [], reason: 'no Vulkan driver installed (no ICD manifest in /usr/share/vulkan/icd.d)' }, 'no NVIDIA GPU found (/dev/nvidia0 absent)'));
  assert.equal(describeDevice({ used: 'cpu', fallbackReason: noVulkan.skipped.join('; ') }), 'cpu — no GPU');
});
