import fs from 'node:fs';
import path from 'node:path';
import { callApi, expect, openApp, snap, startHost, stopHost, test } from './fixtures';

interface Job {
  id: string;
  status: string;
  progress: { done: number; total: number | null };
}

/** A folder big enough that a kill lands mid-index. */
function bigFolder(dir: string, n: number): string {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 120 }, (_, w) => `word${(i * 7 + w * 13) % 997}`).join(' ');
    fs.writeFileSync(path.join(dir, `doc-${String(i).padStart(5, '0')}.txt`), `Document ${i}. ${words}\n\nParagraph two of document ${i} about topic ${i % 50}.`);
  }
  return dir;
}

test('kill the host mid-index and restart: the job shows interrupted, then resumes to success', async ({ page, tmp }, testInfo) => {
  test.setTimeout(180_000);
  const home = path.join(tmp, 'home');
  const N = 6000;
  const docs = bigFolder(path.join(tmp, 'big'), N);

  const first = await startHost(home);
  let id: string;
  try {
    id = (await callApi<{ jobIds: string[] }>(first, 'library.index', { paths: [docs], collection: 'big' })).jobIds[0]!;
    // wait until it is really mid-way (some documents committed, not all files done), then kill -9
    await expect
      .poll(async () => {
        const { job } = await callApi<{ job: Job }>(first, 'jobs.show', { id });
        const written = await callApi<{ documents: number }>(first, 'collections.show', { name: 'big' }).then((c) => c.documents, () => 0);
        return job.status === 'running' && written > 0 && job.progress.total !== null && job.progress.done < job.progress.total;
      }, { message: 'the index job gets under way', timeout: 60_000, intervals: [50] })
      .toBe(true);
  } finally {
    await stopHost(first, 'SIGKILL');
  }

  const second = await startHost(home);
  try {
    await openApp(page, second, `jobs?id=${id}`);
    const row = page.locator(`[role="row"][data-job="${id}"]`);
    await expect(row, 'after the kill the job shows interrupted').toHaveAttribute('data-status', 'interrupted');
    const detail = page.locator(`aside[data-job="${id}"]`);
    await expect(detail.getByRole('button', { name: 'Resume' }), 'an interrupted job offers Resume').toBeVisible();
    await snap(page, testInfo, 'jobs-interrupted');
    await expect(page.locator('.conn'), 'live events are connected').toContainText('live');
    await detail.getByRole('button', { name: 'Resume' }).click();
    await expect(row, 'the resumed job shows running with live progress').toHaveAttribute('data-status', 'running');
    await expect(row, 'the resumed job succeeds').toHaveAttribute('data-status', 'succeeded', { timeout: 120_000 });
    await expect(page.locator('.conn'), 'the event stream stayed connected').toContainText('live');
    const { job } = await callApi<{ job: Job & { result: { filesUnchanged: number } } }>(second, 'jobs.show', { id });
    expect(job.result.filesUnchanged, 'files finished before the kill were not redone').toBeGreaterThan(0);
    const col = await callApi<{ documents: number }>(second, 'collections.show', { name: 'big' });
    expect(col.documents, 'every document is indexed exactly once').toBe(N);
    await snap(page, testInfo, 'jobs-resumed');
  } finally {
    await stopHost(second);
  }
});

test('SIGTERM stops the host with exit 0 and leaves the running job interrupted; the next host resumes it', async ({ tmp }) => {
  test.setTimeout(180_000);
  const home = path.join(tmp, 'home');
  const N = 4000;
  const docs = bigFolder(path.join(tmp, 'big'), N);
  const first = await startHost(home);
  const id = (await callApi<{ jobIds: string[] }>(first, 'library.index', { paths: [docs], collection: 'term' })).jobIds[0]!;
  await expect
    .poll(async () => (await callApi<{ job: Job }>(first, 'jobs.show', { id })).job.status, { message: 'the job starts', timeout: 60_000, intervals: [50] })
    .toBe('running');
  const code = await stopHost(first, 'SIGTERM');
  expect(code, 'SIGTERM exits 0').toBe(0);
  expect(first.stderr(), 'and says the jobs are kept').toContain('interrupted');

  const second = await startHost(home);
  try {
    const { job } = await callApi<{ job: Job }>(second, 'jobs.show', { id });
    if (job.status === 'succeeded') return; // it finished before the signal landed: nothing to resume
    expect(job.status, 'the job is interrupted, not failed or cancelled').toBe('interrupted');
    await callApi(second, 'jobs.resume', { id });
    await expect
      .poll(async () => (await callApi<{ job: Job }>(second, 'jobs.show', { id })).job.status, { message: 'the resumed job succeeds', timeout: 120_000, intervals: [200] })
      .toBe('succeeded');
    expect((await callApi<{ documents: number }>(second, 'collections.show', { name: 'term' })).documents, 'every document once').toBe(N);
  } finally {
    await stopHost(second);
  }
});
