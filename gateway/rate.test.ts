import { describe, expect, it } from 'vitest';
import { RateBucket } from './rate.js';
import { publishTail } from './publisher.js';
import { Batch } from '../proto/index.js';
import { encodeBatch } from '../proto/encode-batch.js';

describe('rate bucket', () => {
  it('allows the burst, then the rate', () => {
    let now = 0;
    const b = new RateBucket(10, 3, () => now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    expect(b.msUntilNext()).toBeCloseTo(100);
    now = 100;
    expect([b.take(), b.take()]).toEqual([true, false]);
    now = 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });
});

describe('publish tail', () => {
  it('appends backfill and publish time to a stored Batch; the later fields win', () => {
    const stored = encodeBatch({
      source: { site: 's', gateway: 'g', device: 'd' },
      kind: 1,
      seq: 42,
      publishTimeUs: 5,
      observations: [{ number: 1 }],
    });
    for (const [backfill, t] of [
      [true, 1_780_000_000_123_456],
      [false, 127],
      [true, 128],
      [false, 2 ** 52 + 1],
    ] as const) {
      const b = Batch.decode(Buffer.concat([stored, publishTail(backfill, t)]));
      expect(b.seq).toBe(42);
      expect(b.backfill).toBe(backfill);
      expect(Number(b.publishTimeUs)).toBe(t);
      expect(b.observations[0]?.number).toBe(1);
    }
  });
});
