// Datex-Ohmeda record decoder: physiological data (r_maintype 0), basic class, read in place from
// the unescaped record the framer delivers (checksum already removed). Layout facts and their
// sources: layout.ts; fields -> MDC codes and scaling: codes.ts. Never throws: every read is
// bounds-checked first, bad input becomes a coded error or warning.
import { Flag, type IObservation, type ITiming } from '../../proto/index.js';
import type { DecodeContext, DecodeResult, Decoded } from '../decoded.js';
import { decodeError } from '../../lib/errors.js';
import * as C from './codes.js';
import type { FieldCode } from './codes.js';
import {
  BASIC,
  CO2_F,
  CO2_STATUS_CALIBRATING,
  CO2_STATUS_ZEROING,
  DATA,
  ECG_F,
  ECG_STATUS_ARTIFACT,
  GROUP_HDR,
  HDR,
  MAINTYPE,
  NIBP_LABEL_CALIBRATING,
  P_F,
  P_GROUPS,
  P_LABELS,
  P_STATUS_ZEROING,
  PH_SUBTYPE,
  PHDB,
  SPO2_F,
  SR_END,
  STATUS_EXISTS,
  T_F,
  T_GROUPS,
  T_LABELS,
  phdbClass,
} from './layout.js';

const MAINTYPE_NAMES: Record<number, string> = { 1: 'waveform', 4: 'alarm', 5: 'network', 8: 'anesthesia record' };

/** Flags for a raw int16: a valid value gives 0; the reserved range (-32001 and below) gives
 *  FLAG_UNAVAILABLE plus what the sentinel says (layout.ts DATA). */
export function sentinelFlags(raw: number): number {
  if (raw > DATA.INVALID_LIMIT) return 0;
  if (raw === DATA.UNDER_RANGE || raw === DATA.OVER_RANGE) return Flag.FLAG_UNAVAILABLE | Flag.FLAG_OUT_OF_RANGE;
  if (raw === DATA.NOT_CALIBRATED) return Flag.FLAG_UNAVAILABLE | Flag.FLAG_CALIBRATING;
  return Flag.FLAG_UNAVAILABLE; // no data, not updated, discontinuity, other reserved values
}

/**
 * What one link's decoder remembers between records. The S/5 repeats its last NIBP in every record and sends no time
 * of measurement: the NIBP is dated by the record in which it changed, and one first seen after the link came up has
 * no known time (device_time_us 0, method APERIODIC), never the time of the record that happens to carry it.
 */
export interface DatexLinkState {
  nibpKey: string | null;
  nibpTimeUs: number;
}

export function createDatexState(): DatexLinkState {
  return { nibpKey: null, nibpTimeUs: 0 };
}

export function decodeDatexRecord(
  frame: Buffer,
  ctx: DecodeContext,
  state: DatexLinkState = createDatexState(),
): DecodeResult {
  if (frame.length < HDR.SIZE) {
    return {
      ok: false,
      error: decodeError('VW_ERR_DATEX_RECORD', `${frame.length}-byte record is shorter than the 40-byte header`),
    };
  }
  const rLen = frame.readInt16LE(HDR.R_LEN);
  if (rLen < HDR.SIZE || rLen > frame.length) {
    return {
      ok: false,
      error: decodeError('VW_ERR_DATEX_RECORD', `r_len ${rLen} does not fit a ${frame.length}-byte record`),
    };
  }
  const mainType = frame.readInt16LE(HDR.R_MAINTYPE);
  if (mainType !== MAINTYPE.PHDB) {
    const name = MAINTYPE_NAMES[mainType] ?? 'unknown';
    return { ok: false, error: decodeError('VW_ERR_DATEX_UNSUPPORTED', `r_maintype ${mainType} (${name})`) };
  }
  const out: Decoded = { observations: [], waves: [], alarms: [], warnings: [] };
  const recordTime = frame.readUInt32LE(HDR.R_TIME);
  for (let d = 0; d < HDR.SR_COUNT; d++) {
    const at = HDR.SR_DESC + d * HDR.SR_DESC_SIZE;
    const type = frame[at + 2] as number;
    if (type === SR_END) break;
    if (type !== PH_SUBTYPE.DISPL && type !== PH_SUBTYPE.TREND_10S && type !== PH_SUBTYPE.TREND_60S) continue; // aux info etc.
    // sr_offset is relative to the data area that follows the header [VSC][KAI].
    const start = HDR.SIZE + frame.readInt16LE(at);
    if (start < HDR.SIZE || start + PHDB.SIZE > rLen) {
      out.warnings.push(
        decodeError(
          'VW_ERR_DATEX_RECORD',
          `subrecord ${d} at offset ${start - HDR.SIZE} exceeds the ${rLen}-byte record`,
        ),
      );
      continue;
    }
    const cls = phdbClass(frame.readUInt16LE(start + PHDB.CL_DRILVL_SUBT));
    if (cls !== 0) {
      if (cls > 3) out.warnings.push(decodeError('VW_ERR_DATEX_RECORD', `subrecord ${d} has unknown class ${cls}`));
      continue; // ext1..ext3 classes are not decoded
    }
    const t = frame.readUInt32LE(start + PHDB.TIME) || recordTime;
    // dri_phdb.time / r_time are Unix seconds, UTC by definition: offset 0 is stated.
    const time: ITiming = { gatewayTimeUs: ctx.gatewayTimeUs, deviceTimeUs: t * 1_000_000, deviceUtcOffsetMin: 0 };
    decodeBasic(frame, start + PHDB.CLASS_BLOCK, time, out.observations, state);
  }
  return { ok: true, value: out };
}

