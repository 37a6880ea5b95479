import { describe, expect, it } from 'vitest';
import {
  AlarmPhase,
  AlarmPriority,
  AlarmState,
  Batch,
  Flag,
  GapReason,
  Kind,
  LinkState,
  type IBatch,
  type IObservation,
} from '../proto/index.js';
import { BedState, measuredAt } from './model.js';
import { PARAMS } from './params.js';

const decoded = (b: IBatch) => Batch.decode(Batch.encode(b).finish());
const obs = (seq: number, hr: number, flags = 0, atMs = 1000 * seq): IBatch => ({
  source: { site: 's', gateway: 'g', device: 'd', bed: 'Bed 3' },
  kind: Kind.KIND_OBS,
  seq,
  observations: [{ mdc: 147842, number: hr, unit: '/min', flags, time: { gatewayTimeUs: atMs * 1000 } }],
});
const batch = (seq: number, observations: IObservation[], kind = Kind.KIND_OBS): IBatch => ({
  source: { device: 'd' },
  kind,
  seq,
  observations,
});
const at = (ms: number) => ({ gatewayTimeUs: ms * 1000 });

describe('bed model', () => {
  it('applies numerics, drops repeats, and counts a hole in the sequence as a gap', () => {
    const b = new BedState('s/g/d');
    expect(b.apply(decoded(obs(1, 70)), 0)).toBe(true);
    expect(b.apply(decoded(obs(1, 70)), 0)).toBe(false);
    expect(b.pick(PARAMS.hr, 1000)?.value).toBe(70);
    expect(b.label).toBe('Bed 3');
    b.apply(decoded(obs(4, 75)), 0);
    expect(b.gaps).toBe(1);
    expect(b.pick(PARAMS.hr, 4000)?.value).toBe(75);
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

  it("counts the fan-out's slow-client Gap and breaks the trend there", () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(obs(1, 70)), 0);
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_OBS,
        seq: 0,
        gaps: [
          {
            kind: Kind.KIND_OBS,
            fromSeq: 2,
            toSeq: 9,
            fromTimeUs: 2_000_000,
            reason: GapReason.GAP_REASON_SLOW_CLIENT,
          },
        ],
      }),
      5000,
    );
    b.apply(decoded(obs(10, 72)), 0);
    expect(b.gaps).toBe(1);
    expect(b.lastGapReason).toBe(GapReason.GAP_REASON_SLOW_CLIENT);
    expect(Number.isNaN(b.trends.hr.valueAt(1))).toBe(true);
  });

  it('keeps alarms by id: active until they end, the highest active priority for the tile colour', () => {
    const b = new BedState('s/g/d');
    const alarm = (seq: number, id: string, priority: number, phase: number, state: number): IBatch => ({
      source: { device: 'd' },
      kind: Kind.KIND_ALARM,
      seq,
      alarms: [{ id, text: id, priority, phase, state, time: { gatewayTimeUs: seq * 1e6 } }],
    });
    b.apply(
      decoded(
        alarm(
          1,
          'lead',
          AlarmPriority.ALARM_PRIORITY_MEDIUM,
          AlarmPhase.ALARM_PHASE_START,
          AlarmState.ALARM_STATE_ACTIVE,
        ),
      ),
      0,
    );
    b.apply(
      decoded(
        alarm(
          2,
          'spo2',
          AlarmPriority.ALARM_PRIORITY_HIGH,
          AlarmPhase.ALARM_PHASE_START,
          AlarmState.ALARM_STATE_ACTIVE,
        ),
      ),
      0,
    );
    expect(b.topPriority()).toBe(AlarmPriority.ALARM_PRIORITY_HIGH);
    b.apply(
      decoded(
        alarm(
          3,
          'spo2',
          AlarmPriority.ALARM_PRIORITY_HIGH,
          AlarmPhase.ALARM_PHASE_END,
          AlarmState.ALARM_STATE_INACTIVE,
        ),
      ),
      0,
    );
    expect(b.topPriority()).toBe(AlarmPriority.ALARM_PRIORITY_MEDIUM);
    expect(b.alarms.get('spo2')?.active).toBe(false);
  });

  it('falls back to the pulse rate without ECG, and back to ECG once it has a value again', () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded(
        batch(1, [
          { mdc: 147842, unit: '/min', flags: Flag.FLAG_UNAVAILABLE | Flag.FLAG_SENSOR_OFF, time: at(1000) },
          { mdc: 149530, number: 81, unit: '/min', time: at(1000) },
          { mdc: 151562, unit: '/min', flags: Flag.FLAG_UNAVAILABLE, time: at(1000) },
        ]),
      ),
      0,
    );
    expect(b.pick(PARAMS.hr, 1000)).toMatchObject({ mdc: 149530, value: 81 });
    expect(b.pick(PARAMS.rr, 1000)?.value).toBeNull();
    b.apply(decoded(batch(2, [{ mdc: 147842, number: 80, unit: '/min', time: at(2000) }])), 0);
    expect(b.pick(PARAMS.hr, 2000)).toMatchObject({ mdc: 147842, value: 80 });
  });
});

