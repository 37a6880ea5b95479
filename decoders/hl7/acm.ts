// IHE PCD-04 (ACM) ORU^R40 to Alarms (IHE PCD TF-2 B.8.3 / ACM profile). One OBR per alarm; its
// OBX rows are facets told apart by an extra OBX-4 level and named by reference id (vendors
// number the same facet 68480-68485, 68164-68167 or 68165-68168, so numbers are not trusted).
import { AlarmInactivation, AlarmKind, AlarmPhase, AlarmPriority, AlarmState, Flag, type IAlarm } from '../../proto/index.js';
import { decodeError, type DecodeError } from '../errors.js';
import { component, isEmpty, part, spanEnd, spanEquals, spanStart, type Hl7Message, type Span } from './message.js';
import { readNumber, readText } from './text.js';
import { readEquipment } from './fields.js';
import type { MessageContext } from './pcd01.js';

const PRIORITY: Record<string, number> = {
  PH: AlarmPriority.ALARM_PRIORITY_HIGH,
  PM: AlarmPriority.ALARM_PRIORITY_MEDIUM,
  PL: AlarmPriority.ALARM_PRIORITY_LOW,
  PN: AlarmPriority.ALARM_PRIORITY_NONE,
};
const KIND: Record<string, number> = {
  SP: AlarmKind.ALARM_KIND_PHYSIOLOGICAL,
  ST: AlarmKind.ALARM_KIND_TECHNICAL,
  SA: AlarmKind.ALARM_KIND_ADVISORY,
};
const PHASE: Record<string, number> = {
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
const STATE: Record<string, number> = {
  inactive: AlarmState.ALARM_STATE_INACTIVE,
  active: AlarmState.ALARM_STATE_ACTIVE,
  latched: AlarmState.ALARM_STATE_LATCHED,
};
const INACTIVATION: Record<string, number> = {
  enabled: AlarmInactivation.ALARM_INACTIVATION_ENABLED,
  'audio-paused': AlarmInactivation.ALARM_INACTIVATION_AUDIO_PAUSED,
  'audio-off': AlarmInactivation.ALARM_INACTIVATION_AUDIO_OFF,
  'alarm-paused': AlarmInactivation.ALARM_INACTIVATION_ALARM_PAUSED,
  'alarm-off': AlarmInactivation.ALARM_INACTIVATION_ALARM_OFF,
  'alert-acknowledged': AlarmInactivation.ALARM_INACTIVATION_ACKNOWLEDGED,
  acknowledged: AlarmInactivation.ALARM_INACTIVATION_ACKNOWLEDGED,
};

// Event codes live in partition 3 (EVT, 196608..262143) of 11073-10101.
function eventCode(n: number, refid: string): { mdc: number; unmapped: boolean } {
  const ok = Number.isInteger(n) && n >= 196608 && n < 262144 && refid.startsWith('MDC_EVT_');
  return ok ? { mdc: n, unmapped: false } : { mdc: 0, unmapped: true };
}

export interface AcmResult {
  alarms: IAlarm[];
  warnings: DecodeError[];
  device?: string;
}

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
      const id = [1, 2].map((k) => readText(m, component(m, obr3, k))).filter(Boolean).join('^') || readText(m, component(m, m.field(seg, 2), 1));
      alarm = {
        id,
        time: {
          gatewayTimeUs: ctx.gatewayTimeUs,
          deviceTimeUs: t ? t.us : msgTimeUs,
          ...((t ? t.offsetMin : msgOffset) !== undefined ? { deviceUtcOffsetMin: (t ? t.offsetMin : msgOffset) as number } : {}),
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
      // Facet 1 is the alarm itself. Mindray: OBX-3 MDC_EVT_ALARM with the event as a CWE value;
      // GE and Draeger: OBX-3 is the event and OBX-5 its text.
      if (refid === 'MDC_EVT_ALARM' && (spanEquals(m.buf, type, 'CWE') || spanEquals(m.buf, type, 'CE'))) {
        const evRef = intern.get(m, component(m, value, 2));
        const ev = eventCode(readNumber(m.buf, component(m, value, 1)), evRef);
        alarm.mdc = ev.mdc;
        alarm.refid = evRef;
        alarm.text = readText(m, component(m, value, 5)) || evRef;
        if (ev.unmapped) alarm.flags = (alarm.flags ?? 0) | Flag.FLAG_UNMAPPED;
      } else {
        const ev = eventCode(readNumber(m.buf, component(m, obx3, 1)), refid);
        alarm.mdc = ev.mdc;
        alarm.refid = refid;
        alarm.text = readText(m, value);
        if (ev.unmapped) alarm.flags = (alarm.flags ?? 0) | Flag.FLAG_UNMAPPED;
      }
      alarm.vendorCode = intern.get(m, obx3);
      // OBX-8 of facet 1: abnormality ~ priority ~ source kind (`H~PM~SP`, `A~PL~ST`).
      readPriorityAndKind(m, m.field(seg, 8), alarm);
      const t14 = c.readTime(m, m.field(seg, 14), off);
      if (t14 && alarm.time) {
        alarm.time.deviceTimeUs = t14.us;
        if (t14.offsetMin !== undefined) alarm.time.deviceUtcOffsetMin = t14.offsetMin;
      }
      continue;
    }
    const text = readText(m, spanEquals(m.buf, type, 'CWE') || spanEquals(m.buf, type, 'CE') ? component(m, value, 2) : value).trim();
    switch (refid) {
      case 'MDC_ATTR_ALERT_SOURCE': {
        const n = readNumber(m.buf, component(m, value, 1));
        alarm.sourceRefid = intern.get(m, component(m, value, 2)) || readText(m, value);
        alarm.sourceMdc = Number.isInteger(n) ? n : 0;
        break;
      }
      case 'MDC_ATTR_EVENT_PHASE':
        setEnum(alarm, 'phase', PHASE, text, out);
        break;
      case 'MDC_ATTR_ALARM_STATE':
      case 'MDC_ATTR_ALERT_STATE':
        setEnum(alarm, 'state', STATE, text, out);
        break;
      case 'MDC_ATTR_ALARM_INACTIVATION_STATE':
        if (text) setEnum(alarm, 'inactivation', INACTIVATION, text, out);
        break;
      case 'MDC_ATTR_ALARM_PRIORITY':
        setEnum(alarm, 'priority', PRIORITY, text, out);
        break;
      case 'MDC_ATTR_ALERT_TYPE':
        setEnum(alarm, 'kind', KIND, text, out);
        break;
      default:
        break; // other facets (alert text, limits) are not modelled yet
    }
  }
  if (alarm) out.alarms.push(alarm);
  return out;
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

function setEnum(alarm: IAlarm, key: 'phase' | 'state' | 'inactivation' | 'priority' | 'kind', table: Record<string, number>, text: string, out: AcmResult): void {
  const v = table[text];
  if (v === undefined) {
    out.warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `alarm ${key} ${JSON.stringify(text.slice(0, 32))} unknown`));
    return;
  }
  (alarm as Record<typeof key, number>)[key] = v;
}
