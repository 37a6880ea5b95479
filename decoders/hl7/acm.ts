// IHE PCD-04 (ACM) ORU^R40 to Alarms (IHE PCD TF-2 B.8.3 / ACM profile). One OBR per alarm; its
// OBX rows are facets told apart by an extra OBX-4 level and named by reference id (vendors
// number the same facet 68480-68485, 68164-68167 or 68165-68168, so numbers are not trusted).
import {
  AlarmInactivation,
  AlarmKind,
  AlarmPhase,
  AlarmPriority,
  AlarmState,
  Flag,
  type IAlarm,
  type IAlarmFacet,
} from '../../proto/index.js';
import { decodeError, type DecodeError } from '../../lib/errors.js';
import { component, isEmpty, part, spanEnd, spanEquals, spanStart, type Hl7Message, type Span } from './message.js';
import { readNumber, readText } from './text.js';
import { readAbnormalFlags, readEquipment, resolveMetric, resultStatus } from './fields.js';
import { PARTITION, isEventCode, metricByMdc, partitionOf } from '../mdc.js';
import { fitUnit } from '../units/units.js';
import type { MessageContext } from './pcd01.js';

// The ACM vocabularies, text to enum. The PCD-04 encoder (encode.ts) writes the first text of each value, so a
// message it writes reads back to the same enum here.
export const PRIORITY: Record<string, number> = {
  PH: AlarmPriority.ALARM_PRIORITY_HIGH,
  PM: AlarmPriority.ALARM_PRIORITY_MEDIUM,
  PL: AlarmPriority.ALARM_PRIORITY_LOW,
  PN: AlarmPriority.ALARM_PRIORITY_NONE,
};
export const KIND: Record<string, number> = {
  SP: AlarmKind.ALARM_KIND_PHYSIOLOGICAL,
  ST: AlarmKind.ALARM_KIND_TECHNICAL,
  SA: AlarmKind.ALARM_KIND_ADVISORY,
};
export const PHASE: Record<string, number> = {
  start: AlarmPhase.ALARM_PHASE_START,
  continue: AlarmPhase.ALARM_PHASE_CONTINUE,
  end: AlarmPhase.ALARM_PHASE_END,
  present: AlarmPhase.ALARM_PHASE_PRESENT,
  update: AlarmPhase.ALARM_PHASE_UPDATE,
  escalate: AlarmPhase.ALARM_PHASE_ESCALATE,
  inactivate: AlarmPhase.ALARM_PHASE_INACTIVATE,
  deescalate: AlarmPhase.ALARM_PHASE_DEESCALATE,
  reset: AlarmPhase.ALARM_PHASE_RESET,
  stop: AlarmPhase.ALARM_PHASE_END,
};
export const STATE: Record<string, number> = {
  inactive: AlarmState.ALARM_STATE_INACTIVE,
  active: AlarmState.ALARM_STATE_ACTIVE,
  latched: AlarmState.ALARM_STATE_LATCHED,
};
export const INACTIVATION: Record<string, number> = {
  enabled: AlarmInactivation.ALARM_INACTIVATION_ENABLED,
  'audio-paused': AlarmInactivation.ALARM_INACTIVATION_AUDIO_PAUSED,
  'audio-off': AlarmInactivation.ALARM_INACTIVATION_AUDIO_OFF,
  'alarm-paused': AlarmInactivation.ALARM_INACTIVATION_ALARM_PAUSED,
  'alarm-off': AlarmInactivation.ALARM_INACTIVATION_ALARM_OFF,
  'alert-acknowledged': AlarmInactivation.ALARM_INACTIVATION_ACKNOWLEDGED,
  acknowledged: AlarmInactivation.ALARM_INACTIVATION_ACKNOWLEDGED,
};

export interface AcmResult {
  alarms: IAlarm[];
  warnings: DecodeError[];
  device?: string;
}

const MDC_VALUE = /^MDC_[A-Za-z0-9_]+$/;

