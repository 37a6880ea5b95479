// Builds Datex-Ohmeda physiological-data records and frames from values, for simulators and
// round-trip tests. Same layout facts as the decoder (layout.ts). Unlike the decoders, the encoder
// throws RangeError on values it cannot represent: its input comes from our own code.
import { datexWrap } from '../framing/datex.js';
import {
  BASIC,
  CO2_F,
  DATA,
  ECG_F,
  GROUP_HDR,
  HDR,
  MAINTYPE,
  MAX_RECORD_BYTES,
  P_F,
  P_GROUPS,
  PH_SUBTYPE,
  PHDB,
  SPO2_F,
  SR_END,
  STATUS_ACTIVE,
  STATUS_EXISTS,
  T_F,
  T_GROUPS,
} from './layout.js';

export type DatexSentinel =
  'no-data' | 'not-updated' | 'discontinuity' | 'under-range' | 'over-range' | 'not-calibrated';
/** A physical value (scaled by the field's divisor), a sentinel, or undefined for "no data". */
export type DatexValue = number | DatexSentinel | undefined;

const SENTINEL: Record<DatexSentinel, number> = {
  'no-data': DATA.INVALID,
  'not-updated': DATA.NOT_UPDATED,
  discontinuity: DATA.DISCONT,
  'under-range': DATA.UNDER_RANGE,
  'over-range': DATA.OVER_RANGE,
  'not-calibrated': DATA.NOT_CALIBRATED,
};

/** Group header: status defaults to exists|active when the group is given; label defaults to 0. */
export interface GroupHeader {
  status?: number;
  label?: number;
}
export interface EcgGroup extends GroupHeader {
  hr?: DatexValue;
  st1?: DatexValue;
  st2?: DatexValue;
  st3?: DatexValue;
  impRr?: DatexValue;
}
export interface PressureGroup extends GroupHeader {
  sys?: DatexValue;
  dia?: DatexValue;
  mean?: DatexValue;
  hr?: DatexValue;
}
export interface TempGroup extends GroupHeader {
  temp?: DatexValue;
}
export interface Spo2Group extends GroupHeader {
  spo2?: DatexValue;
  pr?: DatexValue;
  irAmp?: DatexValue;
  svo2?: DatexValue;
}
export interface Co2Group extends GroupHeader {
  et?: DatexValue;
  fi?: DatexValue;
  rr?: DatexValue;
  ambPress?: DatexValue;
}
/** Basic-class groups; an absent group is sent with status 0 (no module) and "no data" values. */
export interface BasicValues {
  ecg?: EcgGroup;
  /** p1..p6 */
  p?: readonly (PressureGroup | undefined)[];
  nibp?: PressureGroup;
  /** t1..t4 */
  t?: readonly (TempGroup | undefined)[];
  spo2?: Spo2Group;
  co2?: Co2Group;
}
export interface PhdbSubrecord {
  /** 1 displayed (default), 2 10-s trend, 3 60-s trend. */
  type?: number;
  /** Unix seconds; default: the record time. */
  time?: number;
  /** cl_drilvl_subt class nibble; 0 basic (default). Other classes are sent with an empty block. */
  cls?: number;
  basic?: BasicValues;
}
export interface PhdbRecord {
  /** r_time, Unix seconds. */
  time: number;
  recordNumber?: number;
  driLevel?: number;
  plugId?: number;
  subrecords: readonly PhdbSubrecord[];
}

/** At most five PHDB subrecords per record (ph_srcrds in wei2374/monitor_serial datex.h). */
export const MAX_PHDB_SUBRECORDS = 5;

function raw(v: DatexValue, divisor: number): number {
  if (v === undefined) return DATA.INVALID;
  if (typeof v === 'string') return SENTINEL[v];
  const r = Math.round(v * divisor);
  if (!Number.isFinite(r) || r < -32000 || r > 32767)
    throw new RangeError(`${v} does not fit a Datex int16 at 1/${divisor}`);
  return r;
}

function header(b: Buffer, g: number, h: GroupHeader | undefined): boolean {
  b.writeUInt32LE((h ? (h.status ?? STATUS_EXISTS | STATUS_ACTIVE) : 0) >>> 0, g + GROUP_HDR.STATUS);
  b.writeUInt16LE(h?.label ?? 0, g + GROUP_HDR.LABEL);
  return h !== undefined;
}

function put(b: Buffer, at: number, v: DatexValue, divisor: number): void {
  b.writeInt16LE(raw(v, divisor), at);
}

function pressure(b: Buffer, g: number, p: PressureGroup | undefined): void {
  header(b, g, p);
  put(b, g + P_F.SYS, p?.sys, 100);
  put(b, g + P_F.DIA, p?.dia, 100);
  put(b, g + P_F.MEAN, p?.mean, 100);
  put(b, g + P_F.HR, p?.hr, 1);
}

