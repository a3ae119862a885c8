import { test, expect } from '@playwright/test';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { baseURL } from '../playwright.config';

function rawGet(path: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(baseURL);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: 'GET', headers: { Host: host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('a foreign Host header is refused (DNS rebinding)', async () => {
  const refused = await rawGet('/', 'evil.example:3000');
  expect(refused.status).toBe(403);
  expect(refused.body).toContain("Host 'evil.example:3000'");
  expect(refused.body).toContain('--allow-host');
  const allowed = await rawGet('/', `localhost:${new URL(baseURL).port}`);
  expect(allowed.status).toBe(200);
});

test('a cross-origin form POST from another site is refused (CSRF)', async ({ page }) => {
  // A hostile page on another origin that posts to garden-eden's server function.
  const evil = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>elsewhere</title>
      <form method="post" action="${baseURL}/api/health">
        <input type="hidden" name="x" value="1"><button type="submit">Win a prize</button>
      </form>`);
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (evil.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${baseURL}/api/health`),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    expect(response.status()).toBe(403);
    expect(response.request().headers()['origin']).toBe(`http://127.0.0.1:${port}`);
    await expect(page.locator('body')).toContainText('cross-site request forgery');
  } finally {
    evil.close();
  }
});
