// Playwright end-to-end tests against `tandem serve` in Debian's Chromium (/usr/bin/chromium).
// Run: npm run test:e2e. Screenshots of each page are attached to the report and kept in
// test-results/ (see e2e/README.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

export const CHROMIUM = process.env.TANDEM_E2E_CHROMIUM ?? '/usr/bin/chromium';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hasChromium = fs.existsSync(CHROMIUM);
// Without a browser there is nothing to run: every spec is left out (run with --pass-with-no-tests).
if (!hasChromium) console.log(`e2e: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set TANDEM_E2E_CHROMIUM)`);

export default defineConfig({
  testDir: '.',
  testMatch: hasChromium ? /.*\.spec\.ts$/ : /^$/,
  outputDir: path.join(repoRoot, 'test-results', 'e2e'),
  globalSetup: './global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 860 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
