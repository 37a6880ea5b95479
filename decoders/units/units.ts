// What unit a numeric leaves with. A stated unit is read as UCUM (decoders/units/ucum.ts), an
// MDC dimension code (decoders/mdc.ts UNITS) or a known vendor spelling (decoders/vendor-maps),
// then checked against the metric: its dimension must fit the metric's canonical unit (a SpO2
// in /min does not). Kept as stated when valid; converted only where the metric has a canonical
// unit and the conversion is exact and documented (°F and K to Cel, below). kPa and mm[Hg] are
// both pressures: never converted, the digits the device showed are kept.
//
// Cost: `readUnitText`/`mdcUnit` run once per distinct OBX-6 bytes (callers cache them) and
// `fitUnit` once per distinct OBX row (decoders/hl7/pcd01.ts rowInfo); per value only the
// conversion arithmetic runs.
import { Flag } from '../../proto/index.js';
import { UNITS, isUnitCode, unitByMdc, unitByRefId, type Metric } from '../mdc.js';
import { unitSpelling } from '../vendor-maps/index.js';
import { ucumInfo } from './ucum.js';

/** One reading of a unit: a valid UCUM code, its dimension key and MDC_DIM code (0 unknown). */
export interface UnitReading {
  readonly ucum: string;
  readonly dim: string;
  readonly mdc: number;
  /**
   * A second reading of an ambiguous spelling: `F` is UCUM farad, and Fahrenheit to the monitor
   * that sent it; `C` is coulomb and Celsius. The metric decides (fitUnit).
   */
  readonly alt?: UnitReading;
}

const MDC_BY_UCUM = new Map<string, number>();
for (const u of Object.values(UNITS)) if (!MDC_BY_UCUM.has(u.ucum)) MDC_BY_UCUM.set(u.ucum, u.mdc);
// '/min' is both MDC_DIM_BEAT_PER_MIN and _RESP_PER_MIN: the code is not implied by the UCUM alone.
MDC_BY_UCUM.delete('/min');

function reading(ucum: string, mdc = 0): UnitReading | undefined {
  const info = ucumInfo(ucum);
  if (!info.valid) return undefined;
  return { ucum, dim: info.arbitrary ? `arbitrary:${ucum}` : info.dim, mdc: mdc || (MDC_BY_UCUM.get(ucum) ?? 0) };
}

/**
 * A unit written as text (OBX-6.1 of a UCUM or plain unit, the text of a vendor code): valid
 * UCUM first, then a known vendor spelling. Undefined when it is neither.
 */
export function readUnitText(text: string): UnitReading | undefined {
  const spelled = unitSpelling(text);
  const asUcum = reading(text);
  if (asUcum) {
    // Valid UCUM, but a vendor spelling of something else too (F, C): keep both readings.
    if (spelled !== undefined && spelled !== text) {
      const alt = reading(spelled);
      if (alt) return { ...asUcum, alt };
    }
    return asUcum;
  }
  return spelled === undefined ? undefined : reading(spelled);
}

/**
 * A unit given as an MDC dimension code and/or reference id (`266016^MDC_DIM_MMHG^MDC`). The
 * reference id wins when both are known and disagree (`mismatch`); a number outside partition 4
 * is not trusted as a unit code.
 */
export function mdcUnit(code: number, refid: string): { reading: UnitReading | undefined; mismatch: boolean } {
  const byRef = refid ? unitByRefId(refid) : undefined;
  const byCode = isUnitCode(code) ? unitByMdc(code) : undefined;
  const known = byRef ?? byCode;
  // The pair contradicts itself only when the reference id is known and the number is another one.
  const mismatch = byRef !== undefined && Number.isFinite(code) && code !== 0 && code !== byRef.mdc;
  return { reading: known ? reading(known.ucum, known.mdc) : undefined, mismatch };
}

