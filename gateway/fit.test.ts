// The batcher's sizes are exact: itemBytes agrees with the generated protobufjs encoder (an independent encoder, not
// the hand-written one whose sizing pass it uses), for items as the decoders make them and random ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { preEncodeStatic, PRE_ENCODED } from '../proto/encode-batch.js';
import { Batch, type IAlarm, type IObservation, type IWaveformChunk } from '../proto/index.js';
import { itemBytes, utf8Prefix } from './fit.js';

const ref = (b: Parameters<typeof Batch.encode>[0]) => Batch.encode(b).finish().length;

describe('fit: exact item sizes', () => {
  it('sizes observations, waveform chunks and alarms as the generated encoder encodes them', () => {
    const T = Date.UTC(2026, 5, 1) * 1000;
    const o: IObservation = {
      time: { gatewayTimeUs: T, deviceTimeUs: T - 5e6, clockOffsetUs: -5e6, deviceUtcOffsetMin: 420 },
      mdc: 150456,
      refid: 'MDC_PULS_OXIM_SAT_O2',
      number: 97,
      unit: '%',
      unitMdc: 262688,
      vendorCode: '150456^MDC_PULS_OXIM_SAT_O2^MDC',
      containment: '1.3.1.150456',
      flags: 4096,
      text: 'Nhịp xoang',
    };
    const pre: IObservation = { ...o };
    (pre as IObservation & { [PRE_ENCODED]?: Uint8Array })[PRE_ENCODED] = preEncodeStatic(o);
    const w: IWaveformChunk = {
      time: { gatewayTimeUs: T },
      mdc: 131330,
      sampleRateHz: 500,
      firstSample: 123456789,
      samples: [0, -1, 63, -64, 8191, -8192, 1e9, -2147483648],
      scale: 0.001,
      unit: 'mV',
    };
    const a: IAlarm = {
      time: { gatewayTimeUs: T },
      id: 'A1',
      mdc: 196648,
      text: 'SpO2 thấp',
      priority: 4,
      kind: 1,
      state: 2,
      phase: 1,
      sourceValue: 85,
      sourceUnit: '%',
      facets: [{ mdc: 1, value: 'x' }],
    };
    expect(itemBytes('obs', o)).toBe(ref({ observations: [o] }));
    expect(itemBytes('obs', pre)).toBe(ref({ observations: [o] }));
    expect(itemBytes('wave', w)).toBe(ref({ waves: [w] }));
    expect(itemBytes('alarm', a)).toBe(ref({ alarms: [a] }));
  });

  it('agrees with the generated encoder on random observations and chunks', () => {
    fc.assert(
      fc.property(
        fc.record({
          mdc: fc.nat(),
          number: fc.double({ noNaN: true }),
          text: fc.string({ unit: 'grapheme', maxLength: 300 }),
          flags: fc.nat(),
          gatewayTimeUs: fc.nat(),
        }),
        fc.array(fc.integer({ min: -2147483648, max: 2147483647 }), { maxLength: 500 }),
        (r, samples) => {
          const o: IObservation = {
            mdc: r.mdc,
            number: r.number,
            text: r.text,
            flags: r.flags,
            time: { gatewayTimeUs: r.gatewayTimeUs },
          };
          const w: IWaveformChunk = {
            mdc: r.mdc,
            samples,
            firstSample: r.gatewayTimeUs,
            time: { gatewayTimeUs: r.gatewayTimeUs },
          };
          expect(itemBytes('obs', o)).toBe(ref({ observations: [o] }));
          expect(itemBytes('wave', w)).toBe(ref({ waves: [w] }));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('cuts UTF-8 text before a character, never inside one', () => {
    expect(utf8Prefix('abc', 10)).toBe('abc');
    expect(utf8Prefix('aệb', 2)).toBe('a'); // ệ is 3 bytes
    expect(utf8Prefix('aệb', 4)).toBe('aệ');
    expect(utf8Prefix('a😀', 4)).toBe('a'); // 4 bytes, a surrogate pair in JS
    expect(utf8Prefix('a😀', 5)).toBe('a😀');
  });
});
