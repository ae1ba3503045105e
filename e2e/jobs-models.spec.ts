import path from 'node:path';
import { callApi, expect, makeDocs, openApp, snap, test } from './fixtures';

test('the Jobs page lists the index job with its timing breakdown, events and filters', async ({ page, host, tmp }, testInfo) => {
  const docs = makeDocs(path.join(tmp, 'docs'), { 'a.md': 'Alpha notes about glaciers.', 'b.txt': 'Beta notes about volcanoes.' });
  const { jobIds } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [docs], collection: 'geo' });
  const id = jobIds[0]!;

  await openApp(page, host, 'jobs');
  const row = page.locator(`[role="row"][data-job="${id}"]`);
  await expect(row, 'the index job is listed and finishes').toHaveAttribute('data-status', 'succeeded');
  await expect(row, 'its kind is shown').toContainText('index');
  await row.click();
  const detail = page.locator(`aside[data-job="${id}"]`);
  await expect(detail.locator('[data-timing="inferenceMs"]'), 'inference time is measured').not.toHaveText('–');
  await expect(detail.locator('[data-timing="queueMs"]'), 'queue time is measured').not.toHaveText('–');
  await expect(detail.locator('[data-timing="runMs"]'), 'run time is measured').not.toHaveText('–');
  await expect(detail.locator('[data-field="cost"]'), 'a local job costs nothing').toHaveText('$0');
  await expect(detail.getByRole('list', { name: 'Job events' }), 'the events are listed').toContainText('succeeded');
  await expect(page.getByRole('img', { name: 'Latency over time' }), 'the latency chart is drawn').toBeVisible();
  await snap(page, testInfo, 'jobs');

  await page.locator('#filter-status').selectOption('failed');
  await expect(page.getByText('No jobs match these filters'), 'a filter with no match says so').toBeVisible();
  await page.locator('#filter-status').selectOption('');
  await page.locator('#filter-text').fill('geo');
  await expect(row, 'the text filter finds the job by its params').toBeVisible();

  await page.locator('h1').click(); // out of the text box: there '/' is just a character
  await page.keyboard.press('/');
  await expect(page.locator('#search-query'), '/ works from the Jobs page too').toBeFocused();
});

test('the Models page shows the catalog, what is installed, the device and why, and verifies a model', async ({ page, host }, testInfo) => {
  await openApp(page, host, 'models');
  const device = page.locator('.device');
  await expect(device, 'the device in use is named').toHaveAttribute('data-device', /^(cpu|cuda|dml|coreml)$/);
  await expect(device, 'and why').toContainText(/CPU:|available/);
  const potion = page.locator('tr[data-model="minishlab/potion-base-2M"]');
  await expect(potion.locator('[data-field="installed"]'), 'the shared static model is installed').toContainText('installed');
  await expect(potion.locator('[data-builtin="true"]'), 'potion-base-2M ships with Tandem and says so').toHaveText('built in');
  await expect(page.locator('tr[data-model="Xenova/bge-small-en-v1.5"] [data-builtin]'), 'catalog models are not built in').toHaveCount(0);
  await expect(page.locator('[data-field="default-model"]'), 'the model a new collection gets is named').toContainText('minishlab/potion-base-2M');
  await expect(page.locator('tr[data-model="Xenova/bge-small-en-v1.5"] [data-field="installed"]'), 'catalog models not on disk say so').toContainText('not installed');
  await potion.getByRole('button', { name: 'Verify minishlab/potion-base-2M' }).click();
  await expect(potion.locator('.verify'), 'its files match the catalog hashes').toHaveAttribute('data-verify', 'ok');
  await snap(page, testInfo, 'models');

  await page.locator('#import-folder').fill('/no/such/folder');
  await page.locator('#import-id').fill('someone/model');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('alert'), 'a failed import explains itself').toContainText(/NOT_FOUND|INVALID/);
});
