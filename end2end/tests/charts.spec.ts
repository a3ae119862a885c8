import { test, expect, Locator, Page } from '@playwright/test';
import { ensureRun, settled } from './studio';

// The run page's charts on a finished tiny run: axes that fit the data with distinct tick labels,
// raw and smoothed loss with eval points marked, a read-out of each step (hover and keyboard with
// JavaScript, the browser's own tooltip without), the smoothing and log controls with and without
// JavaScript, a chart that fills its card, and the standalone SVG download.

/** Every number a chart's hover bands hold, by series: `step 4 · training loss 7.6 · … · 0m06s elapsed`. */
async function bandValues(svg: Locator): Promise<{ steps: number[]; values: Map<string, number[]> }> {
  const titles = await svg.locator('rect.chart-band > title').allTextContents();
  const steps: number[] = [];
  const values = new Map<string, number[]>();
  for (const t of titles) {
    const parts = t.split(' · ');
    steps.push(Number(parts[0].replace(/^step /, '')));
    for (const part of parts.slice(1)) {
      if (part.endsWith('elapsed')) continue;
      const at = part.lastIndexOf(' ');
      const name = part.slice(0, at);
      const v = Number(part.slice(at + 1));
      expect(Number.isFinite(v), `"${part}" ends in a number`).toBe(true);
      values.set(name, [...(values.get(name) ?? []), v]);
    }
  }
  return { steps, values };
}

/** The y axis's labels (HTML beside the stretched plot). */
async function tickLabels(chart: Locator): Promise<string[]> {
  return (await chart.locator('.chart-tick.y').allTextContents()).map((t) => t.trim());
}

/** The y axis's labels are distinct numbers, in order, at least two of them. */
function expectReadableTicks(labels: string[], what: string) {
  expect(labels.length, `${what}: ticks ${labels}`).toBeGreaterThanOrEqual(2);
  const numbers = labels.map(Number);
  for (const [i, n] of numbers.entries()) expect(Number.isFinite(n), `${what}: "${labels[i]}" is a number`).toBe(true);
  expect(new Set(labels).size, `${what}: distinct labels ${labels}`).toBe(labels.length);
  expect(new Set(numbers).size, `${what}: distinct values ${labels}`).toBe(labels.length);
  for (let i = 1; i < numbers.length; i++) expect(numbers[i], `${what}: ascending ${labels}`).toBeGreaterThan(numbers[i - 1]);
}

/** Every point of every line lies inside the plot's frame (the y range brackets the data). */
async function expectPathsInFrame(svg: Locator) {
  const [x0, y0, x1, y1] = (await svg.getAttribute('data-frame'))!.split(' ').map(Number);
  for (const d of await svg.locator('path.chart-path').evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? ''))) {
    const coords = d.replace(/[ML]/g, ' ').trim().split(/[\s,]+/).map(Number);
    expect(coords.length).toBeGreaterThan(1);
    for (let i = 0; i < coords.length; i += 2) {
      expect(coords[i]).toBeGreaterThanOrEqual(x0 - 0.5);
      expect(coords[i]).toBeLessThanOrEqual(x1 + 0.5);
      expect(coords[i + 1]).toBeGreaterThanOrEqual(y0 - 0.5);
      expect(coords[i + 1]).toBeLessThanOrEqual(y1 + 0.5);
    }
  }
}

/** Moves the mouse over the hover band of step `step`, away from the eval dots. */
async function pointAt(page: Page, svg: Locator, step: number) {
  const box = (await svg.locator(`rect.chart-band[data-x="${step}"]`).boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 3);
}

