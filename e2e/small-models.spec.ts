/**
 * Issue 6 in the UI: the Search page's rerank toggle (a cross-encoder rescoring the top N, both
 * scores shown) and the Generate page with Modal unreachable (policy auto falls back to the local
 * decoder, its text streams into the output area, and the page says who answered and why).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { callApi, expect, FAST_MODEL, makeDocs, openApp, snap, startHost, stopHost, test, type RunningHost } from './fixtures';

const RERANKER = 'fixtures/reranker-tiny-random';
const DECODER = 'fixtures/tiny-decoder-random';
/** Bounded, so the random-weight decoder finishes the JSON value within max tokens. */
const BOUNDED_SCHEMA = '{\n  "type": "object",\n  "required": ["name"],\n  "properties": { "name": { "type": "string", "maxLength": 8 } }\n}';

async function waitJob(h: RunningHost, id: string): Promise<{ status: string }> {
  for (;;) {
    const { job } = await callApi<{ job: { status: string } }>(h, 'jobs.show', { id });
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function snapTop(page: Page, testInfo: Parameters<typeof snap>[1], name: string): Promise<void> {
  await page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
  await snap(page, testInfo, name);
}

test('Search: the rerank toggle rescores the top N with a cross-encoder; both scores and the rerank summary are shown; an unknown model is explained', async ({ page, host, tmp }, testInfo) => {
  const docs = makeDocs(path.join(tmp, 'docs'), {
    'zebra.md': 'The quick zebra named Archibald jumps over the moonlit garden fences every Tuesday.',
    'savanna.md': 'Zebras and wildebeest graze together on the savanna during the migration.',
    'crossing.txt': 'A zebra crossing lets pedestrians cross the road safely.',
    'pasta.txt': 'Cooking pasta: boil salted water, add the spaghetti, stir, and taste after nine minutes.',
    'rivers.md': 'Rivers carry sediment to the sea; deltas form where the current slows down.',
  });
  const { jobIds } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [docs], collection: 'zoo', model: FAST_MODEL });
  expect((await waitJob(host, jobIds[0]!)).status, 'the folder is indexed').toBe('succeeded');

  await openApp(page, host, 'search');
  await page.locator('#search-query').fill('zebra');
  await page.keyboard.press('Enter');
  await expect(page.locator('.hit').first(), 'a first-stage search').toBeVisible();
  await expect(page.locator('[data-field="rerank-score"]'), 'no rerank scores while the toggle is off').toHaveCount(0);

  await page.locator('#rerank-toggle').check();
  await expect(page.locator('#rerank-model option', { hasText: RERANKER }), 'the reranker found on disk is offered').toHaveCount(1);
  await expect(page.locator('#rerank-model option', { hasText: 'Xenova/ms-marco-MiniLM-L-6-v2' }), 'and the catalog rerankers').toHaveCount(1);
  await page.locator('#rerank-model').selectOption(RERANKER);
  await page.locator('#rerank-top').fill('3');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const status = page.locator('[data-field="rerank-status"]');
  await expect(status, 'the status line says what reranked, on which device, how long').toContainText(new RegExp(`reranked top 3 with ${RERANKER} on \\w+ in \\d+ ms`));
  const hits = page.locator('.hit');
  await expect(hits.nth(0).locator('[data-field="rerank-score"]'), 'the top hits show the rerank score').toHaveText(/^rerank -?\d+\.\d{4}$/);
  await expect(hits.nth(0).locator('[data-field="first-score"]'), 'and the first-stage score').toHaveText(/^first (fused|bm25|cosine) -?\d+\.\d+$/);
  await expect(page.locator('.hit [data-field="rerank-score"]'), 'exactly the top 3 are reranked').toHaveCount(3);
  const scores = (await page.locator('.hit [data-field="rerank-score"]').allTextContents()).map((t) => Number(t.replace('rerank ', '')));
  expect(scores, 'ordered by the rerank score').toEqual([...scores].sort((a, b) => b - a));
  await snapTop(page, testInfo, 'search-rerank');

  await page.locator('#rerank-model').selectOption('__other__');
  await page.locator('#rerank-model-other').fill('nobody/no-such-reranker');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const err = page.locator('.error-box[role="alert"]');
  await expect(err, 'an unknown model is named in a readable error').toContainText('no-such-reranker');
  await expect(err.locator('.error-code'), 'with its code').toHaveText('MODEL_NOT_FOUND');
  await page.locator('#rerank-top').fill('0');
  await expect(page.locator('.rerank-controls [role="alert"]'), 'top N out of range is flagged before searching').toContainText('1 to 200');
});