describe('readings are keyed by what was measured: code, containment (site), method', () => {
  it('an unavailable fast SpO2 never blanks the normal SpO2 (IEEE 11073-10404 MDC_MODALITY_FAST in method)', () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded(
        batch(1, [
          { mdc: 150456, number: 97, unit: '%', time: at(1000) },
          { mdc: 150456, unit: '%', method: 'MDC_MODALITY_FAST', flags: Flag.FLAG_UNAVAILABLE, time: at(1000) },
        ]),
      ),
      0,
    );
    expect(b.pick(PARAMS.spo2, 1000)).toMatchObject({ value: 97, method: '' });
    expect(b.fastSpo2()).toMatchObject({ value: null, method: 'MDC_MODALITY_FAST' });
    // The fast value never feeds the trend either.
    expect(b.trends.spo2.size).toBe(1);
  });

  it('holds every temperature site: a skin temperature does not hide the oesophageal one (Datex t1/t2 channels)', () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded(
        batch(1, [
          { mdc: 150344, number: 38.1, unit: 'Cel', containment: 't1:ESO', time: at(1000) },
          { mdc: 150344, number: 33.5, unit: 'Cel', containment: 't2:SKIN', time: at(1000) },
          { mdc: 188420, number: 37.9, unit: 'Cel', containment: '1.13.1.188420', time: at(1100) },
        ]),
      ),
      0,
    );
    const temps = b.temperatures().map((t) => [t.site, t.reading.value]);
    // Core sites first, skin last.
    expect(temps).toEqual([
      ['T1 eso', 38.1],
      ['rect', 37.9],
      ['T2 skin', 33.5],
    ]);
  });

  it('shows NIBP from the cuff codes too (Datex, Mindray: 150301/150302/150303 MDC_PRESS_CUFF_SYS/DIA/MEAN)', () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded(
        batch(1, [
          {
            mdc: 150301,
            number: 147,
            unit: 'mm[Hg]',
            containment: '1.1.9.150301',
            method: 'APERIODIC',
            time: at(1000),
          },
          {
            mdc: 150303,
            number: 109,
            unit: 'mm[Hg]',
            containment: '1.1.9.150303',
            method: 'APERIODIC',
            time: at(1000),
          },
          { mdc: 150302, number: 90, unit: 'mm[Hg]', containment: '1.1.9.150302', method: 'APERIODIC', time: at(1000) },
        ]),
      ),
      0,
    );
    const n = b.nibp();
    expect([n?.sys.value, n?.dia?.value, n?.mean?.value]).toEqual([147, 90, 109]);
    // A newer non-invasive measurement wins, with its own diastolic (never the cuff family's).
    b.apply(
      decoded(
        batch(2, [
          { mdc: 150021, number: 120, unit: 'mm[Hg]', time: at(5000) },
          { mdc: 150022, number: 80, unit: 'mm[Hg]', time: at(5000) },
        ]),
      ),
      0,
    );
    const m = b.nibp();
    expect([m?.sys.value, m?.dia?.value, m?.mean]).toEqual([120, 80, undefined]);
  });

  it('keeps the last number of a key while the device reports none, to show it crossed out', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(batch(1, [{ mdc: 150456, number: 95, unit: '%', time: at(1000) }])), 0);
    b.apply(decoded(batch(2, [{ mdc: 150456, number: 95, unit: '%', flags: Flag.FLAG_RETRACTED, time: at(2000) }])), 0);
    expect(b.pick(PARAMS.spo2, 2000)).toMatchObject({ value: null, lastValue: 95 });
  });

  it("the Source bed is the configured bed; the device's claim (PV1-3) is kept apart", () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded({
        source: { device: 'd', bed: 'Bed 7', bedClaim: 'ICU-5' },
        kind: Kind.KIND_OBS,
        seq: 1,
        observations: [],
      }),
      0,
    );
    expect([b.label, b.bedClaim]).toEqual(['Bed 7', 'ICU-5']);
    const c = new BedState('s/g/d');
    c.apply(decoded({ source: { device: 'd', bedClaim: 'ICU-5' }, kind: Kind.KIND_OBS, seq: 1, observations: [] }), 0);
    expect(c.label).toBe('');
  });
});

