import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES } from '../../engine/common/errors.js';
import { httpStatusFor } from './web-host.js';

test('a full or read-only disk is not a 500: DISK_FULL is 507 Insufficient Storage, READ_ONLY 503', () => {
  assert.ok(ERROR_CODES.includes('DISK_FULL') && ERROR_CODES.includes('READ_ONLY'));
  assert.equal(httpStatusFor('DISK_FULL'), 507);
  assert.equal(httpStatusFor('READ_ONLY'), 503);
  assert.equal(httpStatusFor('INTERNAL'), 500);
});
