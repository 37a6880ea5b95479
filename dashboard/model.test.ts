import { describe, expect, it } from 'vitest';
import { AlarmPhase, AlarmPriority, AlarmState, Batch, Flag, GapReason, Kind, type IBatch } from '../proto/index.js';
import { BedState } from './model.js';

const decoded = (b: IBatch) => Batch.decode(Batch.encode(b).finish());
const obs = (seq: number, hr: number, flags = 0, atMs = 1000 * seq): IBatch => ({
  source: { site: 's', gateway: 'g', device: 'd', bed: 'Bed 3' }, kind: Kind.KIND_OBS, seq,
  observations: [{ mdc: 147842, number: hr, unit: '/min', flags, time: { gatewayTimeUs: atMs * 1000 } }],
});

describe('bed model', () => {
  it('applies numerics, drops repeats, and counts a hole in the sequence as a gap', () => {
    const b = new BedState('s/g/d');
    expect(b.apply(decoded(obs(1, 70)), 0)).toBe(true);
    expect(b.apply(decoded(obs(1, 70)), 0)).toBe(false);
    expect(b.readings.get(147842)?.value).toBe(70);
    expect(b.label).toBe('Bed 3');
    b.apply(decoded(obs(4, 75)), 0);
    expect(b.gaps).toBe(1);
    expect(b.readings.get(147842)?.value).toBe(75);
    expect(b.lastDataMs).toBe(4000);
  });

  it('takes a thinned trend history without counting gaps, then watches the live sequence', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(obs(30, 90, 0, 40_000)), 0); // a newer point from a ward subscription: the history replaces it
    b.subscribed({ obs: { items: 3, stride: 10, toSeq: 21 } });
    for (const seq of [1, 11, 21]) b.apply(decoded(obs(seq, 60 + seq)), 0);
    b.apply(decoded(obs(22, 80)), 0);
    expect(b.gaps).toBe(0);
    expect(b.trends.hr.size).toBe(4);
    expect(b.trends.hr.valueAt(0)).toBe(61);
    b.apply(decoded(obs(24, 80)), 0);
    expect(b.gaps).toBe(1);
  });

  it('counts the fan-out\'s slow-client Gap and breaks the trend there', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(obs(1, 70)), 0);
    b.apply(decoded({ source: { device: 'd' }, kind: Kind.KIND_OBS, seq: 0, gaps: [{ kind: Kind.KIND_OBS, fromSeq: 2, toSeq: 9, fromTimeUs: 2_000_000, reason: GapReason.GAP_REASON_SLOW_CLIENT }] }), 5000);
    b.apply(decoded(obs(10, 72)), 0);
    expect(b.gaps).toBe(1);
    expect(Number.isNaN(b.trends.hr.valueAt(1))).toBe(true);
  });

  it('shows DEMO while the newest numerics carry the flag', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(obs(1, 70, Flag.FLAG_DEMO)), 0);
    expect(b.demo).toBe(true);
    b.apply(decoded(obs(2, 70)), 0);
    expect(b.demo).toBe(false);
  });

  it('keeps alarms by id: active until they end, the highest active priority for the tile colour', () => {
    const b = new BedState('s/g/d');
    const alarm = (seq: number, id: string, priority: number, phase: number, state: number): IBatch => ({
      source: { device: 'd' }, kind: Kind.KIND_ALARM, seq, alarms: [{ id, text: id, priority, phase, state, time: { gatewayTimeUs: seq * 1e6 } }],
    });
    b.apply(decoded(alarm(1, 'lead', AlarmPriority.ALARM_PRIORITY_MEDIUM, AlarmPhase.ALARM_PHASE_START, AlarmState.ALARM_STATE_ACTIVE)), 0);
    b.apply(decoded(alarm(2, 'spo2', AlarmPriority.ALARM_PRIORITY_HIGH, AlarmPhase.ALARM_PHASE_START, AlarmState.ALARM_STATE_ACTIVE)), 0);
    expect(b.topPriority()).toBe(AlarmPriority.ALARM_PRIORITY_HIGH);
    b.apply(decoded(alarm(3, 'spo2', AlarmPriority.ALARM_PRIORITY_HIGH, AlarmPhase.ALARM_PHASE_END, AlarmState.ALARM_STATE_INACTIVE)), 0);
    expect(b.topPriority()).toBe(AlarmPriority.ALARM_PRIORITY_MEDIUM);
    expect(b.alarms.get('spo2')?.active).toBe(false);
  });

  it('falls back to the pulse rate without ECG, and shows the newest temperature of any site', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded({ source: { device: 'd' }, kind: Kind.KIND_OBS, seq: 1, observations: [
      { mdc: 149530, number: 81, unit: '/min', time: { gatewayTimeUs: 1e6 } },
      { mdc: 188452, number: 36.4, unit: 'Cel', time: { gatewayTimeUs: 1e6 } },
      { mdc: 150364, number: 37.1, unit: 'Cel', time: { gatewayTimeUs: 2e6 } },
      { mdc: 151562, unit: '/min', flags: Flag.FLAG_UNAVAILABLE, time: { gatewayTimeUs: 1e6 } },
    ] }), 0);
    expect(b.heartRate()).toMatchObject({ fromPulse: true, reading: { value: 81 } });
    expect(b.temperature()?.value).toBe(37.1);
    expect(b.respRate()?.value).toBeNull();
  });
});