describe("time: the device's measurement time, per parameter staleness", () => {
  it('dates a value by its device time (OBX-14) on the gateway clock, and by its receipt when the time is suspect', () => {
    // The device clock runs 2 h ahead (offset +7200 s); the NIBP was taken 10 min before the frame was received.
    const offsetUs = 7_200_000_000;
    const rxMs = 1_800_000_000_000;
    const t = { gatewayTimeUs: rxMs * 1000, deviceTimeUs: (rxMs - 600_000) * 1000 + offsetUs, clockOffsetUs: offsetUs };
    expect(measuredAt(t, 0, 0)).toEqual({ atMs: rxMs - 600_000, deviceTime: true, receivedMs: rxMs });
    expect(measuredAt(t, Flag.FLAG_TIME_SUSPECT, 0)).toEqual({ atMs: rxMs, deviceTime: false, receivedMs: rxMs });
    // A device time ahead of the receipt is held at the receipt.
    expect(measuredAt({ ...t, deviceTimeUs: (rxMs + 3000) * 1000 + offsetUs }, 0, 0).atMs).toBe(rxMs);
  });

  it('an older value of a key never replaces a newer one (history arriving under live data)', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(batch(5, [{ mdc: 147842, number: 90, unit: '/min', time: at(5000) }])), 0);
    b.apply(decoded(batch(1, [{ mdc: 147842, number: 60, unit: '/min', time: at(1000) }])), 0);
    expect(b.pick(PARAMS.hr, 5000)?.value).toBe(90);
  });

  it('a parameter that stops arriving goes stale by its own limit while the others stay current', () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded(
        batch(1, [
          { mdc: 147842, number: 80, unit: '/min', time: at(0) },
          { mdc: 150456, number: 97, unit: '%', time: at(0) },
          { mdc: 151562, number: 16, unit: '/min', time: at(0) },
        ]),
      ),
      0,
    );
    for (let s = 1; s <= 12; s++)
      b.apply(decoded(batch(1 + s, [{ mdc: 147842, number: 80, unit: '/min', time: at(s * 1000) }])), 0);
    // 12 s on: SpO2 (10 s limit) is stale, RR (30 s) is not yet, HR is current.
    const now = 12_000;
    const stale = (def: typeof PARAMS.hr) => {
      const r = b.pick(def, now);
      return r !== undefined && now - r.atMs > def.staleMs;
    };
    expect([stale(PARAMS.hr), stale(PARAMS.spo2), stale(PARAMS.rr)]).toEqual([false, true, false]);
  });

  it('prefers a current source to a stale preferred one (ECG HR stopped, pulse rate still coming)', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(batch(1, [{ mdc: 147842, number: 80, unit: '/min', time: at(0) }])), 0);
    b.apply(decoded(batch(2, [{ mdc: 149530, number: 82, unit: '/min', time: at(15_000) }])), 0);
    expect(b.pick(PARAMS.hr, 15_000)?.mdc).toBe(149530);
  });
});

describe('not a patient: TEST, DEMO, SIMULATED', () => {
  it('reads FLAG_TEST (HL7 MSH-11 T) and FLAG_SIMULATED as well as DEMO, from numerics, waves and active alarms', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(obs(1, 70, Flag.FLAG_TEST)), 0);
    expect(b.modes()).toBe(Flag.FLAG_TEST);
    b.apply(decoded(obs(2, 70)), 0);
    expect(b.modes()).toBe(0);
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_WAVE,
        seq: 1,
        waves: [{ mdc: 131330, sampleRateHz: 250, samples: [1, 2], flags: Flag.FLAG_SIMULATED, time: at(1000) }],
      }),
      0,
    );
    expect(b.modes()).toBe(Flag.FLAG_SIMULATED);
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_ALARM,
        seq: 1,
        alarms: [
          {
            id: 'a',
            text: 'SpO2 LOW',
            phase: AlarmPhase.ALARM_PHASE_START,
            state: AlarmState.ALARM_STATE_ACTIVE,
            flags: Flag.FLAG_DEMO,
            time: at(1000),
          },
        ],
      }),
      0,
    );
    expect(b.modes()).toBe(Flag.FLAG_SIMULATED | Flag.FLAG_DEMO);
    expect(b.alarms.get('a')?.flags).toBe(Flag.FLAG_DEMO);
  });

  it("keeps an alarm's source value and limits (PCD-04 source facet)", () => {
    const b = new BedState('s/g/d');
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_ALARM,
        seq: 1,
        alarms: [
          {
            id: 'a',
            text: 'SpO2 LOW',
            sourceMdc: 150456,
            sourceValue: 85,
            sourceUnit: '%',
            limitLow: 90,
            limitHigh: 100,
            limits: '90-100',
            time: at(1000),
          },
        ],
      }),
      0,
    );
    expect(b.alarms.get('a')).toMatchObject({
      sourceMdc: 150456,
      sourceValue: 85,
      sourceUnit: '%',
      limitLow: 90,
      limitHigh: 100,
    });
  });
});

