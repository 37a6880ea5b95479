// The archive's trend on the dashboard, in Chromium: a bed with 24 hours of numerics in the archive (published over
// MQTT by a gateway, a reading every 2 minutes) with two holes, one the gateway declared (a Gap record: the monitor was
// unplugged) and one it did not. The 24 h view must draw the line broken at both, never joined across them, shade the
// declared one and list both by time.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, vitalsBatch } from '../archive/test-kit.js';
import { Clients, makeTestPki } from '../broker/test-kit.js';
import { createUserStore, hashPassword } from '../broker/users.js';
import { startCentral, type Central } from '../central/central.js';
import { centralConfig } from '../central/config.js';
import { silentLogger } from '../lib/log.js';
import { GapReason, Kind } from '../proto/index.js';
import { chromiumAvailable, launchChromium, submitLogin } from './browser.js';

const MIN = 60_000_000;
const HOUR = 60 * MIN;
const dev = { site: 'site1', gateway: 'gw1', device: 'mon1' };

describe.skipIf(!chromiumAvailable())(
  `archive trend in Chromium${chromiumAvailable() ? '' : ' (skipped: no chromium binary)'}`,
  () => {
    let dir = '';
    let central: Central;
    let clients: Clients;
    let browser: Browser;
    let page: Page;
    const now = Date.now() * 1000;
    // Declared: 10 h to 7 h ago. Not declared: 20 h to 19 h ago.
    const declared: [number, number] = [now - 10 * HOUR, now - 7 * HOUR];
    const silent: [number, number] = [now - 20 * HOUR, now - 19 * HOUR];
    const inHole = (t: number): boolean => (t >= declared[0] && t < declared[1]) || (t >= silent[0] && t < silent[1]);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vw-archive-trend-'));
      const pki = await makeTestPki(join(dir, 'pki'));
      const users = createUserStore([
        { name: 'nurse', role: 'observer', sites: ['site1'], hash: await hashPassword('nurse-pw') },
      ]);
      central = await startCentral({
        config: centralConfig(
          {
            listen: { host: '127.0.0.1', port: 0 },
            tls: pki.brokerFiles,
            fanout: { host: '127.0.0.1', port: 0 },
            limits: { publishRatePerSecond: 1e6, publishBurst: 1e6 },
            archive: { dataDir: 'archive', loader: { intervalMs: 100 } },
          },
          'archive trend test',
        ),
        baseDir: dir,
        logger: silentLogger(),
        parts: { users },
      });
      clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${central.broker.port}`);
      const gw = await clients.gateway(pki.site1gw1, 'site1/gw1');
      let seq = 1;
      const pending: Promise<unknown>[] = [];
      for (let t = now - 24 * HOUR + MIN; t <= now - MIN; t += 2 * MIN) {
        if (inHole(t)) continue;
        const p = vitalsBatch(dev, seq++, t, { hr: 72 + Math.round(6 * Math.sin(t / (3 * HOUR))), spo2: 97, rr: 16 });
        pending.push(gw.publishAsync(p.topic, p.payload, { qos: 1 }));
      }
      const gap = publish(dev, 'status', 1, {
        gaps: [
          {
            kind: Kind.KIND_OBS,
            fromSeq: 1,
            toSeq: 1,
            fromTimeUs: declared[0],
            toTimeUs: declared[1],
            reason: GapReason.GAP_REASON_DEVICE_DISCONNECTED,
          },
        ],
      });
      pending.push(gw.publishAsync(gap.topic, gap.payload, { qos: 1 }));
      await Promise.all(pending);
      await central.archive?.flush();
      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width: 1366, height: 1000 } })).newPage();
      await submitLogin(page, central.fanout?.url ?? '', 'nurse', 'nurse-pw');
      await page.waitForFunction(
        () => document.querySelector('#conn')?.getAttribute('data-state') === 'live',
        undefined,
        { timeout: 10_000 },
      );
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await clients?.endAll();
      await central?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('shows 24 hours with both holes as holes: broken line, the declared one shaded, both listed', async () => {
      await page.goto(`${central.fanout?.url ?? ''}#/bed/site1/gw1/mon1`);
      const view = page.locator('#bed .archive-trend');
      await view.waitFor();
      await page.click('#bed .archive-trend button[data-hours="24"]');
      await expect.poll(() => view.getAttribute('data-hours'), { timeout: 15_000 }).toBe('24');
      expect(await view.getAttribute('data-state')).toBe('ready');
      // 360 buckets of 4 minutes: the two holes (3 h and 1 h: 45 and 15 buckets) and nothing else are empty, give or
      // take the buckets the edges of the window and of each hole cut.
      const filled = Number(await view.getAttribute('data-buckets'));
      expect(filled).toBeGreaterThanOrEqual(360 - 60 - 4);
      expect(filled).toBeLessThanOrEqual(360 - 60 + 2);
      expect(await view.getAttribute('data-holes')).toBe('2');
      const listed = await view.locator('.archive-holes li').allTextContents();
      expect(listed.filter((t) => /^Gap declared by the gateway \d\d:\d\d–\d\d:\d\d \(.+\)$/.test(t))).toHaveLength(1);
      expect(listed.filter((t) => /^No values \d\d:\d\d–\d\d:\d\d$/.test(t))).toHaveLength(2);
      expect(await view.locator('.archive-mode').isVisible()).toBe(false); // a patient's monitor, not a simulator

      // The pixels: no heart-rate green inside either hole; green on both sides of each; the declared one shaded.
      const columns = await page.evaluate(
        ([fromMs, spanMs, holes]) => {
          const c = document.querySelector<HTMLCanvasElement>('#bed .archive-trend canvas')!;
          const ctx = c.getContext('2d')!;
          const img = ctx.getImageData(0, 0, c.width, c.height).data;
          const pad = 4 * (window.devicePixelRatio || 1);
          const xOf = (ms: number) => Math.round(pad + ((c.width - 2 * pad) * (ms - fromMs)) / spanMs);
          // Rows below the labels: the line and the shading only.
          const green = (x: number) => {
            let n = 0;
            for (let y = 20; y < c.height; y++) {
              const i = (y * c.width + x) * 4;
              if (img[i + 1]! > 150 && img[i]! < 120 && img[i + 2]! < 140 && img[i + 3]! > 200) n++;
            }
            return n;
          };
          const shaded = (x: number) => {
            const i = ((c.height - 30) * c.width + x) * 4;
            return img[i]! > img[i + 2]! && img[i + 3]! > 0;
          };
          // Beside a hole, a few columns: a one-pixel line where HR steps is anti-aliased below the green threshold
          // in some single columns (which ones depends on the time of day the test runs).
          const near = (x: number) => Math.max(...[-3, -2, -1, 0, 1, 2, 3].map((d) => green(x + d)));
          return holes.map(([a, b]) => ({
            inside: green(xOf((a + b) / 2)),
            before: near(xOf(a - 15 * 60_000)),
            after: near(xOf(b + 15 * 60_000)),
            shaded: shaded(xOf((a + b) / 2)),
          }));
        },
        [
          Date.now() - 24 * 3_600_000,
          24 * 3_600_000,
          [declared, silent].map(([a, b]) => [a / 1000, b / 1000] as [number, number]),
        ] as const,
      );
      expect(columns[0]).toMatchObject({ inside: 0, shaded: true });
      expect(columns[1]).toMatchObject({ inside: 0, shaded: false });
      for (const col of columns) {
        expect(col.before).toBeGreaterThan(0);
        expect(col.after).toBeGreaterThan(0);
      }
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/archive-trend-24h.png' });
    });
  },
);
