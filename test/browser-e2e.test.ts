// The whole chain in a real browser: simulated monitor -> pty -> gateway -> TLS MQTT -> Aedes
// -> fan-out -> Chromium decoding the protobuf and showing a changing heart rate.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startStack, type Stack } from '../cli/stack.js';
import { silentLogger } from '../lib/log.js';
import { chromiumAvailable, launchChromium } from './browser.js';

// Skipped only where no Chromium binary exists (CI installs Debian's chromium).
describe.skipIf(!chromiumAvailable())('dashboard in Chromium on the live chain', () => {
  let stack: Stack;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-browser-'));
    stack = await startStack({ dataDir: dir, mqttPort: 0, httpPort: 0, beds: 2, intervalMs: 250, logger: silentLogger() });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a live heart rate per bed that changes, with its unit and age', async () => {
    const page = await browser.newPage();
    await page.goto(stack.dashboardUrl);
    await page.waitForFunction(() => document.querySelector('#conn')?.textContent === 'live', undefined, { timeout: 10_000 });
    const hr = page.locator('[data-device="demo/gw1/bed01"] [data-mdc="147842"] .value');
    await expect.poll(async () => Number(await hr.textContent()), { timeout: 10_000 }).toBeGreaterThan(30);
    const first = await hr.textContent();
    // The synthetic patient's HR wanders every message; within a few seconds it must differ.
    await expect.poll(async () => hr.textContent(), { timeout: 15_000, interval: 200 }).not.toBe(first);
    expect(await page.locator('[data-device="demo/gw1/bed01"] [data-mdc="147842"] .unit').textContent()).toBe('/min');
    expect(await page.locator('[data-device="demo/gw1/bed02"] [data-mdc="150456"] .unit').textContent()).toBe('%');
    const spo2 = Number(await page.locator('[data-device="demo/gw1/bed02"] [data-mdc="150456"] .value').textContent());
    expect(spo2).toBeGreaterThanOrEqual(80);
    expect(spo2).toBeLessThanOrEqual(100);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/e2e-dashboard.png', fullPage: true });
    await page.close();
  });
});
