import { test, expect } from '@playwright/test';

test('conversations page explains the empty history and searches', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Conversations' }).click();
  await expect(page).toHaveURL(/\/conversations$/);
  await expect(page.getByRole('link', { name: 'Conversations' })).toHaveAttribute('aria-current', 'page');
  await expect(page.locator('#empty-state')).toContainText('No conversations yet');

  await page.getByRole('searchbox', { name: 'Search conversations' }).fill('jeju');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/conversations\?q=jeju$/);
  await expect(page.locator('#empty-state')).toContainText('Nothing matches “jeju”');
  await page.getByRole('link', { name: 'Show all' }).click();
  await expect(page.locator('#empty-state')).toContainText('No conversations yet');
});
