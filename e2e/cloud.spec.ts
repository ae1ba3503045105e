import { expect, test } from './cloud-fixtures';
import { openApp, snap } from './fixtures';
import { decodePng, pixelStats } from './png';
import type { Page, TestInfo } from '@playwright/test';

/** The page from its top (the app scrolls inside <main>), saved as an artifact. */
async function snapTop(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
  await snap(page, testInfo, name);
}

const PROTEIN = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWSAEY';

test('Boltz-2: validation as you type, one complex -> scores and a 3D structure; a batch fills per-ligand rows; Jobs shows both with timings', async ({ page, cloudHost }, testInfo) => {
  await openApp(page, cloudHost, 'boltz');
  const seq = page.locator('#chain-seq-0');
  await seq.fill('MKTAYB');
  await expect(page.locator('[data-error-for="proteins[0].sequence"]'), 'an invalid residue is named with its position as you type').toContainText("invalid residue 'B' at position 6");
  await seq.fill(PROTEIN);
  await expect(page.locator('[data-error-for="proteins[0].sequence"]'), 'a valid sequence clears the message').toHaveCount(0);
  const smiles = page.getByLabel('Ligand 1 SMILES');
  await smiles.fill('CC(O');
  await expect(page.locator('[data-error-for="ligands[0]"]'), 'an unbalanced SMILES is flagged').toContainText("unclosed '('");
  await smiles.fill('CC(=O)Oc1ccccc1C(=O)O');
  await page.locator('#boltz-affinity').check();
  const plan = page.locator('[data-plan="ready"]');
  await expect(plan, 'the route is shown before submitting').toHaveAttribute('data-backend', 'cloud-run');
  await expect(plan.locator('[data-field="plan-estimate"]'), 'with a cost estimate').toContainText('$');

  await page.getByRole('button', { name: 'Submit prediction' }).click();
  const results = page.locator('section[aria-label="Boltz-2 results"]');
  await expect(results, 'the prediction finishes').toHaveAttribute('data-status', 'succeeded');
  const single = results.locator('tbody tr').first();
  await expect(single.locator('[data-field="confidence"]'), 'a confidence score').toHaveText(/^0\.\d{3}$/);
  await expect(single.locator('[data-field="affinity"]'), 'an affinity value').toHaveText(/^-?\d+\.\d{3}$/);
  const mol = results.locator('figure.mol');
  await expect(mol, 'the structure is drawn').toHaveAttribute('data-state', 'ready');
  await expect(mol, 'with atoms').not.toHaveAttribute('data-atoms', '0');
  const canvas = mol.locator('canvas').first();
  await expect(canvas, 'a 3Dmol canvas').toBeVisible();
  const stats = pixelStats(decodePng(await canvas.screenshot()));
  expect(stats.colours, `the canvas is not blank (${stats.colours} colours)`).toBeGreaterThan(20);
  expect(stats.nonBackground, `something covers the canvas (${(stats.nonBackground * 100).toFixed(1)} % of pixels)`).toBeGreaterThan(0.01);
  await snapTop(page, testInfo, 'boltz2');

  // A batch: paste three more ligands, one prediction each.
  await page.locator('#ligand-paste').fill('caffeine CN1C=NC2=C1C(=O)N(C(=O)N2C)C\nphenol c1ccccc1O\nheme ccd:HEM');
  await page.getByRole('button', { name: 'Add these lines' }).click();
  await expect(page.getByRole('button', { name: 'Batch: one prediction per ligand' }), 'pasting many ligands switches to a batch').toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: 'Submit batch (4 ligands)' }).click();
  const batch = page.locator('section[aria-label="Boltz-2 results"]');
  await expect(batch.locator('tbody tr'), 'one row per ligand').toHaveCount(4);
  for (const id of ['L1', 'caffeine', 'phenol', 'heme']) await expect(batch.locator(`tr[data-row="${id}"]`), `ligand ${id} fills in`).toHaveAttribute('data-status', 'done');
  await expect(batch, 'the batch finishes').toHaveAttribute('data-status', 'succeeded');
  await expect(batch.locator('[data-field="progress"]'), 'every ligand counted').toContainText('4 of 4 done');
  await batch.locator('button[data-sort="confidence"]').click();
  await expect(batch.locator('th[aria-sort="descending"]'), 'sorted by confidence').toContainText('Score');
  const scores = (await batch.locator('tbody [data-field="confidence"]').allTextContents()).map(Number);
  expect(scores, 'highest confidence first').toEqual([...scores].sort((a, b) => b - a));
  await batch.locator('tr[data-row="phenol"]').click();
  await expect(batch.locator('figure.mol [role="img"]'), 'selecting a row shows that ligand').toHaveAttribute('aria-label', /phenol/);
  await expect(batch.locator('figure.mol'), 'its structure is drawn').toHaveAttribute('data-state', 'ready');
  await expect(page.locator('[data-past-job]'), 'both jobs are listed to reopen').toHaveCount(2);
  await snapTop(page, testInfo, 'boltz2-batch');

  await page.goto(`${cloudHost.origin}/#/jobs`);
  const jobRow = (kind: string) => page.locator('[role="row"][data-job]').filter({ has: page.getByRole('cell', { name: kind, exact: true }) });
  for (const kind of ['boltz2', 'boltz2-batch']) await expect(jobRow(kind), `the ${kind} job is in Jobs and succeeded`).toHaveAttribute('data-status', 'succeeded');
  await jobRow('boltz2-batch').click();
  const detail = page.locator('aside[data-job]');
  await expect(detail.locator('[data-timing="inferenceMs"]'), 'the batch has its inference time').not.toHaveText('–');
  await expect(detail.locator('[data-timing="queueMs"]'), 'and its queue time').not.toHaveText('–');
  await expect(detail.locator('[data-field="cost"]'), 'and a cost').not.toHaveText('$0');
  await snapTop(page, testInfo, 'jobs-cloud');
});

