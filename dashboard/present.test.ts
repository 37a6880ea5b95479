// What a slot says for each way a value can mislead (docs/clinical-safety.md): pure, no DOM.
import { describe, expect, it } from 'vitest';
import { Batch, Flag, Kind, LinkState, type IBatch, type IObservation } from '../proto/index.js';
import { BedState, type AlarmRow } from './model.js';
import { alarmDetail, showHr, showLink, showNibp, showSpo2, showTemperatures } from './present.js';
import { quality } from './quality.js';

const decoded = (b: IBatch) => Batch.decode(Batch.encode(b).finish());
const at = (ms: number) => ({ gatewayTimeUs: ms * 1000 });
let seq = 0;
function bedWith(...observations: IObservation[]): BedState {
  const b = new BedState('s/g/d');
  b.apply(decoded({ source: { device: 'd' }, kind: Kind.KIND_OBS, seq: ++seq, observations }), 0);
  return b;
}

describe('quality flags on screen', () => {
  it('marks every quality flag: doubtful ones dimmed with "?", withdrawn ones crossed out, each with its reason', () => {
    const doubtful = [
      Flag.FLAG_QUESTIONABLE,
      Flag.FLAG_ARTIFACT,
      Flag.FLAG_SENSOR_OFF,
      Flag.FLAG_LOW_PERFUSION,
      Flag.FLAG_CALIBRATING,
      Flag.FLAG_OUT_OF_RANGE,
      Flag.FLAG_UNIT_UNKNOWN,
      Flag.FLAG_EARLY_ESTIMATE,
    ];
    for (const f of doubtful) {
      const q = quality(f);
      expect(q.doubtful, `flag ${f}`).toBe(true);
      expect(q.notes.length, `flag ${f}`).toBe(1);
      expect(q.reasons.length, `flag ${f}`).toBe(1);
    }
    for (const f of [Flag.FLAG_RETRACTED, Flag.FLAG_UNAVAILABLE]) expect(quality(f).struck).toBe(true);
    // Noted but not doubtful: the number is what the device meant.
    for (const f of [Flag.FLAG_DERIVED, Flag.FLAG_TIME_SUSPECT, Flag.FLAG_ABNORMAL]) {
      expect(quality(f)).toMatchObject({ doubtful: false, struck: false });
      expect(quality(f).notes.length).toBe(1);
    }
    expect(quality(0)).toEqual({ doubtful: false, struck: false, notes: [], reasons: [] });
  });

  it('a questionable SpO2 shows "?", the word, and the reason in its title', () => {
    const s = showSpo2(
      bedWith({
        mdc: 150456,
        number: 88,
        unit: '%',
        flags: Flag.FLAG_QUESTIONABLE | Flag.FLAG_LOW_PERFUSION,
        time: at(1000),
      }),
      1000,
    );
    expect(s).toMatchObject({ value: '88', unit: '%', mark: '?', doubtful: true });
    expect(s.sub).toContain('questionable');
    expect(s.sub).toContain('low perfusion');
    expect(s.title).toMatch(/Questionable/);
  });

  it('a retracted value is crossed out, never shown as current', () => {
    const b = bedWith({ mdc: 147842, number: 130, unit: '/min', time: at(1000) });
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_OBS,
        seq: ++seq,
        observations: [{ mdc: 147842, unit: '/min', flags: Flag.FLAG_RETRACTED, time: at(2000) }],
      }),
      0,
    );
    const s = showHr(b, 2000);
    expect(s).toMatchObject({ value: '130', struck: true, empty: true });
    expect(s.sub).toContain('retracted');
    expect(s.title).toContain('crossed out');
  });
});

