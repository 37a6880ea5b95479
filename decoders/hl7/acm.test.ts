// PCD-04 alarms, written from IHE PCD TF-2 (ACM, Report Alert): one OBR per alarm; facet 1 is the
// event (OBX-3 the event code, OBX-5 its text or, coded, the source parameter; OBX-8 abnormality
// ~ priority ~ source kind); facet 2 is the source metric (OBX-3 the metric, OBX-5 the value that
// triggered the alarm, OBX-6 its unit, OBX-7 the limits "low-high"); then phase, state,
// inactivation state. And the Philips Data Export forms: free-text `TX` alarm rows coded
// MDIL-ALERT inside ORU^R01 / ORF^R04 (Efficia CM Data Export Guide p. 2-16).
import { describe, expect, it } from 'vitest';
import { records } from './test-messages.js';

const ACM = {
  type: 'ORU^R40^ORU_R40',
  obr: 'OBR|1||8812^MON^0123456789ABCDEF^EUI-64|196616^MDC_EVT_ALARM^MDC|||20260301100000+0700',
};

describe('PCD-04 alarm facets', () => {
  it('keeps the source given as the CWE value of the event row, the triggering value, its unit and limits', () => {
    const [a] = records(
      [
        'OBX|1|CWE|196652^MDC_EVT_LO^MDC|1.3.1.150456.1|150456^MDC_PULS_OXIM_SAT_O2^MDC|||L~PH~SP|||F|||20260301095958+0700',
        'OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456.2|84|262688^MDC_DIM_PERCENT^MDC|90-100|L~PH~SP||F',
        'OBX|3|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.3.1.150456.3|start||||||F',
        'OBX|4|ST|68482^MDC_ATTR_ALARM_STATE^MDC|1.3.1.150456.4|active||||||F',
      ],
      ACM,
    );
    expect(a).toMatchObject({
      kind: 'alarm',
      mdc: 196652,
      refid: 'MDC_EVT_LO',
      priority: 'high',
      alarmKind: 'physiological',
      phase: 'start',
      state: 'active',
      sourceMdc: 150456,
      sourceRefid: 'MDC_PULS_OXIM_SAT_O2',
      sourceValue: 84,
      sourceUnit: '%',
      limitLow: 90,
      limitHigh: 100,
      limits: '90-100',
      sourceContainment: '1.3.1.150456.2',
      time: '2026-03-01T09:59:58.000+07:00',
    });
    expect(a?.['flags']).toEqual([]);
  });

  it('a source value in a valid unit of the wrong kind is flagged; one-sided limits (OBX-7 "<" / ">") are read', () => {
    const [a] = records(
      [
        'OBX|1|ST|196648^MDC_EVT_HI^MDC|1.7.4.147842.1|HR high|||H~PM~SP|||F',
        'OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.7.4.147842.2|151|266016^MDC_DIM_MMHG^MDC|<150|H~PM~SP||F',
      ],
      ACM,
    );
    expect(a).toMatchObject({
      text: 'HR high',
      sourceMdc: 147842,
      sourceRefid: 'MDC_ECG_CARD_BEAT_RATE',
      sourceValue: 151,
      sourceUnit: 'mm[Hg]',
      limitHigh: 150,
      limits: '<150',
    });
    expect(a?.['limitLow']).toBeUndefined();
    expect(a?.['flags']).toEqual(['questionable', 'unit-unknown']);
  });

  it('every facet vitalwire does not model is kept as sent', () => {
    const [a] = records(
      [
        'OBX|1|ST|196648^MDC_EVT_HI^MDC|1.3.1.150456.1|SpO2 high|||H~PM~SP|||F',
        'OBX|2|ST|68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC|1.3.1.150456.5|audio-paused||||||F',
        'OBX|3|ST|68486^MDC_ATTR_ALERT_TEXT_X^MDC|1.3.1.150456.6|Check probe||||||F',
        'OBX|4|NM|67890^MDC_ATTR_ALARM_DELAY_X^MDC|1.3.1.150456.7|10|264320^MDC_DIM_SEC^MDC|||||F',
        'OBX|5|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.3.1.150456.3|frozen||||||F',
      ],
      ACM,
    );
    expect(a).toMatchObject({ inactivation: 'audio-paused' });
    expect(a?.['facets']).toEqual([
      { mdc: 68486, refid: 'MDC_ATTR_ALERT_TEXT_X', value: 'Check probe', containment: '1.3.1.150456.6' },
      {
        mdc: 67890,
        refid: 'MDC_ATTR_ALARM_DELAY_X',
        value: '10',
        unit: '264320^MDC_DIM_SEC^MDC',
        containment: '1.3.1.150456.7',
      },
      // A phase this table does not define: kept as sent, and reported.
      { mdc: 68481, refid: 'MDC_ATTR_EVENT_PHASE', value: 'frozen', containment: '1.3.1.150456.3' },
    ]);
  });

  it('OBX-11 D on the event row retracts the alarm', () => {
    const [a] = records(['OBX|1|ST|196648^MDC_EVT_HI^MDC|1.3.1.150456.1|SpO2 high|||H~PM~SP|||D'], ACM);
    expect(a?.['flags']).toEqual(['retracted']);
  });
});

describe('Philips Data Export: MDIL-ALERT rows and ORF^R04', () => {
  it('a TX row coded MDIL-ALERT is an alarm with the priority its code stands for, not an observation', () => {
    const recs = records(
      [
        'OBX||TX|2^Yellow Alarm^MDIL-ALERT||HR Low, HR=55 /min||||||F',
        'OBX||TX|1^Red Alarm^MDIL-ALERT||Asystole||||||F',
        'OBX||NM|0002-4182^HR^MDIL|0|55|0004-0aa0^bpm^MDIL|||||F',
      ],
      { obr: 'OBR||||ALARM|||20260301100000' },
    );
    expect(recs.map((r) => r['kind'])).toEqual(['obs', 'alarm', 'alarm']);
    expect(recs[1]).toMatchObject({
      text: 'HR Low, HR=55 /min',
      priority: 'medium',
      alarmKind: 'physiological',
      vendorCode: '2^Yellow Alarm^MDIL-ALERT',
      flags: ['unmapped'],
    });
    expect(recs[2]).toMatchObject({ text: 'Asystole', priority: 'high', alarmKind: 'physiological' });
  });

  it('ORF^R04 (a query response) carries the same OBR/OBX content as ORU^R01', () => {
    const recs = records(
      [
        'OBX||NM|0002-4bb8^SpO2^MDIL|0|98|0004-0220^%^MDIL|||||F',
        'OBX||NM|0002-4182^HR^MDIL|||0004-0aa0^bpm^MDIL|||||X',
      ],
      { type: 'ORF^R04', extra: ['MSA|AA|Q1', 'QRD|20260301100000|R|I|Q1|||1^RD|^MON|RES'] },
    );
    expect(recs).toMatchObject([
      { kind: 'obs', mdc: 150456, value: 98, unit: '%' },
      { kind: 'obs', mdc: 147842, value: null, unit: '/min', flags: ['unavailable'] },
    ]);
  });
});
