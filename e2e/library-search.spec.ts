import path from 'node:path';
import { callApi, expect, makeDocs, openApp, snap, test } from './fixtures';

const KNOWN = 'The quick zebra named Archibald jumps over the moonlit garden fences every Tuesday.';

test('add a folder, watch it index, search finds the known passage, open the file', async ({ page, host, tmp }, testInfo) => {
  const docs = makeDocs(path.join(tmp, 'docs'), {
    'zebra.md': `# Field notes\n\n${KNOWN}\n\nNobody knows where he learned it.`,
    'pasta.txt': 'Cooking pasta: boil salted water, add the spaghetti, stir, and taste after nine minutes.',
    'notes/rivers.md': 'Rivers carry sediment to the sea; deltas form where the current slows down.',
    'notes/broken.pdf': 'this is not a PDF at all',
  });

  await openApp(page, host, 'library');
  await expect(page.locator('.conn'), 'live events are connected').toContainText('live');
  await expect(page.getByText('No collections yet'), 'a fresh library says it is empty').toBeVisible();
  await page.locator('#index-collection').fill('notes');
  await page.locator('#index-paths').fill(docs);
  await page.getByRole('button', { name: 'Add to library' }).click();

  const item = page.locator('.ingest').first();
  await expect(item, 'the ingestion job appears with a status').toHaveAttribute('data-status', /queued|running|succeeded/);
  await expect(item, 'the ingestion job finishes').toHaveAttribute('data-status', 'succeeded');
  await expect(item.locator('.ingest-meta'), 'the summary counts the files').toContainText('4 files');
  await expect(item.locator('.file-errors'), 'the corrupt PDF is listed as a per-file error').toContainText('broken.pdf');
  const row = page.locator('tr[data-collection="notes"]');
  await expect(row.locator('[data-field="documents"]'), 'the collection counts its documents').toHaveText('3');
  await snap(page, testInfo, 'library');

  await page.keyboard.press('/');
  await expect(page, '/ goes to the search page').toHaveURL(/#\/search/);
  await expect(page.locator('#search-query'), '/ focuses the search box').toBeFocused();
  await page.locator('#search-query').fill('zebra Archibald fences');
  await page.keyboard.press('Enter');
  const first = page.locator('.hit').first();
  await expect(first, 'the known passage is the top hit').toHaveAttribute('data-path', path.join(docs, 'zebra.md'));
  await expect(first.locator('mark').first(), 'matched words are highlighted').toBeVisible();
  await expect(first.locator('.hit-snippet'), 'the snippet shows the passage').toContainText('Archibald');

  await page.getByRole('button', { name: 'lexical' }).click();
  await expect(page.getByRole('button', { name: 'lexical' }), 'the mode toggle is pressed').toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('.hit').first(), 'lexical mode finds it too').toHaveAttribute('data-path', path.join(docs, 'zebra.md'));

  await first.getByRole('button', { name: /^Open / }).click();
  await expect(first.locator('.opened'), 'the web host returns the path for the browser').toContainText(path.join(docs, 'zebra.md'));
  await snap(page, testInfo, 'search');

  const hits = await callApi<{ hits: Array<{ path: string }> }>(host, 'search.query', { query: 'spaghetti', collection: 'notes', mode: 'lexical' });
  expect(hits.hits[0]?.path, 'the API and the UI agree').toBe(path.join(docs, 'pasta.txt'));
});

test('unauthenticated visitors get no data, and the empty search page explains itself', async ({ page, host }, testInfo) => {
  await page.goto(`${host.origin}/`);
  await expect(page.getByRole('alert').first(), 'without a session the API answers nothing').toContainText('UNAUTHORIZED');
  await openApp(page, host, 'search');
  await expect(page.getByText('Nothing to search yet'), 'search without collections points to the library').toBeVisible();
  await page.goto(`${host.origin}/#/cloud`);
  await expect(page.locator('tr[data-backend="cloud-run"]'), 'the Cloud page names the missing setting').toContainText('not set (TANDEM_CLOUDRUN_URL)');
  await expect(page.locator('tr[data-backend="cloud-run"] [data-health]'), 'and its health check explains it').toHaveAttribute('data-health', 'error');
  await snap(page, testInfo, 'cloud-unconfigured');
  const toggle = page.getByRole('button', { name: /^Theme:/ });
  await toggle.click();
  await expect(page.locator('html'), 'the toggle picks the light theme').toHaveAttribute('data-theme', 'light');
  await toggle.click();
  await expect(page.locator('html'), 'then the dark theme').toHaveAttribute('data-theme', 'dark');
  await page.goto(`${host.origin}/#/library`);
  await expect(page.locator('html'), 'the choice is remembered').toHaveAttribute('data-theme', 'dark');
  await snap(page, testInfo, 'library-dark');
});
