// The one adapter for @lhncbc/ucum-lhc (NLM's UCUM implementation): is a string valid
// case-sensitive UCUM, and what dimension does it have. Nothing else in vitalwire touches the
// library, so an upgrade is this file's work; decoders/units/ucum.test.ts compares our policy
// with the library's own answers.
//
// Cost: validating a unit string parses it (a fraction of a millisecond) and the library's
// instance builds its tables once (~30 ms). Callers resolve a unit once per distinct OBX-6
// bytes (decoders/hl7/text.ts span cache) and keep the answer: never per value, never per
// message. Answers are cached here by string as well, bounded.
import { UcumLhcUtils } from '@lhncbc/ucum-lhc';

export interface UcumInfo {
  /** The string is a valid case-sensitive UCUM expression (UCUM §2.1: c/s codes). */
  readonly valid: boolean;
  /**
   * Dimension vector (UCUM base units m, s, g, rad, K, C, cd) as a key, '' when invalid.
   * Two units measure the same kind of quantity only if their keys are equal.
   */
  readonly dim: string;
  /** The library's property name ('temperature', 'pressure', 'electric capacitance'...). */
  readonly property: string;
  /** Arbitrary units ([iU]...) are not commensurable with anything but themselves. */
  readonly arbitrary: boolean;
}

const INVALID: UcumInfo = Object.freeze({ valid: false, dim: '', property: '', arbitrary: false });
const MAX_CACHED = 1024;
const cache = new Map<string, UcumInfo>();
let utils: ReturnType<typeof UcumLhcUtils.getInstance> | undefined;

let calls = 0;
/** How many times ucumInfo ran (tests: unit resolution must not happen per message). */
export function ucumCalls(): number {
  return calls;
}

/** UCUM validity and dimension of a unit string, as the library reads it. */
export function ucumInfo(unit: string): UcumInfo {
  calls++;
  const hit = cache.get(unit);
  if (hit !== undefined) return hit;
  const info = compute(unit);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(unit, info);
  return info;
}

function compute(unit: string): UcumInfo {
  // UCUM has no empty unit ('1' is unity); a space is never part of a c/s code.
  if (unit === '' || unit.length > 64 || /\s/.test(unit)) return INVALID;
  utils ??= UcumLhcUtils.getInstance();
  let r;
  try {
    r = utils.getSpecifiedUnit(unit, 'validate', false);
  } catch {
    return INVALID; // the parser throws on some malformed input: not a unit
  }
  const u = r.unit;
  if (!u || r.status !== 'valid') return INVALID;
  const vec = u.dim_?.dimVec_;
  return Object.freeze({
    valid: true,
    dim: Array.isArray(vec) ? vec.join(',') : '0,0,0,0,0,0,0',
    property: u.property_ ?? '',
    arbitrary: u.isArbitrary_ === true,
  });
}

/** The library's own conversion, for the differential test of our exact conversions only. */
export function ucumConvert(from: string, value: number, to: string): number | undefined {
  utils ??= UcumLhcUtils.getInstance();
  const r = utils.convertUnitTo(from, value, to);
  return r.status === 'succeeded' && typeof r.toVal === 'number' ? r.toVal : undefined;
}
