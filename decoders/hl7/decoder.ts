// The HL7 v2 FrameDecoder: one per device link. Dispatches on MSH-9 to PCD-01 (ORU^R01, and the
// HL7 2.4 waveform trigger ORU^W01) and PCD-04 (ORU^R40).
import type { FrameDecoder } from '../registry.js';
import { Flag } from '../../proto/index.js';
import type { DecodeContext, DecodeResult, Decoded } from '../decoded.js';
import { decodeError } from '../../lib/errors.js';
import { component, NONE, spanEquals, type Span } from './message.js';
import { createHl7Parser } from './message.js';
import { createInterner, createSpanCache, readText } from './text.js';
import { createCodeCaches, createTimeReader, readEquipment } from './fields.js';
import { decodePcd01Body, type MessageContext, type WaveState } from './pcd01.js';
import { decodeAcmBody } from './acm.js';

export function createHl7Decoder(): FrameDecoder {
  const m = createHl7Parser();
  const intern = createInterner();
  const readTime = createTimeReader();
  const waves = new Map<string, WaveState>();
  // Sender identity and bed repeat in every message: decoded once per distinct bytes.
  const equipment = createSpanCache((mm, sp) => readEquipment(mm, sp), {} as { id?: string; name?: string });
  const mc: MessageContext = {
    m,
    ctx: { gatewayTimeUs: 0 },
    intern,
    ...createCodeCaches(intern),
    readTime,
    waves,
    mantissas: new Int32Array(1024),
    decimals: new Uint8Array(1024),
    rows: [],
    valueSpan: NONE,
    timeSpan: NONE,
  };

  return {
    decode(frame: Buffer, ctx: DecodeContext): DecodeResult {
      const failure = m.parse(frame);
      if (failure) return { ok: false, error: decodeError(failure.code, failure.detail) };
      mc.ctx = ctx;
      // Some senders insert an empty field before MSH-4 (a Mindray D-series feed puts the device in
      // MSH-4 and everything after one field late). When MSH-9 holds no message type but MSH-10
      // does, read MSH-7.. one field later and say so.
      let shift = 0;
      if (!looksLikeType(m.field(0, 9)) && looksLikeType(m.field(0, 10))) shift = 1;
      // MSH-7 and later, shifted (no per-message closure for this: it costs an allocation).
      const type9 = m.field(0, 9 + shift);
      const t1 = component(m, type9, 1);
      const t2 = component(m, type9, 2);
      const isOru = spanEquals(m.buf, t1, 'ORU');
      // ORF^R04 (HL7 v2 ch. 7, query response): the same OBR/OBX content as ORU^R01 (Philips, others).
      const isOrf = spanEquals(m.buf, t1, 'ORF') && spanEquals(m.buf, t2, 'R04');
      const kind = isOrf
        ? 'dec'
        : !isOru
          ? ''
          : spanEquals(m.buf, t2, 'R01') || spanEquals(m.buf, t2, 'W01')
            ? 'dec'
            : spanEquals(m.buf, t2, 'R40')
              ? 'acm'
              : '';
      if (!kind) {
        return {
          ok: false,
          error: decodeError(
            'VW_ERR_HL7_UNSUPPORTED_MESSAGE',
            `${readText(m, t1).slice(0, 8)}^${readText(m, t2).slice(0, 8)}`,
          ),
        };
      }
      const off = ctx.defaultUtcOffsetMin ?? 0;
      const t7 = readTime(m, m.field(0, 7 + shift), off);
      const warnings = t7 === null ? [decodeError('VW_ERR_HL7_BAD_TIME', 'MSH-7')] : [];
      if (shift) warnings.push(decodeError('VW_ERR_HL7_MSH_SHIFTED', 'MSH-9 empty, message type found in MSH-10'));
      const msgUs = t7 ? t7.us : 0;
      const msgOff = t7 ? t7.offsetMin : undefined;
      const out: Decoded = { observations: [], waves: [], alarms: [], warnings };
      const cid = readText(m, m.field(0, 10 + shift));
      if (cid) out.controlId = cid;
      // Identity: the bedside device in OBX-18 wins over the sender in MSH-3/MSH-4 (often a gateway).
      const sender = equipment.get(m, m.field(0, 3), 0);
      const facility = equipment.get(m, m.field(0, 4), 1);
      for (let seg = 1; seg < m.segmentCount; seg++) {
        if (m.segmentIs(seg, 'PV1')) {
          const bed = bedOf(m.field(seg, 3));
          if (bed) out.bed = bed;
          break;
        }
      }
      // MSH-11 processing id D (debugging) or T (training): not production data (HL7 Table 0103).
      const pid = component(m, m.field(0, 11 + shift), 1);
      const nonProduction = spanEquals(m.buf, pid, 'D') || spanEquals(m.buf, pid, 'T');
      if (kind === 'dec') {
        const r = decodePcd01Body(mc, msgUs, msgOff);
        out.observations = r.observations;
        out.waves = r.waves;
        out.alarms = r.alarms;
        if (r.gaps.length > 0) out.gaps = r.gaps;
        out.warnings.push(...r.warnings);
        const device = r.device ?? sender.id ?? facility.id;
        if (device) out.device = device;
        const model = r.model ?? (readText(m, component(m, m.field(0, 3), 1)).trim() || undefined);
        if (model) out.model = model;
        if (nonProduction) {
          for (const o of out.observations) o.flags = (o.flags ?? 0) | Flag.FLAG_TEST;
          for (const w of out.waves) w.flags = (w.flags ?? 0) | Flag.FLAG_TEST;
          for (const a of out.alarms) a.flags = (a.flags ?? 0) | Flag.FLAG_TEST;
        }
      } else {
        const r = decodeAcmBody(mc, msgUs, msgOff);
        out.alarms = r.alarms;
        out.warnings.push(...r.warnings);
        const device = r.device ?? sender.id ?? facility.id;
        if (device) out.device = device;
        if (nonProduction) for (const a of out.alarms) a.flags = (a.flags ?? 0) | Flag.FLAG_TEST;
      }
      return { ok: true, value: out };
    },
  };

  function looksLikeType(s: Span): boolean {
    const t = component(m, s, 1);
    return (
      spanEquals(m.buf, t, 'ORU') ||
      spanEquals(m.buf, t, 'ORF') ||
      spanEquals(m.buf, t, 'ACK') ||
      spanEquals(m.buf, t, 'ADT') ||
      spanEquals(m.buf, t, 'QRY') ||
      spanEquals(m.buf, t, 'ORM')
    );
  }

  // PV1-3 point of care ^ room ^ bed: "ICU^^5" -> "ICU-5".
  function bedOf(s: Span): string | undefined {
    const parts: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const t = readText(m, component(m, s, k)).trim();
      if (t) parts.push(t);
    }
    return parts.length > 0 ? parts.join('-') : undefined;
  }
}
