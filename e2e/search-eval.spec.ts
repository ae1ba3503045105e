import fs from 'node:fs';
import path from 'node:path';
import { callApi, expect, FAST_MODEL, openApp, snap, test } from './fixtures';

const DOCS = [
  { _id: 'd1', title: '', text: 'Cryo-electron microscopy won the Nobel prize in chemistry in 2017.' },
  { _id: 'd2', title: '', text: 'The guitar player tuned his instrument before the concert.' },
  { _id: 'd3', title: '', text: 'Zebrafish regrow their fins after injury.' },
  { _id: 'd4', title: '', text: 'Slicing an onion makes people cry because of sulfur compounds.' },
];
const QUERIES = [
  { _id: 'q1', text: 'nobel prize cryo-electron microscopy' },
  { _id: 'q2', text: 'zebrafish fin regeneration' },
  { _id: 'q3', text: 'quantum chromodynamics lattice' },
];
const QRELS = 'query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq2\td3\t1\r\nq3\td2\t1\r\n';

async function waitIndexed(host: Parameters<typeof callApi>[0], jobId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { job } = await callApi<{ job: { status: string } }>(host, 'jobs.show', { id: jobId });
    if (job.status === 'succeeded') return;
    if (['failed', 'cancelled'].includes(job.status)) throw new Error(`index job ${job.status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('index job did not finish');
}

test('Search page: filters and k, the last collection remembered (never an empty one), and an evaluation shows its table and per-query bars', async ({ page, host, tmp }, testInfo) => {
  const corpus = path.join(tmp, 'corpus.jsonl');
  fs.writeFileSync(corpus, DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const notes = path.join(tmp, 'notes');
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, 'a.md'), 'Zebrafish notes in markdown.');
  fs.writeFileSync(path.join(notes, 'b.txt'), 'Zebrafish notes in plain text.');
  const { jobIds: [beir] } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [corpus], collection: 'beir', model: FAST_MODEL });
  await waitIndexed(host, beir!);
  const { jobIds: [n] } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [notes], collection: 'notes', model: FAST_MODEL });
  await waitIndexed(host, n!);
  // A collection with no documents, made after the others: the page must not open on it.
  const { jobIds: [e] } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [fs.mkdtempSync(path.join(tmp, 'empty-'))], collection: 'zz-empty', model: FAST_MODEL });
  await waitIndexed(host, e!);

  await openApp(page, host, 'search');
  const select = page.locator('#search-collection');
  await expect(select, 'the most recently indexed collection with documents, not the empty one').toHaveValue('notes');
  await expect(select.locator('option[value="zz-empty"]')).toHaveText(/empty/);

  // Filters: file type md only, then k = 1.
  await page.locator('.search-filters summary').click();
  await page.locator('#search-query').fill('zebrafish notes');
  await page.locator('input[name="filter-type"][value="md"]').check();
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.locator('.hit'), 'only the Markdown file passes the type filter').toHaveCount(1);
  await expect(page.locator('.hit').first()).toHaveAttribute('data-path', path.join(notes, 'a.md'));
  // The default mode is fused search; each score says what it is, and a Markdown hit gives its lines.
  await expect(page.locator('.segmented button[aria-pressed="true"]')).toHaveText('default');
  await expect(page.locator('.hit [data-field="first-score"]').first()).toHaveText(/^fused (0|1)\.\d{3}$/);
  await expect(page.locator('.hit [data-field="location"]').first()).toHaveText(/^lines? \d+/);
  await page.locator('input[name="filter-type"][value="md"]').uncheck();
  await page.locator('#search-k').fill('1');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.locator('[data-field="search-status"]'), 'k = 1 gives one result').toContainText('1 results');
  await page.locator('#search-k').fill('0');
  await expect(page.locator('.search-filters [role="alert"]'), 'a bad k is explained').toContainText('from 1 to 200');
  await page.locator('#search-k').fill('10');

  // Remembered: choose beir, reload, it is still chosen.
  await select.selectOption('beir');
  await page.reload();
  await expect(page.locator('#search-collection'), 'the last collection is remembered').toHaveValue('beir');

  // Evaluate: the qrels uploaded as a file, the queries pasted; two modes.
  const qrelsFile = path.join(tmp, 'qrels.tsv');
  fs.writeFileSync(qrelsFile, QRELS);
  await page.locator('#eval-panel summary').click();
  await page.locator('#eval-queries').fill(QUERIES.map((q) => JSON.stringify(q)).join('\n'));
  await page.locator('#eval-qrels-file').setInputFiles(qrelsFile);
  await expect(page.locator('#eval-qrels'), 'the file fills the qrels box').toHaveValue(/q1\td1\t2/);
  for (const m of ['hybrid', 'default']) await page.locator(`input[name="eval-mode"][value="${m}"]`).uncheck();
  await page.getByRole('button', { name: 'Run evaluation' }).click();
  const table = page.locator('table.eval-table');
  await expect(table, 'the metrics table appears').toBeVisible();
  await expect(table.locator('tbody tr')).toHaveCount(2);
  // Lexical by hand: q1 and q2 find their document first, q3 finds nothing: 2/3 on every metric.
  for (const metric of ['ndcg@10', 'recall@100', 'mrr@10']) await expect(table.locator(`tr[data-mode="lexical"] td[data-metric="${metric}"]`)).toHaveText('0.6667');
  await expect(table.locator('tr[data-mode="vector"] td[data-metric="recall@100"]'), 'vector retrieves every document').toHaveText('1.0000');
  await expect(page.locator('[data-field="eval-status"]')).toContainText('3 queries');
  await expect(page.locator('.eval-chart svg'), 'one bar per query and mode').toHaveAttribute('data-bars', '6');
  const jobId = await page.locator('.eval-result').getAttribute('data-job');
  const { job } = await callApi<{ job: { kind: string; status: string } }>(host, 'jobs.show', { id: jobId });
  expect([job.kind, job.status], 'recorded as an eval job').toEqual(['eval', 'succeeded']);
  await snap(page, testInfo, 'search-eval');

  // A malformed qrels line is reported, naming the line.
  await page.locator('#eval-qrels').fill('q1\td1\n');
  await page.getByRole('button', { name: 'Run evaluation' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'qrels line 1' }), 'the error names the line').toBeVisible();
});
