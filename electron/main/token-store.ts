/**
 * Cloud tokens kept by main, encrypted with the OS keychain (Electron's safeStorage) in
 * `$TANDEM_HOME/secrets.bin`: never in SQLite, never in a settings file, never logged. Keyed by the
 * environment variable a cloud profile names (TANDEM_MODAL_TOKEN, TANDEM_CLOUDRUN_TOKEN, ...);
 * main hands them to the engine in the utility process over its MessagePort.
 *
 * Pure Node apart from the encryptor it is given (safeStorage in the app), so it is tested
 * without Electron.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** What is used of Electron's safeStorage. */
export interface Encryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: the keyring safeStorage picked (gnome_libsecret, kwallet5, ..., or basic_text). */
  getSelectedStorageBackend?(): string;
}

/**
 * safeStorage's fallback on Linux desktops without a Secret Service keyring or KWallet: it
 * "encrypts" with a password hard-coded in Chromium, so anyone who can read the file can decrypt it.
 */
export const WEAK_BACKEND = 'basic_text';

export const SECRETS_FILE = 'secrets.bin';
const NAME_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

export class TokenStore {
  readonly file: string;

  constructor(
    home: string,
    private readonly enc: Encryptor,
  ) {
    this.file = path.join(home, SECRETS_FILE);
  }

  /** The Linux backend, when the platform reports one ('unknown' before the app is ready). */
  backend(): string | undefined {
    try {
      return process.platform === 'linux' ? this.enc.getSelectedStorageBackend?.() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Why tokens would not really be protected here (the basic_text backend), else undefined. */
  weakness(): string | undefined {
    if (this.backend() !== WEAK_BACKEND) return undefined;
    return 'no OS keyring was found (Electron\'s safeStorage fell back to "basic_text", a key built into Electron that protects nothing), so cloud tokens are not stored by the app; start or install a Secret Service keyring (GNOME Keyring, KWallet) and restart Tandem, or set the tokens in the environment instead';
  }

  /** Whether tokens can be stored safely (the OS keychain is usable and is not basic_text). */
  available(): boolean {
    return this.enc.isEncryptionAvailable() && this.weakness() === undefined;
  }

  /** How stored tokens are protected, for messages ("encrypted with the OS keychain (gnome_libsecret)"). */
  protection(): string {
    const b = this.backend();
    return `encrypted with the OS keychain${b && b !== 'unknown' ? ` (${b})` : ''}`;
  }

  /**
   * The stored tokens, by variable name. A file that cannot be decrypted (another user, another
   * machine, a reset keychain) reads as empty and says so through `problem`; its content is never shown.
   */
  load(problem: (why: string) => void = () => {}): Record<string, string> {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.file);
    } catch {
      return {};
    }
    if (!this.enc.isEncryptionAvailable()) {
      problem(`${this.file} exists but the OS keychain is not available, so cloud tokens from it are not used`);
      return {};
    }
    const weak = this.weakness();
    if (weak) problem(`${this.file} is readable with a key built into Electron: ${weak}`);
    try {
      const parsed = JSON.parse(this.enc.decryptString(raw)) as unknown;
      const out: Record<string, string> = {};
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) if (NAME_RE.test(k) && typeof v === 'string' && v) out[k] = v;
      }
      return out;
    } catch {
      problem(`${this.file} cannot be decrypted with this user's keychain; set the cloud tokens again`);
      return {};
    }
  }

  /** Store (or with `null`, forget) one token; written atomically, readable by this user only. */
  set(name: string, value: string | null): Record<string, string> {
    if (!NAME_RE.test(name)) throw new Error(`token names are environment variable names like TANDEM_MODAL_TOKEN, not "${name.slice(0, 64)}"`);
    const weak = this.weakness();
    if (weak) throw new Error(`tokens cannot be stored safely here: ${weak}`);
    if (!this.available()) throw new Error('the OS keychain is not available here, so tokens cannot be stored safely; set them in the environment instead');
    const all = this.load();
    if (value === null || value.trim() === '') delete all[name];
    else all[name] = value.trim();
    this.write(all);
    return all;
  }

  /** Forget every token. */
  clear(): void {
    fs.rmSync(this.file, { force: true });
  }

  private write(all: Record<string, string>): void {
    if (Object.keys(all).length === 0) return this.clear();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, this.enc.encryptString(JSON.stringify(all)), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
