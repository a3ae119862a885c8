import { test, expect } from '@playwright/test';

// The wizard from the sample history to a finished run on the tiny demo model, with both charts
// gaining points while it trains.
test('train the tiny model from the sample history and watch the charts', async ({ page, javaScriptEnabled }, info) => {
  test.setTimeout(600_000);
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();

  // Step 2's data: a dataset with a validation split (for the eval-loss chart).
  const name = `train-${info.project.name}`;
  await page.goto('/datasets/new');
  await page.locator('input[name="params[name]"]').fill(name);
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page.locator(`section.dataset[data-name="${name}"]`)).toBeVisible();
  const datasetId = await page.locator(`section.dataset[data-name="${name}"]`).getAttribute('data-id');

  // One screen a step, Back/Next, the state in the address (a reload keeps it).
  await page.goto('/train');
  await expect(page.locator('li.check[data-key="llamafactory"]')).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=2/);
  await page.getByLabel('Dataset').selectOption(datasetId!);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=3/);
  // The guide's model is the default; this test trains the tiny one.
  await expect(page.locator('input[name="model"]')).toHaveValue('Qwen/Qwen2.5-14B-Instruct');
  await page.getByLabel('Tiny demo model (CPU, seconds): made on this machine, no download').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('input[name="lora_rank"]')).toBeVisible();
  await page.getByRole('button', { name: 'Back' }).click();
  await expect(page).toHaveURL(/step=3/);
  await page.reload();
  await expect(page).toHaveURL(new RegExp(`dataset_id=${datasetId}`));
  await expect(page.getByLabel('Tiny demo model (CPU, seconds): made on this machine, no download')).toBeChecked();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=5/);
  await page.locator('input[name="max_steps"]').fill('60');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page).toHaveURL(/step=6/);
  await expect(page.locator('#yaml')).toContainText('finetuning_type: lora');
  await expect(page.locator('#yaml')).toContainText('max_steps: 60');
  await expect(page.locator('#yaml')).toContainText(`eval_dataset: "${name}_val"`);
  // On this machine's hardware: no GPU gives the CPU verdict; a GPU gives a fit.
  const gpu = (await page.locator('#device').textContent())!;
  if (/no GPU/.test(gpu)) {
    await expect(page.locator('#memory')).toHaveAttribute('data-fit', 'no_gpu');
  } else {
    await expect(page.locator('#memory')).toHaveAttribute('data-fit', /fits|tight/);
  }

  await page.getByRole('button', { name: '7 · Train' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 120_000 });
  const chart = page.locator('#loss-chart');

  if (javaScriptEnabled) {
    // Live: the points arrive over the event stream while it runs.
    await expect(page.locator('#run-status')).toHaveText(/queued|running/);
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 240_000 }).toBeGreaterThan(5);
    const some = Number(await chart.getAttribute('data-points'));
    await expect(page.locator('#run-status')).toHaveText('running');
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 240_000 }).toBeGreaterThan(some);
    await expect(page.locator('#run-status')).toHaveText('succeeded', { timeout: 300_000 });
    await expect(chart).toHaveAttribute('data-points', '60');
  } else {
    // Without JavaScript the page is a snapshot: reload until the run is done.
    await expect.poll(async () => {
      await page.reload();
      return page.locator('#run-status').textContent();
    }, { timeout: 480_000, intervals: [2000] }).toBe('succeeded');
  }
  expect(Number(await chart.getAttribute('data-eval-points'))).toBeGreaterThan(0);
  await expect(chart.locator('svg')).toBeVisible();
  await expect(page.locator('#lr-chart svg')).toBeVisible();

  await page.goto('/runs');
  await expect(page.locator('#runs')).toContainText('succeeded');
});
