/**
 * Issue 18 points 2-3 in the UI. Generate with Modal unconfigured and no local model: the plan names
 * both facts and Generate is disabled. Against the emulator (`tandem emulate --time-scale 0.02`:
 * Qwen-32B's 6 min cold start takes 7.2 s): the running job shows the engine's status line ("waiting
 * for Modal generate: cold start 0:03 (typical 5-7 min for qwen-32b)"), the plan shows both figures
 * and assumes cold first, warm after the call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startEmulatorProcess, stopEmulator } from './cloud-fixtures';
import { expect, openApp, snap, startHost, stopHost, test } from './fixtures';

test('Generate with Modal unconfigured and no local model: the plan names both facts and Generate is disabled', async ({ page, tmp }, testInfo) => {
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home, { recursive: true });
  const host = await startHost(home, { TANDEM_MODAL_URL_TEMPLATE: '', TANDEM_PROFILE: 'development' });
  try {
    await openApp(page, host, 'generate');
    const plan = page.locator('[data-plan="error"]');
    await expect(plan, 'the plan says both facts').toContainText(
      'Modal is not configured (set TANDEM_MODAL_URL_TEMPLATE or open Cloud settings) and the local fallback onnx-community/Qwen2.5-0.5B-Instruct is not installed (tandem models pull onnx-community/Qwen2.5-0.5B-Instruct)',
    );
    await expect(plan.locator('.error-code')).toHaveText('NOT_CONFIGURED');
    await expect(page.getByRole('button', { name: 'Generate', exact: true }), 'Generate is disabled').toBeDisabled();
    await snap(page, testInfo, 'generate-not-configured');
  } finally {
    await stopHost(host);
  }
});

test('Generate through an emulated cold start: the status line while it waits, then the plan assumes warm', async ({ page, tmp }, testInfo) => {
  const emu = await startEmulatorProcess('0.02');
  const host = await startHost(path.join(tmp, 'home'), { TANDEM_MODAL_URL_TEMPLATE: emu.modalTemplate, TANDEM_CLOUD_POLL_MS: '200', TANDEM_PROFILE: 'development' });
  try {
    await openApp(page, host, 'generate');
    const estimates = page.locator('[data-field="plan-estimates"]');
    await expect(estimates, 'never seen warm: the plan assumes a cold start').toHaveAttribute('data-assumed', 'cold');
    await expect(estimates, 'and shows both figures').toContainText(/\$0\.41 assuming cold · \$0\.0089 if warm/);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const wait = page.locator('[data-field="wait-phase"]');
    await expect(wait, 'the phase and elapsed time while the emulated cold start runs').toHaveText(/^waiting for Modal generate: cold start 0:0\d(, 303 poll \d+)? \(typical 5-7 min for qwen-32b\)$/, { timeout: 15_000 });
    await snap(page, testInfo, 'generate-cold-start');
    const result = page.locator('section[aria-label="Generation result"]');
    await expect(result, 'the job succeeds').toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
    await expect(result.locator('[data-field="timings"]'), 'it paid a cold start').toContainText('cold start');
    await expect(estimates, 'after the call, the plan assumes warm').toHaveAttribute('data-assumed', 'warm');
    await expect(page.locator('[data-field="plan-estimate-why"]'), 'and says why').toContainText(/modal generate answered [\d.]+ s ago, within its 10 min scale-down window/);
  } finally {
    await stopHost(host);
    await stopEmulator(emu);
  }
});
