// The dashboard on real parts: the esbuild bundle served by the real fan-out, an in-process Aedes broker fed with
// hand-made Batches (alarms of two priorities, a waveform with a hole), and the system's Chromium driven by
// playwright-core. The whole chain from monitors is test/browser-e2e.test.ts.
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFanout, type Fanout } from '../fanout/server.js';
import { createUserStore, hashPassword } from '../broker/users.js';
import { silentLogger } from '../lib/log.js';
import { AlarmPhase, AlarmPriority, AlarmState, Batch, Flag, Kind, LinkState, type IBatch } from '../proto/index.js';
import { chromiumAvailable, launchChromium } from '../test/browser.js';
import { bundleDashboard } from './bundle.js';

describe('dashboard bundle', () => {
  it('is self-contained: no CDN or remote script reference', async () => {
    const assets = await bundleDashboard();
    expect([...assets.keys()].sort()).toEqual(['/', '/app.js', '/favicon.svg', '/index.html', '/style.css']);
    const html = assets.get('/')?.body.toString() ?? '';
    const js = assets.get('/app.js')?.body.toString() ?? '';
    const css = assets.get('/style.css')?.body.toString() ?? '';
    expect(html).toContain('src="app.js"');
    // Matches are compared, not the texts, so a failure prints only the offending part. (The SVG namespace URI is an
    // identifier, not a fetch.)
    const remote = /(?:https?:)?\/\/(?!www\.w3\.org\/2000\/svg)[a-z0-9-]+(?:\.[a-z0-9-]+)+[/:]/i;
    for (const text of [html, js, css]) expect(text.match(remote)?.[0]).toBeUndefined();
    // No import left for the browser to resolve: protobufjs and the contract are inside.
    expect(js.match(/\bimport\s*\(|\bfrom\s*["']|^import\b|importScripts/m)?.[0]).toBeUndefined();
    expect(js.includes('vitalwire.v1.Batch')).toBe(true); // the generated contract code
    expect(js.includes('LongBits')).toBe(true); // protobufjs/minimal
  });
});

describe.skipIf(!chromiumAvailable())(
  `dashboard in Chromium against the fan-out${chromiumAvailable() ? '' : ' (skipped: no chromium binary)'}`,
  () => {
    let broker: Aedes;
    let fanout: Fanout;
    let browser: Browser;
    let page: Page;
    let timer: NodeJS.Timeout;
    const pageErrors: string[] = [];
    const seqs = new Map<string, number>();

    const KINDS = {
      obs: Kind.KIND_OBS,
      wave: Kind.KIND_WAVE,
      alarm: Kind.KIND_ALARM,
      status: Kind.KIND_STATUS,
    } as const;
    const publish = (device: string, kind: keyof typeof KINDS, body: Omit<IBatch, 'source' | 'kind' | 'seq'>): void => {
      const key = `${device}/${kind}`;
      const seq = (seqs.get(key) ?? 0) + 1;
      seqs.set(key, seq);
      const payload = Buffer.from(
        Batch.encode({
          // bedC's monitor claims another bed (PV1-3) than the one the gateway is configured with.
          source: {
            site: 'site1',
            gateway: 'gw1',
            device,
            bed: `Bed ${device.slice(3)}`,
            ...(device === 'bedC' ? { bedClaim: 'ICU-5' } : {}),
          },
          kind: KINDS[kind],
          seq,
          publishTimeUs: Date.now() * 1000,
          ...body,
        }).finish(),
      );
      broker.publish(
        { cmd: 'publish', topic: `vw/v1/site1/gw1/${device}/${kind}`, payload, qos: 0, retain: false, dup: false },
        () => undefined,
      );
    };

    const alarm = (id: string, text: string, priority: number): Omit<IBatch, 'source' | 'kind' | 'seq'> => ({
      alarms: [
        {
          id,
          text,
          priority,
          phase: AlarmPhase.ALARM_PHASE_START,
          state: AlarmState.ALARM_STATE_ACTIVE,
          time: { gatewayTimeUs: Date.now() * 1000 },
        },
      ],
    });

    beforeAll(async () => {
      broker = await Aedes.createBroker();
      const users = createUserStore([
        { name: 'doc', role: 'observer', sites: ['site1'], hash: await hashPassword('doc-pw') },
      ]);
      fanout = await startFanout({ broker, port: 0, users, assets: await bundleDashboard(), logger: silentLogger() });
      publish('bedA', 'alarm', alarm('a1', 'SpO2 LOW', AlarmPriority.ALARM_PRIORITY_HIGH));
      publish('bedA', 'alarm', alarm('a2', 'ECG LEAD OFF', AlarmPriority.ALARM_PRIORITY_MEDIUM));
      // bedC: a monitor in demo mode whose alarm carries the trigger facet (PCD-04), a simulated wave, then a link the
      // gateway reports silent with its diagnosis.
      const a3 = alarm('a3', 'SpO2 LOW', AlarmPriority.ALARM_PRIORITY_HIGH);
      publish('bedC', 'alarm', {
        alarms: a3.alarms!.map((a) => ({
          ...a,
          flags: Flag.FLAG_DEMO,
          sourceMdc: 150456,
          sourceValue: 85,
          sourceUnit: '%',
          limitLow: 90,
          limitHigh: 100,
        })),
      });

      let sample = 0;
      let tick = 0;
      timer = setInterval(() => {
        tick++;
        const now = Date.now() * 1000;
        for (const device of ['bedA', 'bedB']) {
          publish(device, 'obs', {
            observations: [{ mdc: 147842, number: 70 + (tick % 10), unit: '/min', time: { gatewayTimeUs: now } }],
          });
        }
        // 100 ms of a 250 Hz wave; bedB loses 25 samples once (its first_sample jumps).
        if (tick === 15) sample += 25;
        publish('bedB', 'wave', {
          waves: [
            {
              mdc: 131330,
              sampleRateHz: 250,
              firstSample: sample,
              scale: 0.005,
              unit: 'mV',
              time: { gatewayTimeUs: now },
              samples: Array.from({ length: 25 }, (_, i) => Math.round(150 * Math.sin((sample + i) / 8))),
            },
          ],
        });
        if (tick === 1)
          publish('bedC', 'wave', {
            waves: [
              {
                mdc: 150452,
                sampleRateHz: 100,
                firstSample: 0,
                scale: 1,
                flags: Flag.FLAG_SIMULATED,
                time: { gatewayTimeUs: now },
                samples: [1, 2, 3],
              },
            ],
          });
        if (tick === 2)
          publish('bedC', 'status', {
            statuses: [
              { state: LinkState.LINK_STATE_SILENT, diagnosis: 'no bytes for 30 s', time: { gatewayTimeUs: now } },
            ],
          });
        sample += 25;
      }, 100);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(fanout.url);
      await page.fill('input[name=user]', 'doc');
      await page.fill('input[name=password]', 'doc-pw');
      await page.click('#login-form button[type=submit]');
      await page.waitForFunction(
        () => document.querySelector('#conn')?.getAttribute('data-state') === 'live',
        undefined,
        { timeout: 10_000 },
      );
    });

    afterAll(async () => {
      clearInterval(timer);
      await browser?.close();
      await fanout?.close();
      await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    });

    it('colours a tile by its highest active alarm and names it', async () => {
      const a = page.locator('.tile[data-bed="site1/gw1/bedA"]');
      await expect.poll(() => a.getAttribute('data-alarm'), { timeout: 10_000 }).toBe('high');
      expect(await a.locator('.alarm-chip').textContent()).toBe('SpO2 LOW');
      expect(await page.locator('.tile[data-bed="site1/gw1/bedB"]').getAttribute('data-alarm')).toBe('none');
    });

    it('lists alarms by priority in the bed view', async () => {
      await page.click('.tile[data-bed="site1/gw1/bedA"]');
      await expect.poll(() => page.locator('.alarm-list .alarm').count(), { timeout: 5000 }).toBe(2);
      expect(await page.locator('.alarm-list .alarm .prio').allTextContents()).toEqual(['HIGH', 'MEDIUM']);
      expect(await page.locator('.alarm-list .alarm .text').allTextContents()).toEqual(['SpO2 LOW', 'ECG LEAD OFF']);
    });

    it('marks a hole in a waveform as a gap', async () => {
      await page.goto(`${fanout.url}#/bed/site1/gw1/bedB`);
      await expect
        .poll(() => page.locator('#bed .gap-info').textContent(), { timeout: 10_000 })
        .toMatch(/^1 gap in the data/);
      // The band is drawn: gap-coloured pixels (grey, translucent) on the ECG canvas.
      await expect
        .poll(
          () =>
            page.evaluate(() => {
              const c = document.querySelector<HTMLCanvasElement>('.strip.ecg canvas')!;
              const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 0; i < d.length; i += 4)
                if (Math.abs(d[i]! - 125) < 4 && Math.abs(d[i + 1]! - 134) < 4 && d[i + 3]! > 60 && d[i + 3]! < 120)
                  n++;
              return n;
            }),
          { timeout: 10_000 },
        )
        .toBeGreaterThan(100);
      expect(pageErrors).toEqual([]);
    });

    it('marks an alarm from a demo-mode device DEMO, says what triggered it, and names every mode in the banner', async () => {
      await page.goto(`${fanout.url}#/bed/site1/gw1/bedC`);
      await expect.poll(() => page.locator('.alarm-list .alarm').count(), { timeout: 10_000 }).toBe(1);
      const row = page.locator('.alarm-list .alarm');
      expect(await row.getAttribute('data-mode')).toBe('demo');
      expect(await row.locator('.badge.mode').textContent()).toBe('DEMO');
      expect(await row.locator('.detail').textContent()).toBe('SpO₂ 85 % < 90');
      await expect
        .poll(() => page.textContent('#bed .mode-banner'), { timeout: 5000 })
        .toMatch(/^DEMO — .* · SIMULATED — /);
    });

    it("shows the device's own bed as its claim, never as the bed, and a silent link with its diagnosis", async () => {
      await expect.poll(() => page.textContent('#bed .claim'), { timeout: 5000 }).toBe('device says: ICU-5');
      expect(await page.textContent('#bed .title')).toBe('Bed C');
      expect(await page.textContent('#bed .link')).toBe('DEVICE SILENT — no bytes for 30 s');
      await page.goto(`${fanout.url}#/ward`);
      const c = page.locator('.tile[data-bed="site1/gw1/bedC"]');
      await expect.poll(() => c.locator('.link').textContent(), { timeout: 10_000 }).toBe('DEVICE SILENT');
      expect(await c.locator('.title').textContent()).toBe('Bed C');
      expect(pageErrors).toEqual([]);
    });
  },
);
