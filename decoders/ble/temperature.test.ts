import { describe, expect, it } from 'vitest';
import { decodeIntermediateTemperature, decodeTemperatureMeasurement } from './temperature.js';
import { runChar } from './test-support.js';

// Bytes written by hand from GATT Temperature Measurement (0x2A1C, HTS 3.1).
// FLOAT 0xFF00016D (bytes 6D 01 00 FF): exponent -1, mantissa 365 -> 36.5.
describe('Temperature Measurement 0x2A1C', () => {
  it('reads a Celsius body temperature', () => {
    const r = runChar(decodeTemperatureMeasurement, '00 6D0100FF');
    expect(r.records).toEqual([
      {
        kind: 'obs',
        mdc: 150364,
        refid: 'MDC_TEMP_BODY',
        value: 36.5,
        unit: 'Cel',
        vendorCode: '0x2A1C/temperature',
        vendorUnit: '°C',
        flags: [],
      },
    ]);
    expect(r.raw[0]?.unitMdc).toBe(268192);
  });

  it('keeps a Fahrenheit value in Fahrenheit', () => {
    // flags 0x01; FLOAT 0xFF0003DA: exponent -1, mantissa 986 -> 98.6
    const r = runChar(decodeTemperatureMeasurement, '01 DA0300FF');
    expect(r.records[0]).toMatchObject({ refid: 'MDC_TEMP_BODY', value: 98.6, unit: '[degF]', vendorUnit: '°F' });
    expect(r.raw[0]?.unitMdc).toBe(266560);
  });

  it.each([
    ['01', 188452, 'MDC_TEMP_AXILLA', 'armpit'], // IEEE 11073-10408 term, not Mindray's 188496 MDC_TEMP_AXIL
    ['02', 150364, 'MDC_TEMP_BODY', 'body'],
    ['03', 188428, 'MDC_TEMP_EAR', 'ear'],
    ['04', 188432, 'MDC_TEMP_FINGER', 'finger'],
    ['05', 150364, 'MDC_TEMP_BODY', 'gastro-intestinal tract'], // MDC_TEMP_GIT has one public source only
    ['06', 188424, 'MDC_TEMP_ORAL', 'mouth'],
    ['07', 188420, 'MDC_TEMP_RECT', 'rectum'],
    ['08', 188448, 'MDC_TEMP_TOE', 'toe'],
    ['09', 150392, 'MDC_TEMP_TYMP', 'tympanum'],
  ])('maps temperature type %s to %s %s', (type, mdc, refid, method) => {
    // flags 0x04: temperature type present
    expect(runChar(decodeTemperatureMeasurement, `04 6D0100FF ${type}`).records[0]).toMatchObject({
      mdc,
      refid,
      method,
      value: 36.5,
    });
  });

  it('treats reserved temperature types as an unknown site', () => {
    for (const t of ['00', '0A', 'FF']) {
      const o = runChar(decodeTemperatureMeasurement, `04 6D0100FF ${t}`).records[0];
      expect(o).toMatchObject({ refid: 'MDC_TEMP_BODY' });
      expect(o?.['method']).toBeUndefined();
    }
  });

  it('reads the time stamp before the type', () => {
    // flags 0x06; time 2026-01-02 03:04:05 (year 0x07EA -> EA 07); then type 06 (mouth)
    const r = runChar(decodeTemperatureMeasurement, '06 6D0100FF EA07 01 02 03 04 05 06');
    expect(r.records[0]).toMatchObject({ refid: 'MDC_TEMP_ORAL', time: '2026-01-02T03:04:05.000' });
  });

  it('turns FLOAT specials into flags', () => {
    expect(runChar(decodeTemperatureMeasurement, '00 FFFF7F00').records[0]).toMatchObject({
      value: null,
      flags: ['unavailable'],
    }); // NaN
    expect(runChar(decodeTemperatureMeasurement, '00 00008000').records[0]).toMatchObject({
      value: null,
      flags: ['unavailable'],
    }); // NRes
    expect(runChar(decodeTemperatureMeasurement, '00 FEFF7F00').records[0]).toMatchObject({
      value: '+INF',
      flags: ['out-of-range'],
    });
    expect(runChar(decodeTemperatureMeasurement, '00 02008000').records[0]).toMatchObject({
      value: '-INF',
      flags: ['out-of-range'],
    });
    expect(runChar(decodeTemperatureMeasurement, '00 01008000').records[0]).toMatchObject({
      value: null,
      flags: ['questionable', 'unavailable'],
    });
  });

  it('rejects a value shorter than its flags require', () => {
    expect(runChar(decodeTemperatureMeasurement, '00 6D0100').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
    expect(runChar(decodeTemperatureMeasurement, '04 6D0100FF').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
  });
});

describe('Intermediate Temperature 0x2A1E', () => {
  it('reads the same layout and marks the value provisional', () => {
    expect(runChar(decodeIntermediateTemperature, '00 6D0100FF').records[0]).toMatchObject({
      refid: 'MDC_TEMP_BODY',
      value: 36.5,
      vendorCode: '0x2A1E/temperature',
      flags: ['early-estimate'],
    });
  });
});
