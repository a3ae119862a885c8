import { test, expect, Page } from '@playwright/test';

// From a finished run to Ollama: the run's adapter is in the registry on its own; the same
// folder registered by hand becomes the next version; activate, deploy to the Ollama stand-in
// (it claims 0.34.1, so the merged route), read the test answer, roll back.

async function finishedRun(page: Page, name: string): Promise<string> {
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();
  await page.goto('/datasets/new');
  await page.locator('input[name="params[name]"]').fill(name);
  await page.getByRole('button', { name: 'Export' }).click();
  const card = page.locator(`section.dataset[data-name="${name}"]`);
  await expect(card).toBeVisible();
  const datasetId = await card.getAttribute('data-id');
  await page.goto('/train');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Dataset').selectOption(datasetId!);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Tiny demo model (CPU, seconds): made on this machine, no download').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('input[name="max_steps"]').fill('8');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: '7 · Train' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 120_000 });
  await expect.poll(async () => {
    await page.reload();
    return page.locator('#run-status').textContent();
  }, { timeout: 300_000, intervals: [2000] }).toBe('succeeded');
  const output = (await page.locator('details .path').textContent())!.replace(/^Output: /, '').trim();
  return output;
}

test('register, activate, deploy to the stand-in, see the answer, roll back', async ({ page, javaScriptEnabled }, info) => {
  test.setTimeout(480_000);
  const name = `deploy-${info.project.name}`;
  const output = await finishedRun(page, name);

  // The succeeded run registered its adapter: version 1.0.0, with the run's losses.
  await page.goto('/adapters');
  const first = page.locator(`li.version[data-name$="${name} on tiny-demo"][data-version="1.0.0"]`);
  await expect(first).toBeVisible();
  const adapterName = (await first.getAttribute('data-name'))!;
  await expect(first.locator('.metrics')).not.toContainText('Training loss–');

  // Register the same folder by hand: checked, and it becomes 1.1.0.
  await page.locator('#register summary').click();
  await page.locator('#register input[name="name"]').fill(adapterName);
  await page.locator('#register input[name="adapter_path"]').fill(output);
  await page.locator('#register').getByRole('button', { name: 'Check and register' }).click();
  await expect(page).toHaveURL(/\/adapters\/[0-9a-f-]{36}$/);
  await expect(page.locator('#adapter-title')).toContainText(`${adapterName} 1.1.0`);

  // A wrong path is a clear error, and nothing is registered.
  await page.goto('/adapters');
  await page.locator('#register summary').click();
  await page.locator('#register input[name="name"]').fill('broken');
  await page.locator('#register input[name="adapter_path"]').fill('/nonexistent/adapter');
  await page.locator('#register').getByRole('button', { name: 'Check and register' }).click();
  if (javaScriptEnabled) {
    await expect(page.locator('#register .error-box')).toContainText('/nonexistent/adapter does not exist');
  }
  await page.goto('/adapters');
  await expect(page.locator('li.version[data-name="broken"]')).toHaveCount(0);

  // Activate 1.0.0, then 1.1.0 from its page.
  await page.locator(`li.version[data-name="${adapterName}"][data-version="1.0.0"]`).getByRole('button', { name: 'Activate' }).click();
  await expect(page.locator(`li.version[data-name="${adapterName}"][data-version="1.0.0"]`)).toHaveAttribute('data-active', 'true');
  await page.locator(`li.version[data-name="${adapterName}"][data-version="1.1.0"]`).getByRole('link', { name: 'Deploy & details' }).click();
  await page.locator('#activate').click();
  await expect(page.locator('#active-badge')).toBeVisible();

  // Deploy: Auto asks the stand-in's version (0.34.1) and takes the merged route.
  await page.locator('#deploy-form input[name="model_name"]').fill(`eden-${info.project.name}`);
  await page.locator('#deploy-button').click();
  const deployment = page.locator('#deployments li.deployment').first();
  // Hydrated, the page follows the deployment; without JavaScript it refreshes itself while the
  // deployment runs (so the test must not reload it too).
  await expect(deployment).toHaveAttribute('data-status', 'succeeded', { timeout: 120_000 });
  await expect(deployment).toHaveAttribute('data-strategy', 'merged');
  await expect(deployment.locator('.steps')).toContainText('Ollama 0.34.1');
  await expect(deployment.locator('.steps')).toContainText('Merging the adapter into its base');
  await expect(deployment.locator('.steps')).toContainText('Ollama: success');
  await expect(deployment).toContainText('Test prompt: Hello, how are you?');
  await expect(deployment.locator('.test-answer')).toContainText(`eden-${info.project.name}`);
  await expect(page.locator('#modelfile-text')).toContainText('PARAMETER temperature 0.8');
  await expect(page.locator('#modelfile-text')).toContainText('ADAPTER ./adapter.gguf');

  // Troubleshooting checks all pass for this adapter.
  await page.locator('#run-checks').click();
  await expect(page.locator('#checks li.check')).toHaveCount(5);
  await expect(page.locator('#checks li.check.missing')).toHaveCount(0);

  // Roll back: 1.0.0 is active again.
  await page.goto('/adapters');
  await page.locator('#rollback').click();
  await expect(page.locator(`li.version[data-name="${adapterName}"][data-version="1.0.0"]`)).toHaveAttribute('data-active', 'true');
  await expect(page.locator(`li.version[data-name="${adapterName}"][data-version="1.1.0"]`)).toHaveAttribute('data-active', 'false');
});