describe("units: the unit the value carries, never the slot's", () => {
  it('a temperature in °F is shown in °F', () => {
    const [t] = showTemperatures(bedWith({ mdc: 188424, number: 98.6, unit: '[degF]', time: at(1000) }), 1000);
    expect(t).toMatchObject({ label: 'Temp oral', value: '98.6', unit: '°F', doubtful: false });
  });

  it('a temperature converted by vitalwire says so, with what the device sent', () => {
    const [t] = showTemperatures(
      bedWith({
        mdc: 188424,
        number: 37,
        unit: 'Cel',
        vendorUnit: 'degF',
        sentNumber: 98.6,
        flags: Flag.FLAG_DERIVED,
        time: at(1000),
      }),
      1000,
    );
    expect(t).toMatchObject({ value: '37.0', unit: '°C' });
    expect(t?.sub).toContain('converted from 98.6 °F');
  });

  it('a number without a unit shows "unit?" and is doubtful, with or without FLAG_UNIT_UNKNOWN', () => {
    for (const flags of [0, Flag.FLAG_UNIT_UNKNOWN, Flag.FLAG_UNMAPPED]) {
      const [t] = showTemperatures(
        bedWith({ mdc: 150344, number: 98.6, unit: '', vendorUnit: 'degF', flags, time: at(1000) }),
        1000,
      );
      expect(t).toMatchObject({ value: '98.6', unit: 'unit?', doubtful: true, mark: '?' });
    }
  });

  it('a unit of the wrong dimension ("F" is farad in UCUM; mV for a temperature) is marked doubtful', () => {
    for (const unit of ['F', 'mV']) {
      const [t] = showTemperatures(bedWith({ mdc: 150344, number: 98.6, unit, time: at(1000) }), 1000);
      expect(t).toMatchObject({ unit: `${unit}?`, doubtful: true });
      expect(t?.title).toContain('is not a unit of Temp');
    }
  });
});

describe('time on screen', () => {
  it("an NIBP says when it was measured and how long ago, by the device's time", () => {
    const rx = Date.UTC(2026, 4, 1, 7, 13, 0);
    const measured = rx - 11 * 60_000;
    const b = bedWith(
      {
        mdc: 150301,
        number: 147,
        unit: 'mm[Hg]',
        method: 'APERIODIC',
        time: { gatewayTimeUs: rx * 1000, deviceTimeUs: measured * 1000, clockOffsetUs: 0 },
      },
      {
        mdc: 150302,
        number: 90,
        unit: 'mm[Hg]',
        method: 'APERIODIC',
        time: { gatewayTimeUs: rx * 1000, deviceTimeUs: measured * 1000, clockOffsetUs: 0 },
      },
      {
        mdc: 150303,
        number: 109,
        unit: 'mm[Hg]',
        method: 'APERIODIC',
        time: { gatewayTimeUs: rx * 1000, deviceTimeUs: measured * 1000, clockOffsetUs: 0 },
      },
    );
    const s = showNibp(b.nibp(), rx);
    const hhmm = new Date(measured).toTimeString().slice(0, 5);
    expect(s).toMatchObject({ value: '147/90', unit: 'mmHg', short: hhmm, stale: false, doubtful: false });
    expect(s.sub).toBe(`MAP 109 · at ${hhmm} · 11 min ago`);
    // After 30 min it is greyed.
    expect(showNibp(b.nibp(), measured + 31 * 60_000).stale).toBe(true);
  });

  it('an NIBP whose device sent no time (a Datex S/5 one on screen at link-up) is never shown as current', () => {
    const rx = Date.UTC(2026, 4, 1, 7, 13, 0);
    const row = (mdc: number, number: number, t: number) => ({
      mdc,
      number,
      unit: 'mm[Hg]',
      method: 'APERIODIC',
      time: { gatewayTimeUs: t * 1000 },
    });
    const b = bedWith(row(150301, 121, rx), row(150302, 79, rx), row(150303, 93, rx));
    const hhmm = new Date(rx).toTimeString().slice(0, 5);
    const s = showNibp(b.nibp(), rx + 1000);
    expect(s).toMatchObject({ value: '121/79', stale: true, short: `<${hhmm}` });
    expect(s.sub).toContain(`time not sent · on screen before ${hhmm}`);
    expect(s.title).toContain('The device sent no time of measurement');
    // Repeated in later records, it stays dated by its first receipt, never by the newest record.
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_OBS,
        seq: ++seq,
        observations: [row(150301, 121, rx + 600_000), row(150302, 79, rx + 600_000), row(150303, 93, rx + 600_000)],
      }),
      rx + 600_000,
    );
    expect(showNibp(b.nibp(), rx + 600_000).short).toBe(`<${hhmm}`);
  });

  it('a stale value says how long it has not been updated', () => {
    const b = bedWith({ mdc: 147842, number: 80, unit: '/min', time: at(0) });
    expect(showHr(b, 5000)).toMatchObject({ stale: false, sub: '5 s ago' });
    expect(showHr(b, 25_000)).toMatchObject({ stale: true, sub: 'no update for 25 s', short: '25 s old' });
    expect(showHr(b, 25_000).title).toContain('expected at least every 10 s');
  });
});

