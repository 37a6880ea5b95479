// What each Nonin value is called: MDC code, UCUM unit, and the name Nonin's data format
// definitions give it (vendorCode). Built once; decoders only reference these constants, so no
// strings are built per frame.
//
// Format 7 sends several averagings of the same two quantities (Nonin "Serial Data Format #7":
// 4-beat, 8-beat "extended", fast, beat-to-beat, and "display" copies that hold the last value
// for 10 s). IEEE 11073-10101 has one term each for SpO2 and pulse rate and no term per
// averaging, so the 4-beat recording values (the ones Nonin formats for recording, which go to
// "missing" as soon as the finger is removed) carry the MDC codes; the other averagings keep
// their Nonin names with FLAG_UNMAPPED and are never dropped.
import { Flag, type IObservation, type ITiming } from '../../proto/index.js';
import { METRICS, UNITS } from '../mdc.js';

export interface Term {
  readonly mdc: number;
  readonly refid: string;
  readonly unit: string;
  readonly unitMdc: number;
  readonly vendorCode: string;
  readonly vendorUnit: string;
  /** FLAG_UNMAPPED when there is no MDC code. */
  readonly flags: number;
}

const pct = UNITS.MDC_DIM_PERCENT;
const bpm = UNITS.MDC_DIM_BEAT_PER_MIN;

function mapped(
  m: { mdc: number; refid: string; unit: string },
  unitMdc: number,
  vendorCode: string,
  vendorUnit: string,
): Term {
  return { mdc: m.mdc, refid: m.refid, unit: m.unit, unitMdc, vendorCode, vendorUnit, flags: 0 };
}

function unmapped(unit: string, unitMdc: number, vendorCode: string, vendorUnit: string): Term {
  return { mdc: 0, refid: '', unit, unitMdc, vendorCode, vendorUnit, flags: Flag.FLAG_UNMAPPED };
}

/** Pulse rate and SpO2 as Nonin names them (format 7 4-beat recording values; format 8 values). */
export const HR = mapped(METRICS.MDC_PULS_OXIM_PULS_RATE, bpm.mdc, 'HR', 'BPM');
export const SPO2 = mapped(METRICS.MDC_PULS_OXIM_SAT_O2, pct.mdc, 'SpO2', '%');
// Format 7 other averagings (frame indices in decoder7.ts).
export const SPO2_D = unmapped(pct.ucum, pct.mdc, 'SpO2-D', '%');
export const SPO2_FAST = unmapped(pct.ucum, pct.mdc, 'SpO2 Fast', '%');
export const SPO2_BB = unmapped(pct.ucum, pct.mdc, 'SpO2 B-B', '%');
export const E_HR = unmapped(bpm.ucum, bpm.mdc, 'E-HR', 'BPM');
export const E_SPO2 = unmapped(pct.ucum, pct.mdc, 'E-SpO2', '%');
export const E_SPO2_D = unmapped(pct.ucum, pct.mdc, 'E-SpO2-D', '%');
export const HR_D = unmapped(bpm.ucum, bpm.mdc, 'HR-D', 'BPM');
export const E_HR_D = unmapped(bpm.ucum, bpm.mdc, 'E-HR-D', 'BPM');

/** Nonin "no value" sentinels (format 7 and 8 alike): heart rate 511, SpO2 127. */
export const HR_MISSING = 511;
export const SPO2_MISSING = 127;

/**
 * One numeric observation. `raw === missing` is Nonin's "no value": FLAG_UNAVAILABLE, value unset.
 * `time` may be shared by all payloads of one frame.
 */
export function numeric(t: Term, raw: number, missing: number, flags: number, time: ITiming): IObservation {
  const absent = raw === missing;
  const o: IObservation = {
    time,
    mdc: t.mdc,
    refid: t.refid,
    unit: t.unit,
    unitMdc: t.unitMdc,
    vendorCode: t.vendorCode,
    vendorUnit: t.vendorUnit,
    flags: flags | t.flags | (absent ? Flag.FLAG_UNAVAILABLE : 0),
  };
  if (!absent) o.number = raw;
  return o;
}
