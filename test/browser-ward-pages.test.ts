// Issue 14 finding 4, the page's half: the ward showed at most 64 tiles, so a gateway announcing 64 fake beds hid every
// real bed of its site. The ward now shows every bed in scope, paged, and says how many there are. Real broker,
// fan-out, gateway clients and Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium, submitLogin } from './browser.js';
import { hr, publishAs, startRig, type FanoutRig } from './fanout-kit.js';
import { waitFor } from './ws-client.js';

const FAKES = 70;
const REAL = ['icu1', 'icu2', 'icu3'];

describe.skipIf(!chromiumAvailable())(
  `ward pages in Chromium${chromiumAvailable() ? '' : ' (skipped: no chromium binary)'}`,
  () => {
    let rig: FanoutRig;
    let browser: Browser;
    let page: Page;
    let timer: NodeJS.Timeout;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      rig = await startRig({}, { dashboard: true });
      // site1/gw1 announces 70 beds whose labels sort first ("A-00"...); the real beds are behind site1/gw2.
      for (let i = 0; i < FAKES; i++)
        await publishAs(
          rig.gw,
          'site1/gw1',
          `f${String(i).padStart(2, '0')}`,
          'status',
          1,
          {},
          `A-${String(i).padStart(2, '0')}`,
        );
      const gw2 = await rig.clients.gateway(rig.pki.site1gw2, 'site1/gw2');
      let seq = 1;
      const send = async (): Promise<void> => {
        for (const [i, d] of REAL.entries())
          await publishAs(gw2, 'site1/gw2', d, 'obs', seq, hr(60 + i), `ICU ${i + 1}`);
        seq++;
      };
      await send();
      timer = setInterval(() => void send(), 500);
      await waitFor(() => rig.fanout.counters.messagesIn >= FAKES + REAL.length, 10_000, 'every bed announced');
      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
    });
    afterAll(async () => {
      clearInterval(timer);
      await browser?.close();
      await rig?.close();
    });

    it('shows every bed in scope on pages, says how many there are, and reaches the real beds', async () => {
      await submitLogin(page, rig.fanout.url, 'obs1', 'pw-obs1');
      await expect.poll(() => page.locator('.tile').count(), { timeout: 10_000 }).toBe(64);
      expect(await page.textContent('.ward .pager .pages')).toBe(`Beds 1–64 of ${FAKES + REAL.length} · page 1 of 2`);
      const seen = new Set(
        await page.locator('.tile').evaluateAll((ts) => ts.map((t) => (t as HTMLElement).dataset['bed'] ?? '')),
      );
      await page.click('.ward .pager .next');
      await expect.poll(() => page.locator('.tile').count(), { timeout: 5000 }).toBe(FAKES + REAL.length - 64);
      expect(await page.textContent('.ward .pager .pages')).toBe(
        `Beds 65–${FAKES + REAL.length} of ${FAKES + REAL.length} · page 2 of 2`,
      );
      for (const k of await page
        .locator('.tile')
        .evaluateAll((ts) => ts.map((t) => (t as HTMLElement).dataset['bed'] ?? '')))
        seen.add(k);
      // Every bed is on one of the pages; the real ones show their values (page 2 subscribed, page 1 closed).
      expect(seen.size).toBe(FAKES + REAL.length);
      for (const d of REAL) {
        await expect
          .poll(() => page.textContent(`.tile[data-bed="site1/gw2/${d}"] [data-mdc="147842"] .value`), {
            timeout: 10_000,
          })
          .toMatch(/^6\d$/);
      }
      // The page change was one burst of tiles: one ward entry naming the real beds.
      const opens = await waitFor(
        () => {
          const o = rig.audit.entries.filter((e) => e.user === 'obs1' && e.event === 'open' && e.bed === 'ward view');
          return o.length >= 2 && o;
        },
        5000,
        'two ward entries',
      );
      expect(
        opens
          .at(-1)
          ?.beds?.filter((b) => b.startsWith('site1/gw2/'))
          .sort(),
      ).toEqual(REAL.map((d) => `site1/gw2/${d}`));
      expect(rig.audit.entries.some((e) => e.user === 'obs1' && e.event === 'close' && e.bed === 'ward view')).toBe(
        true,
      );
      expect(pageErrors).toEqual([]);
    });
  },
);
