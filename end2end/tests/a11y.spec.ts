import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { everyPage, settled } from './studio';

// Accessibility, checked in the browser with axe-core on every page, with and without
// JavaScript: no serious or critical violation (every control labelled, enough contrast, names
// for links, buttons and images, and so on). Then what axe cannot judge by itself: the charts
// carry a text alternative, and keyboard focus can be seen wherever Tab goes.

test('axe-core finds no serious or critical violation on any page', async ({ page, browser, javaScriptEnabled }) => {
  test.setTimeout(480_000);
  const list = await everyPage(page);
  // axe runs in the page, on timers a page without JavaScript never fires. For the no-JS pages,
  // a page of its own that runs scripts but never gets the bundle: the server's HTML as it is,
  // never hydrated, which is what a browser without JavaScript shows (less its <noscript> parts).
  let checked = page;
  if (!javaScriptEnabled) {
    checked = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
    await checked.route(/\/pkg\/.*\.(js|wasm)(\?.*)?$/, (route) => route.abort());
  }
  const origin = new URL(page.url()).origin;
  const problems: string[] = [];
  for (const [name, url] of list) {
    await checked.goto(origin + url);
    await expect(checked.locator('.layout')).toHaveAttribute('data-hydrated', javaScriptEnabled ? 'true' : 'false');
    const { violations } = await new AxeBuilder({ page: checked }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    for (const v of violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
      problems.push(`${name} (${url}): ${v.id} [${v.impact}] ${v.help}: ${where}`);
    }
  }
  expect(problems).toEqual([]);
});

test('every chart has a text alternative', async ({ page, javaScriptEnabled }) => {
  const list = await everyPage(page);
  const run = list.find(([name]) => name === 'run')![1];
  await page.goto(run);
  await settled(page, javaScriptEnabled);
  const charts = page.locator('svg[role="img"], svg.chart-svg');
  expect(await charts.count()).toBeGreaterThan(0);
  const unnamed = await charts.evaluateAll((svgs) =>
    svgs
      .filter((svg) => {
        const label = svg.getAttribute('aria-label')?.trim();
        const labelled = svg.getAttribute('aria-labelledby');
        const title = svg.querySelector(':scope > title')?.textContent?.trim();
        return !label && !labelled && !title;
      })
      .map((svg) => svg.id || svg.closest('[id]')?.id || '(no id)'),
  );
  expect(unnamed, 'charts without a name').toEqual([]);
});

test('keyboard focus is visible wherever Tab goes', async ({ page, javaScriptEnabled }) => {
  for (const url of ['/', '/datasets/new', '/train', '/chat']) {
    await page.goto(url);
    await settled(page, javaScriptEnabled);
    const invisible: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const seen = await page.evaluate(() => {
        const e = document.activeElement as HTMLElement | null;
        if (!e || e === document.body) return null;
        const s = getComputedStyle(e);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        const ring = s.boxShadow !== 'none';
        const name = e.tagName.toLowerCase() + (e.id ? `#${e.id}` : '') + (e.textContent ? ` "${e.textContent.trim().slice(0, 30)}"` : '');
        return { name, visible: outline || ring };
      });
      if (seen && !seen.visible) invisible.push(`${url}: ${seen.name}`);
    }
    expect(invisible, 'focused without a visible ring').toEqual([]);
  }
});
