import path from 'node:path';
import { callApi, expect, makeDocs, openApp, snap, test } from './fixtures';

/**
 * Issue 18 point 1 on the Jobs page: each row says what its job worked on (the stored label), and
 * the detail opens beside the list (list left, detail right), showing the label and the whole
 * result (files indexed and skipped by reason), never cut.
 */
for (const width of [1366, 1024]) {
  test(`Jobs page at ${width} px: labels in the list, the detail beside it with the whole result`, async ({ page, host, tmp }, testInfo) => {
    await page.setViewportSize({ width, height: 860 });
    const files: Record<string, string> = { 'blob.bin': '\u0000\u0001binary' };
    for (let i = 0; i < 8; i++) files[`notes/note-${i}-on-glaciers-and-volcanoes.md`] = `Note ${i}: glaciers retreat, volcanoes erupt.`;
    const docs = makeDocs(path.join(tmp, 'docs'), files);
    const { jobIds } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [docs], collection: 'geo' });
    const indexId = jobIds[0]!;
    const indexLabel = `geo ← ${docs}, minishlab/potion-base-2M`;

    await openApp(page, host, 'jobs');
    const indexRow = page.locator(`[role="row"][data-job="${indexId}"]`);
    await expect(indexRow, 'the index job finishes').toHaveAttribute('data-status', 'succeeded');
    await expect(indexRow.locator('[data-field="label"]'), 'its row says which collection, folder and model').toHaveText(indexLabel);
    await expect(page.getByRole('columnheader', { name: 'Label' }), 'the list has a Label column').toBeVisible();

    await callApi(host, 'search.eval', { collection: 'geo', queries: '{"_id":"q1","text":"glaciers"}\n{"_id":"q2","text":"volcanoes"}\n', qrels: 'q1\tnotes/note-0-on-glaciers-and-volcanoes.md\t1\n', modes: ['lexical'], k: 10 });
    const { jobs: evals } = await callApi<{ jobs: { id: string }[] }>(host, 'jobs.list', { kind: 'eval', limit: 1 });
    const evalRow = page.locator(`[role="row"][data-job="${evals[0]!.id}"]`);
    await expect(evalRow.locator('[data-field="label"]'), 'the eval job names its collection and queries').toHaveText('geo, 2 queries (uploaded)');

    // Without the detail, the whole row (all nine columns) fits the list too.
    expect(await indexRow.evaluate((el) => el.scrollWidth - el.clientWidth), 'the full row fits').toBeLessThanOrEqual(1);

    await indexRow.click();
    const detail = page.locator(`aside[data-job="${indexId}"]`);
    await expect(detail.locator('[data-field="label"]'), 'the detail repeats the label in full').toHaveText(indexLabel);
    const result = detail.locator('[data-field="result"]');
    await expect(result, 'the whole result: files indexed').toContainText('filesIndexed: 8');
    await expect(result, 'and skipped, by reason').toContainText('unsupported type .bin: 1');
    await expect(result, 'the skipped file named in full').toContainText(`path: ${path.join(docs, 'blob.bin')}`);
    await expect(result, 'up to its last field').toContainText('errorCount: 0');
    expect(await result.textContent(), 'nothing cut with an ellipsis').not.toContain('…');

    const list = await page.getByRole('table', { name: 'Jobs' }).boundingBox();
    const box = await detail.boundingBox();
    expect(list && box, 'both are laid out').toBeTruthy();
    expect(box!.x, 'the detail is to the right of the list').toBeGreaterThanOrEqual(list!.x + list!.width - 1);
    expect(Math.abs(box!.y - list!.y), 'side by side: their tops align').toBeLessThan(8);
    expect(box!.width, 'the detail is wide enough to read').toBeGreaterThanOrEqual(340);
    expect(list!.width, 'and so is the list').toBeGreaterThanOrEqual(340);
    expect(box!.x + box!.width, 'the detail fits the window').toBeLessThanOrEqual(width);
    // The label cell still shows (the list drops backend, queued and cost while the detail is open),
    // and no cell runs out of the list.
    await expect(indexRow.locator('[data-field="label"]')).toBeVisible();
    expect(await indexRow.evaluate((el) => el.scrollWidth - el.clientWidth), 'the row fits the list').toBeLessThanOrEqual(1);
    for (const cell of await indexRow.locator('[role="cell"]:visible').all()) {
      const c = await cell.boundingBox();
      expect(c!.x + c!.width, `cell "${await cell.textContent()}" inside the list`).toBeLessThanOrEqual(list!.x + list!.width + 1);
    }
    await snap(page, testInfo, `jobs-detail-${width}`);
  });
}
