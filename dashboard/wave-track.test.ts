import { describe, expect, it } from 'vitest';
import { LAG_S, WaveTrack } from './wave-track.js';

const chunk = (firstSample: number, samples: number[], invalidValue: number | null = null) => ({
  firstSample,
  samples,
  rateHz: 100,
  scale: 0.01,
  offset: 0.5,
  invalidValue,
  unit: 'mV',
});

describe('waveform track', () => {
  it('holds physical values by sample index; a hole is a gap, an invalid sample is marked, outside is nothing', () => {
    const t = new WaveTrack(131330);
    t.push(chunk(0, [0, 100, 200]));
    t.push(chunk(5, [300, 32767], 32767)); // samples 3 and 4 never came
    expect(t.valueAt(1)).toBeCloseTo(1.5);
    expect(t.valueAt(5)).toBeCloseTo(3.5);
    expect(Number.isNaN(t.valueAt(3))).toBe(true);
    expect(t.valueAt(6)).toBe(Number.POSITIVE_INFINITY);
    expect(t.valueAt(7)).toBe(Number.NEGATIVE_INFINITY);
    expect(t.valueAt(-1)).toBe(Number.NEGATIVE_INFINITY);
    expect(t.gaps).toBe(1);
    // History arriving again (a re-subscription) rewrites the same values and fills nothing new.
    t.push(chunk(0, [0, 100, 200]));
    expect([t.start, t.end, t.gaps]).toEqual([0, 7, 1]);
  });

  it('starts over when the device link restarts its sample count', () => {
    const t = new WaveTrack(1);
    t.push(chunk(100_000, [1, 2, 3]));
    t.push(chunk(0, [4, 5]));
    expect([t.start, t.end]).toEqual([0, 2]);
  });

  it('plays back behind the newest sample at the sample rate, waits for late data, runs on when data stops', () => {
    const t = new WaveTrack(1);
    t.push(chunk(0, new Array(300).fill(0))); // 3 s at 100 Hz
    expect(t.advance(0)).toBe(300 - LAG_S * 100);
    expect(t.advance(500)).toBeCloseTo(300 - LAG_S * 100 + 50, 5);
    // No new data: the cursor reaches the newest sample and waits there...
    expect(t.advance(1400)).toBe(300);
    // ...until data has been missing for longer than the run-on delay: then the paper moves on.
    expect(t.advance(2000)).toBeGreaterThan(300);
    // A cursor far behind (a hidden tab) jumps to the lag again.
    const u = new WaveTrack(1);
    u.push(chunk(0, [0]));
    u.advance(0);
    u.push(chunk(1, new Array(1000).fill(0)));
    expect(u.advance(10)).toBeCloseTo(1001 - LAG_S * 100, 5);
  });

  it('finds the range of finite values for automatic gain', () => {
    const t = new WaveTrack(1);
    t.push(chunk(0, [10, 50, 32767, 20], 32767));
    const r = { min: 0, max: 0 };
    t.range(0, 10, r);
    expect(r.min).toBeCloseTo(0.6, 6);
    expect(r.max).toBeCloseTo(1, 6);
  });
});
