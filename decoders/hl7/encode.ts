// PCD-01 encoder: values in, an ORU^R01 message out (IHE PCD TF-2 layout). Simulators speak
// through it, and round-trip tests check decode(encode(x)) = x. Text is escaped per HL7 2.7.
import { formatHl7Time } from './time.js';

export interface EncodeNumeric {
  mdc: number;
  refid: string;
  value: number | null; // null: no value (OBX-11 X)
  unitMdc: number;
  unitRefid: string;
  containment?: string;
  flags?: string[]; // OBX-8 repetitions, e.g. ['DEMO']
  timeUs?: number;
  method?: string;
  /** OBX-7 reference range as text. */
  range?: string;
}

export interface EncodeWave {
  mdc: number;
  refid: string;
  containment: string;
  samples: ArrayLike<number>; // raw integers
  rateHz: number;
  resolution: number; // physical per count
  unitMdc: number;
  unitRefid: string;
  invalid?: number; // MDC_EVT_INOP value (Mindray)
}

export interface EncodePcd01 {
  controlId: string;
  timeUs: number;
  utcOffsetMin?: number;
  sender?: { name: string; eui64: string };
  device?: { eui64: string; model: string };
  bed?: { unit: string; bed: string };
  /** PID-3 patient identifier (CX: id^^^assigning authority^MR), e.g. the archive's export of a bound patient. */
  patient?: { id: string; authority?: string };
  /** PV1-19 visit number (the encounter). */
  visit?: string;
  numerics?: EncodeNumeric[];
  /** Waves go in their own OBR (MDC_OBS_WAVE_CTS) with OBR-7/OBR-8 as the window. */
  waves?: EncodeWave[];
  processingId?: 'P' | 'D' | 'T';
}

const PROFILE = 'IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO';

export function escapeHl7(s: string): string {
  return s
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    .replace(/\r\n|\r|\n/g, '\\.br\\');
}

export function encodePcd01(o: EncodePcd01): string {
  const off = o.utcOffsetMin ?? 0;
  const ts = formatHl7Time(o.timeUs, off);
  const sender = o.sender ? `${escapeHl7(o.sender.name)}^${o.sender.eui64}^EUI-64` : 'VITALWIRE';
  const eq = o.device ? `${o.device.eui64}^${escapeHl7(o.device.model)}^${o.device.eui64}^EUI-64` : '';
  const segs = [
    `MSH|^~\\&|${sender}|VITALWIRE|||${ts}||ORU^R01^ORU_R01|${escapeHl7(o.controlId)}|${o.processingId ?? 'P'}|2.6|||NE|AL||UNICODE UTF-8|||${PROFILE}`,
    o.patient ? `PID|||${escapeHl7(o.patient.id)}^^^${escapeHl7(o.patient.authority ?? '')}^MR` : 'PID|||',
    pv1(o),
    `OBR|1|${escapeHl7(o.controlId)}^VITALWIRE|${escapeHl7(o.controlId)}^VITALWIRE|182777000^monitoring of patient^SCT|||${ts}`,
  ];
  let n = 0;
  if (o.numerics?.length || !o.waves?.length)
    segs.push(`OBX|${++n}||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||${eq}`);
  let first = true;
  for (const v of o.numerics ?? []) {
    // Like Mindray and Philips senders: the equipment id on the first value only.
    const eqHere = first ? eq : '';
    first = false;
    const t = v.timeUs !== undefined ? formatHl7Time(v.timeUs, off) : ts;
    const value = v.value === null ? '' : numText(v.value);
    const status = v.value === null ? 'X' : 'R';
    const method = v.method ? `^${escapeHl7(v.method)}` : '';
    segs.push(
      `OBX|${++n}|NM|${v.mdc}^${v.refid}^MDC|${v.containment ?? `1.1.1.${v.mdc}`}|${value}|${v.unitMdc}^${v.unitRefid}^MDC|${escapeHl7(v.range ?? '')}|${(v.flags ?? []).map(escapeHl7).join('~')}|||${status}|||${t}|||${method}|${eqHere}`,
    );
  }
  if (o.waves?.length) {
    const end = formatHl7Time(
      o.timeUs + Math.round(((o.waves[0]?.samples.length ?? 0) / (o.waves[0]?.rateHz || 1)) * 1e6),
      off,
    );
    segs.push(
      `OBR|2|${escapeHl7(o.controlId)}^VITALWIRE|${escapeHl7(o.controlId)}^VITALWIRE|69121^MDC_OBS_WAVE_CTS^MDC|||${ts}|${end}`,
    );
    for (const w of o.waves) {
      segs.push(
        `OBX|${++n}|NA|${w.mdc}^${w.refid}^MDC|${w.containment}|${Array.prototype.join.call(w.samples, '^')}|${w.unitMdc}^${w.unitRefid}^MDC|||||R`,
      );
      segs.push(
        `OBX|${++n}|NM|0^MDC_ATTR_SAMP_RATE^MDC|${w.containment}.1|${numText(w.rateHz)}|264608^MDC_DIM_PER_SEC^MDC|||||R`,
      );
      segs.push(
        `OBX|${++n}|NM|2327^MDC_ATTR_NU_MSMT_RES^MDC|${w.containment}.2|${numText(w.resolution)}|${w.unitMdc}^${w.unitRefid}^MDC|||||R`,
      );
      if (w.invalid !== undefined)
        segs.push(`OBX|${++n}|NM|196660^MDC_EVT_INOP^MDC|${w.containment}.3|${w.invalid}||||||R`);
    }
  }
  return segs.join('\r') + '\r';
}

// PV1-2 I (inpatient), PV1-3 point of care ^ room ^ bed, PV1-19 visit number.
function pv1(o: EncodePcd01): string {
  const loc = o.bed ? `${escapeHl7(o.bed.unit)}^^${escapeHl7(o.bed.bed)}` : '';
  if (!o.visit) return o.bed ? `PV1||I|${loc}` : 'PV1||I';
  return `PV1||I|${loc}||||||||||||||||${escapeHl7(o.visit)}`;
}

// Plain decimal text: HL7 NM has no exponent form.
function numText(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const s = String(v);
  if (!/e/i.test(s)) return s;
  return v.toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
}
