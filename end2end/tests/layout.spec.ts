import { test, expect, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { everyPage, settled } from './studio';

// The layout on a desktop and on a phone: the navigation on one row at 1280 px and behind a Menu
// disclosure under 800 px (a <details>, so it works without JavaScript); every page without
// sideways scrolling, its radio buttons and checkboxes beside their labels, and a screenshot of
// each at 1280×900 and 390×844 in end2end/screenshots/<project>/.

const SIZES = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];
const SHOTS = path.resolve(__dirname, '..', 'screenshots');

/** The page scrolls sideways: the elements that stick out, for the failure message. */
async function overflow(page: Page): Promise<{ scroll: number; client: number; culprits: string[] }> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const limit = root.clientWidth + 1;
    const name = (e: Element) => e.tagName.toLowerCase() + (e.id ? `#${e.id}` : '') + [...e.classList].map((c) => `.${c}`).join('');
    const out = [...document.body.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > limit);
    // The innermost ones: those without an offending child.
    const culprits = out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 6).map(name);
    return { scroll: root.scrollWidth, client: root.clientWidth, culprits };
  });
}

/** Each visible radio button or checkbox and the gap to its label's text. */
async function checkRows(page: Page): Promise<{ text: string; gap: number; dy: number }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('label')]
      .filter((l) => l.querySelector('input[type="radio"], input[type="checkbox"]') && l.getClientRects().length > 0)
      .map((l) => {
        const input = l.querySelector('input')!;
        const ib = input.getBoundingClientRect();
        const walker = document.createTreeWalker(l, NodeFilter.SHOW_TEXT);
        let node: Node | null = null;
        for (let t = walker.nextNode(); t; t = walker.nextNode()) {
          if (t.textContent?.trim() && input.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING) {
            node = t;
            break;
          }
        }
        if (!node) return { text: '(no text after the control)', gap: -1, dy: 0 };
        const range = document.createRange();
        range.selectNodeContents(node);
        const first = range.getClientRects()[0];
        return {
          text: node.textContent!.trim().slice(0, 50),
          gap: first.left - ib.right,
          dy: Math.abs((first.top + first.bottom) / 2 - (ib.top + ib.bottom) / 2),
        };
      }),
  );
}

test('the navigation fits on one row at 1280 px, the brand on one line', async ({ page, javaScriptEnabled }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await settled(page, javaScriptEnabled);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.locator('summary')).toBeHidden();
  const links = nav.getByRole('link');
  await expect(links).toHaveCount(11);
  const tops = new Set<number>();
  for (const box of await links.evaluateAll((ls) => ls.map((l) => l.getBoundingClientRect()))) {
    tops.add(Math.round(box.top));
  }
  expect([...tops], 'every link on one row').toHaveLength(1);
  // The groups are named.
  await expect(nav.locator('.nav-group-label')).toHaveText(['Data', 'Train', 'Adapters', 'Evaluate']);
  await expect(nav.getByRole('list', { name: 'Evaluate' }).getByRole('link')).toHaveText(['Chat', 'Compare', 'Experiments', 'Keep learning']);
  // The brand is one line: its text has one box.
  const brandLines = await page.locator('a.brand').evaluate((a) => {
    const range = document.createRange();
    range.selectNodeContents(a);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  });
  expect(brandLines).toBe(1);
  const { scroll, client } = await overflow(page);
  expect(scroll).toBeLessThanOrEqual(client);
  // Between the two (800 px) the full navigation is there, and nothing scrolls sideways.
  await page.setViewportSize({ width: 800, height: 900 });
  await expect(nav.locator('summary')).toBeHidden();
  await expect(links.first()).toBeVisible();
  const mid = await overflow(page);
  expect(mid.scroll, `sticking out at 800 px: ${mid.culprits.join(', ')}`).toBeLessThanOrEqual(mid.client);
});

test('under 800 px the navigation folds behind Menu, which opens with or without JavaScript', async ({ page, javaScriptEnabled }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/');
  await settled(page, javaScriptEnabled);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const menu = nav.locator('summary');
  await expect(menu).toBeVisible();
  await expect(menu).toHaveText('Menu');
  await expect(nav.getByRole('link', { name: 'Datasets' })).toBeHidden();
  await menu.click();
  await expect(nav.locator('details.menu')).toHaveAttribute('open', '');
  for (const name of ['Home', 'Conversations', 'Import', 'Datasets', 'Train', 'Runs', 'Adapters', 'Chat', 'Compare', 'Experiments', 'Keep learning']) {
    await expect(nav.getByRole('link', { name, exact: true })).toBeVisible();
  }
  // The open menu lies over the page, inside its width.
  const { scroll, client } = await overflow(page);
  expect(scroll).toBeLessThanOrEqual(client);
  await nav.getByRole('link', { name: 'Datasets' }).click();
  await expect(page).toHaveURL(/\/datasets$/);
  await expect(page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
  // Following a link closes the menu (a new page without JavaScript; the router's effect with it).
  await expect(nav.locator('details.menu')).not.toHaveAttribute('open', '');
  await expect(nav.getByRole('link', { name: 'Datasets' })).toBeHidden();
  await menu.click();
  await expect(nav.getByRole('link', { name: 'Datasets' })).toHaveAttribute('aria-current', 'page');
  await menu.click();
  await expect(nav.getByRole('link', { name: 'Datasets' })).toBeHidden();
});

test('every page at 1280×900 and 390×844: no sideways scrolling, controls beside their labels, a screenshot', async ({ page, javaScriptEnabled }, info) => {
  test.setTimeout(600_000);
  const list = await everyPage(page);
  const dir = path.join(SHOTS, info.project.name);
  fs.mkdirSync(dir, { recursive: true });
  const problems: string[] = [];
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const [name, url] of list) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(name === 'not-found' ? 404 : 200);
      await settled(page, javaScriptEnabled);
      const where = `${url} at ${size.width}×${size.height}`;
      const o = await overflow(page);
      if (o.scroll > o.client) problems.push(`${where} scrolls sideways (${o.scroll} > ${o.client}): ${o.culprits.join(', ')}`);
      for (const row of await checkRows(page)) {
        if (row.gap < 0 || row.gap > 16 || row.dy > 12) {
          problems.push(`${where}: "${row.text}" is ${Math.round(row.gap)} px from its control (${Math.round(row.dy)} px off its middle)`);
        }
      }
      await page.screenshot({ path: path.join(dir, `${name}-${size.width}x${size.height}.png`), fullPage: true });
    }
  }
  expect(problems).toEqual([]);
  for (const size of SIZES) {
    for (const [name] of list) expect(fs.existsSync(path.join(dir, `${name}-${size.width}x${size.height}.png`))).toBe(true);
  }
});