test('Generate with Modal unreachable: policy auto falls back to this machine, tokens stream into the output, and the page says who answered and why', async ({ page, tmp }, testInfo) => {
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'cloud.json'), JSON.stringify({ localGenerateModel: DECODER }));
  const host = await startHost(home, { TANDEM_MODAL_URL_TEMPLATE: 'http://127.0.0.1:9/{function}' });
  try {
    await openApp(page, host, 'generate');
    await expect(page.locator('#gen-policy'), 'the policy starts at the routing (auto)').toHaveValue('auto');
    await page.locator('#gen-schema').fill(BOUNDED_SCHEMA);
    await page.locator('#gen-prompt').fill('Name a protein');
    await page.getByLabel('Max tokens (optional)').fill('60');
    const plan = page.locator('[data-plan="ready"]');
    await expect(plan, 'the plan already says this machine answers').toHaveAttribute('data-backend', 'local');
    await expect(plan, 'and why').toContainText('modal unreachable');

    // Record the streamed text's length at every DOM change while the job runs.
    await page.evaluate(`(() => {
      window.__streamLengths = [];
      new MutationObserver(() => {
        const section = document.querySelector('section[aria-label="Generation result"]');
        const stream = section && section.querySelector('[data-field="stream"]');
        if (section && section.getAttribute('data-status') === 'running' && stream) window.__streamLengths.push((stream.textContent || '').length);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    })()`);
    await page.getByRole('button', { name: 'Generate' }).click();
    const result = page.locator('section[aria-label="Generation result"]');
    await expect(result, 'the job succeeds').toHaveAttribute('data-status', 'succeeded');
    const lengths = await page.evaluate<number[]>('window.__streamLengths');
    expect(new Set(lengths).size, `the output area grew token by token before the job ended (lengths seen: ${lengths.slice(0, 20).join(', ')})`).toBeGreaterThanOrEqual(2);

    await expect(result.locator('[data-valid="true"]'), 'the output is valid under the schema').toBeVisible();
    const text = await result.locator('[data-field="output"]').textContent();
    const output = JSON.parse(text ?? '') as { name?: unknown };
    expect(text, 'pretty-printed').toBe(JSON.stringify(output, null, 2));
    expect(typeof output.name, 'the required field').toBe('string');
    const answered = result.locator('[data-field="answered-by"]');
    await expect(answered, 'answered by this machine').toContainText('this machine');
    await expect(answered, 'the local fallback model').toContainText(DECODER);
    await expect(answered, 'on a device').toContainText(/cpu|cuda|dml|coreml/);
    await expect(result.locator('[data-field="why"]'), 'and why it fell back').toContainText(/modal unreachable: ECONNREFUSED.*fell back to local/);

    const jobId = (await result.getAttribute('data-job'))!;
    const { job } = await callApi<{ job: { result: { text: string } } }>(host, 'jobs.show', { id: jobId });
    await expect(result.locator('[data-field="stream"]'), 'the streamed text equals the final text').toHaveText(job.result.text);
    await expect(result.locator('[data-field="stream"]'), 'and the page says so').toHaveAttribute('data-final', 'true');
    await snapTop(page, testInfo, 'generate-local');

    // Too few tokens for the schema: refused before generating, with a readable error, no partial JSON.
    await page.getByLabel('Max tokens (optional)').fill('3');
    await expect(plan, 'still planned locally').toHaveAttribute('data-backend', 'local');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(result, 'a new job').not.toHaveAttribute('data-job', jobId);
    await expect(result, 'it fails').toHaveAttribute('data-status', 'failed');
    await expect(result.locator('[data-field="job-error"]'), 'saying how many tokens the schema needs').toContainText(/this schema needs at least \d+ tokens/);
    await expect(result.locator('[data-field="error-hint"]'), 'and what to do').toContainText('raise Max tokens');
    await expect(result.locator('[data-field="output"]'), 'no output is shown').toHaveCount(0);
    await snapTop(page, testInfo, 'generate-truncated');
  } finally {
    await stopHost(host);
  }
});
