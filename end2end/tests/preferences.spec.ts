import { test, expect, Page } from '@playwright/test';
import { addModel } from './studio';

// Learning from side-by-side choices: blind votes in Compare between the tiny model and the tiny
// model with an adapter (the real llama.cpp server), then the wizard offers "Learn from your
// side-by-side choices (DPO/ORPO)", exports the votes as pairs, reviews the stage with its pairs
// by source, and trains DPO on the tiny model; the run page charts the rewards and their margin.

const DPO = 'Learn from your side-by-side choices (DPO/ORPO)';

/// One blind comparison and a vote for the left answer.
async function voteOnce(page: Page, a: string, b: string, prompt: string) {
  await page.goto('/compare');
  await page.locator('#model-a').selectOption({ label: a });
  await page.locator('#model-b').selectOption({ label: b });
  await page.locator('#compare-prompt').fill(prompt);
  await page.locator('#compare-go').click();
  await expect(page).toHaveURL(/\/compare\?c=/);
  await expect(page.locator('#vote-buttons button[data-vote="left"]')).toBeEnabled({ timeout: 180_000 });
  await page.locator('#vote-buttons button[data-vote="left"]').click();
  await expect(page.locator('#vote-result')).toContainText('You preferred model');
}

test('vote side by side, learn from the choices with DPO, and watch the reward margin', async ({ page, javaScriptEnabled }, info) => {
  test.setTimeout(900_000);
  const p = info.project.name;
  const base = `pref base ${p}`;
  const eden = `pref eden ${p}`;
  await addModel(page, base, 'tiny-base');
  await addModel(page, eden, 'tiny-eden');

  // A few votes, each on its own prompt.
  const topics = ['tea', 'rain', 'bread', 'rivers', 'owls', 'maps'];
  for (const topic of topics) {
    await voteOnce(page, eden, base, `Say something kind about ${topic} (${p}).`);
  }

  // The wizard's data step offers DPO now, with its sentence and its pairs.
  await page.goto('/train');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=2/);
  const offer = page.locator('#stage-choice label[data-stage="dpo"]');
  await expect(offer).toContainText(DPO);
  await expect(offer).toContainText('from side-by-side votes');
  await expect(offer).toContainText('learns to prefer the answer you chose');
  await page.getByLabel(DPO).check();

  // The wizard exports the votes as pairs and comes back with the new dataset chosen.
  await page.locator('#export-dpo').click();
  await expect(page).toHaveURL(/stage=dpo/);
  await expect(page).toHaveURL(/step=2/);
  await expect(page.getByLabel(DPO)).toBeChecked();
  const chosen = page.locator('select[name="dataset_id"] option:checked');
  await expect(chosen).toContainText('pairs');
  const datasetId = await chosen.getAttribute('value');
  expect(datasetId).toMatch(/^[0-9a-f-]{36}$/);

  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=3/);
  await page.getByLabel('Tiny demo model (CPU, seconds): made on this machine, no download').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=4/);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=5/);
  // DPO's loss and β are offered; sigmoid is the default.
  await expect(page.locator('#pref-choice input[name="pref_loss"][value="sigmoid"]')).toBeChecked();
  await page.locator('input[name="pref_beta"]').fill('0.1');
  await page.locator('input[name="max_steps"]').fill('8');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page).toHaveURL(/step=6/);

  // The review: the stage, its pairs by source, the loss, where it starts from, the YAML.
  await expect(page.locator('#stage-review')).toHaveAttribute('data-stage', 'dpo');
  await expect(page.locator('#stage')).toContainText(DPO);
  await expect(page.locator('#pairs-sources')).toContainText('from side-by-side votes');
  await expect(page.locator('#pref-loss')).toContainText('Loss: sigmoid');
  await expect(page.locator('#starting-adapter')).toContainText('Starts from');
  await expect(page.locator('#yaml')).toContainText('stage: dpo');
  await expect(page.locator('#yaml')).toContainText('pref_loss: sigmoid');
  await expect(page.locator('#yaml')).toContainText('max_steps: 8');

  await page.getByRole('button', { name: '7 · Train' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/, { timeout: 120_000 });
  const runId = page.url().split('/').pop()!;
  await expect(page.locator('#run-stage')).toHaveAttribute('data-stage', 'dpo');
  const rewards = page.locator('#rewards-chart');
  await expect(rewards).toBeVisible();

  if (javaScriptEnabled) {
    // Live: the margins arrive over the event stream with the loss.
    await expect.poll(async () => Number(await rewards.getAttribute('data-points')), { timeout: 300_000 }).toBeGreaterThan(0);
    await expect(page.locator('#run-status')).toHaveText('succeeded', { timeout: 300_000 });
  } else {
    await expect.poll(async () => {
      await page.reload();
      const status = (await page.locator('#run-status').textContent())?.trim();
      if (status === 'failed') throw new Error(`the run failed: ${await page.locator('#run-error').textContent()}`);
      return status;
    }, { timeout: 300_000, intervals: [2000] }).toBe('succeeded');
  }
  expect(Number(await rewards.getAttribute('data-points'))).toBeGreaterThan(0);
  await expect(rewards.locator('svg')).toBeVisible();
  await expect(page.locator('#accuracies-chart svg')).toBeVisible();

  // The Runs page shows what each run taught.
  await page.goto('/runs');
  await expect(page.locator(`#runs tr[data-id="${runId}"] td.stage`)).toHaveText('DPO');
});