/** An exact conversion to the metric's canonical unit: value' = (value - sub) * mul. */
export interface Conversion {
  readonly from: string;
  readonly to: string;
  readonly sub: number;
  readonly mul: number;
}

// UCUM (Table 20, "special units"): Cel = K - 273.15 and [degF] = 5/9 K + 255.372...: both are
// affine scales of the same temperature, so °F -> Cel is (x - 32) * 5/9 and K -> Cel is x - 273.15,
// exactly. Only these are applied; decoders/units/units.test.ts compares them with ucum-lhc.
const CONVERSIONS: Readonly<Record<string, Conversion>> = {
  '[degF]': { from: '[degF]', to: 'Cel', sub: 32, mul: 5 / 9 },
  K: { from: 'K', to: 'Cel', sub: 273.15, mul: 1 },
};

/** Converted values are rounded to 0.01 Cel: finer than any clinical thermometer's 0.1 °C display. */
export function convert(c: Conversion, value: number): number {
  return Math.round((value - c.sub) * c.mul * 100) / 100;
}

/** The unit a row's numerics leave with, and the flags that say how far to trust it. */
export interface FittedUnit {
  readonly ucum: string;
  readonly mdc: number;
  /** FLAG_UNIT_UNKNOWN (missing, not UCUM, ambiguous, wrong dimension), FLAG_QUESTIONABLE (wrong dimension), FLAG_DERIVED (converted). */
  readonly flags: number;
  readonly conversion?: Conversion;
}

const NO_UNIT: FittedUnit = Object.freeze({ ucum: '', mdc: 0, flags: Flag.FLAG_UNIT_UNKNOWN });

const metricDims = new WeakMap<Metric, ReadonlySet<string>>();
/** Dimension keys the metric accepts (its canonical unit and alternatives); empty = not checked. */
function dimsOf(m: Metric): ReadonlySet<string> {
  let d = metricDims.get(m);
  if (d === undefined) {
    const s = new Set<string>();
    for (const u of [m.unit, ...(m.alt ?? [])]) {
      const r = u ? reading(u) : undefined;
      if (r) s.add(r.dim);
    }
    d = s;
    metricDims.set(m, d);
  }
  return d;
}

/**
 * Fits a stated unit reading to a metric. `stated` is undefined when the sender gave no unit or
 * one that is neither UCUM, an MDC dimension nor a known spelling: the value then leaves with an
 * empty unit and FLAG_UNIT_UNKNOWN; the metric's canonical unit is never assumed.
 */
export function fitUnit(metric: Metric | undefined, stated: UnitReading | undefined): FittedUnit {
  if (stated === undefined) return NO_UNIT;
  const dims = metric ? dimsOf(metric) : undefined;
  let chosen: UnitReading | undefined;
  if (dims === undefined || dims.size === 0) {
    // No metric to decide an ambiguous spelling: F could be farad or Fahrenheit. Not guessed.
    if (stated.alt) return NO_UNIT;
    chosen = stated;
  } else if (dims.has(stated.dim)) {
    chosen = stated;
  } else if (stated.alt && dims.has(stated.alt.dim)) {
    chosen = stated.alt;
  } else {
    // Valid UCUM of the wrong kind (SpO2 in /min): kept as sent, never replaced, flagged.
    if (stated.alt) return { ucum: '', mdc: 0, flags: Flag.FLAG_UNIT_UNKNOWN | Flag.FLAG_QUESTIONABLE };
    return { ucum: stated.ucum, mdc: stated.mdc, flags: Flag.FLAG_UNIT_UNKNOWN | Flag.FLAG_QUESTIONABLE };
  }
  const conv = metric !== undefined && metric.unit === 'Cel' ? CONVERSIONS[chosen.ucum] : undefined;
  if (conv) return { ucum: 'Cel', mdc: UNITS.MDC_DIM_DEGC.mdc, flags: Flag.FLAG_DERIVED, conversion: conv };
  return { ucum: chosen.ucum, mdc: chosen.mdc, flags: 0 };
}
