import { test, expect } from '@playwright/test';

// The guide's scenario in the wizard: Qwen 2.5 14B is the default base model; choosing 4-bit puts
// quantization_bit: 4 in the YAML; a memory suggestion is applied with one click and the estimate
// is worked out again; left on "choose for my GPU", a 24 GB GPU gets QLoRA and an 80 GB one full
// precision, each with its reason.
test('4-bit in the wizard, a one-click estimate suggestion, and the precision chosen for the GPU', async ({ page }, info) => {
  test.setTimeout(120_000);
  await page.goto('/import');
  await page.getByRole('button', { name: 'Load the sample history' }).click();
  await expect(page.locator('#import-result')).toBeVisible();
  const name = `precision-${info.project.name}`;
  await page.goto('/datasets/new');
  await page.locator('input[name="params[name]"]').fill(name);
  await page.getByRole('button', { name: 'Export' }).click();
  const card = page.locator(`section.dataset[data-name="${name}"]`);
  await expect(card).toBeVisible();
  const datasetId = (await card.getAttribute('data-id'))!;

  await page.goto('/train');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Dataset').selectOption(datasetId);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=3/);
  await expect(page.locator('input[name="model"]')).toHaveValue('Qwen/Qwen2.5-14B-Instruct');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=4/);
  await expect(page.locator('input[name="quantization_bit"][value="auto"]')).toBeChecked();
  await page.locator('input[name="quantization_bit"][value="4"]').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=5/);
  await page.locator('select[name="target_gpu"]').selectOption('24');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page).toHaveURL(/step=6/);
  await expect(page).toHaveURL(/quantization_bit=4/);

  const yaml = page.locator('#yaml');
  await expect(yaml).toContainText('quantization_bit: 4');
  await expect(yaml).toContainText('model_name_or_path: "Qwen/Qwen2.5-14B-Instruct"');
  // A model's own code runs only when the person opts in, and the review says so in red.
  await expect(yaml).toContainText('trust_remote_code: false');
  await expect(page.locator('#remote-code')).toHaveCount(0);
  await expect(page.locator('#precision')).toContainText('4-bit (QLoRA), as chosen');
  await expect(page.locator('#device')).toContainText('24 GB GPU (planned)');
  // Batch 4 at 2048 tokens is tight on 24 GB: halving the batch is one click away.
  const memory = page.locator('#memory');
  await expect(memory).toHaveAttribute('data-fit', 'tight');
  await expect(yaml).toContainText('per_device_train_batch_size: 4');
  const halve = memory.locator('.suggestions li', { hasText: 'Halve the batch to 2' });
  await halve.getByRole('link', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/per_device_train_batch_size=2/);
  await expect(page).toHaveURL(/step=6/);
  await expect(yaml).toContainText('per_device_train_batch_size: 2');
  await expect(yaml).toContainText('gradient_accumulation_steps: 8');
  await expect(yaml).toContainText('quantization_bit: 4');
  await expect(memory).toHaveAttribute('data-fit', 'fits');

  // Left to garden-eden: QLoRA on a 24 GB GPU, full precision on an 80 GB one, each explained.
  await page.goto(`/train?dataset_id=${datasetId}&target_gpu=24&step=6`);
  await expect(page.locator('#precision')).toContainText('4-bit QLoRA: in full precision the base model needs about');
  await expect(yaml).toContainText('quantization_bit: 4');
  await expect(memory).toHaveAttribute('data-fit', 'fits');
  await page.goto(`/train?dataset_id=${datasetId}&target_gpu=80&step=6`);
  await expect(page.locator('#precision')).toContainText('Full precision: the base model fits');
  await expect(yaml).not.toContainText('quantization_bit');
});
