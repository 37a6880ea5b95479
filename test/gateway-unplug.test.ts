// A serial cable pulled and plugged back (the socat pair killed and restarted at the same paths): the device link
// recovers by itself, the interval it missed is published as a Gap, and what the monitor sent over the cable arrives.
import { describe, expect, it } from 'vitest';
import { socatAvailable } from '../simulators/pty.js';
import { serialUnplug } from './chaos/scenarios.js';

describe.skipIf(!socatAvailable())('gateway: serial cable unplugged and replugged (needs socat)', () => {
  it('reconnects without a restart and marks the missing interval with a Gap', async () => {
    const r = await serialUnplug({ unplugs: 2, downMs: 800, rateHz: 20 });
    expect(r.reconnects).toBeGreaterThanOrEqual(2);
    expect(r.disconnectGaps).toBe(2);
    expect(r.gapsCoveringUnplug).toBe(2);
    expect(r.figures.lost).toBe(0);
    expect(r.figures.holes).toBe(0);
  }, 120_000);
});
