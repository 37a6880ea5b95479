// Broker down for a few seconds while monitors keep sending (the 60 s version is `npm run chaos`): every observation
// arrives exactly once after recovery (dropping QoS 1 duplicates by seq), backfill in sequence order and marked as
// such, and live data is not held behind the backlog.
import { describe, expect, it } from 'vitest';
import { brokerOutage } from './chaos/scenarios.js';

describe('gateway: broker outage', () => {
  it('replays the backlog after the broker returns: nothing lost, in order, marked backfill, live first', async () => {
    const r = await brokerOutage({ outageMs: 3000, devices: 2, rateHz: 20, replayPerSecond: 20 });
    expect(r.figures.sent).toBeGreaterThan(100);
    expect(r.figures.lost).toBe(0);
    expect(r.figures.received).toBe(r.figures.sent);
    expect(r.figures.undetectable).toBe(0);
    expect(r.figures.holes).toBe(0);
    expect(r.outageValues).toBeGreaterThan(50);
    expect(r.outageValuesNotBackfill).toBe(0);
    expect(r.figures.backfill).toBeGreaterThan(0);
    expect(r.backfillInOrder).toBe(true);
    expect(r.liveAboveBackfill).toBe(true);
    expect(r.liveDuringReplay).toBe(true);
  }, 120_000);
});
