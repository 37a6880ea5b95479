// Conformance over real monitor messages from third parties (../shared/hl7-samples, see its
// SOURCES.md). They are read in place and never copied into this repository. Every expected
// value below was read off the message text by hand (field positions per IHE PCD TF-2), not
// taken from the decoder's output.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publish, rowsOf } from '../archive/test-kit.js';
import { pcd04Messages } from '../archive/export/pcd04.js';
import { createHl7Decoder } from '../decoders/hl7/decoder.js';
import { decodedRecords, type NdjsonRecord } from '../decoders/ndjson.js';
import { isMetricCode } from '../decoders/mdc.js';
import type { IAlarm } from '../proto/index.js';

const DIR = process.env['VW_HL7_SAMPLES'] ?? join(import.meta.dirname, '..', '..', 'shared', 'hl7-samples');
const present = existsSync(DIR);

function decode(file: string): { records: NdjsonRecord[]; device: string | undefined; bed: string | undefined } {
  const r = createHl7Decoder().decode(readFileSync(join(DIR, file)), { gatewayTimeUs: 1, defaultUtcOffsetMin: 0 });
  if (!r.ok) throw new Error(`${file}: ${r.error.code} ${r.error.detail}`);
  return { records: decodedRecords(r.value), device: r.value.device, bed: r.value.bed };
}

const byRef = (recs: NdjsonRecord[], refid: string) => recs.filter((r) => r['refid'] === refid);
const one = (recs: NdjsonRecord[], refid: string) => {
  const f = byRef(recs, refid);
  expect(f, refid).toHaveLength(1);
  return f[0] as NdjsonRecord;
};
const errors = (recs: NdjsonRecord[]) => recs.filter((r) => r['kind'] === 'error').map((r) => r['code']);