function decodeBasic(b: Buffer, base: number, time: ITiming, obs: IObservation[], state: DatexLinkState): void {
  let g = base + BASIC.ECG;
  let status = b.readUInt32LE(g + GROUP_HDR.STATUS);
  if (status & STATUS_EXISTS) {
    push(obs, b, g + ECG_F.HR, C.ECG_HR, time, status & ECG_STATUS_ARTIFACT ? Flag.FLAG_ARTIFACT : 0, '');
    push(obs, b, g + ECG_F.IMP_RR, C.ECG_IMP_RR, time, 0, '');
  }
  for (let k = 0; k < 4; k++) pressure(b, base + (P_GROUPS[k] as number), k + 1, time, obs);
  g = base + BASIC.NIBP;
  status = b.readUInt32LE(g + GROUP_HDR.STATUS);
  if (status & STATUS_EXISTS) {
    const cal = b.readUInt16LE(g + GROUP_HDR.LABEL) & NIBP_LABEL_CALIBRATING ? Flag.FLAG_CALIBRATING : 0;
    const nibp = nibpTime(b, g, time, state);
    push(obs, b, g + P_F.SYS, C.NIBP[0], nibp, cal, '', APERIODIC);
    push(obs, b, g + P_F.DIA, C.NIBP[1], nibp, cal, '', APERIODIC);
    push(obs, b, g + P_F.MEAN, C.NIBP[2], nibp, cal, '', APERIODIC);
  }
  for (let k = 0; k < 4; k++) {
    g = base + (T_GROUPS[k] as number);
    if (!(b.readUInt32LE(g + GROUP_HDR.STATUS) & STATUS_EXISTS)) continue;
    const label = b.readUInt16LE(g + GROUP_HDR.LABEL);
    push(
      obs,
      b,
      g + T_F.TEMP,
      C.TEMP[k] as FieldCode,
      time,
      0,
      `t${k + 1}:${T_LABELS[label] || (label === 0 ? 'none' : `label ${label}`)}`,
    );
  }
  g = base + BASIC.SPO2;
  if (b.readUInt32LE(g + GROUP_HDR.STATUS) & STATUS_EXISTS) {
    push(obs, b, g + SPO2_F.SPO2, C.SPO2, time, 0, '');
    push(obs, b, g + SPO2_F.PR, C.SPO2_PR, time, 0, '');
  }
  g = base + BASIC.CO2;
  status = b.readUInt32LE(g + GROUP_HDR.STATUS);
  if (status & STATUS_EXISTS) {
    const cal = status & (CO2_STATUS_CALIBRATING | CO2_STATUS_ZEROING) ? Flag.FLAG_CALIBRATING : 0;
    push(obs, b, g + CO2_F.ET, C.CO2_ET, time, cal, '');
    push(obs, b, g + CO2_F.FI, C.CO2_FI, time, cal, '');
    push(obs, b, g + CO2_F.RR, C.CO2_RR, time, 0, '');
  }
  for (let k = 4; k < 6; k++) pressure(b, base + (P_GROUPS[k] as number), k + 1, time, obs);
}

/** HL7 OBX-17 convention (IHE PCD): a measurement taken on demand, dated by its own time. */
const APERIODIC = 'APERIODIC';

/** The NIBP's time: the record where its values changed; unknown (0) for one already there when the link came up. */
function nibpTime(b: Buffer, g: number, time: ITiming, state: DatexLinkState): ITiming {
  const key = `${b.readInt16LE(g + P_F.SYS)},${b.readInt16LE(g + P_F.DIA)},${b.readInt16LE(g + P_F.MEAN)}`;
  if (key !== state.nibpKey) {
    // A change seen on this link is a new measurement, made since the previous record: dated by this record.
    state.nibpTimeUs = state.nibpKey === null ? 0 : Number(time.deviceTimeUs ?? 0);
    state.nibpKey = key;
  }
  return state.nibpTimeUs
    ? { gatewayTimeUs: time.gatewayTimeUs ?? 0, deviceTimeUs: state.nibpTimeUs, deviceUtcOffsetMin: 0 }
    : { gatewayTimeUs: time.gatewayTimeUs ?? 0 };
}

function pressure(b: Buffer, g: number, channel: number, time: ITiming, obs: IObservation[]): void {
  const status = b.readUInt32LE(g + GROUP_HDR.STATUS);
  if (!(status & STATUS_EXISTS)) return;
  const label = b.readUInt16LE(g + GROUP_HDR.LABEL);
  const codes = C.pressureCodes(channel, label);
  const zero = status & P_STATUS_ZEROING ? Flag.FLAG_CALIBRATING : 0;
  const where = `p${channel}:${P_LABELS[label] || (label === 0 ? 'none' : `label ${label}`)}`;
  push(obs, b, g + P_F.SYS, codes[0] as FieldCode, time, zero, where);
  push(obs, b, g + P_F.DIA, codes[1] as FieldCode, time, zero, where);
  push(obs, b, g + P_F.MEAN, codes[2] as FieldCode, time, zero, where);
}

function push(
  obs: IObservation[],
  b: Buffer,
  at: number,
  code: FieldCode,
  time: ITiming,
  extra: number,
  containment: string,
  method = '',
): void {
  const raw = b.readInt16LE(at);
  let flags = sentinelFlags(raw) | extra;
  if (!code.metric) flags |= Flag.FLAG_UNMAPPED;
  const o: IObservation = {
    time,
    mdc: code.metric ? code.metric.mdc : 0,
    refid: code.metric ? code.metric.refid : '',
    unit: code.unit.ucum,
    unitMdc: code.unit.mdc,
    vendorCode: code.vendorCode,
    vendorUnit: code.vendorUnit,
    flags,
    containment,
  };
  if (method) o.method = method;
  if (!(flags & Flag.FLAG_UNAVAILABLE)) o.number = raw / code.divisor;
  obs.push(o);
}
