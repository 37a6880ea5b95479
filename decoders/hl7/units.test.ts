// Units of PCD-01 numerics, from UCUM (unitsofmeasure.org, c/s codes) and IHE PCD TF-2 (OBX-6:
// an MDC dimension code `<code>^<MDC_DIM_..>^MDC` or UCUM `<ucum>^<ucum>^UCUM`). Expected values
// follow the definitions: [degF] = 5/9 K offset so that 32 [degF] = 0 Cel; K = Cel + 273.15.
import { describe, expect, it } from 'vitest';
import { createHl7Decoder } from './decoder.js';
import { decode, message, records } from './test-messages.js';
import { ucumCalls } from '../units/ucum.js';

const TEMP = '150344^MDC_TEMP^MDC';
const obx = (code: string, value: string, unit: string, status = 'R') =>
  `OBX|1|NM|${code}|1.13.1.150344|${value}|${unit}|||||${status}`;

describe('PCD-01 units (UCUM)', () => {
  it('a temperature in [degF] (UCUM) leaves in Cel, derived, with the sent value and unit kept', () => {
    const [r] = records([obx(TEMP, '98.6', '[degF]^[degF]^UCUM')]);
    // (98.6 - 32) * 5/9 = 37 exactly.
    expect(r).toMatchObject({
      refid: 'MDC_TEMP',
      value: 37,
      unit: 'Cel',
      sentValue: 98.6,
      vendorUnit: '[degF]^[degF]^UCUM',
    });
    expect(r?.['flags']).toEqual(['derived']);
  });

  it('MDC_DIM_FAHR (4:4416) and a plain F for a temperature are Fahrenheit; 100.4 °F = 38 °C', () => {
    for (const unit of ['266560^MDC_DIM_FAHR^MDC', 'F', '°F']) {
      const [r] = records([obx(TEMP, '100.4', unit)]);
      expect(r, unit).toMatchObject({ value: 38, unit: 'Cel', sentValue: 100.4, flags: ['derived'] });
    }
  });

  it('K is converted exactly (310.15 K = 37 Cel); Cel is kept as sent, not derived', () => {
    expect(records([obx(TEMP, '310.15', 'K^K^UCUM')])[0]).toMatchObject({
      value: 37,
      unit: 'Cel',
      sentValue: 310.15,
      flags: ['derived'],
    });
    const [c] = records([obx(TEMP, '36.9', '268192^MDC_DIM_DEGC^MDC')]);
    expect(c).toMatchObject({ value: 36.9, unit: 'Cel' });
    expect(c?.['sentValue']).toBeUndefined();
    expect(c?.['flags']).toEqual([]);
  });

  it('a missing OBX-6 leaves an empty unit only with FLAG_UNIT_UNKNOWN; the canonical unit is not assumed', () => {
    const [r] = records(['OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|97||||||R']);
    expect(r).toMatchObject({ refid: 'MDC_PULS_OXIM_SAT_O2', value: 97 });
    expect(r?.['unit']).toBeUndefined();
    expect(r?.['flags']).toEqual(['unit-unknown']);
  });

  it('a unit that is neither UCUM, an MDC dimension nor a known spelling is unknown', () => {
    const [r] = records(['OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|97|pct|||||R']);
    expect(r?.['unit']).toBeUndefined();
    expect(r).toMatchObject({ vendorUnit: 'pct', flags: ['unit-unknown'] });
  });

  it('SpO2 sent in /min (valid UCUM of the wrong dimension) keeps its unit and is flagged', () => {
    const [r] = records([
      'OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|97|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R',
    ]);
    expect(r).toMatchObject({ value: 97, unit: '/min' });
    expect(r?.['flags']).toEqual(['questionable', 'unit-unknown']);
  });

  it('kPa for a blood pressure is a pressure: kept as sent, never converted to mm[Hg]', () => {
    const [r] = records([
      'OBX|1|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.1.9.150301|16.0|265987^MDC_DIM_KILO_PASCAL^MDC|||||R',
    ]);
    expect(r).toMatchObject({ value: 16, unit: 'kPa' });
    expect(r?.['flags']).toEqual([]);
  });

  it('an F (farad in UCUM) is not read as Fahrenheit where the metric is unknown', () => {
    const [r] = records(['OBX|1|NM|999^LOCAL_T^99X||98.6|F|||||R']);
    expect(r?.['unit']).toBeUndefined();
    expect(r?.['flags']).toEqual(['unmapped', 'unit-unknown']);
  });

  it('vendor spellings bpm and mmHg become UCUM /min and mm[Hg]', () => {
    const [hr, sys] = records([
      'OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.7.4.147842|72|bpm|||||R',
      'OBX|2|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.1.9.150301|120|mmHg|||||R',
    ]);
    expect(hr).toMatchObject({ unit: '/min', vendorUnit: 'bpm' });
    expect(sys).toMatchObject({ unit: 'mm[Hg]', vendorUnit: 'mmHg' });
    expect(hr?.['flags']).toEqual([]);
  });
});

describe('unit resolution cost', () => {
  it('runs once per distinct OBX-6 and row, never per message: 200 more messages make no UCUM call', () => {
    const dec = createHl7Decoder();
    const msg = (v: number) =>
      message([
        `OBX|1|NM|150344^MDC_TEMP^MDC|1.13.1.150344|${v}|[degF]^[degF]^UCUM|||||R`,
        `OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|${90 + (v % 10)}|262688^MDC_DIM_PERCENT^MDC|||||R`,
        `OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.7.4.147842|${60 + (v % 30)}|bpm|||||R`,
      ]);
    decode(msg(98.6), dec);
    const before = ucumCalls();
    for (let i = 0; i < 200; i++) expect(decode(msg(97 + i / 10), dec).observations).toHaveLength(3);
    expect(ucumCalls()).toBe(before);
  });
});
