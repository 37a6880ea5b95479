// FHIR R4 export: every resource validates against the R4 structure definitions and, where it claims one, the
// vital-signs profile (whose fixed LOINC codes and UCUM units come from the specification, not from us); codes of
// required bindings and UCUM units are checked apart; values read back through FHIRPath are the archived ones.
import { describe, expect, it } from 'vitest';
import type { Observation } from '@medplum/fhirtypes';
import { Flag } from '../../proto/index.js';
import type { Binding } from '../bindings.js';
import type { Bound } from '../query.js';
import type { ObsRow } from '../schema.js';
import { fullBatches, rowsOf, vitalsBatch, waveRowsOf } from '../test-kit.js';
import {
  alarmObservation,
  deviceResource,
  gapObservation,
  observationsOf,
  transactionBundle,
  waveObservation,
} from './fhir.js';
import { evalFhirPath, validateR4 } from './fhir-validate.js';
import { parseTimeUs } from './names.js';

const T = Date.UTC(2026, 0, 15, 8, 0, 0) * 1000 + 123_456;
const dev = { site: 'bv-soc-son', gateway: 'gw1', device: 'bed01' };
const binding: Binding = {
  id: 'b1',
  ...dev,
  bed: 'ICU-3',
  patient: 'MRN-000123',
  encounter: 'ENC-9',
  fromUs: 1,
  toUs: null,
};
const bound = <R>(rows: R[], b: Binding | null = binding): Bound<R>[] =>
  rows.map((r) => ({ ...r, binding: b, quarantined: false }));
const opts = { patientSystem: 'urn:oid:1.2.3.4.5', encounterSystem: 'urn:oid:1.2.3.4.6' };

function expectValid(r: Parameters<typeof validateR4>[0]): void {
  expect(validateR4(r), JSON.stringify(r)).toEqual([]);
}

