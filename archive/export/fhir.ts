// Archive rows to FHIR R4: Observation (vital-signs profiles where a LOINC vital sign and its UCUM unit apply; MDC
// coding always; waveforms as SampledData; alarms; declared gaps with a dataAbsentReason) and Device resources, as
// bulk NDJSON lines or one transaction Bundle of idempotent PUTs (ids derive from the data's key, so a second export
// updates rather than duplicates). Subject and encounter come from the binding valid at the observation's time; an
// unbound observation has no subject and is tagged `unbound`.
import { createHash } from 'node:crypto';
import type {
  Bundle,
  CodeableConcept,
  Coding,
  Device,
  Encounter,
  Extension,
  Observation,
  ObservationComponent,
  Patient,
  Quantity,
  Reference,
} from '@medplum/fhirtypes';
import { Flag, GapReason, Kind } from '../../proto/index.js';
import type { Binding } from '../bindings.js';
import type { Bound } from '../query.js';
import type { AlarmRow, GapRow, ObsRow, WaveRow } from '../schema.js';
import type { DeviceInfo } from '../query.js';
import { BP_DIASTOLIC, BP_MEAN, BP_PANEL, BP_SYSTOLIC, NIBP_SETS, VITAL_SIGNS } from './loinc.js';
import { flagNames, formatUs } from './names.js';

export const MDC_SYSTEM = 'urn:iso:std:iso:11073:10101';
export const UCUM = 'http://unitsofmeasure.org';
export const LOINC = 'http://loinc.org';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const VW = 'https://vitalwire.dev/fhir';
export const EXT_FLAGS = `${VW}/StructureDefinition/quality-flags`;
export const EXT_BED = `${VW}/StructureDefinition/bed`;
export const EXT_GAP_REASON = `${VW}/StructureDefinition/gap-reason`;
export const TAGS = `${VW}/CodeSystem/tags`;
export const DEVICE_SYSTEM = 'urn:vitalwire:device';

export interface FhirOptions {
  /** Identifier system of patient ids (the hospital's MRN system URI); omitted when not configured. */
  patientSystem?: string | undefined;
  encounterSystem?: string | undefined;
}

const idOf = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);
export const deviceId = (site: string, gateway: string, device: string): string =>
  idOf(`device|${site}/${gateway}/${device}`);
const rowId = (
  r: { site: string; gateway: string; device: string; kind: string; seq: number; idx: number },
  what: string,
): string => idOf(`${what}|${r.site}/${r.gateway}/${r.device}/${r.kind}/${r.seq}/${r.idx}`);

export function deviceResource(d: DeviceInfo): Device {
  const out: Device = {
    resourceType: 'Device',
    id: deviceId(d.site, d.gateway, d.device),
    identifier: [{ system: DEVICE_SYSTEM, value: `${d.site}/${d.gateway}/${d.device}` }],
    status: 'active',
  };
  if (d.hardwareId)
    out.identifier!.push({ type: { text: 'EUI-64 or serial number reported by the device' }, value: d.hardwareId });
  if (d.model) {
    out.deviceName = [{ name: d.model, type: 'model-name' }];
    out.modelNumber = d.model;
  }
  return out;
}

function mdcCoding(mdc: number, refid: string): Coding[] {
  return mdc > 0 ? [{ system: MDC_SYSTEM, code: String(mdc), ...(refid ? { display: refid } : {}) }] : [];
}

// LOINC first: the R4 bp profile slices components by a CodeableConcept pattern, matched in coding order.
function codeOf(r: { mdc: number; refid: string; vendor_code: string }, loinc: Coding[] = []): CodeableConcept {
  const coding = [...loinc, ...mdcCoding(r.mdc, r.refid)];
  // Unmapped: the device's own code is the only identity (vitals.proto Code 0 convention).
  if (coding.length === 0 && r.vendor_code)
    coding.push({ system: `${VW}/CodeSystem/vendor-code`, code: r.vendor_code.trim() || 'unknown' });
  return { coding, text: r.refid || r.vendor_code || 'unknown' };
}

function statusOf(flags: number): Observation['status'] {
  if (flags & Flag.FLAG_RETRACTED) return 'entered-in-error';
  if (flags & Flag.FLAG_EARLY_ESTIMATE) return 'preliminary';
  return 'final';
}

/** Why a value is absent (HL7 data-absent-reason), from the quality flags. */
function absentReason(flags: number): CodeableConcept {
  const code = flags & (Flag.FLAG_SENSOR_OFF | Flag.FLAG_OUT_OF_RANGE | Flag.FLAG_RETRACTED) ? 'error' : 'unknown';
  return { coding: [{ system: ABSENT, code }] };
}

