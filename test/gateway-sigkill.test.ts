// The gateway process SIGKILLed at random moments while an MLLP monitor streams (20 kills in `npm run chaos`): no
// acknowledged message is lost; duplicates only as QoS 1 repeats of the same seq; a message whose ACK was lost is
// resent by the monitor and answered from its first stored copy, never stored twice.
import { describe, expect, it } from 'vitest';
import { sigkillLoop } from './chaos/scenarios.js';

describe('gateway: SIGKILL mid-stream', () => {
  it('loses no acknowledged message across repeated kills, and every duplicate is detectable by seq', async () => {
    const r = await sigkillLoop({ kills: 3, minMs: 300, maxMs: 1500, seed: 7 });
    expect(r.figures.sent).toBeGreaterThan(10);
    expect(r.figures.lost).toBe(0);
    expect(r.figures.undetectable).toBe(0);
    expect(r.figures.holes).toBe(0);
  }, 180_000);
});
