import { describe, expect, it } from 'vitest';
import { decodeBloodPressureMeasurement, decodeIntermediateCuffPressure } from './blood-pressure.js';
import { runChar } from './test-support.js';

// Bytes written by hand from GATT Blood Pressure Measurement (0x2A35, BLS 3.1) and
// Intermediate Cuff Pressure (0x2A36, BLS 3.2).
describe('Blood Pressure Measurement 0x2A35', () => {
  it('reads systolic, diastolic and MAP in mmHg', () => {
    // flags 0x00; SFLOAT 0x0079 = 121, 0x0051 = 81, 0x006A = 106
    const r = runChar(decodeBloodPressureMeasurement, '00 7900 5100 6A00');
    expect(r.records).toEqual([
      {
        kind: 'obs',
        mdc: 150021,
        refid: 'MDC_PRESS_BLD_NONINV_SYS',
        value: 121,
        unit: 'mm[Hg]',
        vendorCode: '0x2A35/systolic',
        vendorUnit: 'mmHg',
        flags: [],
      },
      {
        kind: 'obs',
        mdc: 150022,
        refid: 'MDC_PRESS_BLD_NONINV_DIA',
        value: 81,
        unit: 'mm[Hg]',
        vendorCode: '0x2A35/diastolic',
        vendorUnit: 'mmHg',
        flags: [],
      },
      {
        kind: 'obs',
        mdc: 150023,
        refid: 'MDC_PRESS_BLD_NONINV_MEAN',
        value: 106,
        unit: 'mm[Hg]',
        vendorCode: '0x2A35/mean_arterial_pressure',
        vendorUnit: 'mmHg',
        flags: [],
      },
    ]);
    expect(r.raw.map((o) => o.unitMdc)).toEqual([266016, 266016, 266016]);
  });

  it('keeps kPa values in kPa', () => {
    // flags 0x01; 0xF0A1 = exponent -1, mantissa 161 -> 16.1; 0xF06C -> 10.8; 0xF07F -> 12.7
    const r = runChar(decodeBloodPressureMeasurement, '01 A1F0 6CF0 7FF0');
    expect(r.records.map((o) => [o['value'], o['unit'], o['vendorUnit']])).toEqual([
      [16.1, 'kPa', 'kPa'],
      [10.8, 'kPa', 'kPa'],
      [12.7, 'kPa', 'kPa'],
    ]);
    expect(r.raw[0]?.unitMdc).toBe(265987);
  });

  it('reads time stamp, pulse rate, user id and measurement status', () => {
    // flags 0x1E; 2026-11-23 08:00:00; PR 0x0048 = 72; user 0x02; status 0x0009 = bit 0 body
    // movement + bits 3-4 = 1 (pulse rate above the upper limit)
    const r = runChar(decodeBloodPressureMeasurement, '1E 7900 5100 6A00 EA07 0B 17 08 00 00 4800 02 0900');
    expect(r.records.map((o) => [o['refid'], o['value'], o['flags']])).toEqual([
      ['MDC_PRESS_BLD_NONINV_SYS', 121, ['artifact']],
      ['MDC_PRESS_BLD_NONINV_DIA', 81, ['artifact']],
      ['MDC_PRESS_BLD_NONINV_MEAN', 106, ['artifact']],
      ['MDC_PULS_RATE_NON_INV', 72, ['artifact', 'abnormal']],
      [undefined, 2, ['unmapped']], // no MDC code: refid empty, dropped from the record
    ]);
    expect(r.records[3]).toMatchObject({ mdc: 149546, unit: '/min', time: '2026-11-23T08:00:00.000' });
    expect(r.records[4]).toMatchObject({ mdc: 0, vendorCode: '0x2A35/user_id', unit: '1' });
  });

  it.each([
    ['0200', ['questionable'], []], // bit 1 cuff too loose
    ['0400', [], ['abnormal']], // bit 2 irregular pulse
    ['1000', [], ['abnormal']], // bits 3-4 = 2: pulse rate below the lower limit
    ['1800', [], []], // bits 3-4 = 3: reserved
    ['2000', ['questionable'], []], // bit 5 improper measurement position
  ])('status %s flags the pressures %j and the pulse rate also %j', (status, all, pulseOnly) => {
    // flags 0x14: pulse rate and status present
    const r = runChar(decodeBloodPressureMeasurement, `14 7900 5100 6A00 4800 ${status}`);
    expect(r.records[0]?.['flags']).toEqual(all);
    expect(r.records[3]?.['flags']).toEqual([...all, ...pulseOnly]);
  });

  it('sends no user value for the unknown user 0xFF', () => {
    expect(runChar(decodeBloodPressureMeasurement, '08 7900 5100 6A00 FF').records).toHaveLength(3);
  });

  it('reports a NaN MAP as unavailable and keeps the others', () => {
    expect(runChar(decodeBloodPressureMeasurement, '00 7900 5100 FF07').records.map((o) => o['value'])).toEqual([
      121,
      81,
      null,
    ]);
  });

  it('rejects a value shorter than its flags require', () => {
    expect(runChar(decodeBloodPressureMeasurement, '00 7900 5100').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
    expect(runChar(decodeBloodPressureMeasurement, '10 7900 5100 6A00 09').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
  });
});

describe('Intermediate Cuff Pressure 0x2A36', () => {
  it('reads the cuff pressure and ignores the unused diastolic and MAP fields', () => {
    // flags 0x00; cuff 0x0096 = 150; diastolic and MAP NaN (0x07FF), as BLS 3.2 requires
    expect(runChar(decodeIntermediateCuffPressure, '00 9600 FF07 FF07').records).toEqual([
      {
        kind: 'obs',
        mdc: 150300,
        refid: 'MDC_PRESS_CUFF',
        value: 150,
        unit: 'mm[Hg]',
        vendorCode: '0x2A36/cuff_pressure',
        vendorUnit: 'mmHg',
        flags: [],
      },
    ]);
  });

  it('reads a pulse rate sent with the cuff pressure', () => {
    expect(runChar(decodeIntermediateCuffPressure, '04 9600 FF07 FF07 4B00').records[1]).toMatchObject({
      refid: 'MDC_PULS_RATE_NON_INV',
      value: 75,
      vendorCode: '0x2A36/pulse_rate',
    });
  });
});
