import { test, expect } from '@playwright/test';
import { settled } from './studio';

// The data loop: sample history in, filters change the count, export, the dataset is listed.
test('import the sample, filter, export, see the dataset', async ({ page, javaScriptEnabled }, info) => {
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  const result = page.locator('#import-result');
  await expect(result).toBeVisible();
  // The first project imports it; the second finds it all already there (nothing twice).
  await expect(result).toContainText(/Imported \d+ conversations/);

  await page.goto('/datasets/new');
  // Hydrated before typing: a change made to the server-rendered field is never seen by the handler.
  await settled(page, javaScriptEnabled);
  const passed = page.locator('#passed-count');
  const before = Number(await passed.textContent());
  expect(before).toBeGreaterThan(50);

  await page.getByLabel('Minimum satisfaction (0–1)').fill('0.8');
  if (javaScriptEnabled) {
    // Hydrated: changing a field updates the address and the count by itself.
    await page.getByLabel('Minimum satisfaction (0–1)').blur();
  } else {
    await page.getByRole('button', { name: 'Update the count' }).click();
  }
  await expect(page).toHaveURL(/min_satisfaction=0\.8/);
  await expect(passed).not.toHaveText(String(before));
  const after = Number(await passed.textContent());
  expect(after).toBeGreaterThan(0);
  expect(after).toBeLessThan(before);
  // The preview shows the examples exactly as written (Alpaca by default).
  await expect(page.locator('pre.sample').first()).toContainText('"instruction"');

  const name = `e2e-${info.project.name}`;
  await page.locator('input[name="params[name]"]').fill(name);
  await page.getByRole('button', { name: 'Export' }).click();
  await expect(page).toHaveURL(/\/datasets\?created=/);
  const card = page.locator(`section.dataset[data-name="${name}"]`);
  await expect(card).toBeVisible();
  await expect(card).toContainText('satisfaction ≥ 0.8');
  await expect(card).toContainText('dataset_info.json');
});

test('rate a conversation and one of its answers', async ({ page }) => {
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();

  await page.goto('/conversations?source=sample');
  await page.locator('table.table tbody tr a').first().click();
  await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);

  await page.getByLabel('Your rating (0 = bad, 1 = great)').fill('0.35');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#satisfaction')).toHaveText('0.35');

  const answer = page.locator('li.message.assistant').first();
  const wasUp = (await answer.getAttribute('data-thumbs')) === 'up';
  await answer.getByRole('button', { name: 'Thumbs up' }).click();
  await expect(page.locator('li.message.assistant').first()).toHaveAttribute('data-thumbs', wasUp ? 'none' : 'up');
});