// Without the folder there is nothing to read: CI and developers have it beside the repository
// (VW_HL7_SAMPLES names another place). Skipping says so rather than passing silently.
describe.skipIf(!present)(
  `real monitor messages in ${DIR}${present ? '' : ' (skipped: the folder is absent; set VW_HL7_SAMPLES)'}`,
  () => {
    it('Mindray VS900 demo: every value DEMO-flagged; NIBP APERIODIC with its own OBX-14', () => {
      const { records, device, bed } = decode('mindray-vs900-numerics-demo.hl7');
      expect(device).toBe('00A0370098006640');
      expect(bed).toBe('INTER-1'); // PV1-3 INTER^^1
      expect(records.every((r) => (r['flags'] as string[]).includes('demo'))).toBe(true);
      expect(one(records, 'MDC_PULS_OXIM_SAT_O2')).toMatchObject({ mdc: 150456, value: 100, unit: '%' });
      expect(one(records, 'MDC_PULS_OXIM_PULS_RATE')).toMatchObject({ mdc: 149530, value: 80, unit: '/min' });
      expect(one(records, 'MDC_BLD_PERF_INDEX')).toMatchObject({ value: 12, unit: '%' });
      expect(one(records, 'MDC_PRESS_CUFF_SYS')).toMatchObject({
        value: 166,
        unit: 'mm[Hg]',
        method: 'APERIODIC',
        time: '2020-02-12T12:50:08.000',
      });
      expect(one(records, 'MDC_PRESS_CUFF_DIA')).toMatchObject({ value: 100 });
      expect(one(records, 'MDC_PRESS_CUFF_MEAN')).toMatchObject({ value: 122 });
      expect(records).toHaveLength(6);
    });

    it('Mindray VS900 real values with an axillary temperature; CR separators, none after the last segment', () => {
      const { records } = decode('mindray-vs900-numerics-nibp-temp.hl7');
      expect(records.some((r) => (r['flags'] as string[]).includes('demo'))).toBe(false);
      expect(one(records, 'MDC_PULS_OXIM_SAT_O2')).toMatchObject({ value: 99 });
      expect(one(records, 'MDC_PULS_OXIM_PULS_RATE')).toMatchObject({ value: 94 });
      expect(one(records, 'MDC_BLD_PERF_INDEX')).toMatchObject({ value: 0.94 });
      expect(one(records, 'MDC_PRESS_CUFF_SYS')).toMatchObject({ value: 147 });
      expect(one(records, 'MDC_PRESS_CUFF_DIA')).toMatchObject({ value: 90 });
      expect(one(records, 'MDC_PRESS_CUFF_MEAN')).toMatchObject({ value: 109 });
      // 188496^MDC_TEMP_AXIL is in no public table: read as MDC_TEMP_AXILLA 188452, flagged questionable.
      expect(one(records, 'MDC_TEMP_AXILLA')).toMatchObject({
        mdc: 188452,
        value: 35.1,
        unit: 'Cel',
        time: '2019-12-06T11:34:15.000',
        flags: ['questionable'],
        vendorCode: '188496^MDC_TEMP_AXIL^MDC',
      });
    });

    it('Mindray eGateway: private 99MNDRY codes kept and flagged unmapped; bedside device from OBX-18; .0000+0530 times', () => {
      const { records, device, bed } = decode('mindray-egateway-numerics-99mndry.hl7');
      expect(device).toBe('000F14049B507238'); // OBX-18 of the first value, not the eGateway in MSH-3
      expect(bed).toBe('ICU-5');
      expect(records).toHaveLength(13);
      expect(one(records, 'MDC_ECG_CARD_BEAT_RATE')).toMatchObject({
        mdc: 147842,
        value: 66,
        vendorCode: '147842^MDC_ECG_HEART_RATE^MDC',
      });
      expect(one(records, 'MDC_PULS_OXIM_SAT_O2')).toMatchObject({ value: 98, time: '2026-09-12T12:00:00.000+05:30' });
      expect(one(records, 'MDC_BLD_PERF_INDEX')).toMatchObject({ value: 1.76 });
      const mindray = records.filter((r) => String(r['vendorCode']).endsWith('^99MNDRY'));
      expect(mindray.map((r) => String(r['vendorCode']).split('^')[0])).toEqual(['108', '352', '579', '580', '581']);
      for (const r of mindray) expect(r).toMatchObject({ mdc: 0, value: 0, flags: ['unmapped'] });
      // 148216 (2:17144) is a valid SCADA code the sender states in MDC: kept, with its unit '1'.
      expect(one(records, 'MDC_ECG_SV_BEATS')).toMatchObject({ mdc: 148216, value: 0, unit: '1', flags: [] });
    });

    it('every sample: a stated valid MDC metric code is never published as 0; no numeric leaves with an empty unit unflagged', () => {
      const files = readdirSync(DIR).filter((f) => f.endsWith('.hl7'));
      expect(files.length).toBeGreaterThan(10);
      for (const f of files) {
        for (const r of decode(f).records) {
          const m = /^(\d+)\^(MDC_[A-Z0-9_]+)\^MDC$/.exec(String(r['vendorCode'] ?? ''));
          if ((r['kind'] === 'obs' || r['kind'] === 'wave') && m && isMetricCode(Number(m[1])))
            expect(r['mdc'], `${f} ${m[0]}`).not.toBe(0);
          if (r['kind'] === 'obs' && (typeof r['value'] === 'number' || r['value'] === null) && !r['unit']) {
            expect(r['flags'], `${f} ${String(r['vendorCode'])}`).toContain('unit-unknown');
          }
        }
      }
    });

    it('XH80X: -999 and -99.9 mean "no measurement"; values unavailable, never 999 below zero', () => {
      const { records } = decode('xh80x-oru-r01-invalid-sentinels.hl7');
      expect(records.map((r) => r['refid'])).toEqual([
        'MDC_PRESS_CUFF_SYS',
        'MDC_PULS_OXIM_SAT_O2',
        'MDC_ECG_CARD_BEAT_RATE',
        'MDC_TEMP',
      ]);
      for (const r of records) {
        expect(r['value']).toBeNull();
        expect(r['flags']).toContain('unavailable');
      }
    });

    it('XH80X ORU^W01: a 3-sample ECG I array with no sample rate is kept and flagged questionable; no MSH-7', () => {
      const { records } = decode('xh80x-oru-w01-waveform-header.hl7');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ kind: 'wave', mdc: 131329, samples: [0, 0, 0], flags: ['questionable'] });
      expect(records[0]?.['time']).toBeUndefined();
    });

    it('Mindray PDS waveform: ECG I 500 Hz at 0.001221 mV; pleth of 58 samples at a stated 60 Hz, all 32767 (invalid)', () => {
      const { records } = decode('mindray-pds-oru-waveform-ecg-pleth.hl7');
      const ecg = one(records, 'MDC_ECG_ELEC_POTL_I');
      expect(ecg).toMatchObject({
        kind: 'wave',
        mdc: 131329,
        rate: 500,
        unit: 'mV',
        firstSample: 0,
        time: '2026-01-24T13:15:39.000+08:00',
      });
      const s = ecg['samples'] as (number | null)[];
      expect(s).toHaveLength(500);
      expect(s.slice(0, 4)).toEqual(
        [80 * 0.001221, 88 * 0.001221, 92 * 0.001221, 96 * 0.001221].map((x) => Number(x.toPrecision(12))),
      );
      const pleth = one(records, 'MDC_PULS_OXIM_PLETH');
      expect(pleth).toMatchObject({ rate: 60, flags: ['questionable'] }); // 58 samples in a 1 s window at 60 Hz
      expect(pleth['samples']).toEqual(new Array(58).fill(null));
    });

    it('Mindray D-series: device in MSH-4, fields one late, INOP as 262196, rate in MDC_DIM_PER_SEC', () => {
      const { records, device } = decode('mindray-dseries-oru-waveform-resp-imped.hl7');
      expect(device).toBe('00A037009A0053DE');
      const w = one(records, 'MDC_IMPED_TTHOR');
      expect(w).toMatchObject({ mdc: 151780, rate: 500, time: '2019-09-29T09:21:49.610' });
      expect(w['samples']).toEqual(new Array(500).fill(0));
      expect(errors(records)).toEqual(['VW_ERR_HL7_MSH_SHIFTED']);
    });

    it('Philips PIC iX: HR with its range, a paced-rhythm enumeration, Latin-1; the edited wave array is rejected with a code', () => {
      const { records, device, bed } = decode('philips-picix-mx500-numeric-enum-wave.hl7');
      expect(device).toBe('0009FBFFFF9B42B3'); // OBR-3 EUI-64
      expect(bed).toBe('My Unit-Bed1');
      expect(one(records, 'MDC_ECG_CARD_BEAT_RATE')).toMatchObject({
        value: 60,
        unit: '/min',
        time: '2021-04-25T23:03:31.496-04:00',
      });
      expect(one(records, 'MDC_ECG_STAT_RHY')).toMatchObject({ value: 'MDC_ECG_PACED_RHY' });
      // MSH-11 is D (debugging): not production data.
      for (const r of records.filter((x) => x['kind'] === 'obs')) expect(r['flags']).toContain('test');
      // "- 5" and a stray field separator inside OBX-5: the array is refused, the rest kept.
      expect(errors(records)).toEqual(['VW_ERR_HL7_BAD_VALUE']);
    });

    it('VitalRecorder: non-MDC codes mapped through the vendor table, plain units to UCUM', () => {
      const { records } = decode('vitalrecorder-beneview-numerics.hl7');
      expect(records.map((r) => [r['refid'], r['value'], r['unit'], r['vendorUnit']])).toEqual([
        ['MDC_ECG_CARD_BEAT_RATE', 72, '/min', 'bpm'],
        ['MDC_PULS_OXIM_SAT_O2', 98, '%', '%'],
        ['MDC_PRESS_CUFF_SYS', 118, 'mm[Hg]', 'mmHg'],
        ['MDC_PRESS_CUFF_DIA', 74, 'mm[Hg]', 'mmHg'],
        ['MDC_TEMP', 36.7, 'Cel', 'C'],
      ]);
    });

    it('VitalRecorder waveforms elided in the source: both arrays rejected with codes; HR and the event kept', () => {
      const { records } = decode('vitalrecorder-beneview-waveform-event.hl7');
      expect(errors(records)).toEqual(['VW_ERR_HL7_BAD_VALUE', 'VW_ERR_HL7_BAD_VALUE']);
      expect(one(records, 'MDC_ECG_CARD_BEAT_RATE')).toMatchObject({ value: 72 });
      expect(records.find((r) => r['value'] === 'Induction Start')).toMatchObject({ mdc: 0, flags: ['unmapped'] });
    });

    it('icu-heart dummy: placeholder arrays and contradicting codes give coded errors, no values', () => {
      const { records } = decode('mindray-egateway-waveform-dummy-icu-heart.hl7');
      expect(records.filter((r) => r['kind'] !== 'error')).toEqual([]);
      expect(errors(records)).toHaveLength(8); // eight NA rows, each a text placeholder
    });

    it('Mindray PCD-04: technical low-priority lead-off alarm with its facets', () => {
      const { records, device } = decode('mindray-pds-acm-oru-r40-lead-off.hl7');
      expect(device).toBe('00A037000000');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        kind: 'alarm',
        mdc: 196680,
        refid: 'MDC_EVT_LEAD_OFF',
        priority: 'low',
        alarmKind: 'technical',
        phase: 'start',
        state: 'active',
        sourceMdc: 69953,
        sourceRefid: 'MDC_DEV_MON_PT_PHYSIO_MULTI_PARAM_MDS',
        time: '2026-01-24T12:47:38.000+08:00',
      });
      expect(records[0]?.['inactivation']).toBeUndefined(); // sent empty
    });

    it('GE Mural PCD-04: MDCX_ code 0 kept unmapped; ALERT_STATE facet name; medium advisory; phase update', () => {
      const { records } = decode('ge-mural-acm-oru-r40-advisory.hl7');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        kind: 'alarm',
        mdc: 0,
        refid: 'MDCX_EVT_ALERT_ADVISORY',
        text: 'HYPERTENSION-Alert Recheck BP',
        priority: 'medium',
        alarmKind: 'advisory',
        phase: 'update',
        state: 'active',
        inactivation: 'enabled',
        flags: ['unmapped'],
      });
    });

    it('Draeger PCD-04 watchdog: facets numbered 68165-68168 matched by name; processing id D marks test data', () => {
      const { records, device } = decode('draeger-acm-oru-r40-watchdog.hl7');
      expect(device).toBe('0030E60000000001');
      expect(records[0]).toMatchObject({
        kind: 'alarm',
        mdc: 258047,
        refid: 'MDC_EVT_ACTIVE',
        text: 'Heartbeat-useless',
        priority: 'none',
        alarmKind: 'advisory',
        phase: 'start',
        state: 'active',
        inactivation: 'enabled',
        flags: ['test'],
      });
    });

    it("each vendor's PCD-04 alarm survives the archive and the PCD-04 export: decoded again, it is the same alarm", () => {
      const dev = { site: 's1', gateway: 'g1', device: 'm1' };
      const exported: Record<string, number> = {};
      for (const file of readdirSync(DIR).filter((f) => f.includes('-acm-'))) {
        const first = createHl7Decoder().decode(readFileSync(join(DIR, file)), {
          gatewayTimeUs: 1,
          defaultUtcOffsetMin: 0,
        });
        if (!first.ok) throw new Error(`${file}: ${first.error.code}`);
        // Draeger's sample is a debug message (MSH-11 D): test data, archived apart (alarm_q) and exported as such.
        const archived = rowsOf(publish(dev, 'alarm', 1, { alarms: first.value.alarms }));
        const rows = [
          ...archived.alarm.map((r) => ({ ...r, binding: null, quarantined: false })),
          ...archived.alarm_q.map((r) => ({ ...r, binding: null, quarantined: true })),
        ];
        const { messages, counts } = pcd04Messages(rows, new Map());
        exported[file] = counts.messages;
        expect(counts.messages + counts.skippedUnmapped, file).toBe(first.value.alarms.length);
        const again = messages.flatMap((m) => {
          const r = createHl7Decoder().decode(Buffer.from(m, 'utf8'), { gatewayTimeUs: 1, defaultUtcOffsetMin: 0 });
          if (!r.ok) throw new Error(`${file} exported: ${r.error.code}`);
          return r.value.alarms;
        });
        const key = (a: IAlarm) => ({
          mdc: a.mdc,
          refid: a.refid,
          text: a.text,
          priority: a.priority ?? 0,
          kind: a.kind ?? 0,
          phase: a.phase ?? 0,
          state: a.state ?? 0,
          inactivation: a.inactivation ?? 0,
          sourceMdc: a.sourceMdc ?? 0,
          sourceRefid: a.sourceRefid ?? '',
          sourceValue: a.sourceValue ?? null,
          deviceTimeUs: a.time?.deviceTimeUs,
        });
        const kept = first.value.alarms.filter((a) => a.mdc && a.refid?.startsWith('MDC_EVT_'));
        expect(again.map(key), file).toEqual(kept.map(key));
      }
      // Mindray and Draeger name their events by MDC code; GE Mural's advisory has none (0^MDCX_EVT_ALERT_ADVISORY):
      // PCD-04 cannot carry it, so it is counted as skipped, not sent with an invented code.
      expect(exported).toEqual({
        'draeger-acm-oru-r40-watchdog.hl7': 1,
        'ge-mural-acm-oru-r40-advisory.hl7': 0,
        'mindray-pds-acm-oru-r40-lead-off.hl7': 1,
      });
    });
  },
);
