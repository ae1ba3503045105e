import path from 'node:path';
import { callApi, expect, makeDocs, openApp, snap, test, type RunningHost } from './fixtures';

const DOCS: Record<string, string> = {
  'zebra.md': '# Field notes\n\nThe quick zebra named Archibald jumps over the moonlit garden fences every Tuesday.',
  'lions.md': 'Lions rest in the shade for most of the afternoon and hunt when the savanna cools.',
  'pasta.txt': 'Cooking pasta: boil salted water, add the spaghetti, stir, and taste after nine minutes.',
  'bread.txt': 'Knead the dough for ten minutes, let it rise twice, then bake it in a very hot oven.',
  'notes/rivers.md': 'Rivers carry sediment to the sea; deltas form where the current slows down.',
  'notes/glaciers.md': 'Glaciers carve valleys into a U shape and leave moraines where the ice melted.',
  'notes/volcanoes.txt': 'Basaltic lava flows far because it is runny; andesite builds steep cones.',
  'notes/deserts.txt': 'Dunes migrate with the prevailing wind, and oases appear where groundwater rises.',
};

async function indexAndWait(host: RunningHost, docs: string, collection: string): Promise<number> {
  const { jobIds } = await callApi<{ jobIds: string[] }>(host, 'library.index', { paths: [docs], collection });
  await expect
    .poll(async () => (await callApi<{ job: { status: string } }>(host, 'jobs.show', { id: jobIds[0] })).job.status, { message: 'the index job finishes', timeout: 60_000 })
    .toBe('succeeded');
  return (await callApi<{ chunks: number }>(host, 'collections.show', { name: collection })).chunks;
}

test('the Map page plots a collection, colours it by folder, hover shows a preview, click opens the file', async ({ page, host, tmp }, testInfo) => {
  const docs = makeDocs(path.join(tmp, 'docs'), DOCS);
  const chunks = await indexAndWait(host, docs, 'atlas');
  expect(chunks, 'every document has a chunk').toBeGreaterThanOrEqual(Object.keys(DOCS).length);

  await openApp(page, host, 'map');
  const canvas = page.locator('canvas.scatter-canvas');
  await expect(canvas, 'the map plots one point per chunk').toHaveAttribute('data-points', String(chunks));
  await expect(canvas, 'every point is drawn in the initial view').toHaveAttribute('data-points-drawn', String(chunks));
  await expect(page.getByTestId('map-summary'), 'the summary names the projection').toContainText('PCA');
  // (The e2e tsconfig has no DOM types: the canvas is described by what is used of it.)
  type Canvas2D = { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
  const coloured = await canvas.evaluate((el) => {
    const c = el as unknown as Canvas2D;
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const palette = [
      [0x4e, 0x79, 0xa7],
      [0xf2, 0x8e, 0x2b],
    ];
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (palette.some(([r, g, b]) => data[i] === r && data[i + 1] === g && data[i + 2] === b)) n++;
    return n;
  });
  expect(coloured, 'the canvas has pixels in the legend colours').toBeGreaterThan(20);
  const legend = page.locator('.map-legend li');
  await expect(legend, 'two folders, two colours').toHaveCount(2);
  await expect(page.locator('.map-legend'), 'the legend names the folders').toContainText('notes');
  await expect(page.locator('.map-legend'), 'files at the top are grouped too').toContainText('(top folder)');

  // Keyboard: focus the plot and step to the first chunk; its tooltip tells where the point is.
  await canvas.focus();
  await page.keyboard.press(']');
  const tip = page.locator('.scatter-tip');
  await expect(tip, 'stepping to a point shows its tooltip').toBeVisible();
  const preview = (await tip.locator('.tip-preview').textContent()) ?? '';
  expect(preview.length, 'the tooltip shows the chunk text').toBeGreaterThan(10);
  const x = Number(await tip.getAttribute('data-x'));
  const y = Number(await tip.getAttribute('data-y'));
  await page.keyboard.press('Escape');
  await expect(tip, 'Escape hides it').toBeHidden();

  // Mouse: hovering that spot shows the same chunk, with its file in the detail panel.
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + x, box.y + y);
  await expect(tip, 'hovering a point shows a tooltip').toBeVisible();
  await expect(tip.locator('.tip-preview'), 'with the same preview').toHaveText(preview);
  const detail = page.getByTestId('map-detail');
  await expect(detail.locator('.path'), 'the detail panel shows the path').toContainText(docs);
  const file = (await detail.locator('.path').textContent())!;
  expect(DOCS[path.relative(docs, file)], 'the preview is that file’s text').toContain(preview.replace(/^# Field notes /, '').slice(0, 20));
  await snap(page, testInfo, 'map');

  await page.mouse.click(box.x + x, box.y + y);
  await expect(detail.locator('.opened'), 'a click opens the file (the web host shows its path)').toContainText(file);

  // Colour by file type, then the UMAP projection.
  await page.getByRole('button', { name: 'File type' }).click();
  await expect(page.locator('.map-legend'), 'the legend lists file types').toContainText('md');
  await expect(page.locator('.map-legend'), 'both types').toContainText('txt');
  await page.getByRole('button', { name: 'UMAP' }).click();
  await expect(page.getByRole('button', { name: 'UMAP' }), 'the toggle is pressed').toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('map-summary'), 'the UMAP map is shown').toContainText('UMAP');
  await expect(canvas, 'with every chunk').toHaveAttribute('data-points', String(chunks));
  await snap(page, testInfo, 'map-umap');

  // Zoom with the wheel and the keyboard, then reset.
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -600);
  await expect(page.locator('.scatter-tools'), 'the wheel zooms in').not.toContainText('zoom 1.0×');
  await canvas.focus();
  await page.keyboard.press('0');
  await expect(page.locator('.scatter-tools'), '0 resets the view').toContainText('zoom 1.0×');

  // Back to PCA: the map is read from the cache.
  await page.getByRole('button', { name: 'PCA' }).click();
  await expect(page.getByTestId('map-summary'), 'a second PCA map comes from the cache').toContainText('from the cache');

  // The dark theme repaints the canvas with the dark surface.
  const corner = () =>
    canvas.evaluate((el) => Array.from((el as unknown as Canvas2D).getContext('2d').getImageData(2, 2, 1, 1).data.slice(0, 3)).reduce((a, b) => a + b, 0));
  const light = await corner();
  const toggle = page.getByRole('button', { name: /^Theme:/ });
  for (let i = 0; i < 3 && (await page.locator('html').getAttribute('data-theme')) !== 'dark'; i++) await toggle.click();
  await expect(page.locator('html'), 'the dark theme is on').toHaveAttribute('data-theme', 'dark');
  await expect.poll(corner, { message: 'the plot background follows the theme' }).toBeLessThan(light);
  await snap(page, testInfo, 'map-dark');
});

test('the Map page explains an empty library', async ({ page, host }, testInfo) => {
  await openApp(page, host, 'map');
  await expect(page.getByText('Nothing to map yet'), 'no collections: it points to the Library').toBeVisible();
  await snap(page, testInfo, 'map-empty');
});
