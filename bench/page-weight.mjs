// The bytes a first visit transfers, measured the way the browser counts them: the sum of CDP's
// Network.loadingFinished `encodedDataLength` (headers and body as they came over the wire,
// compressed where the server compressed) for every request the page makes until the network is
// idle, in Debian's Chromium with a cold cache. Then, for each later route, what following a link
// to it from the first page transfers (the page's own data, and the code chunks it loads): each
// route measured from a fresh cold visit, so no route is counted as cheap because an earlier one
// already fetched its chunks.
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

const sum = (list) => list.reduce((n, r) => n + r.bytes, 0);

// A cold page that records what it transfers: `finished` (url, encoding, bytes) and how many
// requests are still in flight.
async function coldPage() {
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
  const state = { page, finished: [], inflight: new Set(), lastEvent: Date.now() };
  const requests = new Map();
  cdp.on('Network.requestWillBeSent', (e) => {
    state.inflight.add(e.requestId);
    state.lastEvent = Date.now();
  });
  cdp.on('Network.responseReceived', (e) => {
    requests.set(e.requestId, { url: e.response.url, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '' });
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId) ?? { url: '?', encoding: '' };
    state.finished.push({ ...r, bytes: e.encodedDataLength });
    state.inflight.delete(e.requestId);
    state.lastEvent = Date.now();
  });
  cdp.on('Network.loadingFailed', (e) => {
    state.inflight.delete(e.requestId);
    state.lastEvent = Date.now();
  });
  return state;
}

// Loaded, then quiet: nothing in flight and nothing new for a second (a page that keeps a
// connection open, as Gradio's does, is given 15 s).
async function settle(state) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && (state.inflight.size > 0 || Date.now() - state.lastEvent < 1_000)) {
    await state.page.waitForTimeout(100);
  }
}

// A cold visit to the first page: loaded, quiet, hydrated (if the app hydrates), quiet again.
async function visitFirstPage() {
  const state = await coldPage();
  await state.page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  await settle(state);
  state.hydrated = await state.page
    .locator('.layout[data-hydrated="true"]')
    .waitFor({ timeout: 5_000 })
    .then(() => true)
    .catch(() => false);
  await settle(state);
  return state;
}

// The first page.
const started = Date.now();
const home = await visitFirstPage();
const hydrated = home.hydrated;
const hydratedMs = hydrated ? Math.round(await home.page.evaluate(() => window.__hydratedAt ?? -1)) : null;
const first = home.finished;
const firstMs = Date.now() - started;
await home.page.context().close();

// Each later route: a fresh cold visit to the first page, then a click on the link to the route
// (the router fetches the route's data and its chunks in place); without hydration, a page load.
const later = [];
for (const route of routes) {
  const state = await visitFirstPage();
  state.finished = [];
  const link = state.page.locator(`a[href="${route}"]`).first();
  if (state.hydrated && (await link.count())) {
    await link.click();
    await state.page.waitForURL((u) => new URL(u).pathname === route, { timeout: 30_000 });
  } else {
    await state.page.goto(new URL(route, url).toString(), { waitUntil: 'load', timeout: 60_000 });
  }
  await settle(state);
  const code = state.finished.filter((r) => /\.(wasm|js)(\?|$)/.test(r.url));
  later.push({ route, bytes: sum(state.finished), code_bytes: sum(code), requests: state.finished.length });
  await state.page.context().close();
}

const biggest = [...first].sort((a, b) => b.bytes - a.bytes).slice(0, 5).map((r) => ({ url: r.url.replace(url, '/').replace(/\/\/+/g, '/'), bytes: r.bytes, encoding: r.encoding }));
console.log(JSON.stringify({ name, url, first_page_bytes: sum(first), requests: first.length, load_ms: firstMs, hydrated, hydrated_ms: hydratedMs, biggest, later }));
await browser.close();
