import { expect, Page } from '@playwright/test';

// Things several specs need in the studio, made through the UI the way a person would, and found
// again when an earlier spec or the other project (js / no-js share one data dir) made them.

/// The sample history, imported (a second import adds nothing).
export async function ensureSample(page: Page) {
  await page.goto('/conversations');
  if (await page.locator('#conversation-count').count()) return;
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();
}

/// A dataset of that name (with the default validation split), built from the sample: its id.
export async function ensureDataset(page: Page, name: string): Promise<string> {
  await page.goto('/datasets');
  const card = page.locator(`section.dataset[data-name="${name}"]`);
  if (!(await card.count())) {
    await ensureSample(page);
    await page.goto('/datasets/new');
    await page.locator('input[name="params[name]"]').fill(name);
    await page.getByRole('button', { name: 'Export' }).click();
    await expect(card).toBeVisible();
  }
  return (await card.getAttribute('data-id'))!;
}

/// A finished run of the tiny model on its own dataset (`steps` steps, an evaluation every 4):
/// its id. Waits for it when it is still training.
export async function ensureRun(page: Page, dataset = 'ui-charts', steps = 16): Promise<string> {
  await page.goto('/runs');
  const row = page.locator('#runs tr[data-id]').filter({ hasText: dataset }).first();
  let id: string;
  if (await row.count()) {
    id = (await row.getAttribute('data-id'))!;
  } else {
    const datasetId = await ensureDataset(page, dataset);
    await page.goto(`/train?step=6&dataset_id=${datasetId}&model_kind=tiny&max_steps=${steps}`);
    await page.getByRole('button', { name: '7 · Train' }).click();
    await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 120_000 });
    id = page.url().split('/').pop()!;
  }
  await page.goto(`/runs/${id}`);
  await expect.poll(async () => {
    await page.goto(`/runs/${id}`);
    const status = (await page.locator('#run-status').textContent())?.trim();
    if (status === 'failed' || status === 'interrupted' || status === 'cancelled') {
      throw new Error(`the run ${status}: ${await page.locator('#run-error').textContent().catch(() => '')}`);
    }
    return status;
  }, { timeout: 300_000, intervals: [2000] }).toBe('succeeded');
  return id;
}

/// Some adapter's id (a finished run registers its own).
export async function ensureAdapter(page: Page): Promise<string> {
  await page.goto('/adapters');
  if (!(await page.locator('li.version').count())) await ensureRun(page);
  await page.goto('/adapters');
  const href = await page.locator('li.version h2 a').first().getAttribute('href');
  return href!.split('/').pop()!;
}

/// Some conversation's id.
export async function ensureConversation(page: Page): Promise<string> {
  await ensureSample(page);
  await page.goto('/conversations');
  return (await page.locator('table tr[data-id]').first().getAttribute('data-id'))!;
}

/// Waits until the page is ready to be looked at: hydrated when JavaScript runs.
export async function settled(page: Page, javaScriptEnabled: boolean) {
  await expect(page.locator('.layout')).toHaveAttribute('data-hydrated', javaScriptEnabled ? 'true' : 'false');
}

/// The local Ray head the tests start (playwright.config.ts).
export const rayURL = `http://127.0.0.1:${Number(process.env.GARDEN_EDEN_E2E_PORT ?? 3111) + 3}`;

/// The real llama.cpp server the tests start (llama-cpp-python) serving the tiny model
/// ("tiny-base") and the tiny model with an adapter ("tiny-eden").
export const llama = `http://127.0.0.1:${Number(process.env.GARDEN_EDEN_E2E_PORT ?? 3111) + 2}`;

/// A model of that name on the llama.cpp server, added in Chat (optionally tied to a registered
/// adapter); left as it is when one of that name is there already.
export async function addModel(page: Page, name: string, model: string, adapter?: string) {
  await page.goto('/chat');
  if (await page.locator(`#models tr[data-name="${name}"]`).count()) return;
  await page.locator('#models summary').click();
  const form = page.locator('#add-model');
  await form.locator('input[name="name"]').fill(name);
  await form.locator('select[name="kind"]').selectOption('openai');
  await form.locator('input[name="url"]').fill(llama);
  await form.locator('input[name="model"]').fill(model);
  if (adapter) await form.locator('select[name="adapter_id"]').selectOption({ label: adapter });
  await form.getByRole('button', { name: 'Add' }).click();
  await page.goto('/chat');
  await expect(page.locator(`#models tr[data-name="${name}"]`)).toHaveCount(1);
}

/** Every route in app/src/lib.rs; the ones with an id get one the spec makes. */
export async function everyPage(page: Page): Promise<[string, string][]> {
  const conversation = await ensureConversation(page);
  const run = await ensureRun(page);
  const adapter = await ensureAdapter(page);
  return [
    ['home', '/'],
    ['start', '/start'],
    ['conversations', '/conversations'],
    ['conversation', `/conversations/${conversation}`],
    ['import', '/import'],
    ['datasets', '/datasets'],
    ['dataset-new', '/datasets/new'],
    ['train', '/train'],
    ['train-base-model', '/train?step=3'],
    ['train-lora', '/train?step=4'],
    ['runs', '/runs'],
    ['run', `/runs/${run}`],
    ['adapters', '/adapters'],
    ['adapter', `/adapters/${adapter}`],
    ['chat', '/chat'],
    ['compare', '/compare'],
    ['experiments', '/experiments'],
    ['learn', '/learn'],
    ['not-found', '/no-such-page'],
  ];
}