describe('device link on screen', () => {
  const status = (b: BedState, state: number, ms: number, extra: object = {}) =>
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_STATUS,
        seq: ++seq,
        statuses: [{ state, time: at(ms), ...extra }],
      }),
      0,
    );

  it("says DISCONNECTED with the gateway's diagnosis, through reconnect attempts, until data or CONNECTED", () => {
    const b = bedWith({ mdc: 147842, number: 80, unit: '/min', time: at(1000) });
    status(b, LinkState.LINK_STATE_CONNECTED, 500);
    expect(showLink(b).state).toBe('live');
    status(b, LinkState.LINK_STATE_DISCONNECTED, 2000, { reason: 'VW_ERR_LINK_CLOSED', diagnosis: 'cable unplugged?' });
    const down = showLink(b);
    expect(down.state).toBe('down');
    expect(down.text).toMatch(/^DISCONNECTED since \d\d:\d\d:\d\d — cable unplugged\? · VW_ERR_LINK_CLOSED$/);
    status(b, LinkState.LINK_STATE_CONNECTING, 3000);
    expect(showLink(b).text).toContain('reconnecting');
    status(b, LinkState.LINK_STATE_CONNECTED, 4000);
    expect(showLink(b).state).toBe('live');
  });

  it('a DISCONNECTED status followed by data (its CONNECTED status lost) is no longer the news', () => {
    const b = bedWith({ mdc: 147842, number: 80, unit: '/min', time: at(1000) });
    status(b, LinkState.LINK_STATE_DISCONNECTED, 2000);
    expect(showLink(b).state).toBe('down');
    b.apply(
      decoded({
        source: { device: 'd' },
        kind: Kind.KIND_OBS,
        seq: ++seq,
        observations: [{ mdc: 147842, number: 81, unit: '/min', time: at(3000) }],
      }),
      0,
    );
    expect(showLink(b).state).toBe('live');
  });

  it('says SILENT when the link is up but the device sends nothing', () => {
    const b = bedWith({ mdc: 147842, number: 80, unit: '/min', time: at(1000) });
    status(b, LinkState.LINK_STATE_SILENT, 40_000, { diagnosis: 'no bytes for 30 s' });
    expect(showLink(b)).toMatchObject({ state: 'silent', text: 'DEVICE SILENT — no bytes for 30 s' });
  });
});

describe('alarms on screen', () => {
  const row = (o: Partial<AlarmRow>): AlarmRow => ({
    id: 'a',
    text: '',
    priority: 0,
    technical: false,
    active: true,
    startMs: 0,
    lastMs: 0,
    flags: 0,
    sourceMdc: 0,
    sourceRefid: '',
    sourceValue: null,
    sourceUnit: '',
    limitLow: null,
    limitHigh: null,
    limits: '',
    ...o,
  });

  it('says what triggered the alarm and the limit it crossed', () => {
    expect(
      alarmDetail(row({ sourceMdc: 150456, sourceValue: 85, sourceUnit: '%', limitLow: 90, limitHigh: 100 })),
    ).toBe('SpO₂ 85 % < 90');
    expect(
      alarmDetail(row({ sourceMdc: 147842, sourceValue: 142, sourceUnit: '/min', limitLow: 50, limitHigh: 120 })),
    ).toBe('HR 142 /min > 120');
    expect(
      alarmDetail(
        row({ sourceRefid: 'MDC_TEMP_RECT', sourceValue: 38.5, sourceUnit: 'Cel', limitLow: 36, limitHigh: 39 }),
      ),
    ).toBe('TEMP_RECT 38.5 °C (limits 36–39)');
    expect(alarmDetail(row({ sourceMdc: 150456 }))).toBe('');
  });
});

describe('slot never blanked by a fast or a site variant', () => {
  it('SpO2 stays with the normal average and names the fast one beside it', () => {
    const b = bedWith(
      { mdc: 150456, number: 97, unit: '%', time: at(1000) },
      { mdc: 150456, number: 93, unit: '%', method: 'MDC_MODALITY_FAST', time: at(1000) },
    );
    expect(showSpo2(b, 1000)).toMatchObject({ value: '97', sub: 'fast 93 · 0 s ago' });
  });
});