function flagsExtension(flags: number): Extension[] {
  return flagNames(flags).map((n) => ({ url: EXT_FLAGS, valueCode: n }));
}

function context(
  b: Binding | null,
  o: FhirOptions,
): { subject?: Reference<Patient>; encounter?: Reference<Encounter>; extension: Extension[]; tagged: boolean } {
  const extension: Extension[] = b ? [{ url: EXT_BED, valueString: b.bed }] : [];
  if (!b?.patient) return { extension, tagged: true };
  return {
    subject: {
      type: 'Patient',
      identifier: { ...(o.patientSystem ? { system: o.patientSystem } : {}), value: b.patient },
    },
    ...(b.encounter
      ? {
          encounter: {
            type: 'Encounter',
            identifier: { ...(o.encounterSystem ? { system: o.encounterSystem } : {}), value: b.encounter },
          },
        }
      : {}),
    extension,
    tagged: false,
  };
}

function base(
  r: Bound<{ site: string; gateway: string; device: string; flags?: number }>,
  id: string,
  code: CodeableConcept,
  o: FhirOptions,
  profiles: string[],
): Observation {
  const c = context(r.binding, o);
  const flags = r.flags ?? 0;
  const obs: Observation = {
    resourceType: 'Observation',
    id,
    ...(c.subject && profiles.length
      ? { meta: { profile: profiles.map((p) => `http://hl7.org/fhir/StructureDefinition/${p}`) } }
      : {}),
    status: statusOf(flags),
    code,
    device: { reference: `Device/${deviceId(r.site, r.gateway, r.device)}` },
  };
  if (c.tagged)
    obs.meta = {
      ...obs.meta,
      tag: [{ system: TAGS, code: 'unbound', display: 'No patient was bound to the device at this time' }],
    };
  if (c.subject) obs.subject = c.subject;
  if (c.encounter) obs.encounter = c.encounter;
  const ext = [...c.extension, ...flagsExtension(flags)];
  if (ext.length) obs.extension = ext;
  if (flags & Flag.FLAG_ABNORMAL)
    obs.interpretation = [{ coding: [{ system: INTERPRETATION, code: 'A', display: 'Abnormal' }] }];
  return obs;
}

const hasValue = (r: ObsRow): boolean =>
  (r.value_number !== null || r.value_code_refid !== null || r.value_text !== null) && !(r.flags & Flag.FLAG_RETRACTED);

function quantity(r: ObsRow): Quantity {
  // A unit vitalwire could not establish is not sent as UCUM (FLAG_UNIT_UNKNOWN): the value keeps the device's unit text.
  if (!r.unit || r.flags & Flag.FLAG_UNIT_UNKNOWN)
    return { value: r.value_number as number, ...(r.vendor_unit ? { unit: r.vendor_unit } : {}) };
  return { value: r.value_number as number, unit: r.unit, system: UCUM, code: r.unit };
}

function numericObservation(r: Bound<ObsRow>, o: FhirOptions): Observation {
  const vs = VITAL_SIGNS.get(r.mdc);
  const ucumOk = vs !== undefined && vs.ucum.includes(r.unit) && !(r.flags & Flag.FLAG_UNIT_UNKNOWN);
  const profiles = vs && (ucumOk || !hasValue(r)) ? ['vitalsigns', vs.profile] : [];
  const obs = base(
    r,
    rowId(r, 'obs'),
    codeOf(r, vs ? vs.loinc.map((l) => ({ system: LOINC, ...l })) : []),
    o,
    profiles,
  );
  if (vs)
    obs.category = [
      { coding: [{ system: CATEGORY, code: 'vital-signs', display: 'Vital Signs' }], text: 'Vital Signs' },
    ];
  obs.effectiveDateTime = formatUs(r.t_us);
  if (!hasValue(r)) obs.dataAbsentReason = absentReason(r.flags);
  else if (r.value_number !== null) obs.valueQuantity = quantity(r);
  else if (r.value_code_refid !== null)
    obs.valueCodeableConcept = {
      coding: mdcCoding(r.value_code_mdc ?? 0, r.value_code_refid),
      ...(r.value_code_text ? { text: r.value_code_text } : {}),
    };
  else if (r.value_text !== null) obs.valueString = r.value_text;
  if (r.method) obs.method = { text: r.method };
  if (r.ref_range) obs.referenceRange = [{ text: r.ref_range }];
  return obs;
}