export function decodeAcmBody(c: MessageContext, msgTimeUs: number, msgOffset: number | undefined): AcmResult {
  const { m, ctx, intern } = c;
  const off = ctx.defaultUtcOffsetMin ?? 0;
  const out: AcmResult = { alarms: [], warnings: [] };
  let alarm: IAlarm | undefined;
  let facetOne = true;

  for (let seg = 1; seg < m.segmentCount; seg++) {
    if (m.segmentIs(seg, 'OBR')) {
      if (alarm) out.alarms.push(alarm);
      const t = c.readTime(m, m.field(seg, 7), off);
      const obr3 = m.field(seg, 3);
      const id =
        [1, 2]
          .map((k) => readText(m, component(m, obr3, k)))
          .filter(Boolean)
          .join('^') || readText(m, component(m, m.field(seg, 2), 1));
      alarm = {
        id,
        time: {
          gatewayTimeUs: ctx.gatewayTimeUs,
          deviceTimeUs: t ? t.us : msgTimeUs,
          ...((t ? t.offsetMin : msgOffset) !== undefined
            ? { deviceUtcOffsetMin: (t ? t.offsetMin : msgOffset) as number }
            : {}),
        },
        flags: 0,
      };
      facetOne = true;
      if (!out.device) {
        const eq = readEquipment(m, obr3);
        if (eq.id) out.device = eq.id;
      }
      continue;
    }
    if (!m.segmentIs(seg, 'OBX') || !alarm) continue;
    const type = m.field(seg, 2);
    if (isEmpty(type)) continue; // containment header
    const obx3 = m.field(seg, 3);
    const refid = intern.get(m, component(m, obx3, 2));
    const value = m.field(seg, 5);
    const eq = readEquipment(m, m.field(seg, 18));
    if (eq.id && !out.device) out.device = eq.id;
    if (facetOne) {
      facetOne = false;
      readEventFacet(c, seg, alarm, refid, out);
      continue;
    }
    const coded = spanEquals(m.buf, type, 'CWE') || spanEquals(m.buf, type, 'CE');
    const text = readText(m, coded ? component(m, value, 2) : value).trim();
    switch (refid) {
      case 'MDC_ATTR_ALERT_SOURCE': {
        setSource(
          alarm,
          readNumber(m.buf, component(m, value, 1)),
          intern.get(m, component(m, value, 2)) || readText(m, value),
        );
        break;
      }
      case 'MDC_ATTR_EVENT_PHASE':
      case 'MDC_ATTR_EVT_PHASE':
        if (!setEnum(alarm, 'phase', PHASE, text, out)) alarm.facets = [...(alarm.facets ?? []), facetOf(c, seg)];
        break;
      case 'MDC_ATTR_ALARM_STATE':
      case 'MDC_ATTR_ALERT_STATE':
        if (!setEnum(alarm, 'state', STATE, text, out)) alarm.facets = [...(alarm.facets ?? []), facetOf(c, seg)];
        break;
      case 'MDC_ATTR_ALARM_INACTIVATION_STATE':
        if (text && !setEnum(alarm, 'inactivation', INACTIVATION, text, out))
          alarm.facets = [...(alarm.facets ?? []), facetOf(c, seg)];
        break;
      case 'MDC_ATTR_ALARM_PRIORITY':
        if (!setEnum(alarm, 'priority', PRIORITY, text, out)) alarm.facets = [...(alarm.facets ?? []), facetOf(c, seg)];
        break;
      case 'MDC_ATTR_ALERT_TYPE':
        if (!setEnum(alarm, 'kind', KIND, text, out)) alarm.facets = [...(alarm.facets ?? []), facetOf(c, seg)];
        break;
      default:
        // IHE PCD TF-2 (ACM): the source facet (`.2`) names the metric that raised the alarm in
        // OBX-3, its value in OBX-5, its unit in OBX-6 and the limits in force in OBX-7.
        if (
          !refid.startsWith('MDC_ATTR_') &&
          !refid.startsWith('MDC_EVT_') &&
          spanEquals(m.buf, type, 'NM') &&
          alarm.sourceValue === undefined
        ) {
          readSourceFacet(c, seg, alarm);
        } else {
          // Every other facet, as sent: nothing the sender gives is dropped.
          alarm.facets = [...(alarm.facets ?? []), facetOf(c, seg)];
        }
    }
  }
  if (alarm) out.alarms.push(alarm);
  return out;
}