/** Writes the 270-byte basic class block at `base`. Groups not modelled here are left as zeros. */
function writeBasic(b: Buffer, base: number, v: BasicValues): void {
  let g = base + BASIC.ECG;
  header(b, g, v.ecg);
  put(b, g + ECG_F.HR, v.ecg?.hr, 1);
  put(b, g + ECG_F.ST1, v.ecg?.st1, 100);
  put(b, g + ECG_F.ST2, v.ecg?.st2, 100);
  put(b, g + ECG_F.ST3, v.ecg?.st3, 100);
  put(b, g + ECG_F.IMP_RR, v.ecg?.impRr, 1);
  P_GROUPS.forEach((off, k) => pressure(b, base + off, v.p?.[k]));
  pressure(b, base + BASIC.NIBP, v.nibp);
  T_GROUPS.forEach((off, k) => {
    const t = v.t?.[k];
    header(b, base + off, t);
    put(b, base + off + T_F.TEMP, t?.temp, 100);
  });
  g = base + BASIC.SPO2;
  header(b, g, v.spo2);
  put(b, g + SPO2_F.SPO2, v.spo2?.spo2, 100);
  put(b, g + SPO2_F.PR, v.spo2?.pr, 1);
  put(b, g + SPO2_F.IR_AMP, v.spo2?.irAmp, 1);
  put(b, g + SPO2_F.SVO2, v.spo2?.svo2, 100);
  g = base + BASIC.CO2;
  header(b, g, v.co2);
  put(b, g + CO2_F.ET, v.co2?.et, 100);
  put(b, g + CO2_F.FI, v.co2?.fi, 100);
  put(b, g + CO2_F.RR, v.co2?.rr, 1);
  put(b, g + CO2_F.AMB_PRESS, v.co2?.ambPress, 10);
}

/** A physiological-data record (r_maintype 0), without framing. */
export function encodePhdbRecord(r: PhdbRecord): Buffer {
  const n = r.subrecords.length;
  if (n > MAX_PHDB_SUBRECORDS)
    throw new RangeError(`${n} subrecords; a PHDB record holds at most ${MAX_PHDB_SUBRECORDS}`);
  const len = HDR.SIZE + n * PHDB.SIZE;
  if (len > MAX_RECORD_BYTES) throw new RangeError(`record of ${len} bytes`);
  const b = Buffer.alloc(len);
  b.writeInt16LE(len, HDR.R_LEN);
  b[HDR.R_NBR] = (r.recordNumber ?? 0) & 0xff;
  b[HDR.R_DRI_LEVEL] = (r.driLevel ?? 9) & 0xff; // 9 = DRI_LEVEL_2005 (VSCapture DataConstants)
  b.writeUInt16LE((r.plugId ?? 0) & 0xffff, HDR.PLUG_ID);
  b.writeUInt32LE(r.time >>> 0, HDR.R_TIME);
  b.writeInt16LE(MAINTYPE.PHDB, HDR.R_MAINTYPE);
  for (let d = 0; d < HDR.SR_COUNT; d++) {
    const at = HDR.SR_DESC + d * HDR.SR_DESC_SIZE;
    if (d < n) {
      b.writeInt16LE(d * PHDB.SIZE, at);
      b[at + 2] = r.subrecords[d]?.type ?? PH_SUBTYPE.DISPL;
    } else if (d === n) b[at + 2] = SR_END;
  }
  r.subrecords.forEach((s, d) => {
    const start = HDR.SIZE + d * PHDB.SIZE;
    const cls = s.cls ?? 0;
    b.writeUInt32LE((s.time ?? r.time) >>> 0, start + PHDB.TIME);
    if (cls === 0) writeBasic(b, start + PHDB.CLASS_BLOCK, s.basic ?? {});
    b.writeUInt16LE(((cls & 0x0f) << 8) | ((s.type ?? PH_SUBTYPE.DISPL) & 0xff), start + PHDB.CL_DRILVL_SUBT);
  });
  return b;
}

/** A physiological-data record wrapped in Datex framing (flags, checksum, escapes). */
export function encodePhdbFrame(r: PhdbRecord): Buffer {
  return datexWrap(encodePhdbRecord(r));
}

/** A header-only record of another main type (waveform, alarm...), for tests of unsupported types. */
export function encodeHeaderOnlyRecord(mainType: number, time: number): Buffer {
  const b = Buffer.alloc(HDR.SIZE);
  b.writeInt16LE(HDR.SIZE, HDR.R_LEN);
  b.writeUInt32LE(time >>> 0, HDR.R_TIME);
  b.writeInt16LE(mainType, HDR.R_MAINTYPE);
  b[HDR.SR_DESC + 2] = SR_END;
  return b;
}

export { datexWrap };
