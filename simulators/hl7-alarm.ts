// A simulated monitor's alarm report: IHE PCD-04 (ACM) ORU^R40, one OBR per alarm, facets as OBX rows (IHE PCD
// TF-2 B.8.3). Facet 1 follows the Mindray form: OBX-3 MDC_EVT_ALARM with the event code as a CWE value and the
// display text in its 5th component, OBX-8 `<abnormality>~<priority>~<kind>`.
import { escapeHl7 } from '../decoders/hl7/encode.js';
import { mllpWrap } from '../decoders/framing/mllp.js';
import { formatHl7Time } from '../decoders/hl7/time.js';
import { processingId, valueFlags, type MonitorIdentity, type SimMarking } from './hl7-monitor.js';

export interface SimAlarm {
  /** Alarm instance id, the same across its phases. */
  id: string;
  event: { mdc: number; refid: string };
  text: string;
  source: { mdc: number; refid: string; containment: string };
  priority: 'PH' | 'PM' | 'PL';
  kind: 'SP' | 'ST';
  phase: 'start' | 'continue' | 'end';
  state: 'active' | 'inactive';
}

const PROFILE = 'IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO';

export function buildAlarmFrame(
  id: MonitorIdentity,
  a: SimAlarm,
  o: { controlId: string; timeUs: number; utcOffsetMin?: number } & SimMarking,
): Buffer {
  const ts = formatHl7Time(o.timeUs, o.utcOffsetMin ?? 0);
  const c = a.source.containment;
  const abnormal = a.kind === 'SP' ? 'H' : 'A';
  const flags = [abnormal, a.priority, a.kind, ...valueFlags(o)].join('~');
  const segs = [
    `MSH|^~\\&|VWSIM^${id.eui64}^EUI-64|VITALWIRE|||${ts}||ORU^R40^ORU_R40|${escapeHl7(o.controlId)}|${processingId(o)}|2.6|||AL|NE||UNICODE UTF-8|||${PROFILE}`,
    'PID|||',
    `PV1||I|${escapeHl7(id.unit ?? 'WARD')}^^${escapeHl7(id.bed)}`,
    `OBR|1|${escapeHl7(o.controlId)}^VWSIM|${escapeHl7(a.id)}^VWSIM|196616^MDC_EVT_ALARM^MDC|||${ts}`,
    `OBX|1|CWE|196616^MDC_EVT_ALARM^MDC|${c}.1|${a.event.mdc}^${a.event.refid}^MDC^^${escapeHl7(a.text)}|||${flags}|||R|||${ts}||||${id.eui64}^${escapeHl7(id.model)}^${id.eui64}^EUI-64`,
    `OBX|2|CWE|68480^MDC_ATTR_ALERT_SOURCE^MDC|${c}.2|${a.source.mdc}^${a.source.refid}^MDC||||||R`,
    `OBX|3|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|${c}.3|${a.phase}||||||R`,
    `OBX|4|ST|68482^MDC_ATTR_ALARM_STATE^MDC|${c}.4|${a.state}||||||R`,
    `OBX|5|ST|68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC|${c}.5|enabled||||||R`,
  ];
  return mllpWrap(segs.join('\r') + '\r');
}
