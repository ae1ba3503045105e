/**
 * The desktop app itself, through Playwright's `_electron`: the same smoke as the web specs (the
 * window opens, the Library page renders, a folder is indexed, search finds the known passage),
 * over IPC instead of HTTP. Needs an Electron binary (`require('electron')` must name a file on
 * disk); without one every test here is skipped and says why.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { _electron, type ElectronApplication } from '@playwright/test';
import { expect, makeDocs, repoRoot, sharedModels, snap, test } from './fixtures';

const KNOWN = 'The quick zebra named Archibald jumps over the moonlit garden fences every Tuesday.';

/** The Electron binary, or why there is none. */
function electronBinary(): { path: string } | { why: string } {
  let p: unknown;
  try {
    p = createRequire(import.meta.url)('electron');
  } catch (e) {
    return { why: `no Electron binary: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1?)` };
  }
  if (typeof p !== 'string' || !fs.existsSync(p)) return { why: `no Electron binary: ${String(p)} does not exist` };
  return { path: p };
}

const binary = electronBinary();
const why = 'why' in binary ? binary.why : undefined;
if (why) console.log(`e2e electron: skipped: ${why}`);
test.skip(why !== undefined, why);

const MAIN = path.join(repoRoot, 'out', 'main', 'index.js');

test.beforeAll(() => {
  if (why || (process.env.TANDEM_E2E_SKIP_BUILD && fs.existsSync(MAIN))) return;
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`e2e electron: \`electron-vite build\` failed (exit ${r.status})`);
});

async function launch(home: string): Promise<ElectronApplication> {
  const exe = 'path' in binary ? binary.path : '';
  return _electron.launch({
    executablePath: exe,
    args: [MAIN],
    cwd: repoRoot,
    env: { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: sharedModels, TANDEM_HF_ENDPOINT: 'http://127.0.0.1:9', ELECTRON_RENDERER_URL: '' },
  });
}

test('the desktop app opens its window, indexes a folder and finds the known passage over IPC', async ({ tmp }, testInfo) => {
  const docs = makeDocs(path.join(tmp, 'docs'), {
    'zebra.md': `# Field notes\n\n${KNOWN}`,
    'pasta.txt': 'Cooking pasta: boil salted water, add the spaghetti, stir, and taste after nine minutes.',
  });
  const app = await launch(path.join(tmp, 'home'));
  try {
    const page = await app.firstWindow();
    await expect(page.locator('nav[aria-label="Pages"]'), 'the app shell renders').toBeVisible();
    expect(page.url(), 'the renderer is loaded from app://, not from the network').toMatch(/^app:\/\/tandem\//);
    await expect(page.locator('.conn'), 'the transport is IPC').toContainText('desktop');
    const page_ = await page.evaluate(() => {
      const g = globalThis as unknown as { require?: unknown; process?: unknown; tandem?: Record<string, unknown> };
      return { require: typeof g.require, process: typeof g.process, bridge: Object.keys(g.tandem ?? {}).sort() };
    });
    expect(page_, 'no Node in the page; the bridge exposes only invoke and on').toEqual({ require: 'undefined', process: 'undefined', bridge: ['invoke', 'on'] });
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length);
    expect(windows, 'one window').toBe(1);

    await page.locator('#index-collection').fill('notes');
    await page.locator('#index-paths').fill(docs);
    await page.getByRole('button', { name: 'Add to library' }).click();
    await expect(page.locator('.ingest').first(), 'the folder is indexed').toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
    await snap(page, testInfo, 'electron-library');

    await page.locator('a[data-route="search"]').click();
    await page.locator('#search-query').fill('zebra Archibald fences');
    await page.keyboard.press('Enter');
    await expect(page.locator('.hit').first(), 'search finds the known passage').toHaveAttribute('data-path', path.join(docs, 'zebra.md'));
    await snap(page, testInfo, 'electron-search');

    const refused = await page.evaluate(() => (globalThis as unknown as { tandem: { invoke(m: string, i: unknown): Promise<unknown> } }).tandem.invoke('no.such.method', {}));
    expect(refused, 'main refuses methods outside the contract').toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  } finally {
    await app.close();
  }
});
