import { test, expect } from '@playwright/test';

// The wizard from the sample history to a finished run on the tiny demo model, with both charts
// gaining points while it trains.
test('train the tiny model from the sample history and watch the charts', async ({ page, javaScriptEnabled }, info) => {
  test.setTimeout(420_000);
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

  await page.goto('/train');
  await page.getByLabel('Dataset').selectOption(datasetId!);
  await page.locator('input[name="max_steps"]').fill('60');
  await page.getByRole('button', { name: '6 · Review' }).click();
  await expect(page).toHaveURL(/dataset_id=/);
  await expect(page.locator('#yaml')).toContainText('finetuning_type: lora');
  await expect(page.locator('#yaml')).toContainText('max_steps: 60');
  await expect(page.locator('#yaml')).toContainText(`eval_dataset: "${name}_val"`);

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
    }, { timeout: 300_000, intervals: [2000] }).toBe('succeeded');
  }
  expect(Number(await chart.getAttribute('data-eval-points'))).toBeGreaterThan(0);
  await expect(chart.locator('svg')).toBeVisible();
  await expect(page.locator('#lr-chart svg')).toBeVisible();

  await page.goto('/runs');
  await expect(page.locator('#runs')).toContainText('succeeded');
});
