import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Flag } from '../../proto/index.js';
import { createPipeline } from '../pipeline.js';
import { decodedRecords, errorRecord, type NdjsonRecord } from '../ndjson.js';
import { bleBridgeProtocol } from './index.js';
import {
  bridgeLine,
  bridgeLinkLine,
  encodeBloodPressure,
  encodeCuffPressure,
  encodeHeartRate,
  encodePlxContinuous,
  encodePlxSpotCheck,
  encodeTemperature,
  floatFrom,
  sfloatFrom,
  UUIDS,
  type MedFloat,
} from './encode.js';
import { measurementStatusFlags } from './plx-status.js';
import { floatValue, sfloatValue } from './sfloat.js';

const ADDR = 'C4:7F:51:0A:22:3B';

function decodeLines(lines: string[]): NdjsonRecord[] {
  const out: NdjsonRecord[] = [];
  const pipe = createPipeline(bleBridgeProtocol, {
    decoded: (d) => out.push(...decodedRecords(d)),
    error: (e) => out.push(errorRecord(e)),
  });
  pipe.push(Buffer.from(lines.map((l) => `${l}\r\n`).join('')), 1);
  pipe.end();
  return out;
}

// Decimal values an SFLOAT / FLOAT carries exactly: mantissa / 10^decimals.
const sfloatNumber = fc
  .tuple(fc.integer({ min: -2045, max: 2045 }), fc.integer({ min: 0, max: 3 }))
  .map(([m, d]) => m / 10 ** d + 0);
const floatNumber = fc
  .tuple(fc.integer({ min: -8388605, max: 8388605 }), fc.integer({ min: 0, max: 4 }))
  .map(([m, d]) => m / 10 ** d + 0);
