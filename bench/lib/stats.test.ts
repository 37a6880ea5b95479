import { describe, expect, it } from 'vitest';
import { measureRate, median, percentile, ratio, roundFigure } from './stats.js';

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones, of an unsorted list', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it('does not reorder its input and rejects an empty list', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('percentile (nearest rank)', () => {
  // The worked example of the nearest-rank method: 15, 20, 35, 40, 50.
  const xs = [50, 15, 40, 20, 35];
  it('gives the value at rank ceil(p/100 × n)', () => {
    expect(percentile(xs, 5)).toBe(15);
    expect(percentile(xs, 30)).toBe(20);
    expect(percentile(xs, 40)).toBe(20);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 0)).toBe(15);
  });
  it('p99 of 1..100 is 99, of 1..1000 is 990', () => {
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
    expect(
      percentile(
        Array.from({ length: 1000 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(990);
  });
  it('rejects p outside 0..100 and an empty list', () => {
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(() => percentile(xs, Number.NaN)).toThrow(RangeError);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe('rounding', () => {
  it('keeps integers from 100 up and 3 significant digits below', () => {
    expect(roundFigure(123_456.7)).toBe(123_457);
    expect(roundFigure(12.345)).toBe(12.3);
    expect(roundFigure(0.012345)).toBe(0.0123);
  });
  it('ratio is value / peer to 3 significant digits, null without a peer', () => {
    expect(ratio(2559, 5774)).toBe(0.443);
    expect(ratio(80_000, 57_600)).toBe(1.39);
    expect(ratio(1, null)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
  });
});

describe('measureRate', () => {
  it('reports ops/s per round and their median against the given clock', () => {
    let clockMs = 0;
    let calls = 0;
    const r = measureRate(
      () => {
        clockMs += 0.01; // every call costs 10 µs of fake time: 100,000 ops/s
        calls++;
        return 2;
      },
      { rounds: 5, minMs: 50, now: () => clockMs },
    );
    expect(r.perRound).toHaveLength(5);
    for (const x of r.perRound) expect(x).toBeCloseTo(100_000, -1);
    expect(r.median).toBeCloseTo(100_000, -1);
    expect(r.batch).toBeGreaterThan(1); // calibrated: one clock read per batch of calls
    expect(r.checksum).toBe(2 * calls); // every result reached the checksum
  });
  it('runs each round for at least minMs', () => {
    let clockMs = 0;
    let calls = 0;
    measureRate(
      () => {
        clockMs += 1;
        return ++calls;
      },
      { rounds: 2, minMs: 20, warmupMs: 5, now: () => clockMs },
    );
    expect(calls).toBeGreaterThanOrEqual(5 + 2 * 20);
  });
  it('rejects nonsense options', () => {
    expect(() => measureRate(() => 0, { rounds: 0, minMs: 10 })).toThrow(RangeError);
    expect(() => measureRate(() => 0, { rounds: 1, minMs: 0 })).toThrow(RangeError);
  });
});
