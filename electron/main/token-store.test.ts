import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TokenStore, type Encryptor } from './token-store';

/** A real encryptor (AES-256-GCM with a key of its own), standing where safeStorage stands in the app. */
function aesEncryptor(key = crypto.randomBytes(32), available = true): Encryptor {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (plain) => {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString: (buf) => {
      const d = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

function tempHome(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-tokens-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('tokens are stored encrypted in secrets.bin, read back, forgotten', (t) => {
  const home = tempHome(t);
  const enc = aesEncryptor();
  const store = new TokenStore(home, enc);
  assert.deepEqual(store.load(), {}, 'no file: no tokens');
  store.set('TANDEM_MODAL_TOKEN', 'modal-secret-123');
  store.set('TANDEM_CLOUDRUN_TOKEN', ' run-secret-456 ');
  const raw = fs.readFileSync(path.join(home, 'secrets.bin'));
  assert.ok(!raw.toString('latin1').includes('modal-secret-123') && !raw.toString('latin1').includes('TANDEM_MODAL_TOKEN'), 'nothing readable in the file');
  if (process.platform !== 'win32') assert.equal(fs.statSync(store.file).mode & 0o777, 0o600, 'readable by this user only');
  assert.deepEqual(new TokenStore(home, enc).load(), { TANDEM_MODAL_TOKEN: 'modal-secret-123', TANDEM_CLOUDRUN_TOKEN: 'run-secret-456' }, 'a new store reads both (trimmed)');
  store.set('TANDEM_MODAL_TOKEN', null);
  assert.deepEqual(store.load(), { TANDEM_CLOUDRUN_TOKEN: 'run-secret-456' }, 'null forgets one');
  store.set('TANDEM_CLOUDRUN_TOKEN', '');
  assert.ok(!fs.existsSync(store.file), 'the last one gone: no file left');
  assert.throws(() => store.set('not a name', 'x'), /environment variable names/, 'names are env-variable names');
  assert.ok(fs.readdirSync(home).every((f) => !f.endsWith('.tmp')), 'no temporary files left');
});

test('a file another keychain wrote, or no keychain at all, reads as empty and says why without the content', (t) => {
  const home = tempHome(t);
  new TokenStore(home, aesEncryptor()).set('TANDEM_MODAL_TOKEN', 'modal-secret-123');
  const problems: string[] = [];
  assert.deepEqual(new TokenStore(home, aesEncryptor()).load((w) => problems.push(w)), {}, 'another key cannot read it');
  assert.match(problems[0] ?? '', /cannot be decrypted/, 'it says why');
  const locked = new TokenStore(home, aesEncryptor(undefined, false));
  assert.deepEqual(locked.load((w) => problems.push(w)), {}, 'no keychain: nothing is read');
  assert.match(problems[1] ?? '', /keychain is not available/, 'and it says so');
  assert.throws(() => locked.set('TANDEM_MODAL_TOKEN', 'x'), /cannot be stored safely/, 'and nothing is written in the clear');
  assert.ok(problems.every((p) => !p.includes('modal-secret-123')), 'no message carries the token');
});
