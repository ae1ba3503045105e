// The Jobs page's merge of a jobs.list snapshot with job.updated events (typecheck: npx tsc -p renderer/test/tsconfig.json).
/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiJob } from '../../../../native/engine/common/api-contract';
import { mergeJobList } from './job-list';

function job(id: string, status: ApiJob['status'], kind = 'index'): ApiJob {
  return {
    id,
    kind,
    label: '',
    backend: 'local',
    device: 'cpu',
    status,
    priority: 0,
    params: {},
    inputDigest: 'd',
    progress: { done: 0, total: null },
    timings: { queuedAt: '2026-11-22T10:00:00.000Z', startedAt: null, finishedAt: null, loadMs: null, inferenceMs: null, queueMs: null, transferMs: null },
    costUsd: 0,
    error: null,
    result: null,
    retryOf: null,
    remoteId: null,
  } as unknown as ApiJob;
}

const all = () => true;

test('a final state seen in an event is not replaced by an older running row from the list', () => {
  const listed = [job('J2', 'running'), job('J1', 'succeeded')];
  const seen = new Map([['J2', job('J2', 'succeeded')]]);
  assert.deepEqual(mergeJobList(listed, seen, all).map((j) => [j.id, j.status]), [['J2', 'succeeded'], ['J1', 'succeeded']]);
});

test('a running event does not overwrite a final row (the list is newer there), and unseen rows stay as listed', () => {
  const listed = [job('J3', 'failed'), job('J2', 'queued')];
  const seen = new Map([['J3', job('J3', 'running')]]);
  assert.deepEqual(mergeJobList(listed, seen, all).map((j) => [j.id, j.status]), [['J3', 'failed'], ['J2', 'queued']]);
});

test('a job created after the snapshot and seen only in events is kept, newest first, when it passes the filters', () => {
  const listed = [job('J2', 'succeeded')];
  const seen = new Map([
    ['J4', job('J4', 'succeeded', 'embed')],
    ['J5', job('J5', 'running')],
    ['J1', job('J1', 'succeeded')], // older than the snapshot's newest: beyond the list's limit or filtered out by the host
  ]);
  assert.deepEqual(mergeJobList(listed, seen, all).map((j) => j.id), ['J5', 'J4', 'J2']);
  assert.deepEqual(mergeJobList(listed, seen, (j) => j.kind === 'index').map((j) => j.id), ['J5', 'J2']);
});

test('a replaced row that no longer passes the filters leaves the list', () => {
  const listed = [job('J2', 'running')];
  const seen = new Map([['J2', job('J2', 'failed')]]);
  assert.deepEqual(mergeJobList(listed, seen, (j) => j.status === 'running'), []);
});