const special = fc.constantFrom<MedFloat>('NaN', 'NRes', '+INF', '-INF');
const sfloatIn = fc.oneof(
  { weight: 4, arbitrary: sfloatNumber as fc.Arbitrary<MedFloat> },
  { weight: 1, arbitrary: special },
);
const floatIn = fc.oneof(
  { weight: 4, arbitrary: floatNumber as fc.Arbitrary<MedFloat> },
  { weight: 1, arbitrary: special },
);
const dateTime = fc.record({
  year: fc.integer({ min: 1582, max: 9999 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  hours: fc.integer({ min: 0, max: 23 }),
  minutes: fc.integer({ min: 0, max: 59 }),
  seconds: fc.integer({ min: 0, max: 59 }),
});

/** The record value a MedFloat must decode to, given the other flags on the value. */
function expected(v: MedFloat, unavailable = false): unknown {
  if (unavailable || v === 'NaN' || v === 'NRes') return null;
  return v;
}

describe('encoders round-trip through the bridge decoder', () => {
  it('SFLOAT and FLOAT carry decimal values exactly', () => {
    fc.assert(
      fc.property(sfloatNumber, (v) => {
        expect(sfloatValue(sfloatFrom(v))).toBe(v);
      }),
    );
    fc.assert(
      fc.property(floatNumber, (v) => {
        expect(floatValue(floatFrom(v))).toBe(v);
      }),
    );
    expect(sfloatFrom(36.5)).toBe(0xf16d); // mantissa 365, exponent -1
    expect(sfloatFrom(20000)).toBe(0x17d0); // mantissa 2000, exponent 1
    expect(floatFrom(36.5)).toBe(0xff00016d);
    expect(() => sfloatFrom(2046)).toThrow(RangeError); // 2046 is a special code; 204.6e1 is not an integer mantissa
    expect(() => sfloatFrom(Number.NaN)).toThrow(RangeError); // a special is sent by name ('NaN'), not as a number
  });

  it('heart rate, energy and RR intervals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.boolean(),
        fc.constantFrom(undefined, 'unsupported', 'lost', 'detected' as const),
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 8 }),
        (bpm, wide, contact, energyKj, rr1024) => {
          const v = {
            bpm,
            wide,
            rr1024,
            ...(contact ? { contact } : {}),
            ...(energyKj !== undefined ? { energyKj } : {}),
          };
          const r = decodeLines([bridgeLine(ADDR, ...UUIDS.heartRate, encodeHeartRate(v))]);
          const want = [bpm, ...(energyKj !== undefined ? [energyKj] : []), ...rr1024.map((x) => (x * 1000) / 1024)];
          expect(r.map((o) => o['value'])).toEqual(want);
          expect(r[0]?.['flags']).toEqual(contact === 'lost' ? ['sensor-off'] : []);
        },
      ),
    );
  });

  it('PLX continuous with optional fields and statuses', () => {
    const pair = fc.record({ spo2: sfloatIn, pulseRate: sfloatIn });
    fc.assert(
      fc.property(
        pair,
        fc.option(pair, { nil: undefined }),
        fc.option(pair, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 0xffffff }), { nil: undefined }),
        fc.option(sfloatIn, { nil: undefined }),
        (normal, fast, slow, measurementStatus, deviceStatus, pai) => {
          const v = {
            ...normal,
            ...(fast ? { fast } : {}),
            ...(slow ? { slow } : {}),
            ...(measurementStatus !== undefined ? { measurementStatus } : {}),
            ...(deviceStatus !== undefined ? { deviceStatus } : {}),
            ...(pai !== undefined ? { pai } : {}),
          };
          const r = decodeLines([bridgeLine(ADDR, ...UUIDS.plxContinuous, encodePlxContinuous(v))]);
          const gone =
            ((measurementStatus === undefined ? 0 : measurementStatusFlags(measurementStatus)) &
              Flag.FLAG_UNAVAILABLE) !==
            0;
          const sent = [normal, ...(fast ? [fast] : []), ...(slow ? [slow] : [])]
            .flatMap((p) => [p.spo2, p.pulseRate])
            .concat(pai !== undefined ? [pai] : []);
          expect(r.map((o) => o['value'])).toEqual(sent.map((x) => expected(x, gone)));
        },
      ),
    );
  });

  it('PLX spot-check with a timestamp', () => {
    fc.assert(
      fc.property(sfloatIn, sfloatIn, dateTime, fc.boolean(), (spo2, pulseRate, timestamp, clockNotSet) => {
        const r = decodeLines([
          bridgeLine(ADDR, ...UUIDS.plxSpotCheck, encodePlxSpotCheck({ spo2, pulseRate, timestamp, clockNotSet })),
        ]);
        expect(r.map((o) => o['value'])).toEqual([expected(spo2), expected(pulseRate)]);
        const p2 = (n: number) => String(n).padStart(2, '0');
        expect(r[0]?.['time']).toBe(
          `${String(timestamp.year).padStart(4, '0')}-${p2(timestamp.month)}-${p2(timestamp.day)}T${p2(timestamp.hours)}:${p2(timestamp.minutes)}:${p2(timestamp.seconds)}.000`,
        );
        expect((r[0]?.['flags'] as string[]).includes('time-suspect')).toBe(clockNotSet);
      }),
    );
  });

  it('temperature in either unit, any type', () => {
    fc.assert(
      fc.property(
        floatIn,
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        fc.boolean(),
        (value, fahrenheit, type, intermediate) => {
          const [svc, chr] = intermediate ? UUIDS.intermediateTemperature : UUIDS.temperature;
          const r = decodeLines([
            bridgeLine(
              ADDR,
              svc,
              chr,
              encodeTemperature({ value, fahrenheit, ...(type !== undefined ? { type } : {}) }),
            ),
          ]);
          expect(r).toHaveLength(1);
          expect(r[0]).toMatchObject({ value: expected(value), unit: fahrenheit ? '[degF]' : 'Cel' });
        },
      ),
    );
  });

  it('blood pressure and cuff pressure', () => {
    fc.assert(
      fc.property(
        sfloatIn,
        sfloatIn,
        sfloatIn,
        fc.boolean(),
        fc.option(sfloatIn, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 254 }), { nil: undefined }),
        (systolic, diastolic, map, kpa, pulseRate, userId) => {
          const extra = {
            kpa,
            ...(pulseRate !== undefined ? { pulseRate } : {}),
            ...(userId !== undefined ? { userId } : {}),
          };
          const bp = decodeLines([
            bridgeLine(ADDR, ...UUIDS.bloodPressure, encodeBloodPressure({ systolic, diastolic, map, ...extra })),
          ]);
          const tail = [
            ...(pulseRate !== undefined ? [expected(pulseRate)] : []),
            ...(userId !== undefined ? [userId] : []),
          ];
          expect(bp.map((o) => o['value'])).toEqual([expected(systolic), expected(diastolic), expected(map), ...tail]);
          expect(bp[0]?.['unit']).toBe(kpa ? 'kPa' : 'mm[Hg]');
          const cuff = decodeLines([
            bridgeLine(ADDR, ...UUIDS.cuffPressure, encodeCuffPressure({ cuff: systolic, ...extra })),
          ]);
          expect(cuff.map((o) => o['value'])).toEqual([expected(systolic), ...tail]);
        },
      ),
    );
  });

  it('link lines', () => {
    expect(decodeLines([bridgeLinkLine(ADDR, 'connecting')])).toEqual([
      { kind: 'status', device: 'C47F510A223B', state: 'connecting' },
    ]);
  });
});
