import { test, expect } from '@playwright/test';

const CHECKS = ['database', 'disk', 'python', 'llamafactory', 'llama_cpp', 'ollama', 'gpu', 'extras'];

test('home page shows the set-up checks, rendered on the server', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Your set-up' })).toBeVisible();
  for (const key of CHECKS) {
    await expect(page.locator(`li.check[data-key="${key}"]`)).toHaveCount(1);
  }
  // The tests run the Ollama stand-in claiming 0.34.1: the page says how adapters will be
  // deployed there. (Ollama not running is covered by the doctor's Rust tests.)
  const ollama = page.locator('li.check[data-key="ollama"]');
  await expect(ollama).toHaveClass(/ok/);
  await expect(ollama).toContainText('Ollama 0.34.1');
  await expect(ollama).toContainText('merged models');
  await expect(page.getByRole('heading', { name: 'What to do next' })).toBeVisible();
  // Only built steps are in the navigation.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link')).toHaveText(['Home', 'Conversations', 'Import', 'Datasets', 'Train', 'Runs', 'Adapters', 'Chat', 'Compare', 'Experiments', 'Keep learning']);
});

test('"Check again" reruns the checks', async ({ page, javaScriptEnabled }) => {
  await page.goto('/');
  const stamp = page.locator('#checked-at');
  const before = await stamp.getAttribute('data-checked-at');
  expect(before).toBeTruthy();

  if (javaScriptEnabled) {
    // Hydrated: the button calls the server function, and only the checks are re-rendered.
    await expect(page.locator('.layout')).toHaveAttribute('data-hydrated', 'true');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/health') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Check again' }).click(),
    ]);
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(body.checks.map((c: { key: string }) => c.key)).toEqual(CHECKS);
    await expect(stamp).not.toHaveAttribute('data-checked-at', before!);
    expect(navigations).toEqual([]);
  } else {
    // Server-rendered only: the button is a plain form that reloads the page.
    await expect(page.locator('.layout')).toHaveAttribute('data-hydrated', 'false');
    await Promise.all([page.waitForURL('**/?recheck=1'), page.getByRole('button', { name: 'Check again' }).click()]);
    await expect(stamp).not.toHaveAttribute('data-checked-at', before!);
  }
  await expect(page.locator('li.check')).toHaveCount(CHECKS.length);
});

test('unknown pages say so with a 404', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
