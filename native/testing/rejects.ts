import assert from 'node:assert/strict';
import { isTandemError } from '../engine/common/errors.js';

/** Assert that `p` rejects with a TandemError of `code` (and a message matching `match`, when given); `msg` names the case. */
export async function rejects(p: Promise<unknown>, code: string, msg: string, match?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isTandemError(e), `${msg}: a TandemError, got ${String(e)}`);
    assert.equal(e.code, code, `${msg}: code (${e.message})`);
    if (match) assert.match(e.message, match, `${msg}: message`);
    return;
  }
  assert.fail(`${msg}: expected ${code}, but it succeeded`);
}
