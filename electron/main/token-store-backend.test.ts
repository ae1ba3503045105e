import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TokenStore, type Encryptor } from './token-store';

/** A working encryptor that reports the Linux backend safeStorage picked. */
function encryptorOn(backend: string): Encryptor {
  const key = crypto.randomBytes(32);
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => backend,
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

const linuxOnly = process.platform === 'linux' ? false : 'safeStorage backends are a Linux matter';

test('on the basic_text backend (a key hard-coded in Electron) tokens are refused with the reason; a real keyring is named', { skip: linuxOnly }, (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-backend-'));
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const weak = new TokenStore(home, encryptorOn('basic_text'));
  assert.equal(weak.available(), false, 'basic_text does not count as a keychain');
  assert.throws(() => weak.set('TANDEM_MODAL_TOKEN', 'modal-secret-123'), /cannot be stored safely here: .*"basic_text", a key built into Electron.*set the tokens in the environment instead/);
  assert.ok(!fs.existsSync(weak.file), 'nothing written');

  const strong = new TokenStore(home, encryptorOn('gnome_libsecret'));
  assert.equal(strong.available(), true);
  assert.equal(strong.protection(), 'encrypted with the OS keychain (gnome_libsecret)', 'the message names the keyring instead of assuming one');
  strong.set('TANDEM_MODAL_TOKEN', 'modal-secret-123');
  assert.deepEqual(strong.load(), { TANDEM_MODAL_TOKEN: 'modal-secret-123' });
});
