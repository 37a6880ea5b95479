import { describe, expect, it } from 'vitest';
import { decodeHeartRate } from './heart-rate.js';
import { runChar } from './test-support.js';

// Bytes written by hand from GATT Heart Rate Measurement (0x2A37, HRS 3.1.1).
describe('Heart Rate Measurement 0x2A37', () => {
  it('reads a UINT8 heart rate with sensor contact detected', () => {
    // flags 0x06: bit 0 = 0 (UINT8), bits 1-2 = 3 (contact supported and detected); HR 0x48 = 72
    const r = runChar(decodeHeartRate, '06 48');
    expect(r.error).toBeUndefined();
    expect(r.records).toEqual([
      {
        kind: 'obs',
        mdc: 147842,
        refid: 'MDC_ECG_CARD_BEAT_RATE',
        value: 72,
        unit: '/min',
        vendorCode: '0x2A37/heart_rate',
        vendorUnit: 'bpm',
        flags: [],
      },
    ]);
    expect(r.raw[0]?.unitMdc).toBe(264864);
  });

  it('flags sensor-off when contact is supported but not detected', () => {
    // flags 0x04: bits 1-2 = 2
    expect(runChar(decodeHeartRate, '04 48').records[0]).toMatchObject({ value: 72, flags: ['sensor-off'] });
    // bits 1-2 = 0 or 1: the feature is not supported, nothing is said about contact
    expect(runChar(decodeHeartRate, '02 48').records[0]).toMatchObject({ flags: [] });
  });

  it('reads a UINT16 heart rate', () => {
    // flags 0x01: UINT16; 0x012C = 300
    expect(runChar(decodeHeartRate, '01 2C01').records[0]).toMatchObject({ value: 300 });
  });

  it('reads energy expended and RR intervals (1/1024 s to ms)', () => {
    // flags 0x18: energy (bit 3) and RR (bit 4); HR 0x50 = 80; energy 0x03E8 = 1000 kJ;
    // RR 0x0400 = 1024/1024 s = 1000 ms; RR 0x0200 = 512/1024 s = 500 ms; RR 0x0333 = 819/1024 s = 799.8046875 ms
    const r = runChar(decodeHeartRate, '18 50 E803 0004 0002 3303');
    expect(r.records.map((o) => [o['refid'], o['value'], o['unit']])).toEqual([
      ['MDC_ECG_CARD_BEAT_RATE', 80, '/min'],
      ['MDC_HF_ENERGY', 1000, 'kJ'],
      ['MDC_ECG_TIME_PD_RR_GL', 1000, 'ms'],
      ['MDC_ECG_TIME_PD_RR_GL', 500, 'ms'],
      ['MDC_ECG_TIME_PD_RR_GL', 799.8046875, 'ms'],
    ]);
    expect(r.records[2]).toMatchObject({ mdc: 147240, vendorCode: '0x2A37/rr_interval', vendorUnit: '1/1024 s' });
    expect(r.records[1]).toMatchObject({ mdc: 8454263, vendorCode: '0x2A37/energy_expended' });
  });

  it('marks a saturated energy counter (65535 kJ) out of range', () => {
    expect(runChar(decodeHeartRate, '08 50 FFFF').records[1]).toMatchObject({ value: 65535, flags: ['out-of-range'] });
  });

  it('gives RR intervals the sensor-off flag of their heart rate', () => {
    expect(runChar(decodeHeartRate, '14 50 0004').records[1]).toMatchObject({ value: 1000, flags: ['sensor-off'] });
  });

  it.each([
    ['', 'empty'],
    ['06', 'no heart rate'],
    ['01 2C', 'UINT16 cut short'],
    ['08 50 E8', 'energy cut short'],
    ['10 50 00', 'odd RR tail'],
  ])('rejects %j (%s) without emitting values', (hex) => {
    const r = runChar(decodeHeartRate, hex);
    expect(r.error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
    expect(r.raw).toEqual([]);
  });
});
