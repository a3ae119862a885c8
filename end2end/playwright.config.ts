import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The real `garden-eden serve`, on its own port and a fresh data dir for each run.
const port = Number(process.env.GARDEN_EDEN_E2E_PORT ?? 3111);
const root = path.resolve(__dirname, '..');
const bin = process.env.GARDEN_EDEN_BIN ?? path.join(root, 'target/debug/garden-eden');
const siteRoot = path.resolve(root, process.env.LEPTOS_SITE_ROOT ?? 'target/site');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'garden-eden-e2e-'));
export const baseURL = `http://127.0.0.1:${port}`;
// The Ollama stand-in (tests only: no Ollama server can be installed here). It claims 0.34.1,
// which refuses adapter layers, so deployments take the merged route.
const ollamaPort = port + 1;
const blobs = fs.mkdtempSync(path.join(os.tmpdir(), 'garden-eden-e2e-ollama-'));
// llama.cpp's OpenAI-compatible server (llama-cpp-python) with the tiny model and the tiny model
// plus an adapter, prepared by scripts/e2e-models (run by scripts/test).
export const llamaPort = port + 2;
export const models = process.env.GARDEN_EDEN_E2E_MODELS ?? path.join(root, 'target/e2e-models');
const python = process.env.GARDEN_EDEN_PYTHON ?? path.join(os.homedir(), '.local/share/garden-eden/venv/bin/python');
// A real local Ray head (CPU only) for the "train on another machine" spec, from the trainer's
// environment (./scripts/test installs ray[default] there), every port fixed above the app's and
// its own temp folder. `--block` keeps it in the foreground, so it ends with the tests.
const rayPort = port + 3;
const rayURL = `http://127.0.0.1:${rayPort}`;
const rayTemp = fs.mkdtempSync('/tmp/ray-e2e-');
const venvBin = path.dirname(python);

// Debian's Chromium; Playwright never downloads a browser here.
const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: chromium,
    trace: 'off',
    // A missing element fails the step within a minute instead of the whole test's budget.
    actionTimeout: 60_000,
  },
  // Every spec runs twice: server-rendered only, and hydrated.
  projects: [
    // The Ray spec is about the live chart: it runs with JS only.
    { name: 'no-js', use: { javaScriptEnabled: false }, testIgnore: /ray\.spec\.ts/ },
    { name: 'js', use: { javaScriptEnabled: true } },
  ],
  webServer: [{
    command: `"${venvBin}/ray" start --head --block --disable-usage-stats --num-cpus 2 --num-gpus 0 `
      + `--dashboard-host 127.0.0.1 --dashboard-port ${rayPort} --port ${port + 4} --ray-client-server-port ${port + 5} `
      + `--dashboard-agent-listen-port ${port + 6} --dashboard-agent-grpc-port ${port + 7} --temp-dir "${rayTemp}"`,
    url: `${rayURL}/nodes?view=summary`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { PATH: `${venvBin}:${process.env.PATH}`, HF_HUB_OFFLINE: '1', RAY_USAGE_STATS_ENABLED: '0' },
  }, {
    command: `"${python}" -m llama_cpp.server --config_file "${models}/server.json"`,
    url: `http://127.0.0.1:${llamaPort}/v1/models`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
  }, {
    command: `"${bin}" ollama-stand-in --addr 127.0.0.1:${ollamaPort} --claim-version 0.34.1 --blobs "${blobs}"`,
    url: `http://127.0.0.1:${ollamaPort}/api/version`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
  }, {
    command: `"${bin}" serve --addr 127.0.0.1:${port}`,
    url: `${baseURL}/`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      GARDEN_EDEN_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: siteRoot,
      OLLAMA_HOST: `http://127.0.0.1:${ollamaPort}`,
      GARDEN_EDEN_LOG: 'info',
      // Tests never download: the tiny model is made locally.
      HF_HUB_OFFLINE: '1',
    },
  }],
});
