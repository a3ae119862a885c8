import { test, expect, Page } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

// A person's first visit: every list or select that has nothing in it yet says why and links to
// the page that fills it. Other specs share the suite's server and fill its data dir, so this one
// starts its own `garden-eden serve` on a fresh, empty data dir (one per project).

const root = path.resolve(__dirname, '..', '..');
const bin = process.env.GARDEN_EDEN_BIN ?? path.join(root, 'target/debug/garden-eden');
const siteRoot = path.resolve(root, process.env.LEPTOS_SITE_ROOT ?? 'target/site');

let server: ChildProcess | undefined;
let base = '';
let log = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'garden-eden-e2e-empty-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`], {
    env: { ...process.env, GARDEN_EDEN_DATA_DIR: dataDir, LEPTOS_SITE_ROOT: siteRoot, HF_HUB_OFFLINE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (c) => (log += c));
  server.stderr!.on('data', (c) => (log += c));
  const deadline = Date.now() + 100_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`garden-eden serve exited (${server.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${base}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`garden-eden serve did not answer:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});

/** The note for `what` is shown, says `text`, and links to each of `links`. */
async function note(page: Page, what: string, text: string | RegExp, links: string[]) {
  const n = page.locator(`main [data-empty="${what}"]`);
  await expect(n, `the "${what}" note`).toBeVisible();
  await expect(n).toContainText(text);
  await expect(n).toHaveAttribute('role', 'note');
  for (const href of links) await expect(n.locator(`a[href="${href}"]`), `${what} links to ${href}`).toHaveCount(1);
}

/** Every empty-note on the page has a link to somewhere that fills it. */
async function everyNoteLinks(page: Page) {
  for (const n of await page.locator('main [data-empty]').all()) {
    expect(await n.locator('a[href]').count(), `"${await n.textContent()}" links somewhere`).toBeGreaterThan(0);
  }
}

test('a fresh studio explains each empty list and select, and links to what fills it', async ({ page }) => {
  const go = async (url: string) => {
    const r = await page.goto(`${base}${url}`);
    expect(r?.status(), url).toBe(200);
  };

  await go('/');
  await note(page, 'conversations', 'Your history is empty', ['/import']);
  await everyNoteLinks(page);
  // The guided first run, from nothing: step 1 of 7 is next, and it hands off to Import.
  await expect(page.locator('#start-here')).toContainText('Next: step 1 of 7, Bring in your history');
  await go('/start');
  await expect(page.locator('#journey-progress')).toHaveText('0 of 7 steps done.');
  await expect(page.locator('#journey-step')).toHaveAttribute('data-step', 'import');
  await expect(page.locator('#journey li.journey-step[data-state="done"]')).toHaveCount(0);
  await expect(page.locator('#journey-go')).toHaveAttribute('href', '/import');
  await expect(page.locator('#journey-previous')).toHaveCount(0);
  // A later step, chosen in the address, says which comes first.
  await go('/start?step=deploy');
  await expect(page.locator('.journey-status')).toHaveText('Not done yet: step 1 comes first');
  await expect(page.locator('#journey-go')).toHaveAttribute('href', '/adapters');

  await go('/conversations');
  await expect(page.locator('#empty-state')).toContainText('No conversations yet');
  await note(page, 'conversations', 'They come from your assistant', ['/import', '/chat']);

  await go('/import');
  await note(page, 'imports', 'Nothing imported yet', ['#from-file', '#sample']);
  await everyNoteLinks(page);

  await go('/datasets');
  await note(page, 'datasets', 'built from your conversations', ['/datasets/new', '/import']);

  await go('/datasets/new');
  await note(page, 'conversations', 'No conversations to build from yet', ['/import']);
  await expect(page.locator('#passed-count')).toHaveText('0');
  await expect(page.locator('#export')).toBeDisabled();

  await go('/adapters');
  await note(page, 'adapters', 'registers its adapter here', ['/train', '#register']);

  await go('/chat');
  await note(page, 'models', 'No models yet', ['#add-model', '/adapters']);
  await note(page, 'chats', 'No chats yet', ['#chat-input']);
  await page.locator('#models summary').click();
  await note(page, 'model-servers', 'No model servers yet', ['/adapters']);
  await note(page, 'adapters', 'No adapters registered yet', ['/train', '/adapters#register']);
  await everyNoteLinks(page);

  // The issue's own case: Compare with no models.
  await go('/compare');
  await note(page, 'models', 'No models yet: add a model server in Chat, or deploy an adapter.', ['/chat#add-model', '/adapters']);
  await expect(page.locator('#model-a option')).toHaveCount(0);
  await expect(page.locator('#compare-go')).toBeDisabled();
  await note(page, 'prompt-datasets', 'No dataset with held-out prompts yet', ['/datasets/new']);
  await everyNoteLinks(page);

  await go('/experiments');
  await note(page, 'models', 'No models yet: an experiment needs two.', ['/chat#add-model', '/adapters']);
  await expect(page.locator('#start-experiment')).toBeDisabled();
  await note(page, 'experiments', 'No experiments yet', ['/chat']);
  await everyNoteLinks(page);

  // The pages of the training step say where their lists come from, too.
  await go('/train?step=2');
  await expect(page.locator('main a[href="/datasets/new"]').first()).toBeVisible();
  await go('/runs');
  await expect(page.locator('#empty-state a[href="/train"]').first()).toBeVisible();
  await go('/learn');
  await expect(page.locator('#empty-state a[href="/train"]').first()).toBeVisible();
});

test('a note\'s link leads to the page that fills the list', async ({ page }) => {
  await page.goto(`${base}/compare`);
  await page.locator('main [data-empty="models"]').getByRole('link', { name: 'add a model server in Chat' }).click();
  await expect(page).toHaveURL(`${base}/chat#add-model`);
  await expect(page.getByRole('heading', { name: 'Chat', level: 1 })).toBeVisible();
  await expect(page.locator('#add-model')).toHaveCount(1);

  await page.goto(`${base}/datasets`);
  await page.locator('main [data-empty="datasets"]').getByRole('link', { name: 'Import your history first' }).click();
  await expect(page).toHaveURL(`${base}/import`);
  await expect(page.getByRole('button', { name: 'Load the sample history' })).toBeVisible();
  // Filled, the note goes: here the sample history, then the datasets page's own list.
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();
  await page.goto(`${base}/import`);
  await expect(page.locator('main [data-empty="imports"]')).toHaveCount(0);
  await page.goto(`${base}/datasets/new`);
  await expect(page.locator('main [data-empty="conversations"]')).toHaveCount(0);
});
