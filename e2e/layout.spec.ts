import type { Page, TestInfo } from '@playwright/test';
import { expect, test } from './cloud-fixtures';
import { openApp, snap } from './fixtures';

/**
 * Layout at laptop widths (1024 and 1366 px): nothing on the Cloud and Boltz-2 pages sticks out of
 * its card (bounding boxes), the Boltz-2 form is not squeezed, and no page logs a console error.
 */

const ROUTES = ['library', 'search', 'jobs', 'models', 'cloud', 'boltz', 'generate', 'map'];

/** Elements inside a card whose right (or left) edge is outside the card's box, as readable strings. */
// Runs in the page (this tsconfig has no DOM types, so the script is a string).
const OVERFLOW_SCRIPT = `(() => {
  const out = [];
  for (const card of document.querySelectorAll('#main .card')) {
    const c = card.getBoundingClientRect();
    if (c.width === 0) continue;
    for (const el of card.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      // Inside a horizontal scroller the content may be wider by design: the scroller itself is measured.
      if (el.closest('.table-scroll') && !el.classList.contains('table-scroll')) continue;
      if (r.right > c.right + 1 || r.left < c.left - 1) {
        const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls;
        const where = card.getAttribute('aria-labelledby') || card.getAttribute('aria-label') || 'card';
        out.push(where + ': ' + name + ' ' + Math.round(r.left) + '-' + Math.round(r.right) + ' outside ' + Math.round(c.left) + '-' + Math.round(c.right));
      }
    }
  }
  return out;
})()`;

/** Elements inside a card whose right (or left) edge is outside the card's box, as readable strings. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(OVERFLOW_SCRIPT);
}

async function fullPage(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
  await snap(page, testInfo, name);
}

for (const width of [1024, 1366]) {
  test(`Cloud and Boltz-2 fit their cards at ${width} px`, async ({ page, cloudHost }, testInfo) => {
    await page.setViewportSize({ width, height: 900 });
    await openApp(page, cloudHost, 'cloud');
    await expect(page.locator('section[aria-labelledby="functions-title"] tbody tr').first(), 'the functions table renders').toBeVisible();
    await expect(page.locator('tr[data-backend="modal"] [data-health="ok"]'), 'health probed').toBeVisible();
    expect(await overflowing(page), `Cloud at ${width} px: nothing outside its card`).toEqual([]);
    await fullPage(page, testInfo, `cloud-${width}`);

    await page.goto(`${cloudHost.origin}/#/boltz`);
    const form = page.locator('form[aria-labelledby="boltz-form-title"]');
    await expect(form).toBeVisible();
    await expect(page.locator('.field-error'), 'no red errors before anything is typed').toHaveCount(0);
    const main = await page.locator('#main').boundingBox();
    const box = await form.boundingBox();
    expect(box!.width / main!.width, `the form uses most of the page width (${Math.round(box!.width)} of ${Math.round(main!.width)} px)`).toBeGreaterThan(0.6);
    await page.locator('[data-example="t4l-l99a"]').click();
    await expect(page.locator('#chain-seq-0'), 'the example is T4 lysozyme L99A (164 residues)').toHaveValue(/^MNIFEMLRIDE.{153}$/);
    await expect(page.locator('[data-field="ligand-count"]')).toHaveText('1 ligand');
    await expect(page.getByLabel('Ligand 1 SMILES')).toHaveValue('c1ccccc1');
    await expect(page.locator('[data-plan="ready"]'), 'valid: the engine checked it and planned it').toHaveAttribute('data-backend', 'cloud-run');
    expect(await overflowing(page), `Boltz-2 at ${width} px: nothing outside its card`).toEqual([]);
    await fullPage(page, testInfo, `boltz2-${width}`);

    // The engine's RDKit check, shown on the row, names the ligand and the position.
    await page.getByLabel('Ligand 1 SMILES').fill('C1=CC=CC=C1X');
    await expect(page.locator('[data-error-for="ligands[0]"]')).toContainText(/ligand BNZ: RDKit \S+ cannot read the SMILES 'C1=CC=CC=C1X': syntax error at position 12/);
    await expect(page.getByRole('button', { name: 'Submit prediction' }), 'nothing invalid can be submitted').toBeDisabled();
  });
}

test('no console errors on any page (favicon included)', async ({ page, cloudHost }) => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  await openApp(page, cloudHost, 'library');
  for (const route of ROUTES) {
    await page.goto(`${cloudHost.origin}/#/${route}`);
    await expect(page.locator('#page-title'), `${route} renders`).toBeVisible();
    await page.waitForTimeout(500);
  }
  const icon = await page.evaluate<number>(`fetch(document.querySelector('link[rel="icon"]').href).then((r) => r.status)`);
  expect(icon, 'the favicon is served').toBe(200);
  expect(errors, 'no console errors, failed requests or page errors').toEqual([]);
});
