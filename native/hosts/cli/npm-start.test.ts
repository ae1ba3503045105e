import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../testing/cli-run.js';

/** Whether an Electron binary is installed here (then `npm start` would open the desktop app). */
function hasElectronBinary(): boolean {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && fs.existsSync(p);
  } catch {
    return false;
  }
}

test('npm start without the Electron binary says so in one line, serves the UI through the web host until SIGINT, then exits 0', async () => {
  const electron = hasElectronBinary();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-start-'));
  // --web forces the browser route where a binary is installed; TANDEM_NO_OPEN=1: no browser is opened.
  const proc = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.mjs'), ...(electron ? ['--web'] : [])], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: home, TANDEM_HOME: home, TANDEM_NO_OPEN: '1', TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stdout:\n${out}\nstderr:\n${err}`)), 60_000);
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Tandem is running at (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code}) before serving; stdout:\n${out}\nstderr:\n${err}`));
      });
    });
    const first = out.split('\n')[0]!;
    if (!electron) assert.match(first, /^tandem: the desktop window needs the Electron binary.*`npm rebuild electron`.*in your browser/, 'one line first: why there is no window, and how to get one');
    const res = await fetch(url, { redirect: 'manual' });
    assert.ok([200, 302, 303].includes(res.status), `the printed URL answers (${res.status})`);
    const origin = new URL(url).origin;
    const page = await fetch(`${origin}/`, { headers: res.headers.get('set-cookie') ? { cookie: res.headers.get('set-cookie')!.split(';')[0]! } : {} });
    const built = fs.existsSync(path.join(repoRoot, 'dist', 'renderer', 'index.html'));
    assert.equal(page.status, built ? 200 : 503, 'the built UI is served (without a build, a page saying to run npm run build)');
    assert.match(await page.text(), /<html/i);

    assert.equal(proc.exitCode, null, 'it keeps serving');
    proc.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000).unref())]);
    assert.equal(code, 0, `Ctrl-C stops it cleanly; stderr:\n${err}`);
    await assert.rejects(fetch(`${origin}/`), 'the web host is gone with it');
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
});