function component(r: ObsRow, loinc: { code: string; display: string }): ObservationComponent {
  // The R4 bp profile discriminates components by the value of code.coding.code, which validators read as the whole
  // collection: a second (MDC) coding there breaks the slice. The MDC reference id stays in code.text.
  const c: ObservationComponent = { code: { coding: [{ system: LOINC, ...loinc }], text: r.refid || String(r.mdc) } };
  if (hasValue(r) && r.value_number !== null) c.valueQuantity = quantity(r);
  else c.dataAbsentReason = absentReason(r.flags);
  if (r.flags & Flag.FLAG_ABNORMAL)
    c.interpretation = [{ coding: [{ system: INTERPRETATION, code: 'A', display: 'Abnormal' }] }];
  return c;
}

/**
 * Observations of numeric and coded rows. A non-invasive systolic and diastolic of one Batch and time form one
 * 85354-9 panel (the bp profile) with the mean as a third component; every other row is one Observation.
 */
export function observationsOf(rows: readonly Bound<ObsRow>[], o: FhirOptions = {}): Observation[] {
  const out: Observation[] = [];
  const used = new Set<Bound<ObsRow>>();
  const groups = new Map<string, Bound<ObsRow>[]>();
  for (const r of rows) {
    const k = `${r.site}/${r.gateway}/${r.device}/${r.kind}/${r.seq}/${r.t_us}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  for (const g of groups.values()) {
    for (const set of NIBP_SETS) {
      const sys = g.find((r) => r.mdc === set.sys && !used.has(r));
      const dia = g.find((r) => r.mdc === set.dia && !used.has(r));
      if (!sys || !dia) continue;
      const mean = g.find((r) => r.mdc === set.mean && !used.has(r));
      const parts = mean ? [sys, dia, mean] : [sys, dia];
      for (const p of parts) used.add(p);
      const unitsOk = parts.every((p) => !hasValue(p) || (p.unit === 'mm[Hg]' && !(p.flags & Flag.FLAG_UNIT_UNKNOWN)));
      const flags = parts.reduce((f, p) => f | p.flags, 0);
      const panel = base(
        { ...sys, flags },
        rowId(sys, 'bp'),
        codeOf({ mdc: set.panel.mdc, refid: set.panel.refid, vendor_code: '' }, [{ system: LOINC, ...BP_PANEL }]),
        o,
        unitsOk ? ['vitalsigns', 'bp'] : [],
      );
      panel.status = parts.some((p) => p.flags & Flag.FLAG_EARLY_ESTIMATE) ? 'preliminary' : 'final';
      panel.category = [
        { coding: [{ system: CATEGORY, code: 'vital-signs', display: 'Vital Signs' }], text: 'Vital Signs' },
      ];
      panel.effectiveDateTime = formatUs(sys.t_us);
      panel.component = [
        component(sys, BP_SYSTOLIC),
        component(dia, BP_DIASTOLIC),
        ...(mean ? [component(mean, BP_MEAN)] : []),
      ];
      if (sys.method) panel.method = { text: sys.method };
      out.push(panel);
    }
  }
  for (const r of rows) if (!used.has(r)) out.push(numericObservation(r, o));
  return out;
}

/** A waveform chunk as SampledData: physical = origin + factor x raw; the device's invalid marker becomes "E". */
export function waveObservation(r: Bound<WaveRow>, o: FhirOptions = {}): Observation {
  const obs = base(r, rowId(r, 'wave'), codeOf(r), o, []);
  const n = r.samples.length;
  const endUs = r.sample_rate_hz > 0 ? r.t_us + Math.round((n / r.sample_rate_hz) * 1e6) : r.t_us;
  obs.effectivePeriod = { start: formatUs(r.t_us), end: formatUs(endUs) };
  if (r.sample_rate_hz > 0 && n > 0) {
    obs.valueSampledData = {
      origin: { value: r.wave_offset, ...(r.unit ? { unit: r.unit, system: UCUM, code: r.unit } : {}) },
      period: 1000 / r.sample_rate_hz,
      factor: r.scale,
      dimensions: 1,
      data: r.samples.map((v) => (r.invalid_value !== null && v === r.invalid_value ? 'E' : String(v))).join(' '),
    };
  } else obs.dataAbsentReason = { coding: [{ system: ABSENT, code: 'error' }], text: 'sample rate unknown' };
  return obs;
}

const ALARM_FACET = (code: string, display: string, value: string): ObservationComponent => ({
  code: { coding: [{ system: `${VW}/CodeSystem/alarm-facet`, code, display }] },
  valueString: value,
});

/** An alarm event (IHE PCD-04 shape): the event code, its source, value and limits, and its state as components. */
export function alarmObservation(r: Bound<AlarmRow>, o: FhirOptions = {}): Observation {
  const obs = base(r, rowId(r, 'alarm'), codeOf(r), o, []);
  obs.category = [
    { coding: [{ system: `${VW}/CodeSystem/observation-category`, code: 'alarm', display: 'Device alarm' }] },
  ];
  obs.effectiveDateTime = formatUs(r.t_us);
  if (r.alarm_text) obs.valueString = r.alarm_text;
  else obs.dataAbsentReason = { coding: [{ system: ABSENT, code: 'not-applicable' }] };
  const comps: ObservationComponent[] = [
    ALARM_FACET('id', 'Alarm instance', r.alarm_id || 'unknown'),
    ALARM_FACET('priority', 'Priority', String(r.priority)),
    ALARM_FACET('kind', 'Kind', String(r.alarm_kind)),
    ALARM_FACET('state', 'State', String(r.state)),
    ALARM_FACET('phase', 'Phase', String(r.phase)),
    ALARM_FACET('inactivation', 'Inactivation', String(r.inactivation)),
  ];
  if (r.source_mdc > 0 || r.source_refid) {
    const src: ObservationComponent = {
      code: { coding: mdcCoding(r.source_mdc, r.source_refid), text: r.source_refid || String(r.source_mdc) },
    };
    if (r.source_value !== null)
      src.valueQuantity = r.source_unit
        ? { value: r.source_value, unit: r.source_unit, system: UCUM, code: r.source_unit }
        : { value: r.source_value };
    else src.dataAbsentReason = { coding: [{ system: ABSENT, code: 'not-applicable' }] };
    if (r.limit_low !== null || r.limit_high !== null) {
      const q = (v: number) =>
        r.source_unit ? { value: v, unit: r.source_unit, system: UCUM, code: r.source_unit } : { value: v };
      src.referenceRange = [
        {
          ...(r.limit_low !== null ? { low: q(r.limit_low) } : {}),
          ...(r.limit_high !== null ? { high: q(r.limit_high) } : {}),
          ...(r.limits ? { text: r.limits } : {}),
        },
      ];
    }
    comps.push(src);
  }
  obs.component = comps;
  return obs;
}

const GAP_ABSENT: Record<number, string> = {
  [GapReason.GAP_REASON_DEVICE_DISCONNECTED]: 'not-performed',
  [GapReason.GAP_REASON_DEVICE_SILENT]: 'not-performed',
  [GapReason.GAP_REASON_DEVICE_ERROR]: 'error',
  [GapReason.GAP_REASON_DEVICE_SKIPPED]: 'error',
};
const STREAM_NAME: Record<number, string> = {
  [Kind.KIND_OBS]: 'numerics',
  [Kind.KIND_WAVE]: 'waveforms',
  [Kind.KIND_ALARM]: 'alarms',
  [Kind.KIND_STATUS]: 'status',
};

/** A declared hole in a device's stream: no values over the period, with why (data-absent-reason and the gap reason). */
export function gapObservation(r: Bound<GapRow>, o: FhirOptions = {}): Observation {
  const code: CodeableConcept =
    r.wave_mdc > 0
      ? { coding: mdcCoding(r.wave_mdc, ''), text: `gap in waveform ${r.wave_mdc}` }
      : {
          coding: [{ system: `${VW}/CodeSystem/gap`, code: 'gap', display: 'Monitoring gap' }],
          text: `gap in ${STREAM_NAME[r.stream] ?? 'stream'}`,
        };
  // A Gap has no flags; one of a device whose status says it is a simulator is marked as such (query.ts).
  const obs = base({ ...r, flags: r.quarantined ? Flag.FLAG_SIMULATED : 0 }, rowId(r, 'gap'), code, o, []);
  obs.effectivePeriod = {
    start: formatUs(r.from_time_us || r.t_us),
    ...(r.to_time_us ? { end: formatUs(r.to_time_us) } : {}),
  };
  obs.dataAbsentReason = { coding: [{ system: ABSENT, code: GAP_ABSENT[r.reason] ?? 'unknown' }] };
  obs.extension = [
    ...(obs.extension ?? []),
    { url: EXT_GAP_REASON, valueCode: GapReason[r.reason] ?? 'GAP_REASON_UNSPECIFIED' },
  ];
  return obs;
}

/** A transaction of idempotent PUTs: Devices first, then Observations. */
export function transactionBundle(resources: readonly (Device | Observation)[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
  };
}
