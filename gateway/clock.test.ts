import { describe, expect, it } from 'vitest';
import type { Decoded } from '../decoders/decoded.js';
import { Flag } from '../proto/index.js';
import { DeviceClock } from './clock.js';

const T0 = Date.UTC(2026, 5, 1) * 1000;
const S = 1_000_000;
const opts = { maxFutureMs: 5000, jumpMs: 2000, minPlausibleUs: Date.UTC(2000, 0, 1) * 1000 };

function frame(deviceUs: number): Decoded {
  return {
    observations: [{ time: { gatewayTimeUs: 0, deviceTimeUs: deviceUs }, number: 1 }],
    waves: [],
    alarms: [],
    warnings: [],
  };
}
const suspect = (d: Decoded) => ((d.observations[0]?.flags ?? 0) & Flag.FLAG_TIME_SUSPECT) !== 0;

describe('device clock model', () => {
  it('estimates offset from the least delayed frames and drift from their trend', () => {
    const c = new DeviceClock(opts);
    // Device clock 3 s behind and running 50 ppm fast; transport delays of 0-400 ms, deterministic; two hours.
    for (let i = 0; i < 7200; i++) {
      const g = T0 + i * S;
      const trueOffset = -3 * S + 50e-6 * (g - T0);
      const delay = ((i * 7919) % 400) * 1000;
      c.observeFrame(Math.round(g - delay + trueOffset), g);
    }
    const g = T0 + 7200 * S;
    // The estimate is biased by the smallest transport delay seen in each minute, never more.
    expect(Math.abs(c.offsetAt(g) - (-3 * S + 50e-6 * 7200 * S))).toBeLessThan(20_000);
    expect(c.stats.driftPpm).toBeGreaterThan(35);
    expect(c.stats.driftPpm).toBeLessThan(65);
  });

  it('stamps the offset on every payload and flags future, rolled-over and jumping times', () => {
    const c = new DeviceClock(opts);
    for (let i = 0; i < 30; i++) {
      const d = frame(T0 + i * S - 200_000);
      expect(c.stamp(d, T0 + i * S)).toBeNull();
      expect(d.observations[0]?.time?.clockOffsetUs).toBeLessThanOrEqual(0);
    }
    const fut = frame(T0 + 40 * S + 60 * S);
    expect(c.stamp(fut, T0 + 40 * S)).toBe('future');
    expect(suspect(fut)).toBe(true);
    const old = frame(Date.UTC(1999, 11, 31) * 1000);
    expect(c.stamp(old, T0 + 41 * S)).toBe('rollover');
    const back = frame(T0 + 42 * S - 3600 * S); // the clock was set back an hour
    expect(c.stamp(back, T0 + 42 * S)).toBe('jump');
    expect(suspect(back)).toBe(true);
    expect(c.stats.suspects).toEqual({ future: 1, rollover: 1, jump: 1 });
  });

  it('accepts a clock step after consistent frames and stops flagging', () => {
    const c = new DeviceClock(opts);
    for (let i = 0; i < 20; i++) c.observeFrame(T0 + i * S, T0 + i * S);
    const flagged: boolean[] = [];
    for (let i = 20; i < 30; i++) flagged.push(c.observeFrame(T0 + i * S + 30 * S, T0 + i * S).jump); // set 30 s ahead
    expect(flagged).toEqual([true, true, true, true, false, false, false, false, false, false]);
    expect(c.stats.steps).toBe(1);
    expect(Math.round(c.offsetAt(T0 + 30 * S) / S)).toBe(30);
  });

  it('does not flag an old measurement inside a current frame, nor a device replaying its backlog', () => {
    const c = new DeviceClock(opts);
    for (let i = 0; i < 10; i++) c.observeFrame(T0 + i * S, T0 + i * S);
    const nibp: Decoded = {
      ...frame(T0 + 10 * S),
      observations: [
        { time: { deviceTimeUs: T0 + 10 * S }, number: 72 },
        { time: { deviceTimeUs: T0 + 10 * S - 300 * S }, number: 120 }, // NIBP taken five minutes ago
      ],
    };
    expect(c.stamp(nibp, T0 + 10 * S)).toBeNull();
    // A 60 s link outage; then the monitor resends its queued messages quickly: old times, but increasing.
    for (let i = 0; i < 60; i++) expect(c.observeFrame(T0 + (11 + i) * S, T0 + 71 * S + i * 1000).jump).toBe(false);
  });
});
