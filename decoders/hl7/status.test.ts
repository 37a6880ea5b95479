// OBX-11 result status (HL7 v2 Table 0085), MSH-11 processing id (HL7 Table 0103: P production,
// T training, D debugging) and OBX-8 abnormal flags (HL7 Table 0078, with Mindray's DEMO) as
// flags on observations, waveforms and alarms. The mapping is documented in docs/decoders.md.
import { describe, expect, it } from 'vitest';
import { records } from './test-messages.js';

const spo2 = (value: string, status: string, obx8 = '') =>
  `OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|${value}|262688^MDC_DIM_PERCENT^MDC||${obx8}|||${status}`;

describe('OBX-11 result status', () => {
  it('F, R and C are valid values', () => {
    for (const s of ['F', 'R', 'C']) {
      const [r] = records([spo2('97', s)]);
      expect(r, s).toMatchObject({ value: 97 });
      expect(r?.['flags'], s).toEqual([]);
    }
  });

  it('P (preliminary) keeps the value, marked provisional (early-estimate)', () => {
    expect(records([spo2('97', 'P')])[0]).toMatchObject({ value: 97, flags: ['early-estimate'] });
  });

  it('X (result cannot be obtained) is unavailable with the value unset, even when one is present', () => {
    const [r] = records([spo2('97', 'X')]);
    expect(r).toMatchObject({ value: null, flags: ['unavailable'] });
  });

  it('N (not asked) is unavailable; D (delete) and W (wrong) are retracted, value unset', () => {
    expect(records([spo2('97', 'N')])[0]).toMatchObject({ value: null, flags: ['unavailable'] });
    for (const s of ['D', 'W'])
      expect(records([spo2('97', s)])[0], s).toMatchObject({ value: null, flags: ['retracted'] });
  });

  it('the status applies to enumerations too', () => {
    const [r] = records(['OBX|1|CWE|184327^MDC_ECG_STAT_RHY^MDC|1.2.4.20|147474^MDC_ECG_SINUS_RHY^MDC||||||D']);
    expect(r).toMatchObject({ value: null, flags: ['retracted'] });
  });
});

describe('MSH-11 processing id and OBX-8 modes on every record kind', () => {
  const wave = [
    'OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.7.6.131330|1^2^3|266418^MDC_DIM_MILLI_VOLT^MDC|||||R',
    'OBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|1.7.6.131330.1|500|264640^MDC_DIM_HZ^MDC|||||R',
  ];
  const alarm = [
    'OBX|1|ST|196648^MDC_EVT_HI^MDC|1.3.1.150456.1|SpO2 high|||H~PM~SP|||R',
    'OBX|2|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.3.1.150456.3|start||||||R',
  ];
  const acm = {
    type: 'ORU^R40^ORU_R40',
    obr: 'OBR|1||77^MON^0123456789ABCDEF^EUI-64|196616^MDC_EVT_ALARM^MDC|||20260301100000+0700',
  };

  it('T (training) and D (debugging) mark observations, waves and alarms as test data; P does not', () => {
    for (const pid of ['T', 'D']) {
      expect(records([spo2('97', 'R')], { processingId: pid })[0]?.['flags'], pid).toEqual(['test']);
      expect(records(wave, { processingId: pid })[0]?.['flags'], pid).toEqual(['test']);
      expect(records(alarm, { ...acm, processingId: pid })[0]?.['flags'], pid).toEqual(['test']);
    }
    expect(records([spo2('97', 'R')], { processingId: 'P' })[0]?.['flags']).toEqual([]);
  });

  it('OBX-8 DEMO marks a PCD-04 alarm as demo data, as it does observations', () => {
    const [a] = records(['OBX|1|ST|196648^MDC_EVT_HI^MDC|1.3.1.150456.1|SpO2 high|||H~PM~SP~DEMO|||R'], acm);
    expect(a).toMatchObject({ kind: 'alarm', refid: 'MDC_EVT_HI', priority: 'medium', alarmKind: 'physiological' });
    expect(a?.['flags']).toContain('demo');
    expect(records([spo2('97', 'R', 'DEMO')])[0]?.['flags']).toEqual(['demo']);
  });

  it('OBX-8 DEMO on a waveform row marks its chunk', () => {
    const [w] = records([
      'OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.7.6.131330|1^2^3|266418^MDC_DIM_MILLI_VOLT^MDC||DEMO|||R',
      wave[1] as string,
    ]);
    expect(w?.['flags']).toEqual(['demo']);
  });
});
