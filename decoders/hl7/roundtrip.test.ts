// Property: whatever the encoder writes, the decoder reads back, value for value.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Flag } from '../../proto/index.js';
import { METRICS, UNITS } from '../mdc.js';
import { createHl7Decoder } from './decoder.js';
import { encodePcd01, type EncodeNumeric } from './encode.js';

const numericMetrics = [
  [METRICS.MDC_ECG_CARD_BEAT_RATE, UNITS.MDC_DIM_BEAT_PER_MIN],
  [METRICS.MDC_PULS_OXIM_SAT_O2, UNITS.MDC_DIM_PERCENT],
  [METRICS.MDC_PRESS_CUFF_SYS, UNITS.MDC_DIM_MMHG],
  [METRICS.MDC_TEMP, UNITS.MDC_DIM_DEGC],
  [METRICS.MDC_RESP_RATE, UNITS.MDC_DIM_RESP_PER_MIN],
] as const;

const numericArb = fc.record({
  which: fc.integer({ min: 0, max: numericMetrics.length - 1 }),
  // Up to three decimals, as monitors send; the sign never reaches the sentinels (-999, -99.9).
  value: fc.oneof(
    fc.integer({ min: -500, max: 5000 }).map((n) => n / 10),
    fc.integer({ min: 0, max: 300 }),
    fc.constant(null),
  ),
  demo: fc.boolean(),
});

describe('PCD-01 encode/decode round trip', () => {
  it('numerics keep code, unit, value, DEMO and time', () => {
    fc.assert(
      fc.property(
        fc.array(numericArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.integer({ min: -720, max: 840 }),
        (rows, sec, off) => {
          const timeUs = sec * 1_000_000 + 123_000;
          const numerics: EncodeNumeric[] = rows.map((r) => {
            const [m, u] = numericMetrics[r.which]!;
            return {
              mdc: m.mdc,
              refid: m.refid,
              value: r.value,
              unitMdc: u.mdc,
              unitRefid: u.refid,
              flags: r.demo ? ['DEMO'] : [],
            };
          });
          const msg = encodePcd01({
            controlId: 'RT',
            timeUs,
            utcOffsetMin: off,
            device: { eui64: '0256570000000001', model: 'M|x^y' },
            numerics,
          });
          const r = createHl7Decoder().decode(Buffer.from(msg), { gatewayTimeUs: 1 });
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.value.device).toBe('0256570000000001');
          expect(r.value.model).toBe('M|x^y'); // escaped on the way out, unescaped on the way in
          expect(r.value.observations).toHaveLength(rows.length);
          r.value.observations.forEach((o, i) => {
            const row = rows[i]!;
            const [m, u] = numericMetrics[row.which]!;
            expect(o.mdc).toBe(m.mdc);
            expect(o.unit).toBe(u.ucum);
            expect(o.time?.deviceTimeUs).toBe(timeUs);
            expect(o.time?.deviceUtcOffsetMin).toBe(off);
            expect(((o.flags ?? 0) & Flag.FLAG_DEMO) !== 0).toBe(row.demo);
            if (row.value === null) expect((o.flags ?? 0) & Flag.FLAG_UNAVAILABLE).toBeTruthy();
            else expect(o.number).toBe(row.value);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('waves keep samples, rate, resolution, invalid marker, and run on across messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 600 }),
        fc.constantFrom(62.5, 125, 250, 500),
        (samples, rate) => {
          const dec = createHl7Decoder();
          let start = 1_700_000_000_000_000;
          let expectedFirst = 0;
          for (let k = 0; k < 3; k++) {
            const msg = encodePcd01({
              controlId: `W${k}`,
              timeUs: start,
              waves: [
                {
                  mdc: 131330,
                  refid: 'MDC_ECG_ELEC_POTL_II',
                  containment: '1.1.1.131330',
                  samples,
                  rateHz: rate,
                  resolution: 0.001221,
                  unitMdc: 266418,
                  unitRefid: 'MDC_DIM_MILLI_VOLT',
                  invalid: 32767,
                },
              ],
            });
            const r = dec.decode(Buffer.from(msg), { gatewayTimeUs: 1 });
            expect(r.ok).toBe(true);
            if (!r.ok) return;
            const w = r.value.waves[0]!;
            expect(w.samples).toEqual(samples);
            expect(w.sampleRateHz).toBe(rate);
            expect(w.scale).toBeCloseTo(0.001221, 12);
            expect(w.unit).toBe('mV');
            expect(w.invalidValue).toBe(32767);
            expect(w.firstSample).toBe(expectedFirst);
            expectedFirst += samples.length;
            start += Math.round((samples.length / rate) * 1e6);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