test('Cloud page: health ok, warm-up shows the cold start, a budget is set, alerts render', async ({ page, cloudHost }, testInfo) => {
  await openApp(page, cloudHost, 'cloud');
  await expect(page.locator('section[aria-label="Alerts"]'), 'the alerts area renders').toBeVisible();
  await expect(page.locator('tr[data-backend="modal"] [data-field="token"]'), 'token presence without the token').toContainText('not set');
  await expect(page.locator('tr[data-backend="modal"] [data-health]'), 'health is probed when the page opens').toHaveAttribute('data-health', 'ok');
  await page.getByRole('button', { name: 'Check Cloud Run health' }).click();
  await expect(page.locator('tr[data-backend="cloud-run"] [data-health]'), 'Cloud Run is healthy').toHaveAttribute('data-health', 'ok');

  await page.getByRole('button', { name: 'Warm up Qwen 32B (A100-80GB)' }).click();
  const warm = page.locator('tr[data-warmup="warmup"]');
  await expect(warm, 'the warm-up job ends').toHaveAttribute('data-state', 'succeeded');
  await expect(warm.locator('[data-field="cold-start"]'), 'and shows the measured cold start').toContainText(/cold start \d/);

  await page.locator('#budget-amount').fill('0.0001');
  await page.locator('#budget-action').selectOption('block');
  await page.getByRole('button', { name: 'Save budget' }).click();
  await expect(page.locator('[data-field="budget-saved"]'), 'the budget is saved').toContainText('block');
  await expect(page.locator('[data-field="budget"]'), 'and shown').toContainText('block');
  await expect(page.locator('section[aria-label="Alerts"] [data-rule="budget"]'), 'the warm-up cost puts the month over the tiny budget: an alert').toBeVisible();
  await expect(page.getByRole('meter', { name: 'Projected spend against the budget' }), 'the projection bar').toBeVisible();

  await snapTop(page, testInfo, 'cloud');
  await page.locator('#route-boltz2').selectOption('modal');
  await page.reload();
  await expect(page.locator('#route-boltz2'), 'the routing switch is kept').toHaveValue('modal');
});

