import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Flag, type IObservation } from '../../proto/index.js';
import type { Decoded } from '../decoded.js';
import { createNonin7Decoder } from './decoder7.js';
import { encodeNonin7Packet, type Nonin7Numerics, type Nonin7Packet } from './encode.js';
import { createNonin7Framer } from './framer7.js';
import { DF7_ARTF, DF7_GPRF, DF7_OOT, DF7_RPRF, DF7_SNSA, DF7_SNSD } from './status.js';

const ctx = { gatewayTimeUs: 1_000_000 };
const numerics: Nonin7Numerics = {
  hr: 300,
  spo2: 97,
  spo2D: 96,
  spo2Fast: 95,
  spo2BB: 94,
  eHr: 61,
  eSpo2: 93,
  eSpo2D: 92,
  hrD: 62,
  eHrD: 63,
};
const pleth = Array.from({ length: 25 }, (_, k) => 1000 * k);

function decodeOne(p: Partial<Nonin7Packet>, dec = createNonin7Decoder()): Decoded {
  const r = dec.decode(encodeNonin7Packet({ ...numerics, pleth, timer: 0, ...p }), ctx);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

const byVendor = (d: Decoded, code: string): IObservation | undefined =>
  d.observations.find((o) => o.vendorCode === code);

describe('Nonin format 7 decoder', () => {
  it('reads every multiplexed value, the 16-bit pleth and the MDC codes', () => {
    const d = decodeOne({});
    expect(d.observations.map((o) => [o.vendorCode, o.number, o.mdc])).toEqual([
      ['HR', 300, 149530],
      ['SpO2', 97, 150456],
      ['SpO2-D', 96, 0],
      ['SpO2 Fast', 95, 0],
      ['SpO2 B-B', 94, 0],
      ['E-HR', 61, 0],
      ['E-SpO2', 93, 0],
      ['E-SpO2-D', 92, 0],
      ['HR-D', 62, 0],
      ['E-HR-D', 63, 0],
    ]);
    expect(byVendor(d, 'E-HR')?.flags).toBe(Flag.FLAG_UNMAPPED);
    expect(byVendor(d, 'HR')).toMatchObject({ unit: '/min', unitMdc: 264864, vendorUnit: 'BPM', flags: 0 });
    const w = d.waves[0];
    expect(w).toMatchObject({
      mdc: 150452,
      refid: 'MDC_PULS_OXIM_PLETH',
      sampleRateHz: 75,
      firstSample: 0,
      scale: 1,
      unit: '',
    });
    expect(w?.samples).toEqual(pleth);
    expect(w?.time?.gatewayTimeUs).toBe(1_000_000);
  });

  it('turns the 511 / 127 sentinels into FLAG_UNAVAILABLE without a value', () => {
    const d = decodeOne({ hr: null, spo2: null, eHrD: null });
    for (const code of ['HR', 'SpO2', 'E-HR-D']) {
      const o = byVendor(d, code);
      expect(o?.number).toBeUndefined();
      expect((o?.flags ?? 0) & Flag.FLAG_UNAVAILABLE).toBeTruthy();
    }
    expect(byVendor(d, 'SpO2-D')?.number).toBe(96);
  });

  it.each([
    [DF7_SNSD, Flag.FLAG_SENSOR_OFF],
    [DF7_SNSA, Flag.FLAG_SENSOR_OFF],
    [DF7_OOT, Flag.FLAG_QUESTIONABLE],
    [DF7_ARTF, Flag.FLAG_ARTIFACT],
    [DF7_RPRF, Flag.FLAG_LOW_PERFUSION], // red
    [DF7_RPRF | DF7_GPRF, Flag.FLAG_LOW_PERFUSION], // yellow
    [DF7_GPRF, 0], // green: good signal
  ])('status bits %i in one frame flag the whole packet with %i', (bits, flag) => {
    const status = new Array<number>(25).fill(0);
    status[12] = bits;
    const d = decodeOne({ status });
    expect(d.waves[0]?.flags).toBe(flag);
    expect(byVendor(d, 'SpO2')?.flags).toBe(flag);
  });

  it('numbers samples from the packet timer: continuous, a jump for a lost packet, wrap at 14 bits', () => {
    const dec = createNonin7Decoder();
    const first = (timer: number) => decodeOne({ timer }, dec).waves[0]?.firstSample;
    expect([first(16382), first(16383), first(0), first(2), first(2), first(9000)]).toEqual([0, 25, 50, 100, 125, 150]);
  });

  it('rejects a wrong length, a bad checksum and a misplaced SYNC bit, keeping its sample counter', () => {
    const dec = createNonin7Decoder();
    const good = encodeNonin7Packet({ ...numerics, pleth, timer: 5 });
    const badSum = Buffer.from(good);
    badSum[64] = ((badSum[64] as number) ^ 1) & 0xff;
    const badSync = Buffer.from(good);
    badSync[10] = (badSync[10] as number) | 1;
    badSync[14] = ((badSync[14] as number) + 1) & 0xff;
    for (const b of [good.subarray(0, 120), badSum, badSync]) {
      const r = dec.decode(b, ctx);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('VW_ERR_NONIN_CHECKSUM');
    }
    expect(decodeOne({ timer: 5 }, dec).waves[0]?.firstSample).toBe(0);
  });

  it('never throws on arbitrary frames', () => {
    const dec = createNonin7Decoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        dec.decode(Buffer.from(b), ctx);
      }),
    );
  });

  it('round-trips random packets through encoder, framer and decoder', () => {
    const sat = fc.option(fc.integer({ min: 0, max: 100 }), { nil: null });
    const rate = fc.option(fc.integer({ min: 0, max: 321 }), { nil: null });
    const pkt = fc.record({
      hr: rate,
      spo2: sat,
      spo2D: sat,
      spo2Fast: sat,
      spo2BB: sat,
      eHr: rate,
      eSpo2: sat,
      eSpo2D: sat,
      hrD: rate,
      eHrD: rate,
      pleth: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 25, maxLength: 25 }),
      timer: fc.integer({ min: 0, max: 16383 }),
      status: fc.array(fc.constantFrom(0, DF7_ARTF, DF7_OOT, DF7_GPRF), { minLength: 25, maxLength: 25 }),
    });
    fc.assert(
      fc.property(fc.array(pkt, { minLength: 1, maxLength: 4 }), (pkts) => {
        const framer = createNonin7Framer();
        const dec = createNonin7Decoder();
        const out: Decoded[] = [];
        const sink = {
          frame: (b: Buffer) => {
            const r = dec.decode(b, ctx);
            if (r.ok) out.push(r.value);
          },
          error: () => undefined,
        };
        framer.push(Buffer.concat(pkts.map(encodeNonin7Packet)), sink);
        expect(out.length).toBe(pkts.length);
        pkts.forEach((p, i) => {
          const d = out[i] as Decoded;
          const order: (keyof Nonin7Numerics)[] = [
            'hr',
            'spo2',
            'spo2D',
            'spo2Fast',
            'spo2BB',
            'eHr',
            'eSpo2',
            'eSpo2D',
            'hrD',
            'eHrD',
          ];
          expect(d.observations.map((o) => o.number ?? null)).toEqual(order.map((k) => p[k]));
          expect(d.waves[0]?.samples).toEqual(p.pleth);
        });
      }),
    );
  });
});