describe('FHIR R4 export', () => {
  it('makes vital-signs Observations that validate against their R4 profiles, with LOINC beside MDC', () => {
    const rows = bound(
      rowsOf(vitalsBatch(dev, 1, T, { hr: 72, spo2: 97, rr: 16, temp: 36.8, sys: 120, dia: 80, mean: 93 })).obs,
    );
    const obs = observationsOf(rows, opts);
    expect(obs).toHaveLength(5); // HR, SpO2, RR, temperature, one BP panel
    for (const o of obs) expectValid(o);
    const byProfile = new Map(obs.map((o) => [o.meta?.profile?.[1], o]));
    expect([...byProfile.keys()].sort()).toEqual([
      'http://hl7.org/fhir/StructureDefinition/bodytemp',
      'http://hl7.org/fhir/StructureDefinition/bp',
      'http://hl7.org/fhir/StructureDefinition/heartrate',
      'http://hl7.org/fhir/StructureDefinition/oxygensat',
      'http://hl7.org/fhir/StructureDefinition/resprate',
    ]);
    const hr = byProfile.get('http://hl7.org/fhir/StructureDefinition/heartrate') as Observation;
    expect(hr.code.coding?.map((c) => `${c.system}|${c.code}`)).toEqual([
      'http://loinc.org|8867-4',
      'urn:iso:std:iso:11073:10101|147842',
    ]);
    expect(hr.valueQuantity).toEqual({ value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' });
    expect(hr.subject).toEqual({ type: 'Patient', identifier: { system: 'urn:oid:1.2.3.4.5', value: 'MRN-000123' } });
    expect(hr.encounter?.identifier?.value).toBe('ENC-9');
    expect(parseTimeUs(hr.effectiveDateTime as string)).toBe(T);
    const bp = byProfile.get('http://hl7.org/fhir/StructureDefinition/bp') as Observation;
    expect(evalFhirPath(`component.where(code.coding.code = '8480-6').valueQuantity.value`, bp)).toEqual([120]);
    expect(evalFhirPath(`component.where(code.coding.code = '8462-4').valueQuantity.value`, bp)).toEqual([80]);
    expect(evalFhirPath(`component.where(code.coding.code = '8478-0').valueQuantity.code`, bp)).toEqual(['mm[Hg]']);
    expect(evalFhirPath(`code.coding.where(system = 'http://loinc.org').code`, bp)).toEqual(['85354-9']);
  });

  it('states no value with a dataAbsentReason, withdrawn values as entered-in-error, flags by name, and keeps unbound data unbound', () => {
    const full = rowsOf(fullBatches(dev, T).obs).obs;
    const obs = observationsOf(bound(full), opts);
    for (const o of obs) expectValid(o);
    const sensorOff = obs.find((o) => o.code.coding?.some((c) => c.code === '147842')) as Observation;
    expect(sensorOff.valueQuantity).toBeUndefined();
    expect(sensorOff.dataAbsentReason?.coding?.[0]?.code).toBe('error');
    expect(sensorOff.extension?.filter((e) => e.url.endsWith('quality-flags')).map((e) => e.valueCode)).toEqual([
      'FLAG_UNAVAILABLE',
      'FLAG_SENSOR_OFF',
    ]);
    const spo2 = obs.find((o) => o.code.coding?.some((c) => c.code === '150456')) as Observation;
    expect(spo2.interpretation?.[0]?.coding?.[0]?.code).toBe('A');
    expect(spo2.referenceRange?.[0]?.text).toBe('90-100');
    const coded = obs.find((o) => o.valueCodeableConcept) as Observation;
    expect(coded.valueCodeableConcept?.coding?.[0]).toMatchObject({ code: '196800', display: 'MDC_ECG_SINUS_RHY' });

    const retracted = observationsOf(
      bound([{ ...(full[0] as ObsRow), flags: Flag.FLAG_RETRACTED, value_number: null }]),
      opts,
    )[0] as Observation;
    expect(retracted.status).toBe('entered-in-error');
    expectValid(retracted);

    const unbound = observationsOf(bound(rowsOf(vitalsBatch(dev, 2, T, { hr: 70 })).obs, null), opts)[0] as Observation;
    expectValid(unbound);
    expect(unbound.subject).toBeUndefined();
    expect(unbound.meta?.profile).toBeUndefined(); // the vital-signs profiles require a subject
    expect(unbound.meta?.tag?.[0]?.code).toBe('unbound');
  });

  it('exports waveforms as SampledData that gives back the physical samples, and alarms, gaps and devices', () => {
    const full = fullBatches(dev, T);
    const [w] = waveRowsOf(full.wave);
    const wave = waveObservation(bound([w!])[0]!, opts);
    expectValid(wave);
    const sd = wave.valueSampledData!;
    expect(sd.period).toBe(4); // 250 Hz
    expect(sd.data).toBe('0 1 -1 E -32768 12'); // 32767 is the device's invalid marker
    const physical = sd.data!.split(' ').map((x) => (x === 'E' ? null : sd.origin.value! + sd.factor! * Number(x)));
    expect(physical[1]).toBeCloseTo(-0.5 + 0.001221, 12);
    expect(wave.effectivePeriod).toEqual({ start: '2026-01-15T08:00:00.123456Z', end: '2026-01-15T08:00:00.147456Z' });

    const [a] = rowsOf(full.alarm).alarm;
    const alarm = alarmObservation(bound([a!])[0]!, opts);
    expectValid(alarm);
    expect(evalFhirPath(`component.where(code.coding.code = '147842').valueQuantity.value`, alarm)).toEqual([151]);
    expect(evalFhirPath(`component.where(code.coding.code = '147842').referenceRange.high.value`, alarm)).toEqual([
      120,
    ]);

    const [g] = rowsOf(full.status).gap;
    const gap = gapObservation(bound([g!])[0]!, opts);
    expectValid(gap);
    expect(gap.dataAbsentReason?.coding?.[0]?.code).toBe('not-performed');
    expect(gap.extension?.find((e) => e.url.endsWith('gap-reason'))?.valueCode).toBe('GAP_REASON_DEVICE_DISCONNECTED');

    const device = deviceResource({
      ...dev,
      model: 'VS900',
      protocol: 'hl7',
      hardwareId: '0256570000000001',
      firstUs: T,
      lastUs: T,
    });
    expectValid(device);
    expect(wave.device?.reference).toBe(`Device/${device.id}`);

    const bundle = transactionBundle([device, wave, alarm, gap]);
    expectValid(bundle);
    expect(bundle.entry?.map((e) => e.request?.url)).toEqual([
      `Device/${device.id}`,
      `Observation/${wave.id}`,
      `Observation/${alarm.id}`,
      `Observation/${gap.id}`,
    ]);
    // The model round trip: JSON out, JSON in, the same resource, still valid.
    const back = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    expect(back).toEqual(bundle);
    expectValid(back);
  });

  it('the validator used here does catch what it must (a wrong fixed LOINC code, a missing subject, a bad unit)', () => {
    const [hr] = observationsOf(bound(rowsOf(vitalsBatch(dev, 3, T, { hr: 72 })).obs), opts);
    expect(
      validateR4({ ...hr!, code: { coding: [{ system: 'http://loinc.org', code: '59408-5' }] } }).length,
    ).toBeGreaterThan(0);
    const { subject: _s, ...noSubject } = hr!;
    expect(validateR4(noSubject as Observation).length).toBeGreaterThan(0);
    expect(
      validateR4({
        ...hr!,
        valueQuantity: { value: 72, unit: 'bpm', system: 'http://unitsofmeasure.org', code: 'bpm' },
      }).length,
    ).toBeGreaterThan(0);
    const [bp] = observationsOf(bound(rowsOf(vitalsBatch(dev, 4, T, { sys: 120, dia: 80 })).obs), opts);
    expect(validateR4(bp!)).toEqual([]);
    expect(validateR4({ ...bp!, component: bp!.component!.slice(0, 1) }).length).toBeGreaterThan(0);
    expect(
      validateR4({
        ...bp!,
        component: bp!.component!.map((c) => ({ ...c, valueQuantity: { ...c.valueQuantity, code: 'kPa' } })),
      }).length,
    ).toBeGreaterThan(0);
  });
});