test('the run charts fit their data, read out each step, smooth, go logarithmic, and download', async ({ page, javaScriptEnabled }) => {
  test.setTimeout(420_000);
  const id = await ensureRun(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`/runs/${id}`);
  await settled(page, javaScriptEnabled);
  await expect(page.locator('#run-status')).toHaveText('succeeded');

  const lossChart = page.locator('#loss-chart');
  const loss = lossChart.locator('svg.chart-svg');
  const lr = page.locator('#lr-chart svg.chart-svg');
  await expect(loss).toBeVisible();
  await expect(lr).toBeVisible();

  // The loss axis brackets the data and fits it: not 0 to 12 for a loss that moves by 0.1.
  const { steps, values } = await bandValues(loss);
  expect(steps.length).toBe(Number(await lossChart.getAttribute('data-points')));
  const raw = values.get('training loss')!;
  expect(raw.length).toBe(steps.length);
  const all = [...values.values()].flat();
  const [min, max] = [Math.min(...all), Math.max(...all)];
  const [lo, hi] = [Number(await loss.getAttribute('data-y-lo')), Number(await loss.getAttribute('data-y-hi'))];
  // The read-outs are rounded to four significant digits.
  expect(lo).toBeLessThanOrEqual(min * (1 + 5e-4));
  expect(hi).toBeGreaterThanOrEqual(max * (1 - 5e-4));
  expect((max - min) / (hi - lo), `data ${min}..${max} on an axis ${lo}..${hi}`).toBeGreaterThan(0.7);
  await expectPathsInFrame(loss);
  const lossTicks = await tickLabels(lossChart);
  expectReadableTicks(lossTicks, 'loss');
  for (const t of lossTicks.map(Number)) {
    expect(t).toBeGreaterThanOrEqual(lo - 1e-12);
    expect(t).toBeLessThanOrEqual(hi + 1e-12);
  }

  // Learning rates (around 1e-4) get labels that tell them apart, never a row of "0".
  const lrTicks = await tickLabels(page.locator('#lr-chart'));
  expectReadableTicks(lrTicks, 'learning rate');
  expect(lrTicks.filter((t) => Number(t) !== 0).length).toBeGreaterThanOrEqual(2);
  const rates = (await bandValues(lr)).values.get('learning rate')!;
  expect(Number(await lr.getAttribute('data-y-lo'))).toBeLessThanOrEqual(Math.min(...rates) * (1 + 5e-4));
  expect(Number(await lr.getAttribute('data-y-hi'))).toBeGreaterThanOrEqual(Math.max(...rates) * (1 - 5e-4));
  await expectPathsInFrame(lr);

  // Raw loss faint, the smoothed curve on top, eval loss as marked points.
  await expect(loss.locator('path.chart-path.faint')).toHaveCount(1);
  await expect(loss.locator('path.chart-path.line[data-series^="smoothed"]')).toHaveCount(1);
  const evals = Number(await lossChart.getAttribute('data-eval-points'));
  expect(evals).toBeGreaterThan(0);
  await expect(loss.locator('path.chart-dot')).toHaveCount(evals);
  await expect(loss.locator('path.chart-dot').first()).toHaveAttribute('data-title', /^step \d+ · eval loss \d/);
  await expect(lossChart.locator('.chart-legend li')).toHaveText(['training loss', /^smoothed \(0\.60\)$/, 'eval loss']);
  // A text alternative says what the chart shows.
  await expect(loss).toHaveAttribute('role', 'img');
  await expect(loss).toHaveAttribute('aria-label', /^Loss, steps \d+ to \d+: training loss from /);

  // The chart fills its card: the plot takes all but the y labels' margin.
  const svgBox = (await loss.boundingBox())!;
  const cardBox = (await lossChart.boundingBox())!;
  expect(svgBox.width / cardBox.width).toBeGreaterThan(0.88);
  expect(svgBox.width).toBeGreaterThan(800);
  // Its labels are page text, at the page's size whatever the width.
  const fontSize = await lossChart.locator('.chart-tick.y').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(fontSize).toBeGreaterThanOrEqual(12);

  // Hover or focus: step, value and time.
  const last = steps[steps.length - 1];
  const title = (await loss.locator(`rect.chart-band[data-x="${last}"] > title`).textContent())!;
  expect(title).toMatch(new RegExp(`^step ${last} · training loss [0-9.e-]+ · smoothed \\(0\\.60\\) [0-9.e-]+ .*· \\d+m\\d+s elapsed$`));
  const readout = lossChart.locator('.chart-readout');
  if (javaScriptEnabled) {
    await pointAt(page, loss, last);
    await expect(readout).toHaveText(title);
    await expect(readout).toHaveAttribute('data-active', 'true');
    await expect(loss.locator('.chart-cursor path.chart-mark')).not.toHaveCount(0);
    await pointAt(page, loss, steps[0]);
    await expect(readout).toHaveText((await loss.locator(`rect.chart-band[data-x="${steps[0]}"] > title`).textContent())!);
    await page.mouse.move(5, 5);
    await expect(readout).toHaveAttribute('data-active', 'false');
    // The keyboard: focus starts at the last step, the arrows move.
    await loss.focus();
    await expect(readout).toHaveText(title);
    await page.keyboard.press('ArrowLeft');
    await expect(readout).toContainText(`step ${steps[steps.length - 2]} ·`);
    await page.keyboard.press('Home');
    await expect(readout).toContainText(`step ${steps[0]} ·`);
    await page.keyboard.press('Escape');
    await expect(readout).toHaveAttribute('data-active', 'false');
  } else {
    // Without JavaScript the browser shows each band's <title> as its tooltip.
    await expect(readout).toContainText('Point at the chart to read the values at each step.');
    await expect(loss.locator('rect.chart-band > title')).toHaveCount(steps.length);
  }

  // Smoothing off and a log scale.
  const smoothing = lossChart.locator('input[name="smooth"]');
  // (A range input reads its value back as the number: "0.6".)
  await expect(smoothing).toHaveValue('0.6');
  await smoothing.focus();
  await page.keyboard.press('Home');
  await lossChart.getByLabel('Log scale').check();
  if (javaScriptEnabled) {
    // Applied at once, kept in the address, no page load.
    await expect(lossChart.getByRole('button', { name: 'Apply' })).toBeHidden();
    await expect(page).toHaveURL(/[?&]smooth=0\.00&log=1$/);
  } else {
    await lossChart.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/[?&]smooth=0(\.00)?&log=1$/);
  }
  await expect(loss).toHaveAttribute('data-log', 'true');
  await expect(lossChart.locator('.chart-axis-name.y')).toHaveText('loss (log scale)');
  await expect(loss.locator('path.chart-path.faint')).toHaveCount(0);
  await expect(lossChart.locator('.chart-legend li')).toHaveText(['training loss', 'eval loss']);
  expectReadableTicks(await tickLabels(lossChart), 'loss, log scale');
  await expectPathsInFrame(loss);
  // A reload (or a shared link) shows the same chart.
  await page.reload();
  await settled(page, javaScriptEnabled);
  await expect(loss).toHaveAttribute('data-log', 'true');
  await expect(smoothing).toHaveValue('0');
  await expect(lossChart.getByLabel('Log scale')).toBeChecked();

  // The standalone file: a well-formed SVG document with the same axes.
  const response = await page.request.get(`/runs/${id}/loss.svg`);
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('image/svg+xml');
  expect(response.headers()['content-disposition']).toMatch(/^attachment; filename="loss-[0-9a-f-]+\.svg"$/);
  const svg = await response.text();
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  await page.goto('about:blank');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: doc.documentElement.nodeName,
      title: doc.querySelector('title')?.textContent ?? '',
      ticks: [...doc.querySelectorAll('text[text-anchor="end"]')].map((t) => t.textContent ?? ''),
      dots: doc.querySelectorAll('circle > title').length,
    };
  }, svg);
  expect(parsed.error).toBeNull();
  expect(parsed.root).toBe('svg');
  expect(parsed.title).toBe('Loss');
  expectReadableTicks(parsed.ticks, 'downloaded loss');
  expect(parsed.dots).toBe(evals);
  // The link on the page points at it, drawn as the page shows it (smoothing and scale).
  await page.goto(`/runs/${id}?smooth=0.5&log=1`);
  await expect(page.locator('#loss-svg')).toHaveAttribute('href', `/runs/${id}/loss.svg?smooth=0.50&log=1`);
  const shown = await page.request.get(`/runs/${id}/loss.svg?smooth=0.50&log=1`);
  expect(shown.status()).toBe(200);
  expect(await shown.text()).toContain('<svg');
});