test('Generate: the schema is checked as you type; the output is valid and pretty-printed with who answered', async ({ page, cloudHost }, testInfo) => {
  await openApp(page, cloudHost, 'generate');
  const schema = page.locator('#gen-schema');
  await schema.fill('{"type": "object",\n  "properties": }');
  await expect(page.locator('[data-field="schema-status"]'), 'a JSON syntax error names the line').toContainText(/not valid JSON.*line 2/);
  await schema.fill('{"type": "array"}');
  await expect(page.locator('[data-field="schema-status"]'), 'the schema must describe an object').toContainText("must be 'object'");
  await page.getByRole('button', { name: 'Paper metadata' }).click();
  await expect(page.locator('[data-field="schema-status"]'), 'an example schema is valid').toHaveText('valid JSON Schema');
  await expect(page.locator('[data-plan="ready"]'), 'routed to Modal before submitting').toHaveAttribute('data-backend', 'modal');
  await page.getByRole('button', { name: 'Generate' }).click();
  const result = page.locator('section[aria-label="Generation result"]');
  await expect(result, 'the job succeeds').toHaveAttribute('data-status', 'succeeded');
  await expect(result.locator('[data-valid="true"]'), 'the output is valid under the schema').toBeVisible();
  const text = await result.locator('[data-field="output"]').textContent();
  const output = JSON.parse(text ?? '') as Record<string, unknown>;
  expect(text, 'pretty-printed (two-space indent)').toBe(JSON.stringify(output, null, 2));
  expect(Object.keys(output), 'the required fields').toEqual(expect.arrayContaining(['title', 'authors', 'year', 'findings']));
  await expect(result.locator('[data-field="answered-by"]'), 'which model and backend answered').toContainText(/qwen-32b on modal/);
  await expect(result.locator('[data-field="why"]'), 'and why').toContainText('policy');
  await expect(result.locator('[data-field="timings"]'), 'timings').toContainText('total');
  await expect(result.locator('[data-field="cost"]'), 'cost').not.toHaveText('$0');
  await snapTop(page, testInfo, 'generate');
});

test('Cloud settings: editing a price on the Cloud page changes the estimate the Boltz-2 page shows, no restart; Reset puts it back', async ({ page, cloudHost }) => {
  const estimate = async () => {
    await page.locator('#chain-seq-0').fill(PROTEIN);
    await page.getByLabel('Ligand 1 SMILES').fill('CCO');
    const plan = page.locator('[data-plan="ready"]');
    await expect(plan, 'routed to Cloud Run').toHaveAttribute('data-backend', 'cloud-run');
    return plan;
  };
  await openApp(page, cloudHost, 'boltz');
  const plan0 = await estimate();
  await expect(plan0.locator('[data-field="plan-estimate-why"]'), 'the built-in L4 price').toContainText('$0.65/h');
  const usd0 = Number((await plan0.locator('[data-field="plan-estimate"]').textContent())!.replace(/[^0-9.]/g, ''));

  await page.goto(`${cloudHost.origin}/#/cloud`);
  const rate = page.getByLabel('Price of L4 on cloud-run', { exact: true });
  await rate.fill('6.5');
  await page.getByRole('button', { name: 'Save the price of L4 on cloud-run' }).click();
  await expect(page.getByRole('button', { name: 'Reset the price of L4 on cloud-run' }), 'a changed built-in price can be reset').toBeVisible();
  await expect(rate, 'the saved price is shown').toHaveValue('6.5');

  await page.goto(`${cloudHost.origin}/#/boltz`);
  const plan1 = await estimate();
  await expect(plan1.locator('[data-field="plan-estimate-why"]'), 'the next plan uses the new price').toContainText('$6.50/h');
  const usd1 = Number((await plan1.locator('[data-field="plan-estimate"]').textContent())!.replace(/[^0-9.]/g, ''));
  expect(usd1 / usd0, `ten times the rate, about ten times the shown estimate ($${usd0} -> $${usd1})`).toBeGreaterThan(8);

  await page.goto(`${cloudHost.origin}/#/cloud`);
  await page.getByRole('button', { name: 'Reset the price of L4 on cloud-run' }).click();
  await expect(page.getByLabel('Price of L4 on cloud-run', { exact: true }), 'back to the built-in price').toHaveValue('0.65');
  await page.locator('#alert-errorRate').fill('0');
  await expect(page.locator('[data-error-for="alerts.errorRate"]'), 'a threshold of 0 is named before saving').toBeVisible();
  await page.locator('#alert-errorRate').fill('5');
  await page.getByRole('button', { name: 'Save thresholds' }).click();
  await expect(page.locator('[data-field="alerts-saved"]'), 'thresholds saved for the profile').toContainText('errors 5 %');
});
