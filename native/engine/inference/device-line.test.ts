import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { acceleratorPrecheck, describeDevice, platformAccelerator, probeGpu, shortFallbackReason } from './device.js';

test('device line: on a machine without an NVIDIA GPU it is one short phrase; the long explanation stays in doctor', (t) => {
  if (platformAccelerator() !== 'cuda' || fs.existsSync('/dev/nvidia0')) {
    t.skip(`needs linux-x64 without /dev/nvidia0 (this is ${process.platform}-${process.arch}${fs.existsSync('/dev/nvidia0') ? ' with an NVIDIA device' : ''})`);
    return;
  }
  const why = acceleratorPrecheck('cuda');
  assert.ok(why && why.length > 40, `the precheck explains at length: ${why}`);
  assert.equal(describeDevice({ used: 'cpu', fallbackReason: why }), 'cpu — no NVIDIA GPU');
  assert.ok(probeGpu().notes.some((n) => /no NVIDIA GPU device \(\/dev\/nvidia0\)/.test(n)), 'doctor keeps the details');
});

test('device line: other reasons are kept whole; no reason, no suffix', () => {
  assert.equal(shortFallbackReason('CUDA provider libraries are not installed (...); no NVIDIA GPU found (/dev/nvidia0 absent)'), 'no NVIDIA GPU');
  assert.equal(describeDevice({ used: 'cpu', fallbackReason: 'dml is not offered by onnxruntime-node on linux-x64' }), 'cpu (dml is not offered by onnxruntime-node on linux-x64)');
  assert.equal(describeDevice({ used: 'webgpu', adapter: 'llvmpipe (vulkan, software)' }), 'webgpu: llvmpipe (vulkan, software)');
  assert.equal(describeDevice({ used: 'cpu' }), 'cpu');
});
