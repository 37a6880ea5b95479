// Masimo EXC (exception) and ALARM bit fields and the vitalwire flags they become.
//
// EXC bits, Radical-7 (MD PnP driver mdpnp/mdpnp other/pox_rad/src/poxrad_discrete.h, which
// follows the Radical operator's manual; bits 0x001-0x800 also in the Rad-8 operator's manual
// "Trend data format"): 0x000001 no sensor, 0x000002 defective sensor, 0x000004 low perfusion,
// 0x000008 pulse search, 0x000010 interference, 0x000020 sensor off, 0x000040 ambient light,
// 0x000080 unrecognized sensor, 0x000100 incompatible sensor, 0x000400 low signal IQ,
// 0x000800 Masimo SET (full SET mode: informational), 0x001000 no cable, 0x002000 cable life
// expired, 0x004000 incompatible cable, 0x008000 unrecognized cable, 0x010000 defective cable,
// 0x020000 sensor calibrating, 0x040000 sensor life expired, 0x080000 emitter temperature out of
// range, 0x100000 sensor current limit, 0x200000 SpCO low confidence, 0x400000 SpMet low
// confidence; 0x000200 and 0x800000 reserved.
//
// ALARM bits (same source): 0x0001/0x0002 SpO2 high/low limit, 0x0004/0x0008 pulse rate high/low,
// 0x0010 alarm active, 0x0020 alarm silenced, 0x0040 low battery, 0x0100/0x0200 SpCO high/low,
// 0x0400/0x0800 SpMet high/low, 0x1000 desaturation index, 0x2000 PI delta. A limit violation
// marks its value FLAG_ABNORMAL (the device says it is outside the set limits); the alarm state
// bits (active, silenced, low battery) are not published as alarms yet.
import { Flag } from '../../proto/index.js';

const SENSOR_OFF = 0x000001 | 0x000020 | 0x001000;
const LOW_PERFUSION = 0x000004;
const ARTIFACT = 0x000010 | 0x000040;
const CALIBRATING = 0x020000;
const QUESTIONABLE =
  0x000002 |
  0x000008 |
  0x000080 |
  0x000100 |
  0x000400 |
  0x002000 |
  0x004000 |
  0x008000 |
  0x010000 |
  0x040000 |
  0x080000 |
  0x100000;
export const EXC_SPCO_LOW_CONFIDENCE = 0x200000;
export const EXC_SPMET_LOW_CONFIDENCE = 0x400000;

/** Flags every value of a line carries, from its EXC field. */
export function excFlags(exc: number): number {
  let f = 0;
  if (exc & SENSOR_OFF) f |= Flag.FLAG_SENSOR_OFF;
  if (exc & LOW_PERFUSION) f |= Flag.FLAG_LOW_PERFUSION;
  if (exc & ARTIFACT) f |= Flag.FLAG_ARTIFACT;
  if (exc & CALIBRATING) f |= Flag.FLAG_CALIBRATING;
  if (exc & QUESTIONABLE) f |= Flag.FLAG_QUESTIONABLE;
  return f;
}

/** ALARM bits that mark a field's value outside its alarm limits, by field key. */
export const ALARM_LIMIT_BITS: Readonly<Record<string, number>> = {
  SPO2: 0x0001 | 0x0002,
  BPM: 0x0004 | 0x0008,
  PR: 0x0004 | 0x0008,
  SPCO: 0x0100 | 0x0200,
  SPMET: 0x0400 | 0x0800,
  DESAT: 0x1000,
  PIDELTA: 0x2000,
};

/** Bits of EXC that make only one field questionable. */
export const EXC_FIELD_BITS: Readonly<Record<string, number>> = {
  SPCO: EXC_SPCO_LOW_CONFIDENCE,
  SPMET: EXC_SPMET_LOW_CONFIDENCE,
};
