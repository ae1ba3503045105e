// The Boltz-2 page's result rows: a job and its events -> per-ligand rows, and their sorting (typecheck: npx tsc -p renderer/test/tsconfig.json).
/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiJob, ApiJobEvent } from '../../../../native/engine/common/api-contract';
import { resultRows, sortRows } from './boltz-results';

function job(over: Partial<ApiJob>): ApiJob {
  return {
    id: 'J1',
    kind: 'boltz2-batch',
    label: '',
    backend: 'cloud-run',
    device: null,
    params: {},
    inputDigest: '',
    status: 'running',
    priority: 0,
    progress: { done: 0, total: null },
    timings: { queuedAt: '2026-01-01T00:00:00Z', startedAt: null, finishedAt: null, loadMs: null, inferenceMs: null, queueMs: null, transferMs: null },
    error: null,
    costUsd: 0,
    result: null,
    retryOf: null,
    remoteId: null,
    ...over,
  };
}

function note(id: number, data: Record<string, unknown>): ApiJobEvent {
  return { id, jobId: 'J1', at: '2026-01-01T00:00:01Z', type: 'note', data };
}

describe('resultRows', () => {
  const request = { kind: 'boltz2-batch', name: 'screen', proteins: [{ id: 'A', sequence: 'MK' }], ligands: [{ id: 'a', smiles: 'CCO' }, { id: 'b', ccd: 'ATP' }, { id: 'c', smiles: 'c1ccccc1O' }] };

  test('a running batch: ligands with a note event are done with their scores, the rest pending', () => {
    const rows = resultRows(job({ params: { request } }), [
      note(1, { note: 'ligand b done (1/3)', ligandId: 'b', confidence: { confidence_score: 0.7, ptm: 0.6, iptm: 0.5, complex_plddt: 0.8 }, affinity: { affinity_pred_value: -1.5, affinity_probability_binary: 0.9 }, structure: '/h/results/J1/b.cif' }),
      note(2, { note: 'resuming polling' }),
    ]);
    assert.deepEqual(rows.map((r) => [r.id, r.status]), [['a', 'pending'], ['b', 'done'], ['c', 'pending']], 'one row per ligand, in request order');
    const b = rows[1]!;
    assert.deepEqual([b.confidence, b.ptm, b.iptm, b.plddt, b.affinity, b.probability, b.structure], [0.7, 0.6, 0.5, 0.8, -1.5, 0.9, '/h/results/J1/b.cif'], 'scores and structure from the event');
    assert.equal(rows[1]!.what, 'CCD ATP', 'a CCD ligand says so');
  });

  test('a failed batch marks the ligands it did not finish as failed; a single complex is one row from the result', () => {
    const failed = resultRows(job({ params: { request }, status: 'failed' }), []);
    assert.deepEqual(failed.map((r) => r.status), ['failed', 'failed', 'failed'], 'unfinished ligands of a failed job');
    const single = resultRows(
      job({ kind: 'boltz2', status: 'succeeded', params: { request: { kind: 'boltz2', name: 'cx', proteins: [], ligands: [{ id: 'L', smiles: 'CCO' }] } }, result: { confidence: { confidence_score: 0.81 }, affinity: null, files: { structure: '/x/cx.cif' } } }),
      [],
    );
    assert.deepEqual(single.map((r) => [r.id, r.status, r.confidence, r.affinity, r.structure]), [['cx', 'done', 0.81, null, '/x/cx.cif']], 'the complex row');
    assert.deepEqual(resultRows(job({ kind: 'generate', params: { request: { kind: 'generate' } } }), []), [], 'not a Boltz-2 job: no rows');
  });

  test('sortRows: numbers either way with missing scores last; ids naturally', () => {
    const base = { what: '', status: 'done' as const, ptm: null, iptm: null, plddt: null, affinity: null, probability: null, structure: null };
    const rows = [
      { ...base, id: 'L10', confidence: 0.5 },
      { ...base, id: 'L2', confidence: null },
      { ...base, id: 'L1', confidence: 0.9 },
    ];
    assert.deepEqual(sortRows(rows, 'confidence', 'desc').map((r) => r.id), ['L1', 'L10', 'L2'], 'high to low, null last');
    assert.deepEqual(sortRows(rows, 'confidence', 'asc').map((r) => r.id), ['L10', 'L1', 'L2'], 'low to high, null still last');
    assert.deepEqual(sortRows(rows, 'id', 'asc').map((r) => r.id), ['L1', 'L2', 'L10'], 'natural id order');
  });
});
