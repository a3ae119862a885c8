import { test, expect } from '@playwright/test';

// MLX as a running backend (mlx-lm; the CPU build here, Metal on a Mac): pick it in the wizard,
// train the tiny model, see the training and validation losses, and find the adapter registered
// with MLX recorded.
test('train the tiny model with MLX from the wizard', async ({ page, javaScriptEnabled }, info) => {
  test.setTimeout(420_000);
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();
  const name = `mlx-${info.project.name}`;
  await page.goto('/datasets/new');
  await page.locator('input[name="params[name]"]').fill(name);
  await page.getByRole('button', { name: 'Export' }).click();
  const card = page.locator(`section.dataset[data-name="${name}"]`);
  await expect(card).toBeVisible();
  const datasetId = (await card.getAttribute('data-id'))!;

  await page.goto('/train');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Dataset').selectOption(datasetId);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Tiny demo model (CPU, seconds): made on this machine, no download').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=4/);
  // Offered because mlx imports with the trainer's Python here.
  await page.locator('input[name="backend"][value="mlx"]').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('input[name="max_steps"]').fill('20');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page).toHaveURL(/backend=mlx/);
  await expect(page.locator('#backend')).toContainText('MLX');
  await expect(page.locator('#backend-notes')).toContainText('iterations');
  await expect(page.locator('#yaml')).toContainText('"iters": 20');

  await page.getByRole('button', { name: '7 · Train' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 120_000 });
  const chart = page.locator('#loss-chart');
  if (javaScriptEnabled) {
    await expect(page.locator('#run-status')).toHaveText('succeeded', { timeout: 300_000 });
  } else {
    await expect.poll(async () => {
      await page.reload();
      return page.locator('#run-status').textContent();
    }, { timeout: 300_000, intervals: [2000] }).toBe('succeeded');
  }
  await expect(chart).toHaveAttribute('data-points', '20');
  expect(Number(await chart.getAttribute('data-eval-points'))).toBeGreaterThan(0);
  await expect(chart.locator('svg')).toBeVisible();

  await page.goto('/adapters');
  const version = page.locator(`li.version[data-name$="${name} on tiny-demo"]`);
  await expect(version).toBeVisible();
  await expect(version).toHaveAttribute('data-format', 'mlx');
});
