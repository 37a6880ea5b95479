// OBX-3 codes, from IEEE 11073-10101 (context-free code = partition * 65536 + term; partition 2
// SCADA for metrics; terms 0xF000-0xFFFF private) and HL7 v2 CWE (components 4-6: alternate
// identifier, text, coding system). Expected codes are arithmetic on the stated partition:term.
import { describe, expect, it } from 'vitest';
import { records } from './test-messages.js';

const nm = (code: string, value = '1', unit = '266418^MDC_DIM_MILLI_VOLT^MDC') =>
  `OBX|1|NM|${code}|1.7.3.1|${value}|${unit}|||||R`;

describe('PCD-01 codes are kept as stated', () => {
  it('ST II/III/V5 (2:770, 2:829, 2:775) keep 131842, 131901, 131847 and their reference ids', () => {
    const recs = records([
      nm('131842^MDC_ECG_AMPL_ST_II^MDC', '0.1'),
      nm('131901^MDC_ECG_AMPL_ST_III^MDC', '-0.05'),
      nm('131847^MDC_ECG_AMPL_ST_V5^MDC', '0.2'),
    ]);
    expect(recs.map((r) => [r['mdc'], r['refid'], r['value'], r['unit']])).toEqual([
      [131842, 'MDC_ECG_AMPL_ST_II', 0.1, 'mV'],
      [131901, 'MDC_ECG_AMPL_ST_III', -0.05, 'mV'],
      [131847, 'MDC_ECG_AMPL_ST_V5', 0.2, 'mV'],
    ]);
    for (const r of recs) expect(r['flags']).toEqual([]);
  });

  it('invasive pulse rate 149522 (2:18450), airway pressure and end-tidal CO2 keep their codes', () => {
    const recs = records([
      nm('149522^MDC_BLD_PULS_RATE_INV^MDC', '80', '264864^MDC_DIM_BEAT_PER_MIN^MDC'),
      nm('151792^MDC_PRESS_AWAY^MDC', '18', '266048^MDC_DIM_CM_H2O^MDC'),
      nm('151728^MDC_AWAY_CO2_ET^MDC', '38', '266016^MDC_DIM_MMHG^MDC'),
    ]);
    expect(recs.map((r) => [r['mdc'], r['refid'], r['unit']])).toEqual([
      [149522, 'MDC_BLD_PULS_RATE_INV', '/min'],
      [151792, 'MDC_PRESS_AWAY', 'cm[H2O]'],
      [151728, 'MDC_AWAY_CO2_ET', 'mm[Hg]'],
    ]);
  });

  it('a valid partition-2 code unknown to the table is kept with its reference id, not unmapped', () => {
    // 2:18976 is inside the SCADA partition's standard range; vitalwire's table does not list it.
    const [r] = records([nm('150048^MDC_PRESS_BLD_ART_PULM_X^MDC', '12', '266016^MDC_DIM_MMHG^MDC')]);
    expect(r).toMatchObject({ mdc: 150048, refid: 'MDC_PRESS_BLD_ART_PULM_X', value: 12, unit: 'mm[Hg]' });
    expect(r?.['flags']).toEqual([]);
  });

  it('a code outside the metric partitions, or a private term, is not trusted', () => {
    const recs = records([
      nm('196680^MDC_SOMETHING^MDC'), // partition 3 (events) for a value
      nm('2327^MDC_OTHER^MDC'), // no partition
      nm(`${2 * 65536 + 0xf10c}^MDC_PRIVATE_X^MDC`), // private term 0xF10C
    ]);
    for (const r of recs) expect(r).toMatchObject({ mdc: 0, flags: ['unmapped'] });
  });

  it('a code that contradicts its reference id: the verified pair is published, flagged questionable', () => {
    const [r] = records([nm('150456^MDC_ECG_HEART_RATE^MDC', '72', '264864^MDC_DIM_BEAT_PER_MIN^MDC')]);
    expect(r).toMatchObject({
      mdc: 147842,
      refid: 'MDC_ECG_CARD_BEAT_RATE',
      flags: ['questionable'],
      vendorCode: '150456^MDC_ECG_HEART_RATE^MDC',
    });
  });

  it('a known code under another reference id is flagged; a code alone gets its reference id', () => {
    const [named, bare] = records([
      nm('150456^MDC_OXIMETRY_OLD_NAME^MDC', '97', '262688^MDC_DIM_PERCENT^MDC'),
      nm('150456^^MDC', '97', '262688^MDC_DIM_PERCENT^MDC'),
    ]);
    expect(named).toMatchObject({ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', flags: ['questionable'] });
    expect(bare).toMatchObject({ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2' });
    expect(bare?.['flags']).toEqual([]);
  });

  it('HL7 CWE alternate identifier: a local code with the MDC code beside it (CWE-4..6)', () => {
    const [r] = records([
      nm('HR^Heart Rate^99GE^147842^MDC_ECG_HEART_RATE^MDC', '61', '264864^MDC_DIM_BEAT_PER_MIN^MDC'),
    ]);
    expect(r).toMatchObject({
      mdc: 147842,
      refid: 'MDC_ECG_CARD_BEAT_RATE',
      value: 61,
      vendorCode: 'HR^Heart Rate^99GE^147842^MDC_ECG_HEART_RATE^MDC',
    });
    expect(r?.['flags']).toEqual([]);
  });

  it('Philips MDIL: 0002-4bb8 = 2 * 65536 + 0x4BB8 = 150456, units 0004-0220 = 4:544 (%) and 0004-0aa0 = 4:2720', () => {
    const [spo2, hr, t] = records([
      'OBX||NM|0002-4bb8^SpO2^MDIL|0|95|0004-0220^%^MDIL|||||F',
      'OBX||NM|0002-4182^HR^MDIL|0|60|0004-0aa0^bpm^MDIL|||||F',
      'OBX||NM|0002-4b60^Tcore^MDIL|0|37.2|0004-17a0^°C^MDIL|||||F',
    ]);
    expect(spo2).toMatchObject({
      mdc: 150456,
      refid: 'MDC_PULS_OXIM_SAT_O2',
      value: 95,
      unit: '%',
      vendorCode: '0002-4bb8^SpO2^MDIL',
    });
    expect(hr).toMatchObject({ mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', value: 60, unit: '/min' });
    // 0x4B60 = 19296 MDC_TEMP_CORE; 0x17A0 = 6048 MDC_DIM_DEGC.
    expect(t).toMatchObject({ mdc: 150368, refid: 'MDC_TEMP_CORE', value: 37.2, unit: 'Cel' });
    for (const r of [spo2, hr, t]) expect(r?.['flags']).toEqual([]);
  });

  it('MDIL in a partition that is not a metric partition (0x0401 EMFC) is not an MDC code', () => {
    const [r] = records(['OBX||NM|0401-0b54^T1^MDIL|0|36.5|0004-17a0^°C^MDIL|||||F']);
    expect(r).toMatchObject({ mdc: 0, flags: ['unmapped'], unit: 'Cel' });
  });
});
