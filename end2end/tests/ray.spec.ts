import { test, expect } from '@playwright/test';
import { ensureDataset, rayURL } from './studio';

// Training on another machine: a real local Ray head (CPU only, started with the tests) is
// registered from the wizard, the review shows it as the run's target with what it has, and a
// run handed to it draws its loss chart live while the job trains there; the adapter comes back.
// JS only (playwright.config.ts): the point is the live chart.
test('train on a Ray cluster from the wizard, the loss drawn live', async ({ page }) => {
  test.setTimeout(600_000);
  const datasetId = await ensureDataset(page, 'ray');
  const wizard = `/train?dataset_id=${datasetId}&model_kind=tiny&max_steps=30`;

  await page.goto(`${wizard}&step=5`);
  await page.locator('#add-cluster summary').click();
  await page.locator('#add-cluster input[name="name"]').fill('local-ray');
  await page.locator('#add-cluster input[name="url"]').fill(rayURL);
  await page.locator('#add-cluster-button').click();
  await expect(page.locator('#cluster-added')).toContainText('Added local-ray: 1 node · 2 CPUs · 0 GPUs');

  await page.goto(`${wizard}&step=5`);
  await page.locator('#cluster-choice').selectOption('local-ray');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page).toHaveURL(/step=6/);
  await expect(page).toHaveURL(/cluster=local-ray/);
  await expect(page.locator('#target')).toContainText(`Where: the Ray cluster local-ray at ${rayURL}`);
  await expect(page.locator('#target-resources')).toContainText('It has 1 node · 2 CPUs · 0 GPUs');
  await expect(page.locator('#target-resources')).toContainText('this run asks for its CPUs');
  await expect(page.locator('#target-problem')).toHaveCount(0);
  await expect(page.locator('#device')).toContainText('on the Ray cluster local-ray');
  await expect(page.locator('#yaml')).toContainText('max_steps: 30');

  await page.getByRole('button', { name: '7 · Train' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 180_000 });
  await expect(page.locator('#run-cluster')).toHaveAttribute('data-cluster', 'local-ray');
  const chart = page.locator('#loss-chart');
  await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 300_000 }).toBeGreaterThan(3);
  const some = Number(await chart.getAttribute('data-points'));
  await expect(page.locator('#run-status')).toHaveText('running');
  await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 300_000 }).toBeGreaterThan(some);
  await expect(page.locator('#run-status')).toHaveText('succeeded', { timeout: 300_000 });
  await expect(chart).toHaveAttribute('data-points', '30');

  // The adapter came home and is registered, with the cluster in its lineage.
  await page.goto('/adapters');
  await expect(page.locator('body')).toContainText('ray on tiny');
});
