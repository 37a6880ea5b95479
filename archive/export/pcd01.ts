// Archive rows to IHE PCD-01 ORU^R01 messages for HL7 v2 consumers, through vitalwire's one PCD-01 encoder
// (decoders/hl7/encode.ts), so vitalwire's own decoder reads every message back to the same codes, values and units.
// One message per Batch of numerics (OBX NM rows, with PID-3 patient, PV1-3 bed and PV1-19 encounter from the binding
// valid at the Batch's time), one per waveform chunk (IHE PCD TF-2 WCM: NA array, sample rate, resolution).
// What PCD-01 cannot carry is skipped and counted, never sent wrong: values without an MDC code (the vendor's own code
// has no place in OBX-3's MDC coding), units without an MDC_DIM code, coded and text values (PCD-01 NM only here),
// waves with a non-zero offset. OBX-8 carries A (abnormal), DEMO (also for simulated data) and TEST; other quality flags travel in FHIR, Parquet
// and CSV exports only. Times are sent to the millisecond.
import { encodePcd01, type EncodeNumeric } from '../../decoders/hl7/encode.js';
import { UNITS, unitByMdc, type UnitCode } from '../../decoders/mdc.js';
import { Flag } from '../../proto/index.js';
import type { Bound, DeviceInfo } from '../query.js';
import type { ObsRow, WaveRow } from '../schema.js';

export interface Pcd01Counts {
  messages: number;
  skippedUnmapped: number;
  skippedUnit: number;
  skippedNotNumeric: number;
  skippedWaveOffset: number;
}

const unitByUcum = new Map<string, UnitCode>();
for (const u of Object.values(UNITS)) if (!unitByUcum.has(u.ucum)) unitByUcum.set(u.ucum, u);

export function unitOf(unitMdc: number, ucum: string): UnitCode | undefined {
  const byCode = unitMdc ? unitByMdc(unitMdc) : undefined;
  return byCode && byCode.ucum === ucum ? byCode : unitByUcum.get(ucum);
}

export function obx8(flags: number): string[] {
  const out: string[] = [];
  if (flags & Flag.FLAG_ABNORMAL) out.push('A');
  // A simulator's values have no marker of their own in HL7 v2: DEMO (IHE PCD TF-2 OBX-8) is the one a consumer
  // already honours, so simulated data never reaches a record system looking like a patient's.
  if (flags & (Flag.FLAG_DEMO | Flag.FLAG_SIMULATED)) out.push('DEMO');
  if (flags & Flag.FLAG_TEST) out.push('TEST');
  return out;
}

const EUI64 = /^[0-9A-F]{16}$/;

export interface Pcd01Options {
  /** PID-3 assigning authority of patient identifiers. */
  patientAuthority?: string | undefined;
}

/**
 * A message's header fields for an archived row: control id from its Batch, the device's EUI-64 and model where known,
 * and bed, patient and encounter from the binding valid at the row's time; processing id T for test data.
 */
export function messageHeader(
  r: Bound<{
    site: string;
    gateway: string;
    device: string;
    kind: string;
    seq: number;
    t_us: number;
    flags: number;
  }> & {
    device_utc_offset_min: number | null;
  },
  devices: ReadonlyMap<string, DeviceInfo>,
  o: Pcd01Options,
) {
  const d = devices.get(`${r.site}/${r.gateway}/${r.device}`);
  const b = r.binding;
  return {
    controlId: `${r.site}.${r.gateway}.${r.device}.${r.kind}.${r.seq}`,
    timeUs: r.t_us,
    utcOffsetMin: r.device_utc_offset_min ?? 0,
    ...(d && EUI64.test(d.hardwareId) ? { device: { eui64: d.hardwareId, model: d.model } } : {}),
    ...(b ? { bed: { unit: '', bed: b.bed } } : {}),
    ...(b?.patient
      ? { patient: { id: b.patient, ...(o.patientAuthority ? { authority: o.patientAuthority } : {}) } }
      : {}),
    ...(b?.encounter ? { visit: b.encounter } : {}),
    ...(r.quarantined && r.flags & Flag.FLAG_TEST ? { processingId: 'T' as const } : {}),
  };
}

/** PCD-01 messages (each ends in CR) for numerics and waves; `devices` gives model and EUI-64 where known. */
export function pcd01Messages(
  obs: readonly Bound<ObsRow>[],
  waves: readonly Bound<WaveRow>[],
  devices: ReadonlyMap<string, DeviceInfo>,
  o: Pcd01Options = {},
): { messages: string[]; counts: Pcd01Counts } {
  const counts: Pcd01Counts = {
    messages: 0,
    skippedUnmapped: 0,
    skippedUnit: 0,
    skippedNotNumeric: 0,
    skippedWaveOffset: 0,
  };
  const messages: string[] = [];
  const header = (r: Bound<ObsRow | WaveRow>) => messageHeader(r, devices, o);
  const byBatch = new Map<string, Bound<ObsRow>[]>();
  for (const r of obs) {
    const k = `${r.site}/${r.gateway}/${r.device}/${r.kind}/${r.seq}/${r.quarantined}`;
    let g = byBatch.get(k);
    if (!g) byBatch.set(k, (g = []));
    g.push(r);
  }
  for (const rows of byBatch.values()) {
    const numerics: EncodeNumeric[] = [];
    for (const r of rows) {
      if (r.mdc === 0 || !r.refid) {
        counts.skippedUnmapped++;
        continue;
      }
      if (r.value_code_refid !== null || r.value_text !== null) {
        counts.skippedNotNumeric++;
        continue;
      }
      const u = r.unit ? unitOf(r.unit_mdc, r.unit) : undefined;
      if (r.unit && !u) {
        counts.skippedUnit++;
        continue;
      }
      numerics.push({
        mdc: r.mdc,
        refid: r.refid,
        value: r.value_number,
        unitMdc: u?.mdc ?? 0,
        unitRefid: u?.refid ?? '',
        flags: obx8(r.flags),
        timeUs: r.t_us,
        ...(r.containment ? { containment: r.containment } : {}),
        ...(r.method ? { method: r.method } : {}),
        ...(r.ref_range ? { range: r.ref_range } : {}),
      });
    }
    if (numerics.length === 0) continue;
    messages.push(encodePcd01({ ...header(rows[0] as Bound<ObsRow>), numerics }));
  }
  for (const w of waves) {
    const u = unitByUcum.get(w.unit || '1');
    if (w.wave_offset !== 0 || w.mdc === 0) {
      if (w.mdc === 0) counts.skippedUnmapped++;
      else counts.skippedWaveOffset++;
      continue;
    }
    if (!u) {
      counts.skippedUnit++;
      continue;
    }
    messages.push(
      encodePcd01({
        ...header(w),
        waves: [
          {
            mdc: w.mdc,
            refid: w.refid,
            containment: `1.1.1.${w.mdc}`,
            samples: w.samples,
            rateHz: w.sample_rate_hz,
            resolution: w.scale,
            unitMdc: u.mdc,
            unitRefid: u.refid,
            ...(w.invalid_value !== null ? { invalid: w.invalid_value } : {}),
          },
        ],
      }),
    );
  }
  counts.messages = messages.length;
  return { messages, counts };
}
