import { test, expect } from '@playwright/test';
import { ensureAdapter, settled } from './studio';

// The guided first run ("Start here"): Home points to it, it opens at the first step not done,
// each step says whether it is done and hands off to the real page, and the address keeps the
// place (`/start?step=…`), with or without JavaScript.

const KEYS = ['import', 'dataset', 'train', 'watch', 'adapter', 'deploy', 'compare'];

test('start here: seven steps, done from what exists, resumable from the address, handing off to the real pages', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(420_000);
  // Through training: a finished run has registered its adapter (made here if no spec has yet).
  const adapter = await ensureAdapter(page);

  await page.goto('/');
  await settled(page, javaScriptEnabled);
  const card = page.locator('#start-here');
  await expect(card).toBeVisible();
  await card.getByRole('link').first().click();
  await expect(page).toHaveURL(/\/start$/);
  await settled(page, javaScriptEnabled);
  await expect(page.getByRole('heading', { level: 1, name: 'Start here' })).toBeVisible();

  const steps = page.locator('#journey li.journey-step');
  await expect(steps).toHaveCount(7);
  expect(await steps.evaluateAll((ls) => ls.map((l) => l.getAttribute('data-step')))).toEqual(KEYS);
  // Import to adapter are done; what is left is deploying and comparing (or nothing).
  for (const key of ['import', 'dataset', 'train', 'watch', 'adapter']) {
    await expect(page.locator(`#journey li[data-step="${key}"]`)).toHaveAttribute('data-state', 'done');
  }
  const states = await steps.evaluateAll((ls) => ls.map((l) => l.getAttribute('data-state')));
  const firstUndone = states.findIndex((s) => s !== 'done');
  const current = page.locator('#journey-step');
  // Without a step in the address it opens at the first step not done (the last when all are).
  await expect(current).toHaveAttribute('data-step', KEYS[firstUndone === -1 ? 6 : firstUndone]);
  if (firstUndone !== -1) {
    await expect(steps.nth(firstUndone)).toHaveAttribute('data-state', 'next');
    await expect(page.locator('#journey-progress')).toHaveText(`${firstUndone} of 7 steps done.`);
  }

  // The address keeps the place: the adapter step, done, handing off to the adapter's own page.
  await page.goto('/start?step=adapter');
  await settled(page, javaScriptEnabled);
  await expect(current).toHaveAttribute('data-step', 'adapter');
  await expect(current).toHaveAttribute('data-done', 'true');
  await expect(page.getByRole('heading', { level: 2, name: /^Step 5 of 7: Meet your adapter$/ })).toBeVisible();
  await expect(page.locator('#journey li[data-step="adapter"] a')).toHaveAttribute('aria-current', 'step');
  await expect(page.locator('#journey-detail')).toContainText('is registered');
  const go = page.locator('#journey-go');
  await expect(go).toHaveAttribute('href', /^\/adapters\/[0-9a-f-]{36}$/);

  // Moving along: the next step is in the address too.
  await page.locator('#journey-following').click();
  await expect(page).toHaveURL(/\/start\?step=deploy$/);
  await expect(current).toHaveAttribute('data-step', 'deploy');
  await page.locator('#journey-previous').click();
  await expect(page).toHaveURL(/\/start\?step=adapter$/);
  await expect(current).toHaveAttribute('data-step', 'adapter');

  // The hand-off opens the real page.
  await go.click();
  await expect(page).toHaveURL(/\/adapters\/[0-9a-f-]{36}$/);
  await expect(page.locator('#metrics')).toBeVisible();
  expect(adapter).toMatch(/^[0-9a-f-]{36}$/);

  // The first step hands off to Conversations once there is a history; an unknown step falls
  // back to the first not done.
  await page.goto('/start?step=import');
  await expect(page.locator('#journey-detail')).toContainText(/\d+ conversations? stored/);
  await expect(page.locator('#journey-go')).toHaveAttribute('href', '/conversations');
  await page.goto('/start?step=nonsense');
  await expect(current).toHaveAttribute('data-step', KEYS[firstUndone === -1 ? 6 : firstUndone]);
});
