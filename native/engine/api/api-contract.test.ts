import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_EVENT_NAMES, API_METHOD_NAMES, API_METHODS, isApiEventName, isApiMethod } from '../common/api-contract.js';

test('method and event names are closed sets; every method has input and output schemas', () => {
  assert.ok(isApiMethod('search.query') && !isApiMethod('toString') && !isApiMethod('nope'), 'isApiMethod is exact (no prototype names)');
  assert.ok(isApiEventName('job.updated') && !isApiEventName('constructor'), 'isApiEventName is exact');
  assert.ok(API_METHOD_NAMES.length === 44 && API_EVENT_NAMES.length === 6, 'the contract lists its methods and events');
  for (const m of API_METHOD_NAMES) assert.ok(API_METHODS[m].input && API_METHODS[m].output, `${m} has schemas`);
  assert.equal(API_METHODS['jobs.list'].input.parse({}).limit, 200, 'defaults come from the contract');
});
