import path from 'node:path';
import { expect, makeDocs, openApp, test } from './fixtures';

test('first run: the Library page offers to index a folder with the built-in model and explains upgrading', async ({ page, host, tmp }) => {
  const docs = makeDocs(path.join(tmp, 'field-notes'), {
    'zebra.md': '# Field notes\n\nThe quick zebra named Archibald jumps over the moonlit garden fences.',
    'pasta.txt': 'Cooking pasta: boil salted water, add the spaghetti, stir, and taste after nine minutes.',
  });
  await openApp(page, host, 'library');
  const banner = page.getByRole('region', { name: 'Get started' });
  await expect(banner, 'no collection yet: the first-run banner shows').toBeVisible();
  await expect(banner, 'it names the built-in model').toContainText('minishlab/potion-base-2M');
  await expect(banner.locator('[data-field="upgrade-hint"]'), 'and how to upgrade later').toContainText('tandem collections upgrade NAME --model ID');
  await page.locator('#first-run-folder').fill(docs);
  await expect(banner, 'the collection is named after the folder').toContainText('collection “field-notes”');
  await page.getByRole('button', { name: 'Index with the built-in model' }).click();
  const row = page.locator('tr[data-collection="field-notes"]');
  await expect(row.locator('[data-field="documents"]'), 'the folder is indexed').toHaveText('2');
  await expect(row, 'with the built-in model').toContainText('minishlab/potion-base-2M');
  await expect(banner, 'with a collection the banner goes away').toHaveCount(0);
});
