/**
 * Test fixtures: a real `tandem serve --port 0` (bin/tandem.js) with its own temporary TANDEM_HOME
 * and the shared models (../shared/models), its printed URL, and helpers to call the API, kill
 * and restart it. Specs skip (saying why) when Chromium or the shared models are missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sharedModels = path.resolve(repoRoot, '..', 'shared', 'models');
export const FAST_MODEL = 'minishlab/potion-base-2M';

export interface RunningHost {
  /** The printed URL (its one-time code is already spent: startHost exchanged it for `session`). */
  url: string;
  origin: string;
  /** A session of the test itself (the X-Tandem-Session header), for callApi and minting codes. */
  session: string;
  proc: ChildProcess;
  stderr: () => string;
}

/** Start `tandem serve --port 0` and wait for its printed URL. `env`: more variables (e.g. the cloud URLs). */
export async function startHost(home: string, env: NodeJS.ProcessEnv = {}): Promise<RunningHost> {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tandem.js'), 'serve', '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: sharedModels, TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tandem serve printed no URL within 30 s; stderr:\n${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Tandem is running at (http:\/\/127\.0\.0\.1:\d+\/#code=[0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tandem serve exited (${code}) before printing its URL; stderr:\n${err}`));
    });
  });
  const u = new URL(url);
  const session = await authPost<{ session: string }>(u.origin, '/auth/session', { code: u.hash.slice('#code='.length) });
  return { url, origin: u.origin, session: session.session, proc, stderr: () => err };
}

async function authPost<T>(origin: string, p: string, input: unknown, session?: string): Promise<T> {
  const res = await fetch(`${origin}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(session ? { 'x-tandem-session': session } : {}) }, body: JSON.stringify(input) });
  const body = (await res.json()) as { result?: T; error?: { code: string; message: string } };
  if (body.error) throw new Error(`${p}: ${body.error.code}: ${body.error.message}`);
  return body.result as T;
}

/** A fresh one-time sign-in URL for a browser (`/#code=...`), minted with the test's session. */
export async function signInUrl(h: RunningHost): Promise<string> {
  const { code } = await authPost<{ code: string }>(h.origin, '/auth/code', {}, h.session);
  return `${h.origin}/#code=${code}`;
}

export async function stopHost(h: RunningHost, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (h.proc.exitCode !== null || h.proc.signalCode !== null) return h.proc.exitCode;
  const exited = new Promise<number | null>((resolve) => h.proc.once('exit', (code) => resolve(code)));
  h.proc.kill(signal);
  return exited;
}

/** Call the API directly (the test's session header), as the UI does through its transport. */
export async function callApi<T = unknown>(h: RunningHost, method: string, input: unknown = {}): Promise<T> {
  return authPost<T>(h.origin, `/api/${method}`, input, h.session);
}

/** A screenshot of the page, attached to the report and kept under test-results/. */
export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
  const keep = path.join(repoRoot, 'test-results', 'screenshots');
  fs.mkdirSync(keep, { recursive: true });
  fs.copyFileSync(file, path.join(keep, `${name}.png`));
}

export function makeDocs(dir: string, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

export function skipReason(): string | undefined {
  if (!fs.existsSync(path.join(sharedModels, FAST_MODEL))) return `skipped: ../shared is absent (${path.join(sharedModels, FAST_MODEL)} not found)`;
  return undefined;
}

interface Fixtures {
  /** A temporary folder removed after the test. */
  tmp: string;
  /** A running host on a fresh TANDEM_HOME (tmp/home). */
  host: RunningHost;
}

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern
  tmp: async ({}, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
    await use(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  },
  host: async ({ tmp }, use) => {
    const h = await startHost(path.join(tmp, 'home'));
    await use(h);
    await stopHost(h);
  },
});

// (A missing browser is handled in playwright.config.ts: no spec runs at all.)
const why = skipReason();
if (why) console.log(`e2e: ${why}`);
test.skip(why !== undefined, why);

export { expect };

/** Open a one-time sign-in URL (the page exchanges its code for a tab session) and land on a page. */
export async function openApp(page: Page, h: RunningHost, route = 'library'): Promise<void> {
  await page.goto(await signInUrl(h));
  await expect(page, 'the code is exchanged and taken out of the URL').toHaveURL(`${h.origin}/`);
  await page.goto(`${h.origin}/#/${route}`);
  await expect(page.locator('nav[aria-label="Pages"]'), 'the app shell renders').toBeVisible();
}
