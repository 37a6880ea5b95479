import { describe, expect, it } from 'vitest';
import { decodePlxSpotCheck } from './plx-spot-check.js';
import { runChar } from './test-support.js';

// Bytes written by hand from GATT PLX Spot-check Measurement (0x2A5E, PLXS 3.1).
// Timestamp 2026-11-23 07:59:30 = year 0x07EA (EA 07), month 0B, day 17, 07, 3B, 1E.
const TS = 'EA07 0B 17 07 3B 1E';

describe('PLX Spot-check Measurement 0x2A5E', () => {
  it('reads SpO2 and pulse rate as spot-check values', () => {
    expect(runChar(decodePlxSpotCheck, '00 6100 4800').records).toEqual([
      {
        kind: 'obs',
        mdc: 150456,
        refid: 'MDC_PULS_OXIM_SAT_O2',
        value: 97,
        unit: '%',
        vendorCode: '0x2A5E/spo2',
        vendorUnit: '%',
        method: 'MDC_MODALITY_SPOT',
        flags: [],
      },
      {
        kind: 'obs',
        mdc: 149530,
        refid: 'MDC_PULS_OXIM_PULS_RATE',
        value: 72,
        unit: '/min',
        vendorCode: '0x2A5E/pulse_rate',
        vendorUnit: 'bpm',
        method: 'MDC_MODALITY_SPOT',
        flags: [],
      },
    ]);
  });

  it('reads the timestamp as local time at the configured offset', () => {
    const r = runChar(decodePlxSpotCheck, `01 6100 4800 ${TS}`, 420);
    expect(r.records[0]).toMatchObject({ time: '2026-11-23T07:59:30.000', flags: [] });
    // 07:59:30 at UTC+07:00 is 00:59:30 UTC
    expect(r.raw[0]?.time?.deviceTimeUs).toBe(Date.UTC(2026, 10, 23, 0, 59, 30) * 1000);
  });

  it('marks the time suspect when the device clock is not set (flags bit 4)', () => {
    expect(runChar(decodePlxSpotCheck, `11 6100 4800 ${TS}`).records[0]).toMatchObject({
      time: '2026-11-23T07:59:30.000',
      flags: ['time-suspect'],
    });
  });

  it('maps demonstration, testing and calibration to their flags', () => {
    // flags 0x02; measurement status 0x1C00 = bits 10, 11, 12
    expect(runChar(decodePlxSpotCheck, '02 6100 4800 001C').records[0]).toMatchObject({
      value: 97,
      flags: ['demo', 'calibrating', 'test'],
    });
  });

  it('maps a displaced or disconnected sensor to sensor-off', () => {
    // flags 0x04; device status 0x00A800 = bits 11, 13, 15
    expect(runChar(decodePlxSpotCheck, '04 6100 4800 00A800').records[0]).toMatchObject({
      value: 97,
      flags: ['sensor-off'],
    });
  });

  it('hides the values of an invalid measurement', () => {
    // flags 0x02; measurement status 0x8000 = bit 15 invalid measurement detected
    expect(runChar(decodePlxSpotCheck, '02 6100 4800 0080').records[0]).toMatchObject({
      value: null,
      flags: ['questionable', 'unavailable'],
    });
  });

  it('reads the pulse amplitude index after all other fields', () => {
    // flags 0x0F; ts; ms 0x0000; ds 0x000000; PAI 0xE0EB = exponent -2, mantissa 0x0EB = 235 -> 2.35
    const r = runChar(decodePlxSpotCheck, `0F 6100 4800 ${TS} 0000 000000 EBE0`);
    expect(r.records[2]).toMatchObject({
      refid: 'MDC_PULS_OXIM_PERF_REL',
      value: 2.35,
      time: '2026-11-23T07:59:30.000',
    });
  });

  it('keeps the values with a warning when the timestamp is out of range', () => {
    // month 0x0D = 13
    const r = runChar(decodePlxSpotCheck, '01 6100 4800 EA07 0D 17 07 3B 1E');
    expect(r.warnings.map((w) => w.code)).toEqual(['VW_ERR_BLE_BAD_TIME']);
    expect(r.records[0]).toMatchObject({ value: 97 });
    expect(r.records[0]?.['time']).toBeUndefined();
  });

  it('treats a "not known" date (year 0) as no device time, without a warning', () => {
    const r = runChar(decodePlxSpotCheck, '11 6100 4800 0000 00 00 00 00 00');
    expect(r.warnings).toEqual([]);
    expect(r.records[0]).toMatchObject({ flags: [] });
    expect(r.records[0]?.['time']).toBeUndefined();
  });

  it('rejects a timestamp cut short', () => {
    expect(runChar(decodePlxSpotCheck, '01 6100 4800 EA07 0B').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
  });
});
