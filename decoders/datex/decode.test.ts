import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Flag, type IObservation } from '../../proto/index.js';
import type { DecodeResult } from '../decoded.js';
import { decodeDatexRecord, sentinelFlags } from './decode.js';
import {
  encodeHeaderOnlyRecord,
  encodePhdbFrame,
  encodePhdbRecord,
  type BasicValues,
  type DatexSentinel,
  type PhdbRecord,
} from './encode.js';
import { BASIC, DATA, HDR, PHDB } from './layout.js';
import { datexProtocol, looksLikeDatex } from './index.js';
import { createPipeline } from '../pipeline.js';
import { detectProtocol } from '../registry.js';

const T0 = 1_780_000_000; // 2026-05-28T20:26:40Z
const ctx = { gatewayTimeUs: 5, defaultUtcOffsetMin: 0 };

function obs(r: DecodeResult): IObservation[] {
  if (!r.ok) throw new Error(`${r.error.code} ${r.error.detail}`);
  return r.value.observations;
}
function decode(basic: BasicValues, extra: Partial<PhdbRecord> = {}): IObservation[] {
  return obs(decodeDatexRecord(encodePhdbRecord({ time: T0, subrecords: [{ basic }], ...extra }), ctx));
}
const byCode = (list: IObservation[]) => Object.fromEntries(list.map((o) => [o.vendorCode, o]));

