// A simulated bedside monitor speaking IHE PCD-01: ORU^R01 with MDC codes, CR segment ends,
// MLLP framing, written by the decoders' own PCD-01 encoder. Patient context is synthetic
// (empty PID, a bed label in PV1-3). Every message says it is not a patient's, in HL7's own terms
// (MSH-11 processing id T, and OBX-8 DEMO on values), unless built `asReal` for conformance tests.
import { encodePcd01 } from '../decoders/hl7/encode.js';
import { mllpWrap } from '../decoders/framing/mllp.js';
import { METRICS, UNITS } from '../decoders/mdc.js';
import type { Vitals } from './physiology.js';

export interface MonitorIdentity {
  /** EUI-64, 16 hex digits. Simulators use locally administered ids (first octet 0x02). */
  eui64: string;
  model: string;
  bed: string;
  unit?: string;
}

/** How a simulated message marks itself: by default as not production data (HL7 Table 0103 processing id T,
 *  training, which decoders read as FLAG_TEST) and its values as demo data (OBX-8 DEMO, Mindray's convention, read as
 *  FLAG_DEMO). `asReal` drops both: only for conformance tests that must see what a real monitor sends. */
export interface SimMarking {
  /** OBX-8 DEMO on every value (default true). */
  demo?: boolean;
  asReal?: boolean;
}

/** HL7 Table 0103: P production, T training, D debugging. */
export function processingId(m: SimMarking): 'P' | 'T' {
  return m.asReal ? 'P' : 'T';
}

/** The OBX-8 repetitions a simulated value carries. */
export function valueFlags(m: SimMarking): string[] {
  return !m.asReal && (m.demo ?? true) ? ['DEMO'] : [];
}

export interface Pcd01Options extends SimMarking {
  controlId: string;
  timeUs: number;
  utcOffsetMin?: number;
}

/** The MSH/PV1 part every simulated message of this monitor shares (encodePcd01 options). */
export function monitorHeader(
  id: MonitorIdentity,
  o: { controlId: string; timeUs: number; utcOffsetMin?: number } & SimMarking,
) {
  return {
    controlId: o.controlId,
    timeUs: o.timeUs,
    utcOffsetMin: o.utcOffsetMin ?? 0,
    sender: { name: 'VWSIM', eui64: id.eui64 },
    device: { eui64: id.eui64, model: id.model },
    bed: { unit: id.unit ?? 'WARD', bed: id.bed },
    processingId: processingId(o),
  };
}

/** Builds one PCD-01 ORU^R01 message (no MLLP framing). */
export function buildPcd01(id: MonitorIdentity, v: Vitals, o: Pcd01Options): string {
  const flags = valueFlags(o);
  const row = (m: { mdc: number; refid: string }, path: string, value: number, u: { mdc: number; refid: string }) => ({
    mdc: m.mdc,
    refid: m.refid,
    containment: path,
    value,
    unitMdc: u.mdc,
    unitRefid: u.refid,
    flags,
    timeUs: o.timeUs,
  });
  return encodePcd01({
    ...monitorHeader(id, o),
    numerics: [
      row(METRICS.MDC_ECG_CARD_BEAT_RATE, '1.1.1.147842', v.hr, UNITS.MDC_DIM_BEAT_PER_MIN),
      row(METRICS.MDC_PULS_OXIM_SAT_O2, '1.2.1.150456', v.spo2, UNITS.MDC_DIM_PERCENT),
      row(METRICS.MDC_PULS_OXIM_PULS_RATE, '1.2.1.149530', v.pulse, UNITS.MDC_DIM_BEAT_PER_MIN),
      row(METRICS.MDC_RESP_RATE, '1.3.1.151562', v.rr, UNITS.MDC_DIM_RESP_PER_MIN),
    ],
  });
}

export function buildPcd01Frame(id: MonitorIdentity, v: Vitals, o: Pcd01Options): Buffer {
  return mllpWrap(buildPcd01(id, v, o));
}
