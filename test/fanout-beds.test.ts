// Issue 14 finding 4: the fan-out's bed list was global, capped at 4,096 and never cleared, so one gateway filling it
// with empty Batches hid the new beds of every other site. Devices are now admitted per gateway and per site, and a
// device not heard from for bedExpiryMs leaves the list. Real broker, real gateway clients (three certificates), real
// sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BedInfo } from '../fanout/protocol.js';
import { hr, publishAs, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, waitFor } from './ws-client.js';

const LIMITS = { maxBedsPerGateway: 20, maxBedsPerSite: 30, maxBeds: 100, bedExpiryMs: 1500, sweepMs: 500 };

describe('bed admission per gateway and site, and expiry', () => {
  let rig: FanoutRig;

  beforeAll(async () => {
    rig = await startRig({ limits: { beds: LIMITS } });
  });
  afterAll(() => rig?.close());

  it('a gateway announcing a hundred devices cannot hide the new beds of other gateways and sites', async () => {
    const token = (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    await waitFor(() => s.control.find((m) => m.type === 'beds'), 5000, 'the first list');
    // site1/gw1 is compromised: empty Batches for 100 devices (the global limit of this fan-out).
    for (let i = 0; i < 100; i++)
      await publishAs(rig.gw, 'site1/gw1', `fake${String(i).padStart(3, '0')}`, 'status', 1);
    await waitFor(() => rig.fanout.counters.messagesIn >= 100, 10_000, 'the flood in');
    // Then real beds come: one behind another gateway of the same site, one at another site.
    const gw2 = await rig.clients.gateway(rig.pki.site1gw2, 'site1/gw2');
    const site2 = await rig.clients.gateway(rig.pki.site2gw1, 'site2/gw1');
    await publishAs(gw2, 'site1/gw2', 'icu01', 'obs', 1, hr(80), 'ICU 1');
    await publishAs(site2, 'site2/gw1', 'ward07', 'obs', 1, hr(81), 'Ward 7');
    const announced = (): string[] =>
      s.control.flatMap((m) =>
        m.type === 'bed' ? [m.bed.key] : m.type === 'beds' ? m.beds.map((b: BedInfo) => b.key) : [],
      );
    await waitFor(
      () => announced().includes('site2/gw1/ward07') && announced().includes('site1/gw2/icu01'),
      5000,
      'the real beds announced',
    );
    expect(announced().filter((k) => k.startsWith('site1/gw1/'))).toHaveLength(LIMITS.maxBedsPerGateway);
    expect(rig.fanout.counters.bedsRefused).toBe(100 - LIMITS.maxBedsPerGateway);
    // The refused devices' data is neither kept nor delivered: a subscriber of one gets nothing.
    s.subscribe('site1/gw1/fake099');
    await publishAs(rig.gw, 'site1/gw1', 'fake099', 'status', 2);
    await publishAs(gw2, 'site1/gw2', 'icu01', 'obs', 2, hr(82), 'ICU 1');
    await waitFor(() => rig.fanout.counters.messagesIn >= 104, 5000, 'the last two in');
    expect(s.received.filter((r) => r.batch.source?.device === 'fake099')).toEqual([]);
    s.ws.close();
  });

  it('forgets devices silent for bedExpiryMs: the list is sent again without them, and their places are free', async () => {
    const token = (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    const gw2 = await rig.clients.gateway(rig.pki.site1gw2, 'site1/gw2/second');
    // icu01 keeps sending; the fakes have stopped.
    let seq = 10;
    const keepAlive = setInterval(() => void publishAs(gw2, 'site1/gw2', 'icu01', 'obs', seq++, hr(80), 'ICU 1'), 200);
    try {
      const after = await waitFor(
        () => {
          const last = s.control.filter((m) => m.type === 'beds').at(-1);
          return last?.type === 'beds' && !last.beds.some((b) => b.gateway === 'gw1') && last;
        },
        LIMITS.bedExpiryMs + LIMITS.sweepMs * 4 + 3000,
        'a list without the silent devices',
      );
      expect(after.beds.map((b) => b.key)).toContain('site1/gw2/icu01');
      expect(rig.fanout.counters.bedsExpired).toBeGreaterThanOrEqual(LIMITS.maxBedsPerGateway);
      // gw1's places are free again: a new device of it is listed.
      await publishAs(rig.gw, 'site1/gw1', 'bed01', 'obs', 1, hr(70));
      await waitFor(
        () => s.control.some((m) => m.type === 'bed' && m.bed.key === 'site1/gw1/bed01'),
        5000,
        'a new gw1 bed',
      );
    } finally {
      clearInterval(keepAlive);
    }
    s.ws.close();
  });
});
