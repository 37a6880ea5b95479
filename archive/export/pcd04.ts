// Archived alarms to IHE PCD-04 (ACM) ORU^R40 messages for HL7 v2 consumers, one per alarm row (each of an alarm's
// phases is its own row and message, as a device reports them), through vitalwire's one encoder
// (decoders/hl7/encode.ts), so vitalwire's own ACM decoder reads every message back to the same event, priority,
// kind, phase, state, inactivation, source, value, unit and limits. Headers as in PCD-01 (pcd01.ts messageHeader):
// the binding valid at the alarm's time gives bed, patient and encounter. What PCD-04 cannot carry is counted, never
// sent wrong: an event without an MDC event code is skipped; a source value whose unit has no MDC_DIM code goes as the
// source alone (MDC_ATTR_ALERT_SOURCE), without the value.
import { encodePcd04, type EncodeAlarm } from '../../decoders/hl7/encode.js';
import type { Bound, DeviceInfo } from '../query.js';
import type { AlarmRow } from '../schema.js';
import { messageHeader, obx8, unitOf, type Pcd01Options } from './pcd01.js';

export interface Pcd04Counts {
  messages: number;
  /** Alarms whose event has no MDC code: PCD-04's OBX-5 names the event by it. */
  skippedUnmapped: number;
  /** Source values left out because their unit has no MDC_DIM code. */
  valuesWithoutUnit: number;
}

/** PCD-04 messages (each ends in CR), one per alarm row; `devices` gives model and EUI-64 where known. */
export function pcd04Messages(
  alarms: readonly Bound<AlarmRow>[],
  devices: ReadonlyMap<string, DeviceInfo>,
  o: Pcd01Options = {},
): { messages: string[]; counts: Pcd04Counts } {
  const counts: Pcd04Counts = { messages: 0, skippedUnmapped: 0, valuesWithoutUnit: 0 };
  const messages: string[] = [];
  for (const r of alarms) {
    if (r.mdc === 0 || !r.refid.startsWith('MDC_EVT_')) {
      counts.skippedUnmapped++;
      continue;
    }
    let source: EncodeAlarm['source'];
    if (r.source_mdc !== 0 && r.source_refid) {
      source = { mdc: r.source_mdc, refid: r.source_refid, containment: r.source_containment };
      if (r.source_value !== null) {
        const u = unitOf(0, r.source_unit || '1');
        if (u) source.value = { number: r.source_value, unitMdc: u.mdc, unitRefid: u.refid, limits: r.limits };
        else counts.valuesWithoutUnit++;
      }
    }
    const header = messageHeader(r, devices, o);
    messages.push(
      encodePcd04({
        ...header,
        // One message per row: the Batch's control id with the item's index.
        controlId: `${header.controlId}.${r.idx}`,
        alarm: {
          id: r.alarm_id,
          event: { mdc: r.mdc, refid: r.refid },
          text: r.alarm_text,
          priority: r.priority,
          kind: r.alarm_kind,
          phase: r.phase,
          state: r.state,
          inactivation: r.inactivation,
          ...(source ? { source } : {}),
          flags: obx8(r.flags).filter((f) => f !== 'A'), // abnormality is the alarm's own (encode.ts)
        },
      }),
    );
  }
  counts.messages = messages.length;
  return { messages, counts };
}
