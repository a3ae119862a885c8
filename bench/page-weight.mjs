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
await page.goto(url, { waitUntil: 'networkidle', timeout: 120_000 });
const first = finished;
const firstMs = Date.now() - started;
const hydrated = await page
  .locator('.layout[data-hydrated="true"]')
  .waitFor({ timeout: 5_000 })
  .then(() => true)
  .catch(() => false);

const later = [];
for (const route of routes) {
  finished = [];
  const link = page.locator(`a[href="${route}"]`).first();
  if (hydrated && (await link.count())) {
    // A link followed in place: what the router fetches (data, and a chunk if the route has one).
    await link.click();
    await page.waitForURL((u) => new URL(u).pathname === route, { timeout: 30_000 });
    await page.waitForLoadState('networkidle');
  } else {
    await page.goto(new URL(route, url).toString(), { waitUntil: 'networkidle', timeout: 60_000 });
  }
  const code = finished.filter((r) => /\.(wasm|js)(\?|$)/.test(r.url));
  later.push({ route, bytes: sum(finished), code_bytes: sum(code), requests: finished.length });
}

const biggest = [...first].sort((a, b) => b.bytes - a.bytes).slice(0, 5).map((r) => ({ url: r.url.replace(url, '/').replace(/\/\/+/g, '/'), bytes: r.bytes, encoding: r.encoding }));
console.log(JSON.stringify({ name, url, first_page_bytes: sum(first), requests: first.length, load_ms: firstMs, hydrated, biggest, later }));
await browser.close();