describe('Datex record decoder', () => {
  it('decodes the basic groups with MDC codes, UCUM units and scaling', () => {
    const list = decode({
      ecg: { hr: 72, impRr: 15 },
      p: [{ label: 1, sys: 120.5, dia: 80, mean: 93.25 }],
      nibp: { sys: 118, dia: 76, mean: 90 },
      t: [
        { label: 1, temp: 37.12 },
        { label: 7, temp: 36.5 },
      ],
      spo2: { spo2: 97.5, pr: 71 },
      co2: { et: 5.1, fi: 0.2, rr: 12 },
    });
    expect(list.map((o) => o.vendorCode)).toEqual([
      'ecg.hr',
      'ecg.imp_rr',
      'p1.sys',
      'p1.dia',
      'p1.mean',
      'nibp.sys',
      'nibp.dia',
      'nibp.mean',
      't1.temp',
      't2.temp',
      'spo2.spo2',
      'spo2.pr',
      'co2.et',
      'co2.fi',
      'co2.rr',
    ]);
    const o = byCode(list);
    expect(o['ecg.hr']).toMatchObject({
      mdc: 147842,
      refid: 'MDC_ECG_CARD_BEAT_RATE',
      number: 72,
      unit: '/min',
      unitMdc: 264864,
      flags: 0,
    });
    expect(o['ecg.imp_rr']).toMatchObject({ mdc: 151578, number: 15, unitMdc: 264928 });
    expect(o['p1.sys']).toMatchObject({
      mdc: 150033,
      refid: 'MDC_PRESS_BLD_ART_SYS',
      number: 120.5,
      unit: 'mm[Hg]',
      containment: 'p1:ART',
    });
    expect(o['p1.mean']).toMatchObject({ mdc: 150035, number: 93.25 });
    expect(o['nibp.dia']).toMatchObject({ mdc: 150302, number: 76, vendorUnit: 'mmHg' });
    expect(o['t1.temp']).toMatchObject({ mdc: 150344, number: 37.12, unit: 'Cel', containment: 't1:ESO' });
    expect(o['t2.temp']).toMatchObject({ number: 36.5, containment: 't2:SKIN' });
    expect(o['spo2.spo2']).toMatchObject({ mdc: 150456, number: 97.5, unit: '%' });
    expect(o['spo2.pr']).toMatchObject({ mdc: 149530, number: 71 });
    expect(o['co2.et']).toMatchObject({ mdc: 151708, refid: 'MDC_CONC_AWAY_CO2_ET', number: 5.1, unit: '%' });
    expect(o['co2.fi']).toMatchObject({ mdc: 151716, number: 0.2 });
    expect(o['co2.rr']).toMatchObject({ mdc: 151594, number: 12, unitMdc: 264928 });
    expect(list[0]?.time).toEqual({ gatewayTimeUs: 5, deviceTimeUs: T0 * 1e6, deviceUtcOffsetMin: 0 });
  });

  it('maps the invasive pressure label to its MDC terms, and leaves RVP and unknown labels unmapped', () => {
    const cases: [number, number, string][] = [
      [0, 150017, 'p1:none'],
      [1, 150033, 'p1:ART'],
      [2, 150085, 'p1:CVP'],
      [3, 150045, 'p1:PA'],
      [4, 150069, 'p1:RAP'],
      [6, 150065, 'p1:LAP'],
      [7, 153609, 'p1:ICP'],
      [8, 150037, 'p1:ABP'],
      [9, 150017, 'p1:P1'],
      [14, 150017, 'p1:P6'],
    ];
    for (const [label, sys, where] of cases) {
      const [s] = decode({ p: [{ label, sys: 20, dia: 10, mean: 15 }] });
      expect(s, `label ${label}`).toMatchObject({ mdc: sys, containment: where, flags: 0, number: 20 });
    }
    for (const label of [5, 15, 999]) {
      const list = decode({ p: [{ label, sys: 20, dia: 10, mean: 15 }] });
      for (const o of list) expect(o).toMatchObject({ mdc: 0, refid: '', flags: Flag.FLAG_UNMAPPED });
      expect(list[1]?.number).toBe(10);
    }
    const p6 = decode({
      p: [undefined, undefined, undefined, undefined, undefined, { label: 3, sys: 25, dia: 10, mean: 16 }],
    });
    expect(p6.map((o) => [o.vendorCode, o.mdc])).toEqual([
      ['p6.sys', 150045],
      ['p6.dia', 150046],
      ['p6.mean', 150047],
    ]);
  });

  it('turns sentinels into flags with the value unset; -32000 is still a value', () => {
    expect(sentinelFlags(DATA.INVALID)).toBe(Flag.FLAG_UNAVAILABLE);
    expect(sentinelFlags(DATA.NOT_UPDATED)).toBe(Flag.FLAG_UNAVAILABLE);
    expect(sentinelFlags(DATA.DISCONT)).toBe(Flag.FLAG_UNAVAILABLE);
    expect(sentinelFlags(DATA.UNDER_RANGE)).toBe(Flag.FLAG_UNAVAILABLE | Flag.FLAG_OUT_OF_RANGE);
    expect(sentinelFlags(DATA.OVER_RANGE)).toBe(Flag.FLAG_UNAVAILABLE | Flag.FLAG_OUT_OF_RANGE);
    expect(sentinelFlags(DATA.NOT_CALIBRATED)).toBe(Flag.FLAG_UNAVAILABLE | Flag.FLAG_CALIBRATING);
    expect(sentinelFlags(-32768)).toBe(Flag.FLAG_UNAVAILABLE);
    expect(sentinelFlags(-32001)).toBe(Flag.FLAG_UNAVAILABLE);
    expect(sentinelFlags(-32000)).toBe(0);
    const o = byCode(
      decode({
        nibp: { sys: 'over-range', dia: 'under-range', mean: 'not-calibrated' },
        spo2: {},
        t: [{ temp: -320 }],
      }),
    );
    expect(o['nibp.sys']).toMatchObject({ flags: Flag.FLAG_UNAVAILABLE | Flag.FLAG_OUT_OF_RANGE });
    expect(o['nibp.sys']?.number).toBeUndefined();
    expect(o['nibp.mean']).toMatchObject({ flags: Flag.FLAG_UNAVAILABLE | Flag.FLAG_CALIBRATING });
    expect(o['spo2.spo2']).toMatchObject({ flags: Flag.FLAG_UNAVAILABLE });
    expect(o['t1.temp']).toMatchObject({ number: -320, flags: 0 });
  });

  it('emits nothing for groups whose module does not exist (status bit 0)', () => {
    expect(decode({})).toEqual([]);
    expect(decode({ ecg: { status: 2, hr: 60 }, spo2: { status: 0xfffffffe, spo2: 99 } })).toEqual([]);
  });

  it('adds flags from group status and label bits', () => {
    const o = byCode(
      decode({
        ecg: { status: 0x103, hr: 80 },
        p: [{ status: 0x07, label: 1, sys: 0, dia: 0, mean: 0 }],
        nibp: { label: 0x80, sys: 120, dia: 80, mean: 90 },
        co2: { status: 0x0b, et: 0, fi: 0, rr: 10 },
      }),
    );
    expect(o['ecg.hr']?.flags).toBe(Flag.FLAG_ARTIFACT);
    expect(o['ecg.imp_rr']?.flags).toBe(Flag.FLAG_UNAVAILABLE);
    expect(o['p1.sys']?.flags).toBe(Flag.FLAG_CALIBRATING);
    expect(o['nibp.sys']?.flags).toBe(Flag.FLAG_CALIBRATING);
    expect(o['co2.et']?.flags).toBe(Flag.FLAG_CALIBRATING);
    expect(o['co2.rr']?.flags).toBe(0);
  });

  it('reads every PHDB subrecord (displayed, trends), its own time, and skips other classes and aux info', () => {
    const rec = encodePhdbRecord({
      time: T0,
      subrecords: [
        { basic: { ecg: { hr: 60 } } },
        { type: 2, time: T0 - 10, basic: { ecg: { hr: 61 } } },
        { type: 4, basic: { ecg: { hr: 62 } } },
        { cls: 1 },
        { type: 3, time: 0, basic: { ecg: { hr: 63 } } },
      ],
    });
    const r = decodeDatexRecord(rec, ctx);
    const hr = obs(r).filter((o) => o.vendorCode === 'ecg.hr');
    expect(hr.map((o) => [o.number, o.time?.deviceTimeUs])).toEqual([
      [60, T0 * 1e6],
      [61, (T0 - 10) * 1e6],
      [63, T0 * 1e6],
    ]);
    expect(r.ok && r.value.warnings).toEqual([]);
  });

  it('warns about an unknown class and a subrecord outside the record, and keeps the rest', () => {
    const rec = encodePhdbRecord({
      time: T0,
      subrecords: [{ basic: { ecg: { hr: 60 } } }, { basic: { ecg: { hr: 61 } } }],
    });
    rec.writeUInt16LE(0x0901, HDR.SIZE + PHDB.SIZE + PHDB.CL_DRILVL_SUBT);
    const r1 = decodeDatexRecord(rec, ctx);
    expect(obs(r1).map((o) => o.number)).toEqual([60, undefined]); // ecg.hr, ecg.imp_rr (no data); subrecord 1 skipped
    expect(r1.ok && r1.value.warnings.map((w) => w.code)).toEqual(['VW_ERR_DATEX_RECORD']);
    rec.writeInt16LE(1400, HDR.SR_DESC + 3);
    const r2 = decodeDatexRecord(rec, ctx);
    expect(r2.ok && r2.value.warnings[0]?.detail).toBe('subrecord 1 at offset 1400 exceeds the 596-byte record');
    rec.writeInt16LE(-40, HDR.SR_DESC + 3);
    expect(decodeDatexRecord(rec, ctx).ok).toBe(true);
  });

  it('rejects short records, an r_len that does not fit, and other main types', () => {
    expect(decodeDatexRecord(Buffer.alloc(10), ctx)).toMatchObject({
      ok: false,
      error: { code: 'VW_ERR_DATEX_RECORD' },
    });
    const rec = encodePhdbRecord({ time: T0, subrecords: [{ basic: { ecg: { hr: 60 } } }] });
    expect(decodeDatexRecord(rec.subarray(0, 300), ctx)).toMatchObject({
      ok: false,
      error: { code: 'VW_ERR_DATEX_RECORD' },
    });
    const short = Buffer.from(rec);
    short.writeInt16LE(39, HDR.R_LEN);
    expect(decodeDatexRecord(short, ctx)).toMatchObject({ ok: false, error: { code: 'VW_ERR_DATEX_RECORD' } });
    expect(decodeDatexRecord(encodeHeaderOnlyRecord(1, T0), ctx)).toMatchObject({
      ok: false,
      error: { code: 'VW_ERR_DATEX_UNSUPPORTED', detail: 'r_maintype 1 (waveform)' },
    });
    // A longer frame than r_len: the tail is ignored.
    expect(obs(decodeDatexRecord(Buffer.concat([rec, Buffer.alloc(7, 0xff)]), ctx))[0]?.number).toBe(60);
  });

  it('round-trips random basic values through encode, frame, pipeline and decode', () => {
    const v = fc.oneof(
      fc.integer({ min: -32000, max: 32767 }),
      fc.constantFrom(
        'no-data' as const,
        'not-updated' as const,
        'discontinuity' as const,
        'under-range' as const,
        'over-range' as const,
        'not-calibrated' as const,
      ),
    );
    const p = fc.option(fc.record({ label: fc.integer({ min: 0, max: 30 }), sys: v, dia: v, mean: v }), {
      nil: undefined,
    });
    const basic = fc.record({
      ecg: fc.option(fc.record({ hr: v, impRr: v }), { nil: undefined }),
      p: fc.array(p, { minLength: 6, maxLength: 6 }),
      nibp: fc.option(fc.record({ sys: v, dia: v, mean: v }), { nil: undefined }),
      t: fc.array(fc.option(fc.record({ label: fc.integer({ min: 0, max: 20 }), temp: v }), { nil: undefined }), {
        minLength: 4,
        maxLength: 4,
      }),
      spo2: fc.option(fc.record({ spo2: v, pr: v }), { nil: undefined }),
      co2: fc.option(fc.record({ et: v, fi: v, rr: v }), { nil: undefined }),
    });
    // Raw integers are given; the encoder takes physical values, so divide by each field's divisor.
    const phys = (x: number | DatexSentinel, d: number): number | DatexSentinel => (typeof x === 'number' ? x / d : x);
    fc.assert(
      fc.property(basic, fc.integer({ min: 1, max: 0xffffffff }), (b, time) => {
        const values: BasicValues = {
          ...(b.ecg ? { ecg: { hr: phys(b.ecg.hr, 1), impRr: phys(b.ecg.impRr, 1) } } : {}),
          p: b.p.map(
            (g) => g && { label: g.label, sys: phys(g.sys, 100), dia: phys(g.dia, 100), mean: phys(g.mean, 100) },
          ),
          ...(b.nibp
            ? { nibp: { sys: phys(b.nibp.sys, 100), dia: phys(b.nibp.dia, 100), mean: phys(b.nibp.mean, 100) } }
            : {}),
          t: b.t.map((g) => g && { label: g.label, temp: phys(g.temp, 100) }),
          ...(b.spo2 ? { spo2: { spo2: phys(b.spo2.spo2, 100), pr: phys(b.spo2.pr, 1) } } : {}),
          ...(b.co2 ? { co2: { et: phys(b.co2.et, 100), fi: phys(b.co2.fi, 100), rr: phys(b.co2.rr, 1) } } : {}),
        };
        const expected: [string, number | string][] = [];
        const add = (code: string, x: number | DatexSentinel, d: number) => expected.push([code, phys(x, d)]);
        if (b.ecg) {
          add('ecg.hr', b.ecg.hr, 1);
          add('ecg.imp_rr', b.ecg.impRr, 1);
        }
        const pushP = (k: number) => {
          const g = b.p[k];
          if (g) {
            add(`p${k + 1}.sys`, g.sys, 100);
            add(`p${k + 1}.dia`, g.dia, 100);
            add(`p${k + 1}.mean`, g.mean, 100);
          }
        };
        for (let k = 0; k < 4; k++) pushP(k);
        if (b.nibp) {
          add('nibp.sys', b.nibp.sys, 100);
          add('nibp.dia', b.nibp.dia, 100);
          add('nibp.mean', b.nibp.mean, 100);
        }
        b.t.forEach((g, k) => g && add(`t${k + 1}.temp`, g.temp, 100));
        if (b.spo2) {
          add('spo2.spo2', b.spo2.spo2, 100);
          add('spo2.pr', b.spo2.pr, 1);
        }
        if (b.co2) {
          add('co2.et', b.co2.et, 100);
          add('co2.fi', b.co2.fi, 100);
          add('co2.rr', b.co2.rr, 1);
        }
        for (let k = 4; k < 6; k++) pushP(k);

        const got: IObservation[] = [];
        const pipe = createPipeline(datexProtocol, {
          decoded: (d) => got.push(...d.observations),
          error: (e) => {
            throw new Error(e.code);
          },
        });
        pipe.push(encodePhdbFrame({ time, subrecords: [{ basic: values }] }), 1);
        pipe.end();
        const sentinelOf: Record<string, number> = {
          'no-data': DATA.INVALID,
          'not-updated': DATA.NOT_UPDATED,
          discontinuity: DATA.DISCONT,
          'under-range': DATA.UNDER_RANGE,
          'over-range': DATA.OVER_RANGE,
          'not-calibrated': DATA.NOT_CALIBRATED,
        };
        expect(got.map((o) => o.vendorCode)).toEqual(expected.map(([c]) => c));
        got.forEach((o, k) => {
          const want = expected[k]?.[1];
          if (typeof want === 'number') expect(o.number).toBe(want);
          else {
            expect(o.number).toBeUndefined();
            expect((o.flags ?? 0) & ~Flag.FLAG_UNMAPPED).toBe(sentinelFlags(sentinelOf[want as string] as number));
          }
          // A single record on a new link: its NIBP has no known time (see the NIBP time test).
          if (String(o.vendorCode).startsWith('nibp.')) expect(o.time?.deviceTimeUs ?? 0).toBe(0);
          else expect(o.time?.deviceTimeUs).toBe(time * 1e6);
        });
      }),
    );
  });

  it('dates an NIBP by the record where it changed: a repeated one keeps that time, one already there at link-up has none', () => {
    // The S/5 repeats its last NIBP in every record and sends no time of measurement (docs/datex.md, "NIBP time").
    const dec = datexProtocol.createDecoder();
    const nibpOf = (r: ReturnType<typeof dec.decode>) =>
      r.ok ? r.value.observations.filter((o) => String(o.vendorCode).startsWith('nibp.')) : [];
    const rec = (t: number, sys: number, dia: number, mean: number) =>
      encodePhdbRecord({ time: t, subrecords: [{ basic: { nibp: { sys, dia, mean } } }] });
    const t0 = 1_780_000_000;
    const first = nibpOf(dec.decode(rec(t0, 120, 80, 93), ctx));
    expect(first.map((o) => o.number)).toEqual([120, 80, 93]);
    for (const o of first) {
      expect(o.time?.deviceTimeUs ?? 0).toBe(0); // measured before the link came up: when, nobody knows
      expect(o.method).toBe('APERIODIC');
    }
    expect(nibpOf(dec.decode(rec(t0 + 10, 120, 80, 93), ctx)).map((o) => o.time?.deviceTimeUs ?? 0)).toEqual([0, 0, 0]);
    // A new measurement between two records: dated by the record that shows it, then kept while it is repeated.
    expect(nibpOf(dec.decode(rec(t0 + 20, 131, 85, 100), ctx)).map((o) => o.time?.deviceTimeUs)).toEqual([
      (t0 + 20) * 1e6,
      (t0 + 20) * 1e6,
      (t0 + 20) * 1e6,
    ]);
    const later = nibpOf(dec.decode(rec(t0 + 600, 131, 85, 100), ctx));
    expect(later.map((o) => o.time?.deviceTimeUs)).toEqual([(t0 + 20) * 1e6, (t0 + 20) * 1e6, (t0 + 20) * 1e6]);
    expect(later.map((o) => o.number)).toEqual([131, 85, 100]);
  });

  it('never throws on random bytes, truncated or mutated records', () => {
    const rec = encodePhdbRecord({
      time: T0,
      subrecords: [{ basic: { ecg: { hr: 60 }, nibp: { sys: 120 }, p: [{ label: 2 }] } }, { type: 2 }],
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => {
        decodeDatexRecord(Buffer.from(b), ctx);
      }),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: rec.length }),
        fc.array(fc.tuple(fc.nat({ max: rec.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        (cut, muts) => {
          const m = Buffer.from(rec.subarray(0, cut));
          for (const [at, v] of muts) if (at < m.length) m[at] = v;
          const r = decodeDatexRecord(m, ctx);
          if (r.ok)
            for (const o of r.value.observations)
              expect(o.number === undefined || Number.isFinite(o.number)).toBe(true);
        },
      ),
    );
  });

  it('detects Datex streams and not HL7 or text', () => {
    const frame = encodePhdbFrame({ time: T0, subrecords: [{}] });
    expect(looksLikeDatex(frame)).toBe(true);
    expect(looksLikeDatex(Buffer.concat([Buffer.from('noise'), frame.subarray(0, 30)]))).toBe(true);
    expect(looksLikeDatex(Buffer.from('\x0bMSH|^~\\&|MON|HOSP|||20261123080000||ORU^R01|1|P|2.6\r'))).toBe(false);
    expect(looksLikeDatex(Buffer.from('03/14/26 09:26:53 SN=123 SPO2=97% BPM=71 PI=1.2%'))).toBe(false);
    expect(looksLikeDatex(frame.subarray(0, 12))).toBe(false);
    // Auto-detection picks datex even when the record holds 0x0B (HL7's MLLP start byte): HR 11.
    const withVt = encodePhdbFrame({ time: T0, subrecords: [{ basic: { ecg: { hr: 11 } } }] });
    expect(withVt.includes(0x0b)).toBe(true);
    expect(detectProtocol(withVt)?.id).toBe('datex');
  });

  it('keeps the layout sizes of the sources', () => {
    expect(BASIC.END).toBe(PHDB.CLASS_BLOCK_SIZE);
    expect(PHDB.CLASS_BLOCK + PHDB.CLASS_BLOCK_SIZE + 4).toBe(PHDB.SIZE);
    expect(HDR.SR_DESC + HDR.SR_COUNT * HDR.SR_DESC_SIZE).toBe(HDR.SIZE);
  });
});
