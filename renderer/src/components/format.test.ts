/* eslint-disable no-restricted-imports -- a node:test file for pure renderer helpers: it runs under Node, never in the renderer */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRate, formatUsd } from './format';

test('formatUsd: one rule for every cost in the UI', () => {
  const cases: Array<[number, string]> = [
    [0, '$0'],
    [0.0003, '$0.0003'],
    [0.000412, '$0.00041'],
    [0.41, '$0.41'],
    [0.4149, '$0.41'],
    [1234.5, '$1,234.50'],
    [-0.0002, '-$0.0002'],
    [5e-8, '<$0.000001'],
    [Number.NaN, '–'],
  ];
  for (const [v, s] of cases) assert.equal(formatUsd(v), s, String(v));
  assert.equal(formatRate(3.95), '$3.95/h');
});