/**
 * Facet 1: the alarm itself. Mindray: OBX-3 MDC_EVT_ALARM with the event as a CWE value. IHE PCD
 * TF-2 and GE/Draeger: OBX-3 is the event; OBX-5 is its text, or (CWE, or a coded value in an ST
 * row) the source parameter. OBX-8: abnormality ~ priority ~ source kind (`H~PM~SP`) and the mode
 * flags (DEMO, TEST); OBX-11 the status (a deleted alarm is retracted).
 */
function readEventFacet(c: MessageContext, seg: number, alarm: IAlarm, refid: string, out: AcmResult): void {
  const { m, intern } = c;
  const obx3 = m.field(seg, 3);
  const value = m.field(seg, 5);
  const valueRef = intern.get(m, component(m, value, 2));
  const valueCoded = MDC_VALUE.test(valueRef) && readText(m, component(m, value, 3)) === 'MDC';
  if (refid === 'MDC_EVT_ALARM' && valueCoded && valueRef.startsWith('MDC_EVT_')) {
    setEvent(alarm, readNumber(m.buf, component(m, value, 1)), valueRef);
    alarm.text = readText(m, component(m, value, 5)) || valueRef;
  } else {
    setEvent(alarm, readNumber(m.buf, component(m, obx3, 1)), refid);
    if (valueCoded) {
      setSource(alarm, readNumber(m.buf, component(m, value, 1)), valueRef);
      alarm.text = readText(m, component(m, value, 5)) || refid;
    } else {
      alarm.text = readText(m, value);
    }
  }
  alarm.vendorCode = intern.get(m, obx3);
  const obx8 = m.field(seg, 8);
  readPriorityAndKind(m, obx8, alarm);
  // The abnormality letter (H, L, A) is what every alarm is about: only the mode flags (DEMO, TEST) are kept.
  alarm.flags =
    (alarm.flags ?? 0) |
    (readAbnormalFlags(m, obx8) & (Flag.FLAG_DEMO | Flag.FLAG_TEST)) |
    resultStatus(m, m.field(seg, 11)).flags;
  const t14 = c.readTime(m, m.field(seg, 14), c.ctx.defaultUtcOffsetMin ?? 0);
  if (t14 && alarm.time) {
    alarm.time.deviceTimeUs = t14.us;
    if (t14.offsetMin !== undefined) alarm.time.deviceUtcOffsetMin = t14.offsetMin;
  }
  if (t14 === null) out.warnings.push(decodeError('VW_ERR_HL7_BAD_TIME', `OBX-${seg} OBX-14`));
}

// Event codes live in partition 3 (EVT) of 11073-10101; other numbers are not trusted as events.
function setEvent(alarm: IAlarm, n: number, refid: string): void {
  const ok = isEventCode(n) && refid.startsWith('MDC_EVT_');
  alarm.mdc = ok ? n : 0;
  alarm.refid = refid;
  if (!ok) alarm.flags = (alarm.flags ?? 0) | Flag.FLAG_UNMAPPED;
}

