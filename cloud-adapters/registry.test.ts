import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TandemError } from '../native/engine/common/errors.js';
import type { AdapterFactory, CloudRequest } from './contract.js';
import { DEFAULT_PRICES, costUsd } from './prices.js';
import { AdapterRegistry, defaultRegistry } from './registry.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TandemError, `a TandemError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a throw');
}

const gen = (model: 'qwen-32b' | 'qwen-80b' | 'qwen-480b'): CloudRequest => ({ kind: 'generate', model, prompt: 'p', schema: { type: 'object' } });

describe('AdapterRegistry', () => {
  test('the default registry has modal and cloud-run', () => {
    const r = defaultRegistry();
    assert.deepEqual(r.ids().sort(), ['cloud-run', 'modal'], 'ids');
    assert.equal(r.create('modal', { url: 'http://127.0.0.1:1/{function}' }).id, 'modal', 'modal adapter');
    assert.equal(r.create('cloud-run', { url: 'http://127.0.0.1:1/' }).id, 'cloud-run', 'cloud-run adapter');
  });

  test('unknown backend is NOT_FOUND, a second registration is CONFLICT', () => {
    const r = new AdapterRegistry();
    assert.equal(code(() => r.create('modal', { url: 'http://x/{function}' })), 'NOT_FOUND', 'empty registry');
    const f: AdapterFactory = { id: 'modal', create: (ep) => defaultRegistry().create('modal', ep) };
    r.register(f);
    assert.equal(code(() => r.register(f)), 'CONFLICT', 'duplicate');
  });

  test('a Modal template without {function} is INVALID_ARGUMENT naming the setting', () => {
    try {
      defaultRegistry().create('modal', { url: 'https://ws--app-generate.modal.run' });
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof TandemError && e.code === 'INVALID_ARGUMENT', 'code');
      assert.match(e.message, /TANDEM_MODAL_URL_TEMPLATE/, 'names the setting');
    }
    assert.equal(code(() => defaultRegistry().create('cloud-run', { url: 'not a url' })), 'INVALID_ARGUMENT', 'cloud run url');
  });
});

describe('capabilities, routing and estimates', () => {
  const modal = defaultRegistry().create('modal', { url: 'http://127.0.0.1:1/{function}' });
  const run = defaultRegistry().create('cloud-run', { url: 'http://127.0.0.1:1' });

  test('modal functions per Qwen size and embed', () => {
    assert.equal(modal.functionFor(gen('qwen-32b')).name, 'generate', '32b');
    assert.equal(modal.functionFor(gen('qwen-80b')).name, 'qwen-80b-generate', '80b');
    const big = modal.functionFor(gen('qwen-480b'));
    assert.deepEqual([big.name, big.gpu, big.maxConcurrency, big.timeoutS], ['qwen-480b-generate', { type: 'H100', count: 8 }, 3, 3600], '480b');
    const embed = modal.functionFor({ kind: 'embed-remote', texts: ['a'] });
    assert.deepEqual([embed.name, embed.gpu.type, embed.maxConcurrency], ['embed', 'A10G', 10], 'embed');
    assert.equal(modal.capabilities().functions.length, 5, 'three Qwen sizes, embed, and Boltz-2 (the rollback target)');
  });

  test('Boltz-2 runs on both (Modal is the rollback target); generation only on Modal', () => {
    const boltz: CloudRequest = { kind: 'boltz2', name: 'c', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [] };
    assert.equal(modal.functionFor(boltz).name, 'boltz2', 'modal boltz2 function');
    assert.equal(modal.functionFor(boltz).gpu.type, 'A100-40GB', 'on an A100-40GB (seed 000)');
    assert.equal(code(() => run.functionFor(gen('qwen-32b'))), 'INVALID_ARGUMENT', 'cloud run generate');
    assert.equal(run.functionFor(boltz).name, 'predict', 'predict');
  });

  test('modal poll and cancel are INVALID_ARGUMENT', async () => {
    await assert.rejects(modal.poll('x'), (e: unknown) => e instanceof TandemError && e.code === 'INVALID_ARGUMENT', 'poll');
    await assert.rejects(modal.cancel('x'), (e: unknown) => e instanceof TandemError && e.code === 'INVALID_ARGUMENT', 'cancel');
  });

  test('estimates: GPU-seconds x count x rate, cold start unless warm', () => {
    const warm = modal.estimateCost(gen('qwen-80b'), DEFAULT_PRICES, { warm: true });
    assert.equal(warm.gpuSeconds, 12, 'typical seconds');
    assert.equal(warm.ratePerGpuHour, 3.95, 'H100 rate');
    assert.ok(Math.abs(warm.usd - (12 * 2 * 3.95) / 3600) < 1e-12, `usd ${warm.usd}`);
    assert.match(warm.basis, /^2 x H100 x 12 s x \$3\.95\/h/, `basis ${warm.basis}`);
    const cold = modal.estimateCost(gen('qwen-80b'), DEFAULT_PRICES);
    assert.equal(cold.gpuSeconds, 12 + 420, 'cold start included by default');
    assert.match(cold.basis, /420 s cold start/, 'basis mentions the cold start');
    const texts = Array.from({ length: 600 }, () => 't');
    assert.equal(modal.estimateCost({ kind: 'embed-remote', texts }, DEFAULT_PRICES, { warm: true }).gpuSeconds, 1.5, '3 chunks x 0.5 s');
    const batch: CloudRequest = { kind: 'boltz2-batch', name: 'b', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: '1', smiles: 'C' }, { id: '2', smiles: 'N' }] };
    const b = run.estimateCost(batch, DEFAULT_PRICES, { warm: true });
    assert.equal(b.gpuSeconds, 180, '2 ligands x 90 s');
    assert.equal(b.ratePerGpuHour, 0.65, 'cloud run L4');
  });

  test('costUsd, and a missing price names the GPU', () => {
    assert.ok(Math.abs(costUsd({ type: 'A100-80GB', count: 1 }, 3600, DEFAULT_PRICES, 'modal') - 4) < 1e-12, 'one hour of A100-80GB');
    assert.ok(Math.abs(costUsd({ type: 'L4', count: 1 }, 3600, DEFAULT_PRICES, 'modal') - 0.8) < 1e-12, 'modal L4');
    try {
      costUsd({ type: 'B200', count: 1 }, 10, DEFAULT_PRICES, 'modal');
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof TandemError && e.code === 'INVALID_ARGUMENT', 'code');
      assert.match(e.message, /B200/, 'names the GPU');
    }
  });
});
