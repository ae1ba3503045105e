import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloudRequest } from '../../../cloud-adapters/contract.js';
import { isFinished } from '../jobs/job-types.js';
import { jobStats } from '../jobs/job-stats.js';
import { cloudRig, LIGANDS, PROTEIN } from '../../testing/cloud-rig.js';

/**
 * The soak of issue 4: 500 jobs of every remote kind against the emulator with 20 % of requests
 * faulted (429, 500, 503, 200-with-error, reset mid-body, malformed JSON, hang), at full
 * concurrency. Every job must end in a terminal state, no idempotency key may execute twice,
 * nothing may be lost, and the history must agree with what the emulator counted.
 */
describe('soak: 500 jobs, 20 % injected faults', () => {
  it('every job terminal, each key executed at most once, the history matches the emulator', async (t) => {
    const rig = await cloudRig({
      emulator: { faults: { rate: 0.2, seed: 42 }, inferenceMs: { boltz2: 5, 'qwen-32b': 2, embed: 1 }, coldStartMs: { boltz2: 20, 'qwen-32b': 30, embed: 10 } },
      deps: { tuning: { connectTimeoutMs: 2000, firstByteTimeoutMs: 400, retry: { maxAttempts: 10, baseDelayMs: 2, maxDelayMs: 20 } }, pollIntervalMs: 5 },
    });
    try {
      const schema = { type: 'object', required: ['answer', 'confidence'], properties: { answer: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } } };
      const reqs: CloudRequest[] = [];
      for (let i = 0; i < 500; i++) {
        const m = i % 10;
        if (m < 4) reqs.push({ kind: 'generate', model: 'qwen-32b', prompt: `question ${i}`, schema });
        else if (m < 7) reqs.push({ kind: 'embed-remote', texts: [`text ${i}`, `more text ${i}`] });
        else if (m < 9) reqs.push({ kind: 'boltz2', name: `c${i}`, proteins: [{ id: 'A', sequence: PROTEIN.slice(0, 60) }], ligands: [{ id: 'L1', smiles: LIGANDS[i % LIGANDS.length]! }] });
        else reqs.push({ kind: 'boltz2-batch', name: `b${i}`, proteins: [{ id: 'A', sequence: PROTEIN.slice(0, 60) }], ligands: LIGANDS.slice(0, 3).map((smiles, k) => ({ id: `l${k}`, smiles })) });
      }
      const handles = reqs.map((r) => rig.svc.submit(rig.queue, r).handle);
      const jobs = await Promise.all(handles.map((h) => h.done));

      assert.equal(jobs.length, 500, 'no job lost');
      assert.equal(rig.store.list({ limit: 10_000 }).length, 500, 'all 500 in the history');
      const notTerminal = jobs.filter((j) => !isFinished(j.status));
      assert.deepEqual(notTerminal.map((j) => j.id), [], 'every job terminal');
      const failed = jobs.filter((j) => j.status !== 'succeeded');
      for (const j of failed) assert.ok(j.error && j.error.message.length > 0, `a failed job says why: ${j.id}`);

      const st = rig.emu.stats();
      const overRun = Object.entries(st.executions).filter(([, n]) => n > 1);
      assert.deepEqual(overRun, [], 'no idempotency key executed twice');
      const injected = Object.values(st.faultsInjected).reduce((a, b) => a + b, 0);
      assert.ok(injected >= 0.1 * st.requests, `faults were injected: ${injected} of ${st.requests} requests`);

      // the history agrees with the emulator
      const ok = (kind: string) => jobs.filter((j) => j.kind === kind && j.status === 'succeeded').length;
      assert.equal(st.completed.generate, ok('generate'), 'generate: executions = succeeded jobs');
      assert.equal(st.completed.predict, ok('boltz2'), 'predict: executions = succeeded jobs');
      assert.equal(st.completed.batches, ok('boltz2-batch'), 'batches: completed = succeeded jobs');
      assert.equal(st.completed.batchLigands, ok('boltz2-batch') * 3, 'batch ligands');
      // embed-remote jobs are one request each (2 texts < the 256-text chunk)
      assert.equal(st.completed.embed, ok('embed-remote'), 'embed: executions = succeeded jobs');
      const stats = jobStats(rig.db);
      assert.equal(stats.counts.total, 500, 'stats: total');
      assert.equal(stats.counts.succeeded, jobs.filter((j) => j.status === 'succeeded').length, 'stats: succeeded');
      assert.equal(stats.counts.failed + stats.counts.cancelled, failed.length, 'stats: failed + cancelled');
      const costSum = jobs.reduce((a, j) => a + j.costUsd, 0);
      assert.ok(Math.abs(stats.cost.totalUsd - costSum) < 1e-9, 'stats: cost matches the records');
      assert.deepEqual(Object.entries(st.overConcurrency).filter(([, n]) => n > 0), [], 'never more requests in flight than a function accepts');
      t.diagnostic(
        `soak: ${jobs.length} jobs, ${jobs.length - failed.length} succeeded, ${failed.length} failed; ${st.requests} requests, ${injected} faults injected (${Object.entries(st.faultsInjected).map(([k, n]) => `${k} ${n}`).join(', ')}); max executions per key ${Math.max(...Object.values(st.executions))}`,
      );
      assert.ok(failed.length <= 5, `nearly every job succeeds through retries (failed: ${failed.map((j) => `${j.kind} ${j.error?.code} ${j.error?.message}`).join('; ')})`);
    } finally {
      await rig.close();
    }
  });
});
