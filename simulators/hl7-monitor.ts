// A simulated bedside monitor speaking IHE PCD-01: ORU^R01 with MDC codes, CR segment ends,
// MLLP framing. Patient context is synthetic (empty PID, a bed label in PV1-3).
import { formatHl7Time } from '../decoders/hl7/time.js';
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

export interface Pcd01Options {
  controlId: string;
  timeUs: number;
  utcOffsetMin?: number;
  demo?: boolean;
}

const PROFILE = 'IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO';

/** Builds one PCD-01 ORU^R01 message (no MLLP framing). */
export function buildPcd01(id: MonitorIdentity, v: Vitals, o: Pcd01Options): string {
  const ts = formatHl7Time(o.timeUs, o.utcOffsetMin ?? 0);
  const eq = `${id.eui64}^${id.model}^${id.eui64}^EUI-64`;
  const flag = o.demo ? 'DEMO' : '';
  const mds = '69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC';
  const obx = (n: number, path: string, m: { mdc: number; refid: string }, value: number, unit: { mdc: number; refid: string }) =>
    `OBX|${n}|NM|${m.mdc}^${m.refid}^MDC|${path}|${value}|${unit.mdc}^${unit.refid}^MDC||${flag}|||R|||${ts}||||${eq}`;
  return [
    `MSH|^~\\&|VWSIM^${id.eui64}^EUI-64|VWSIM|||${ts}||ORU^R01^ORU_R01|${o.controlId}|P|2.6|||NE|AL||UNICODE UTF-8|||${PROFILE}`,
    'PID|||',
    `PV1||I|${id.unit ?? 'WARD'}^^${id.bed}`,
    `OBR|1|${o.controlId}^VWSIM|${o.controlId}^VWSIM|182777000^monitoring of patient^SCT|||${ts}`,
    `OBX|1||${mds}|1|||||||X|||||||${eq}`,
    obx(2, '1.1.1.147842', METRICS.MDC_ECG_CARD_BEAT_RATE, v.hr, UNITS.MDC_DIM_BEAT_PER_MIN),
    obx(3, '1.2.1.150456', METRICS.MDC_PULS_OXIM_SAT_O2, v.spo2, UNITS.MDC_DIM_PERCENT),
    obx(4, '1.2.1.149530', METRICS.MDC_PULS_OXIM_PULS_RATE, v.pulse, UNITS.MDC_DIM_BEAT_PER_MIN),
    obx(5, '1.3.1.151562', METRICS.MDC_RESP_RATE, v.rr, UNITS.MDC_DIM_RESP_PER_MIN),
  ].join('\r') + '\r';
}

export function buildPcd01Frame(id: MonitorIdentity, v: Vitals, o: Pcd01Options): Buffer {
  return mllpWrap(buildPcd01(id, v, o));
}
