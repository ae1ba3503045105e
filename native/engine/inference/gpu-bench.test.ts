import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sharedOrSkip } from '../../testing/shared.js';

const { shared, skip } = sharedOrSkip();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface BenchRow {
  provider: string;
  variant: string;
  sentencesPerSec: number | null;
  maxAbsDiffVsCpu: number | null;
  minCosineVsCpuFp32: number | null;
  note: string;
}

test('bench/gpu-check.sh on a machine without a GPU adapter prints the CPU rows and why each GPU provider is absent', { skip, timeout: 300_000 }, () => {
  // No Vulkan driver the loader can find: WebGPU has no adapter; CUDA's libraries are not installed here.
  const r = spawnSync('bash', [path.join(root, 'bench', 'gpu-check.sh'), '--sentences', '8', '--repeat', '1', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, TANDEM_MODELS_DIR: path.join(shared, 'models'), VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' },
    timeout: 280_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { rows: BenchRow[] };
  const cpu = out.rows.filter((x) => x.provider === 'cpu');
  assert.deepEqual(cpu.map((x) => x.variant), ['fp32', 'int8', 'fp16'], 'CPU rows for the fixture variants on disk, and fp16');
  for (const row of cpu) assert.ok(row.sentencesPerSec! > 0 && row.maxAbsDiffVsCpu === 0, `cpu ${row.variant} measured`);
  const fp16 = cpu.find((x) => x.variant === 'fp16')!;
  assert.ok(fp16.minCosineVsCpuFp32! >= 0.999, `cpu fp16 within cosine 0.999 of cpu fp32: ${fp16.minCosineVsCpuFp32}`);
  assert.match(fp16.note, /no fp16 file published: model_fp16\.onnx converted from fp32/, 'the row says its fp16 file was converted');
  const webgpu = out.rows.find((x) => x.provider === 'webgpu');
  assert.ok(webgpu && webgpu.sentencesPerSec === null && /^absent: no WebGPU adapter: .+/.test(webgpu.note), `webgpu absent with the reason: ${webgpu?.note}`);
  const cuda = out.rows.find((x) => x.provider === 'cuda');
  if (cuda?.sentencesPerSec === null) assert.match(cuda.note, /^absent: .+/, 'cuda absent with the reason');
  assert.match(r.stderr, /webgpu probe \d+ ms/, 'the probe is reported');
});
