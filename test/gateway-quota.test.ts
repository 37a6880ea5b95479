// The outbox's disk quota reached during an outage: waveforms are shed first (numerics and status kept while shedding
// waveforms is enough), every shed range is counted and published as a Gap once the broker is back, and every seq is
// either delivered or covered by a Gap.
import { describe, expect, it } from 'vitest';
import { quotaShed } from './chaos/scenarios.js';

describe('gateway: disk quota', () => {
  it('sheds in the documented order and publishes each shed range as a Gap', async () => {
    const r = await quotaShed({
      quotaBytes: 192 * 1024,
      segmentBytes: 8 * 1024,
      shedSegments: 4,
      rateHz: 20,
      waveSamples: 1000,
    });
    expect(r.shed['wave']).toBeGreaterThan(0);
    expect(r.shed['obs']).toBe(0);
    expect(r.shed['status']).toBe(0);
    expect(r.shedGapsStored).toBeGreaterThan(0);
    expect(r.shedGapsReceived).toBe(r.shedGapsStored);
    expect(r.uncovered).toBe(0);
    expect(r.figures.lost).toBe(0); // numerics were not shed
  }, 180_000);
});
