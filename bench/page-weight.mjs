// The bytes a first visit transfers, measured the way the browser counts them: the sum of CDP's
// Network.loadingFinished `encodedDataLength` (headers and body as they came over the wire,
// compressed where the server compressed) for every request the page makes until the network is
// idle, in Debian's Chromium with a cold cache. Then, for each later route, what following a link
// to it transfers (the page's own data, and any code chunk it loads).
//
// Usage: node bench/page-weight.mjs NAME URL [ROUTE ...]   (prints one JSON line)
import { chromium } from '../end2end/node_modules/@playwright/test/index.mjs';

const [name, url, ...routes] = process.argv.slice(2);
if (!name || !url) {
  console.error('usage: node bench/page-weight.mjs NAME URL [ROUTE ...]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
const cdp = await page.context().newCDPSession(page);
await cdp.send('Network.enable');
await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

// When the page has hydrated (the app flips `data-hydrated` on its root), in ms from navigation start.
await page.addInitScript(() => {
  new MutationObserver((_, observer) => {
    if (document.querySelector('.layout[data-hydrated="true"]')) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
});

const requests = new Map();
let finished = [];
cdp.on('Network.responseReceived', (e) => {
  requests.set(e.requestId, { url: e.response.url, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '' });
});
cdp.on('Network.loadingFinished', (e) => {
  const r = requests.get(e.requestId) ?? { url: '?', encoding: '' };
  finished.push({ ...r, bytes: e.encodedDataLength });
});

const sum = (list) => list.reduce((n, r) => n + r.bytes, 0);
const started = Date.now();
// Loaded, then quiet (a page that keeps a connection open, as Gradio's does, is given 15 s).
await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
const quiet = () => page.waitForLoadState('networkidle', { timeout: 15_000 }).catch(() => {});
await quiet();
const hydrated = await page
  .locator('.layout[data-hydrated="true"]')
  .waitFor({ timeout: 5_000 })
  .then(() => true)
  .catch(() => false);
await quiet();
const hydratedMs = hydrated ? Math.round(await page.evaluate(() => window.__hydratedAt ?? -1)) : null;
const first = finished;
const firstMs = Date.now() - started;

const later = [];
for (const route of routes) {
  let link = page.locator(`a[href="${route}"]`).first();
  if (hydrated && !(await link.count())) {
    // Not linked from here: back to Home (in place) and follow it from there.
    await page.locator('a.brand').click();
    await page.waitForURL((u) => new URL(u).pathname === '/', { timeout: 30_000 });
    await quiet();
    link = page.locator(`a[href="${route}"]`).first();
  }
  finished = [];
  if (hydrated && (await link.count())) {
    // A link followed in place: what the router fetches (data, and a chunk if the route has one).
    await link.click();
    await page.waitForURL((u) => new URL(u).pathname === route, { timeout: 30_000 });
  } else {
    await page.goto(new URL(route, url).toString(), { waitUntil: 'load', timeout: 60_000 });
  }
  await quiet();
  const code = finished.filter((r) => /\.(wasm|js)(\?|$)/.test(r.url));
  later.push({ route, bytes: sum(finished), code_bytes: sum(code), requests: finished.length });
}

const biggest = [...first].sort((a, b) => b.bytes - a.bytes).slice(0, 5).map((r) => ({ url: r.url.replace(url, '/').replace(/\/\/+/g, '/'), bytes: r.bytes, encoding: r.encoding }));
console.log(JSON.stringify({ name, url, first_page_bytes: sum(first), requests: first.length, load_ms: firstMs, hydrated, hydrated_ms: hydratedMs, biggest, later }));
await browser.close();
