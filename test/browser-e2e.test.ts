// The whole chain in a real browser: simulated monitors (vitals, NIBP, temperature, ECG/pleth/resp waves) -> pty
// -> gateway -> TLS MQTT -> Aedes -> fan-out -> Chromium logging in, decoding the protobuf, drawing the sweeps.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, type Stack } from '../cli/stack.js';
import { hashPassword } from '../broker/users.js';
import { queryAudit } from '../fanout/audit.js';
import { silentLogger } from '../lib/log.js';
import { chromiumAvailable, launchChromium, submitLogin } from './browser.js';

const BED1 = 'demo/gw1/bed01';
const BED2 = 'demo/gw1/bed02'; // the demo-flagged one

interface SweepDiag {
  pen: number;
  drawn: number;
}

// Skipped only where no Chromium binary exists (CI installs Debian's chromium).
describe.skipIf(!chromiumAvailable())(
  `dashboard in Chromium on the live chain${chromiumAvailable() ? '' : ' (skipped: no chromium binary)'}`,
  () => {
    let stack: Stack;
    let browser: Browser;
    let dir: string;
    let context: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vw-browser-'));
      stack = await startStack({
        dataDir: dir,
        mqttPort: 0,
        httpPort: 0,
        beds: 4,
        intervalMs: 500,
        demoBeds: (b) => b === 2,
        logger: silentLogger(),
      });
      stack.users.add({ name: 'nurse1', role: 'observer', sites: [BED1], hash: await hashPassword('nurse1-pw') });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
      page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      mkdirSync('test-results', { recursive: true });
    });

    afterAll(async () => {
      await browser?.close();
      await stack?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const logIn = (p: Page, user: string, password: string): Promise<void> =>
      submitLogin(p, stack.dashboardUrl, user, password);

    const tile = (key: string): string => `.tile[data-bed="${key}"]`;

    it('refuses a wrong password on the login page', async () => {
      await logIn(page, 'demo', 'wrong');
      await expect.poll(() => page.locator('#login-error').textContent()).toContain('wrong password');
      expect(await page.locator('#conn').textContent()).not.toBe('live');
    });

    it('logs in and shows the ward: every bed with its numerics, units and data age, values changing', async () => {
      await logIn(page, 'demo', 'demo');
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
      await expect.poll(() => page.locator('.tile').count(), { timeout: 10_000 }).toBe(4);
      const hr = page.locator(`${tile(BED1)} [data-mdc="147842"] .value`);
      await expect.poll(async () => Number(await hr.textContent()), { timeout: 10_000 }).toBeGreaterThan(30);
      const first = await hr.textContent();
      // The synthetic patient's HR wanders with every message: within a few seconds it differs.
      await expect.poll(() => hr.textContent(), { timeout: 20_000, interval: 200 }).not.toBe(first);
      expect(await page.textContent(`${tile(BED1)} [data-mdc="147842"] .unit`)).toBe('/min');
      expect(await page.textContent(`${tile(BED1)} [data-mdc="150456"] .unit`)).toBe('%');
      await expect
        .poll(() => page.textContent(`${tile(BED1)} [data-mdc="150021"] .value`), { timeout: 10_000 })
        .toMatch(/^\d{2,3}\/\d{2,3}$/);
      expect(await page.textContent(`${tile(BED1)} [data-mdc="150021"] .unit`)).toBe('mmHg');
      await expect
        .poll(() => page.textContent(`${tile(BED1)} [data-mdc="temp"] .value`), { timeout: 15_000 })
        .toMatch(/^3\d\.\d$/);
      expect(await page.textContent(`${tile(BED1)} [data-mdc="temp"] .unit`)).toBe('°C');
      const spo2 = Number(await page.textContent(`${tile(BED1)} [data-mdc="150456"] .value`));
      expect(spo2).toBeGreaterThanOrEqual(80);
      expect(spo2).toBeLessThanOrEqual(100);
      // The age is refreshed on a 500 ms tick (a tile built since the last tick shows '—' until then).
      await expect.poll(() => page.textContent(`${tile(BED1)} .age`), { timeout: 5_000 }).toMatch(/^[0-4] s$/);
      // Every demo bed is a simulator (gateway `simulated`, MSH-11 T from the simulator): no tile looks like a patient's.
      // DEMO (OBX-8) marks only the demo-flagged device.
      for (const bed of [BED1, BED2]) expect(await page.locator(`${tile(bed)} .badge.mode`).isVisible()).toBe(true);
      expect(await page.textContent(`${tile(BED2)} .badge.mode`)).toContain('DEMO');
      expect(await page.textContent(`${tile(BED1)} .badge.mode`)).toContain('SIMULATED');
      expect(await page.textContent(`${tile(BED1)} .badge.mode`)).not.toContain('DEMO');
      // The tile's lead II label sits above its paper: the trace is never drawn over it.
      const label = await page.locator(`${tile(BED1)} .wave-label`).boundingBox();
      const paper = await page.locator(`${tile(BED1)} .tile-wave canvas`).boundingBox();
      expect(label!.y + label!.height).toBeLessThanOrEqual(paper!.y);
      await page.waitForTimeout(1500); // let the tile sweeps fill for the picture
      await page.screenshot({ path: 'test-results/dashboard-ward.png' });
    });

    it('draws ECG lead II, pleth and respiration as sweeps that advance, at 25 mm/s and 10 mm/mV', async () => {
      await page.click(tile(BED1));
      await page.locator('#bed').waitFor();
      expect(await page.textContent('#bed .title')).toBe('Bed 1');
      expect(await page.textContent('.strip.ecg .strip-label')).toContain('10 mm/mV · 25 mm/s');
      const sweep = (name: string): Promise<SweepDiag> =>
        page.evaluate(
          (n) => ({
            ...(globalThis as unknown as { __vitalwire: { sweeps: Record<string, SweepDiag> } }).__vitalwire.sweeps[n]!,
          }),
          name,
        );
      for (const name of ['ecg', 'pleth', 'resp'])
        await expect.poll(async () => (await sweep(name)).drawn, { timeout: 10_000 }).toBeGreaterThan(0);
      // Not blank: the ECG canvas has traced pixels, in more than a few columns.
      const inked = (): Promise<number> =>
        page.evaluate(() => {
          const c = document.querySelector<HTMLCanvasElement>('.strip.ecg canvas')!;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          const cols = new Set<number>();
          for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) cols.add(((i - 3) / 4) % c.width);
          return cols.size;
        });
      await expect.poll(inked, { timeout: 10_000 }).toBeGreaterThan(200);
      // The pen moves: its position changes from one moment to the next.
      const pen = (await sweep('ecg')).pen;
      await expect.poll(async () => (await sweep('ecg')).pen, { timeout: 5000 }).not.toBe(pen);
      // The 1 mV calibration pulse is 10 mm tall in CSS millimetres (96 px = 25.4 mm).
      const cal = await page.locator('.strip.ecg .cal').boundingBox();
      expect(cal!.height).toBeCloseTo((10 * 96) / 25.4, 0);
      await expect.poll(() => page.textContent(`#bed [data-mdc="147842"] .value`), { timeout: 5000 }).toMatch(/^\d+$/);
      // A simulated bed is bannered as such (docs/clinical-safety.md D1).
      expect(await page.locator('.mode-banner').isVisible()).toBe(true);
      expect(await page.textContent('.mode-banner')).toContain('SIMULATED');
      // Every strip's label is above its paper: no trace runs under a label (issue 15).
      for (const name of ['ecg', 'pleth', 'resp']) {
        const label = await page.locator(`.strip.${name} .strip-label`).boundingBox();
        const canvas = await page.locator(`.strip.${name} canvas`).boundingBox();
        expect(label!.y + label!.height, name).toBeLessThanOrEqual(canvas!.y);
      }
      await page.waitForTimeout(2000); // a few more seconds of trace for the picture
      await page.screenshot({ path: 'test-results/dashboard-bed.png' });
    });

    it('shows a clear DEMO banner on a demo-flagged device', async () => {
      await page.goto(`${stack.dashboardUrl}#/bed/${BED2}`);
      await expect.poll(() => page.locator('.mode-banner').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await page.textContent('.mode-banner')).toContain('DEMO');
      await page.waitForTimeout(2500);
      await page.screenshot({ path: 'test-results/dashboard-demo-bed.png' });
    });

    it('does not open a bed the user was not granted: the server refuses and the page says so', async () => {
      const ctx = await browser.newContext({ viewport: { width: 1366, height: 860 } });
      const p = await ctx.newPage();
      try {
        await logIn(p, 'nurse1', 'nurse1-pw');
        await expect.poll(() => p.locator('.tile').count(), { timeout: 10_000 }).toBe(1);
        expect(await p.locator(tile(BED1)).count()).toBe(1);
        const refusedBefore = stack.fanout.counters.refusedSubscriptions;
        await p.goto(`${stack.dashboardUrl}#/bed/${BED2}`);
        await expect.poll(() => p.locator('#bed .refused').isVisible(), { timeout: 10_000 }).toBe(true);
        expect(await p.textContent('#bed .refused')).toContain('do not have access');
        expect(stack.fanout.counters.refusedSubscriptions).toBeGreaterThan(refusedBefore);
        expect(await p.locator('.strip.ecg').isVisible()).toBe(false);
        // The refusal is in the audit, with the user and the bed, and no clinical value.
        await new Promise((r) => setTimeout(r, 300)); // the audit file is written asynchronously
        const denied = [];
        for await (const e of queryAudit(stack.auditDir, { user: 'nurse1', event: 'denied' })) denied.push(e);
        expect(denied.map((e) => `${e.site}/${e.gateway}/${e.device}`)).toContain(BED2);
      } finally {
        await ctx.close();
      }
    });

    it('turns the connection indicator stale when the gateway stops', async () => {
      await page.goto(`${stack.dashboardUrl}#/ward`);
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
      await stack.gateway.close();
      await expect.poll(() => page.locator('#conn').getAttribute('data-state'), { timeout: 15_000 }).toBe('stale');
      expect(await page.textContent('#conn')).toMatch(/stale/);
      await expect.poll(() => page.locator(`${tile(BED1)}.is-stale`).count(), { timeout: 10_000 }).toBe(1);
      await page.screenshot({ path: 'test-results/dashboard-stale.png' });
      expect(pageErrors).toEqual([]);
    });
  },
);
