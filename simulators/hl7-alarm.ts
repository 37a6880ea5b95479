// A simulated monitor's alarm report: IHE PCD-04 (ACM) ORU^R40, one OBR per alarm, facets as OBX rows (IHE PCD
// TF-2 B.8.3), written by the encoder the archive's PCD-04 export uses (decoders/hl7/encode.ts encodePcd04).
import { mllpWrap } from '../decoders/framing/mllp.js';
import { KIND, PHASE, PRIORITY, STATE } from '../decoders/hl7/acm.js';
import { encodePcd04 } from '../decoders/hl7/encode.js';
import { AlarmInactivation } from '../proto/index.js';
import { monitorHeader, valueFlags, type MonitorIdentity, type SimMarking } from './hl7-monitor.js';

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

/** One alarm phase as the monitor reports it: an MLLP-framed ORU^R40 from vitalwire's one PCD-04 encoder. */
export function buildAlarmFrame(
  id: MonitorIdentity,
  a: SimAlarm,
  o: { controlId: string; timeUs: number; utcOffsetMin?: number } & SimMarking,
): Buffer {
  return mllpWrap(
    encodePcd04({
      ...monitorHeader(id, o),
      alarm: {
        id: a.id,
        event: a.event,
        text: a.text,
        priority: PRIORITY[a.priority] ?? 0,
        kind: KIND[a.kind] ?? 0,
        phase: PHASE[a.phase] ?? 0,
        state: STATE[a.state] ?? 0,
        inactivation: AlarmInactivation.ALARM_INACTIVATION_ENABLED,
        source: a.source,
        flags: valueFlags(o),
      },
    }),
  );
}
