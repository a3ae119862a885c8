import { test, expect, Page } from '@playwright/test';
import { addModel, llama } from './studio';
import * as path from 'node:path';

// "Which adapter is better?" against the real llama.cpp server (llama-cpp-python) serving the tiny
// model ("tiny-base") and the tiny model with an adapter ("tiny-eden"): chat and feedback; a blind
// side-by-side with a vote and the reveal; an A/B experiment collecting conversations in both arms,
// its report, and promoting the winner.

const models = process.env.GARDEN_EDEN_E2E_MODELS ?? path.resolve(__dirname, '../../target/e2e-models');

/// Sends a message in a new conversation (optionally to one model) and waits for the answer.
async function chatOnce(page: Page, text: string, model?: string): Promise<string> {
  await page.goto('/chat');
  if (model) await page.locator('#endpoint-select').selectOption({ label: new RegExp(`^${model} ·`) as unknown as string });
  await page.locator('#chat-input').fill(text);
  await page.locator('#chat-send').click();
  await expect(page).toHaveURL(/\/chat\?c=/);
  await expect(page.locator('li.message.assistant')).toHaveCount(1, { timeout: 60_000 });
  return (await page.locator('#chat-model').getAttribute('data-arm')) ?? '';
}

test('chat with feedback, blind side by side, an experiment, promote the winner', async ({ page }, info) => {
  test.setTimeout(420_000);
  const p = info.project.name;
  const base = `tiny base ${p}`;
  const eden = `tiny eden ${p}`;

  // The adapter the "tiny-eden" model serves, registered (so the experiment can promote it).
  await page.goto('/adapters');
  await page.locator('#register summary').click();
  await page.locator('#register input[name="name"]').fill(`eden-lora-${p}`);
  await page.locator('#register input[name="adapter_path"]').fill(path.join(models, 'eden-lora'));
  await page.locator('#register input[name="base_path"]').fill(path.join(models, 'tiny'));
  await page.locator('#register').getByRole('button', { name: 'Check and register' }).click();
  await expect(page.locator('#adapter-title')).toContainText(`eden-lora-${p} 1.0.0`);

  await addModel(page, base, 'tiny-base');
  await addModel(page, eden, 'tiny-eden', `eden-lora-${p} 1.0.0`);

  // Chat, streamed from llama.cpp; thumbs on the answer, satisfaction for the conversation.
  await page.goto('/chat');
  await page.locator('#endpoint-select').selectOption({ label: `${eden} · tiny-eden at ${llama}` });
  await page.locator('#chat-input').fill('Hello, how are you?');
  await page.locator('#chat-send').click();
  await expect(page).toHaveURL(/\/chat\?c=/);
  const answer = page.locator('li.message.assistant');
  await expect(answer).toHaveCount(1, { timeout: 60_000 });
  await expect(answer.locator('.message-body')).not.toBeEmpty();
  await expect(answer.locator('.tag')).toHaveText('tiny-eden');
  await expect(page.locator('#chat-model')).toContainText(`Answered by ${eden}`);
  await answer.getByRole('button', { name: 'Thumbs up' }).click();
  await expect(page.locator('li.message.assistant')).toHaveAttribute('data-thumbs', 'up');
  await page.locator('input[name="satisfaction"][type="number"]').fill('0.9');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#satisfaction')).toContainText('0.9');
  // A follow-up stays with the same model.
  await page.locator('#chat-input').fill('Tell me more.');
  await page.locator('#chat-send').click();
  await expect(page.locator('li.message.assistant')).toHaveCount(2, { timeout: 60_000 });

  // Blind side by side: the adapter against the base; vote, then the names are revealed.
  await page.goto('/compare');
  await page.locator('#model-a').selectOption({ label: eden });
  await page.locator('#model-b').selectOption({ label: base });
  await page.locator('#compare-prompt').fill('What makes a garden beautiful?');
  await page.locator('#compare-go').click();
  await expect(page).toHaveURL(/\/compare\?c=/);
  const sides = page.locator('#comparison .side');
  await expect(sides).toHaveCount(2);
  await expect(page.locator('#comparison .side-label').first()).toHaveText('Left');
  await expect(page.locator('#comparison')).not.toContainText(eden);
  // The votes open once both answers are in (the page follows them, or refreshes itself without JS).
  await expect(page.locator('#vote-buttons button[data-vote="left"]')).toBeEnabled({ timeout: 60_000 });
  await page.locator('#vote-buttons button[data-vote="left"]').click();
  await expect(page.locator('#vote-result')).toContainText('You preferred model');
  await expect(page.locator('#comparison')).toContainText(eden);
  await expect(page.locator('#comparison')).toContainText(base);
  await expect(page.locator('#tally')).toContainText(eden);

  // A typed prompt set, gone through one by one.
  await page.getByText('Or type a set of prompts, one per line').click();
  await page.locator('#typed-set textarea').fill('First question\nSecond question');
  await page.getByRole('button', { name: 'Go through them' }).click();
  await expect(page.locator('#prompt-position')).toHaveText('Prompt 1 of 2');
  await expect(page.locator('#compare-prompt')).toHaveValue('First question');

  // An experiment: A = base, B = the adapter. New conversations are split between them.
  await page.goto('/experiments');
  const form = page.locator('#new-experiment');
  await form.locator('input[name="name"]').fill(`eden vs base ${p}`);
  await form.locator('#arm-a').selectOption({ label: base });
  await form.locator('#arm-b').selectOption({ label: eden });
  await page.locator('#start-experiment').click();
  const card = page.locator(`section.experiment[data-name="eden vs base ${p}"]`);
  await expect(card).toHaveAttribute('data-status', 'running');
  await expect(card.locator('#verdict')).toContainText('No evidence yet');

  // The person likes B's answers and not A's: thumbs accordingly, until both arms have enough.
  const seen: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 40 && (seen.a < 5 || seen.b < 5); i++) {
    const arm = await chatOnce(page, `Question ${i}: how do I water ferns?`);
    expect(['a', 'b']).toContain(arm);
    // Blind while the experiment runs: the answer does not say which model wrote it.
    await expect(page.locator('li.message.assistant .tag')).toHaveCount(0);
    seen[arm] += 1;
    await page.locator('li.message.assistant').getByRole('button', { name: arm === 'b' ? 'Thumbs up' : 'Thumbs down' }).click();
    await expect(page.locator('li.message.assistant')).toHaveAttribute('data-thumbs', arm === 'b' ? 'up' : 'down');
  }
  expect(seen.a).toBeGreaterThanOrEqual(5);
  expect(seen.b).toBeGreaterThanOrEqual(5);

  await page.goto('/experiments');
  await expect(card.locator('tr[data-arm="a"]')).toContainText(String(seen.a));
  await expect(card).toHaveAttribute('data-better', 'b');
  await expect(card.locator('#verdict')).toContainText(`B (${eden}) is better`);
  await expect(card.locator('#stats')).toContainText('two-proportion z');
  await expect(card.locator('.chart svg')).toBeVisible();
  await page.locator('#promote').click();
  await expect(card.locator('.status')).toContainText('winner: B');
  await page.goto('/adapters');
  await expect(page.locator(`li.version[data-name="eden-lora-${p}"][data-version="1.0.0"]`)).toHaveAttribute('data-active', 'true');
});
