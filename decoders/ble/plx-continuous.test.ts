import { describe, expect, it } from 'vitest';
import { Flag } from '../../proto/index.js';
import { decodePlxContinuous } from './plx-continuous.js';
import { deviceStatusFlags, measurementStatusFlags } from './plx-status.js';
import { runChar } from './test-support.js';

// Bytes written by hand from GATT PLX Continuous Measurement (0x2A5F, PLXS 3.2).
describe('PLX Continuous Measurement 0x2A5F', () => {
  it('reads SpO2 and pulse rate', () => {
    // flags 0x00; SpO2 SFLOAT 0x0061 = 97; PR SFLOAT 0x0048 = 72
    expect(runChar(decodePlxContinuous, '00 6100 4800').records).toEqual([
      {
        kind: 'obs',
        mdc: 150456,
        refid: 'MDC_PULS_OXIM_SAT_O2',
        value: 97,
        unit: '%',
        vendorCode: '0x2A5F/spo2',
        vendorUnit: '%',
        flags: [],
      },
      {
        kind: 'obs',
        mdc: 149530,
        refid: 'MDC_PULS_OXIM_PULS_RATE',
        value: 72,
        unit: '/min',
        vendorCode: '0x2A5F/pulse_rate',
        vendorUnit: 'bpm',
        flags: [],
      },
    ]);
  });

  it('reads every optional field in order and applies the status flags to all values', () => {
    // flags 0x1F; normal 97/72; fast 0x0060 = 96 / 0x004A = 74; slow 0x0062 = 98 / 0x0047 = 71;
    // measurement status 0x0040 (bit 6 early estimate); device status 0x000020 (bit 5 low
    // perfusion); PAI 0xF02D = exponent -1, mantissa 45 -> 4.5
    const r = runChar(decodePlxContinuous, '1F 6100 4800 6000 4A00 6200 4700 4000 200000 2DF0');
    expect(r.records.map((o) => [o['vendorCode'], o['value'], o['method']])).toEqual([
      ['0x2A5F/spo2', 97, undefined],
      ['0x2A5F/pulse_rate', 72, undefined],
      ['0x2A5F/spo2_fast', 96, 'MDC_MODALITY_FAST'],
      ['0x2A5F/pulse_rate_fast', 74, 'MDC_MODALITY_FAST'],
      ['0x2A5F/spo2_slow', 98, 'MDC_MODALITY_SLOW'],
      ['0x2A5F/pulse_rate_slow', 71, 'MDC_MODALITY_SLOW'],
      ['0x2A5F/pulse_amplitude_index', 4.5, undefined],
    ]);
    for (const o of r.records) expect(o['flags']).toEqual(['low-perfusion', 'early-estimate']);
    expect(r.records[6]).toMatchObject({ mdc: 150448, refid: 'MDC_PULS_OXIM_PERF_REL', unit: '%' });
  });

  it('turns SFLOAT specials into flags, never into numbers', () => {
    // 0x07FF NaN, 0x0800 NRes -> unavailable; 0x07FE +INF, 0x0802 -INF -> out-of-range with text;
    // 0x0801 reserved -> unavailable + questionable
    expect(runChar(decodePlxContinuous, '00 FF07 0008').records.map((o) => [o['value'], o['flags']])).toEqual([
      [null, ['unavailable']],
      [null, ['unavailable']],
    ]);
    expect(runChar(decodePlxContinuous, '00 FE07 0208').records.map((o) => [o['value'], o['flags']])).toEqual([
      ['+INF', ['out-of-range']],
      ['-INF', ['out-of-range']],
    ]);
    expect(runChar(decodePlxContinuous, '00 0108 4800').records[0]).toMatchObject({
      value: null,
      flags: ['questionable', 'unavailable'],
    });
  });

  it('unsets the values when the measurement status says unavailable', () => {
    // flags 0x04; measurement status 0x2000 (bit 13 measurement unavailable)
    for (const o of runChar(decodePlxContinuous, '04 6100 4800 0020').records)
      expect(o).toMatchObject({ value: null, flags: ['unavailable'] });
  });

  it('rejects a value shorter than its flags require', () => {
    expect(runChar(decodePlxContinuous, '1F 6100 4800').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
    expect(runChar(decodePlxContinuous, '00 6100 48').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
    expect(runChar(decodePlxContinuous, '').error?.code).toBe('VW_ERR_BLE_BAD_PAYLOAD');
  });
});

describe('PLX status bits -> flags', () => {
  it.each([
    [5, 0], // measurement ongoing
    [6, Flag.FLAG_EARLY_ESTIMATE],
    [7, 0], // validated data
    [8, 0], // fully qualified data
    [9, 0], // data from measurement storage
    [10, Flag.FLAG_DEMO],
    [11, Flag.FLAG_TEST],
    [12, Flag.FLAG_CALIBRATING],
    [13, Flag.FLAG_UNAVAILABLE],
    [14, Flag.FLAG_QUESTIONABLE],
    [15, Flag.FLAG_UNAVAILABLE | Flag.FLAG_QUESTIONABLE], // invalid measurement detected
  ])('measurement status bit %i', (bit, flags) => {
    expect(measurementStatusFlags(1 << bit)).toBe(flags);
  });

  it.each([
    [0, 0], // extended display update ongoing
    [1, Flag.FLAG_QUESTIONABLE], // equipment malfunction
    [2, Flag.FLAG_QUESTIONABLE], // signal processing irregularity
    [3, Flag.FLAG_QUESTIONABLE], // inadequate signal
    [4, Flag.FLAG_QUESTIONABLE], // poor signal
    [5, Flag.FLAG_LOW_PERFUSION],
    [6, Flag.FLAG_ARTIFACT], // erratic signal
    [7, Flag.FLAG_QUESTIONABLE], // non-pulsatile signal
    [8, Flag.FLAG_QUESTIONABLE], // questionable pulse
    [9, 0], // signal analysis ongoing
    [10, Flag.FLAG_ARTIFACT], // sensor interference
    [11, Flag.FLAG_SENSOR_OFF], // sensor unconnected to user
    [12, Flag.FLAG_QUESTIONABLE], // unknown sensor connected
    [13, Flag.FLAG_SENSOR_OFF], // sensor displaced
    [14, Flag.FLAG_QUESTIONABLE], // sensor malfunctioning
    [15, Flag.FLAG_SENSOR_OFF], // sensor disconnected
    [16, 0], // reserved
  ])('device and sensor status bit %i', (bit, flags) => {
    expect(deviceStatusFlags(1 << bit)).toBe(flags);
  });

  it('ignores the reserved measurement status bits 0-4', () => {
    expect(measurementStatusFlags(0x001f)).toBe(0);
  });
});
