// PCD-01 encoder: values in, an ORU^R01 message out (IHE PCD TF-2 layout); and PCD-04 (ACM): an alarm in, an
// ORU^R40 out. Simulators and the archive's HL7 v2 export speak through it, and round-trip tests check
// decode(encode(x)) = x. Text is escaped per HL7 2.7.
import { INACTIVATION, KIND, PHASE, PRIORITY, STATE } from './acm.js';
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
const ACM_PROFILE = 'IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.4.1^ISO';

/** One alarm, its enums as the archive and the contract keep them (vitals.proto Alarm). */
export interface EncodeAlarm {
  /** Alarm instance id (OBR-3): the same across the alarm's phases. */
  id: string;
  event: { mdc: number; refid: string };
  text: string;
  /** AlarmPriority, AlarmKind, AlarmPhase, AlarmState, AlarmInactivation; 0 (unspecified): the facet is left out. */
  priority: number;
  kind: number;
  phase: number;
  state: number;
  inactivation: number;
  /** What raised it; with a value (in an MDC unit), the NM facet that carries value, unit and limits (OBX-7). */
  source?: {
    mdc: number;
    refid: string;
    /** OBX-4 of the source facet as the device sent it (vitals.proto source_containment), e.g. 1.3.1.150456.2. */
    containment: string;
    value?: { number: number; unitMdc: number; unitRefid: string; limits: string };
  };
  /** OBX-8 mode flags after abnormality, priority and kind (DEMO, TEST). */
  flags?: string[];
}

export type EncodePcd04 = Omit<EncodePcd01, 'numerics' | 'waves'> & { alarm: EncodeAlarm };

/** The first text of each value of an ACM vocabulary (acm.ts): what the decoder reads back to the same value. */
function textOf(table: Record<string, number>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [t, v] of Object.entries(table)) if (!m.has(v)) m.set(v, t);
  return m;
}
const PRIORITY_TEXT = textOf(PRIORITY);
const KIND_TEXT = textOf(KIND);
const PHASE_TEXT = textOf(PHASE);
const STATE_TEXT = textOf(STATE);
const INACTIVATION_TEXT = textOf(INACTIVATION);

export function escapeHl7(s: string): string {
  return s
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    .replace(/\r\n|\r|\n/g, '\\.br\\');
}

/** MSH, PID and PV1: the message's sender, patient and location. */
function header(o: Omit<EncodePcd01, 'numerics' | 'waves'>, ts: string, type: string, acks: string, profile: string) {
  const sender = o.sender ? `${escapeHl7(o.sender.name)}^${o.sender.eui64}^EUI-64` : 'VITALWIRE';
  return [
    `MSH|^~\\&|${sender}|VITALWIRE|||${ts}||${type}|${escapeHl7(o.controlId)}|${o.processingId ?? 'P'}|2.6|||${acks}||UNICODE UTF-8|||${profile}`,
    o.patient ? `PID|||${escapeHl7(o.patient.id)}^^^${escapeHl7(o.patient.authority ?? '')}^MR` : 'PID|||',
    pv1(o),
  ];
}

const equipment = (o: Omit<EncodePcd01, 'numerics' | 'waves'>): string =>
  o.device ? `${o.device.eui64}^${escapeHl7(o.device.model)}^${o.device.eui64}^EUI-64` : '';

export function encodePcd01(o: EncodePcd01): string {
  const off = o.utcOffsetMin ?? 0;
  const ts = formatHl7Time(o.timeUs, off);
  const eq = equipment(o);
  const segs = [
    ...header(o, ts, 'ORU^R01^ORU_R01', 'NE|AL', PROFILE),
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

/**
 * One alarm as IHE PCD-04 ORU^R40 (IHE PCD TF-2 B.8.3, the ACM profile): one OBR for the alarm, its facets as OBX rows
 * told apart by a fifth OBX-4 level. Facet 1 in the Mindray form (decoders/hl7/acm.ts reads both forms): OBX-3
 * MDC_EVT_ALARM, the event code as the CWE value with the text in its fifth component, OBX-8 abnormality ~ priority ~
 * kind ~ mode flags. Facet 2 the source: an NM row of the metric with its value, unit and limits (OBX-7) when there is a
 * value, else MDC_ATTR_ALERT_SOURCE naming it. Then phase, state and inactivation state, each when known.
 */
export function encodePcd04(o: EncodePcd04): string {
  const ts = formatHl7Time(o.timeUs, o.utcOffsetMin ?? 0);
  const a = o.alarm;
  // The alarm's own level: the source facet's OBX-4 without its facet number (MDS.VMD.CHAN.METRIC.FACET).
  const sc = a.source?.containment ?? '';
  const c = sc.split('.').length === 5 ? sc.slice(0, sc.lastIndexOf('.')) : sc || '1.0.0.0';
  const obx8 = [
    abnormality(a.event.refid),
    PRIORITY_TEXT.get(a.priority) ?? '',
    KIND_TEXT.get(a.kind) ?? '',
    ...(a.flags ?? []),
  ].filter(Boolean);
  const segs = [
    ...header(o, ts, 'ORU^R40^ORU_R40', 'AL|NE', ACM_PROFILE),
    `OBR|1|${escapeHl7(o.controlId)}^VITALWIRE|${escapeHl7(a.id)}^VITALWIRE|196616^MDC_EVT_ALARM^MDC|||${ts}`,
    `OBX|1|CWE|196616^MDC_EVT_ALARM^MDC|${c}.1|${a.event.mdc}^${a.event.refid}^MDC^^${escapeHl7(a.text)}|||${obx8.map(escapeHl7).join('~')}|||R|||${ts}||||${equipment(o)}`,
  ];
  let n = 1;
  const s = a.source;
  if (s?.value)
    segs.push(
      `OBX|${++n}|NM|${s.mdc}^${s.refid}^MDC|${sc || `${c}.2`}|${numText(s.value.number)}|${s.value.unitMdc}^${s.value.unitRefid}^MDC|${escapeHl7(s.value.limits)}||||R`,
    );
  else if (s) segs.push(`OBX|${++n}|CWE|68480^MDC_ATTR_ALERT_SOURCE^MDC|${c}.2|${s.mdc}^${s.refid}^MDC||||||R`);
  // Facets keep their numbers (.3 phase, .4 state, .5 inactivation) when one before them is left out.
  const facet = (code: string, no: number, table: Map<number, string>, v: number): void => {
    const t = table.get(v);
    if (t) segs.push(`OBX|${++n}|ST|${code}|${c}.${no}|${t}||||||R`);
  };
  facet('68481^MDC_ATTR_EVENT_PHASE^MDC', 3, PHASE_TEXT, a.phase);
  facet('68482^MDC_ATTR_ALARM_STATE^MDC', 4, STATE_TEXT, a.state);
  facet('68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC', 5, INACTIVATION_TEXT, a.inactivation);
  return segs.join('\r') + '\r';
}

/**
 * OBX-8's abnormality letter of an alarm (HL7 table 0078): H for a high-limit event, L for a low-limit one, else A.
 * From the event code, since the archive keeps no letter (the decoder keeps only the mode flags of OBX-8): a low SpO2
 * alarm must not leave as "high".
 */
function abnormality(eventRefid: string): string {
  if (/^MDC_EVT_HI(_|$)/.test(eventRefid)) return 'H';
  if (/^MDC_EVT_LO(_|$)/.test(eventRefid)) return 'L';
  return 'A';
}

// PV1-2 I (inpatient), PV1-3 point of care ^ room ^ bed, PV1-19 visit number.
function pv1(o: Omit<EncodePcd01, 'numerics' | 'waves'>): string {
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
