import { test, expect } from '@playwright/test';

test('conversations page lists or explains the history, and searches', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Conversations' }).click();
  await expect(page).toHaveURL(/\/conversations$/);
  await expect(page.getByRole('link', { name: 'Conversations' })).toHaveAttribute('aria-current', 'page');
  // Empty on a fresh data dir (explained), or a table once something was imported.
  await expect(page.locator('#empty-state, #conversation-count').first()).toBeVisible();
  if (await page.locator('#empty-state').count()) {
    await expect(page.locator('#empty-state')).toContainText('No conversations yet');
  }

  await page.getByRole('searchbox', { name: 'Search conversations' }).fill('zebra-nothing-like-it');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/conversations\?q=zebra-nothing-like-it/);
  await expect(page.locator('#empty-state')).toContainText('Nothing matches “zebra-nothing-like-it”');
  await page.getByRole('link', { name: 'Show all' }).click();
  await expect(page).toHaveURL(/\/conversations$/);
});