/** The source: a metric (partition 2) or the device (partition 1) that raised the alarm. */
function setSource(alarm: IAlarm, n: number, refid: string): void {
  const metric = resolveMetric(Number.isInteger(n) ? n : 0, MDC_VALUE.test(refid) ? refid : '');
  if (metric.mdc) {
    alarm.sourceMdc = metric.mdc;
    alarm.sourceRefid = metric.name;
    if (metric.mismatch) alarm.flags = (alarm.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
  } else {
    // Devices and channels (partition 1), as sent.
    alarm.sourceMdc = Number.isInteger(n) && partitionOf(n) === PARTITION.OBJ ? n : 0;
    alarm.sourceRefid = refid;
  }
}

function readSourceFacet(c: MessageContext, seg: number, alarm: IAlarm): void {
  const { m, intern } = c;
  const obx3 = m.field(seg, 3);
  setSource(alarm, readNumber(m.buf, component(m, obx3, 1)), intern.get(m, component(m, obx3, 2)));
  const containment = readText(m, m.field(seg, 4));
  if (containment) alarm.sourceContainment = containment;
  const v = readNumber(m.buf, m.field(seg, 5));
  const unit = c.units.get(m, m.field(seg, 6));
  const fitted = fitUnit(metricByMdc(alarm.sourceMdc ?? 0), unit.reading);
  // The value and limits stay in the unit the device used (a converted unit would need converted
  // limits too, and the alarm is about the device's own threshold).
  const ucum = fitted.conversion ? fitted.conversion.from : fitted.ucum;
  if (ucum) alarm.sourceUnit = ucum;
  if (fitted.flags & Flag.FLAG_UNIT_UNKNOWN) alarm.flags = (alarm.flags ?? 0) | (fitted.flags & ~Flag.FLAG_DERIVED);
  if (Number.isFinite(v)) alarm.sourceValue = v;
  const limits = readText(m, m.field(seg, 7)).trim();
  if (limits) {
    alarm.limits = limits;
    const r = parseRange(limits);
    if (r.low !== undefined) alarm.limitLow = r.low;
    if (r.high !== undefined) alarm.limitHigh = r.high;
  }
}

/**
 * HL7 v2 OBX-7 reference range: "lower limit-upper limit", "> lower limit" or "< upper limit".
 * Anything else is kept as text only.
 */
export function parseRange(text: string): { low?: number; high?: number } {
  const both = RANGE_BOTH.exec(text);
  if (both) return { low: Number(both[1]), high: Number(both[2]) };
  const gt = RANGE_LOW.exec(text);
  if (gt) return { low: Number(gt[1]) };
  const lt = RANGE_HIGH.exec(text);
  if (lt) return { high: Number(lt[1]) };
  return {};
}
const NUM = '(-?\\d+(?:\\.\\d+)?)';
const RANGE_BOTH = new RegExp(`^${NUM}\\s*-\\s*${NUM}$`);
const RANGE_LOW = new RegExp(`^>=?\\s*${NUM}$`);
const RANGE_HIGH = new RegExp(`^<=?\\s*${NUM}$`);

function facetOf(c: MessageContext, seg: number): IAlarmFacet {
  const { m } = c;
  const obx3 = m.field(seg, 3);
  const n = readNumber(m.buf, component(m, obx3, 1));
  const f: IAlarmFacet = {
    mdc: Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : 0,
    refid: readText(m, component(m, obx3, 2)),
    value: readText(m, m.field(seg, 5)),
  };
  const unit = readText(m, m.field(seg, 6));
  if (unit) f.unit = unit;
  const containment = readText(m, m.field(seg, 4));
  if (containment) f.containment = containment;
  return f;
}

function readPriorityAndKind(m: Hl7Message, s: Span, alarm: IAlarm): void {
  for (let k = 1; ; k++) {
    const r = part(m.buf, s, m.delims.repetition, k);
    if (r < 0) break;
    const t = m.buf.toString('latin1', spanStart(r), spanEnd(r));
    if (PRIORITY[t] !== undefined) alarm.priority = PRIORITY[t];
    else if (KIND[t] !== undefined) alarm.kind = KIND[t];
  }
}

function setEnum(
  alarm: IAlarm,
  key: 'phase' | 'state' | 'inactivation' | 'priority' | 'kind',
  table: Record<string, number>,
  text: string,
  out: AcmResult,
): boolean {
  const v = table[text];
  if (v === undefined) {
    out.warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `alarm ${key} ${JSON.stringify(text.slice(0, 32))} unknown`));
    return false;
  }
  (alarm as Record<typeof key, number>)[key] = v;
  return true;
}