describe('device link', () => {
  const status = (seq: number, state: number, ms: number, extra: object = {}): IBatch => ({
    source: { device: 'd' },
    kind: Kind.KIND_STATUS,
    seq,
    statuses: [{ state, time: at(ms), ...extra }],
  });

  it('is down from DISCONNECTED until CONNECTED, through reconnect attempts', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(status(1, LinkState.LINK_STATE_CONNECTED, 1000)), 0);
    b.apply(
      decoded(
        status(2, LinkState.LINK_STATE_DISCONNECTED, 5000, { reason: 'VW_ERR_LINK_CLOSED', diagnosis: 'no bytes' }),
      ),
      0,
    );
    b.apply(decoded(status(3, LinkState.LINK_STATE_CONNECTING, 6000)), 0);
    expect(b.link).toMatchObject({ state: LinkState.LINK_STATE_CONNECTING, downSinceMs: 5000 });
    b.apply(decoded(status(4, LinkState.LINK_STATE_CONNECTED, 8000)), 0);
    expect(b.link.downSinceMs).toBe(0);
  });

  it('notes replayed data (Batch.backfill) until live data comes again', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded({ ...obs(1, 70), backfill: true }), 0);
    expect(b.backfilling).toBe(true);
    b.apply(decoded(obs(2, 70)), 0);
    expect(b.backfilling).toBe(false);
  });
});

describe('history replayed after live data (a long backlog: docs/gateway.md, live first)', () => {
  const back = (b: IBatch): IBatch => ({ ...b, backfill: true });

  it('takes the backlog in under the live values: the hole closes, the trend fills in time order, the newest value stays', () => {
    const b = new BedState('s/g/d');
    for (let s = 1; s <= 10; s++) b.apply(decoded(obs(s, 60 + s)), 0);
    b.apply(decoded(obs(51, 99)), 0); // live, after the outage
    expect(b.gaps).toBe(1);
    for (let s = 11; s <= 50; s++) expect(b.apply(decoded(back(obs(s, 60 + (s % 30)))), 0)).toBe(true);
    expect(b.gaps).toBe(0);
    expect(b.pick(PARAMS.hr, 51_000)?.value).toBe(99); // history never replaces the newer value
    expect(b.backfilling).toBe(false); // history under live data is not "catching up"
    const times = Array.from({ length: b.trends.hr.size }, (_, k) => b.trends.hr.timeAt(k));
    expect(times).toEqual(Array.from({ length: 51 }, (_, k) => (k + 1) * 1000));
    // Duplicates by seq only: a repeat of a replayed Batch is dropped.
    expect(b.apply(decoded(back(obs(30, 70))), 0)).toBe(false);
  });

  it('never takes a backfilled seq 1 for a restarted stream', () => {
    const b = new BedState('s/g/d');
    b.apply(decoded(obs(5, 70)), 0);
    expect(b.apply(decoded(back(obs(1, 66))), 0)).toBe(true);
    for (let s = 2; s <= 4; s++) b.apply(decoded(back(obs(s, 66 + s))), 0);
    b.apply(decoded(obs(6, 71)), 0); // live goes on from 5: no hole
    expect(b.gaps).toBe(0);
    expect(b.pick(PARAMS.hr, 6000)?.value).toBe(71);
  });

  it('drops a replayed waveform chunk older than the sweep instead of starting the track over', () => {
    const b = new BedState('s/g/d');
    const wave = (seq: number, first: number, backfill = false): IBatch => ({
      source: { device: 'd' },
      kind: Kind.KIND_WAVE,
      seq,
      backfill,
      waves: [
        {
          mdc: 131330,
          sampleRateHz: 250,
          firstSample: first,
          scale: 0.005,
          unit: 'mV',
          samples: Array.from({ length: 250 }, () => 100),
        },
      ],
    });
    for (let s = 1; s <= 30; s++) b.apply(decoded(wave(1000 + s, 100_000 + s * 250)), 0); // live, 30 s
    const t = b.tracks.get(131330)!;
    const end = t.end;
    b.apply(decoded(wave(10, 2500, true)), 0); // replayed, long before the sweep
    expect(t.end).toBe(end);
    expect(t.valueAt(end - 1)).toBeCloseTo(0.5);
  });
});
