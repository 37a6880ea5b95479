// Datex basic-class fields -> MDC metric, UCUM unit and scaling. Scaling from xeonfusion/VSCapture
// Class1.cs ShowBasicSubRecord and KaiWU17TUM/icu_devices ge_monitor.cpp (rates 1, pressures,
// temperatures, SpO2 and gas concentrations 0.01). Codes checked against two sources each, listed in
// docs/nomenclature.md ("Datex S/5").
import { METRICS, UNITS, type Metric, type UnitCode } from '../mdc.js';

export interface FieldCode {
  /** Our vendor code: `<group>.<field>` after the struct member names. */
  readonly vendorCode: string;
  /** Unit as the struct documentation states it. */
  readonly vendorUnit: string;
  /** Physical value = raw / divisor. */
  readonly divisor: number;
  readonly unit: UnitCode;
  /** Undefined: no MDC code known (invasive pressure labels without one). */
  readonly metric: Metric | undefined;
}

const PCT = UNITS.MDC_DIM_PERCENT;
const BPM = UNITS.MDC_DIM_BEAT_PER_MIN;
const RPM = UNITS.MDC_DIM_RESP_PER_MIN;
const MMHG = UNITS.MDC_DIM_MMHG;
const DEGC = UNITS.MDC_DIM_DEGC;

function f(
  vendorCode: string,
  vendorUnit: string,
  divisor: number,
  unit: UnitCode,
  metric: Metric | undefined,
): FieldCode {
  return { vendorCode, vendorUnit, divisor, unit, metric };
}

export const ECG_HR = f('ecg.hr', '1/min', 1, BPM, METRICS.MDC_ECG_CARD_BEAT_RATE);
export const ECG_IMP_RR = f('ecg.imp_rr', '1/min', 1, RPM, METRICS.MDC_TTHOR_RESP_RATE);
export const NIBP = [
  f('nibp.sys', 'mmHg', 100, MMHG, METRICS.MDC_PRESS_CUFF_SYS),
  f('nibp.dia', 'mmHg', 100, MMHG, METRICS.MDC_PRESS_CUFF_DIA),
  f('nibp.mean', 'mmHg', 100, MMHG, METRICS.MDC_PRESS_CUFF_MEAN),
] as const;
export const SPO2 = f('spo2.spo2', '%', 100, PCT, METRICS.MDC_PULS_OXIM_SAT_O2);
export const SPO2_PR = f('spo2.pr', '1/min', 1, BPM, METRICS.MDC_PULS_OXIM_PULS_RATE);
export const CO2_ET = f('co2.et', '%', 100, PCT, METRICS.MDC_CONC_AWAY_CO2_ET);
export const CO2_FI = f('co2.fi', '%', 100, PCT, METRICS.MDC_CONC_AWAY_CO2_INSP);
export const CO2_RR = f('co2.rr', '1/min', 1, RPM, METRICS.MDC_CO2_RESP_RATE);

/** t1..t4: temperature in 1/100 °C; the site label goes to `containment`, the code stays MDC_TEMP. */
export const TEMP = [1, 2, 3, 4].map((n) => f(`t${n}.temp`, '°C', 100, DEGC, METRICS.MDC_TEMP));

type Triple = readonly [Metric, Metric, Metric] | undefined;
const M = METRICS;
/** Invasive pressure sys/dia/mean codes by p_group label (index = label number, layout.ts P_LABELS).
 *  Not defined (0) and the generic P1..P6 labels (9-14) get the unqualified blood pressure terms;
 *  RVP and labels 15+ have no code here and leave FLAG_UNMAPPED. */
const BY_LABEL: readonly Triple[] = [
  [M.MDC_PRESS_BLD_SYS, M.MDC_PRESS_BLD_DIA, M.MDC_PRESS_BLD_MEAN],
  [M.MDC_PRESS_BLD_ART_SYS, M.MDC_PRESS_BLD_ART_DIA, M.MDC_PRESS_BLD_ART_MEAN], // 1 ART
  [M.MDC_PRESS_BLD_VEN_CENT_SYS, M.MDC_PRESS_BLD_VEN_CENT_DIA, M.MDC_PRESS_BLD_VEN_CENT_MEAN], // 2 CVP
  [M.MDC_PRESS_BLD_ART_PULM_SYS, M.MDC_PRESS_BLD_ART_PULM_DIA, M.MDC_PRESS_BLD_ART_PULM_MEAN], // 3 PA
  [M.MDC_PRESS_BLD_ATR_RIGHT_SYS, M.MDC_PRESS_BLD_ATR_RIGHT_DIA, M.MDC_PRESS_BLD_ATR_RIGHT_MEAN], // 4 RAP
  undefined, // 5 RVP
  [M.MDC_PRESS_BLD_ATR_LEFT_SYS, M.MDC_PRESS_BLD_ATR_LEFT_DIA, M.MDC_PRESS_BLD_ATR_LEFT_MEAN], // 6 LAP
  [M.MDC_PRESS_INTRA_CRAN_SYS, M.MDC_PRESS_INTRA_CRAN_DIA, M.MDC_PRESS_INTRA_CRAN_MEAN], // 7 ICP
  [M.MDC_PRESS_BLD_ART_ABP_SYS, M.MDC_PRESS_BLD_ART_ABP_DIA, M.MDC_PRESS_BLD_ART_ABP_MEAN], // 8 ABP
];

const P_FIELDS = ['sys', 'dia', 'mean'] as const;

/** FieldCodes of p<n> (1..6) sys/dia/mean for a label; built once per (channel, mapping), so the
 *  cache stays bounded whatever labels a device sends. */
const pCache = new Map<number, readonly FieldCode[]>();
export function pressureCodes(channel: number, label: number): readonly FieldCode[] {
  const idx = label <= 8 ? label : label <= 14 ? 0 : 5; // 5 (RVP) stands for "no code"
  const key = channel * 16 + idx;
  let codes = pCache.get(key);
  if (!codes) {
    const triple = BY_LABEL[idx];
    codes = P_FIELDS.map((name, k) => f(`p${channel}.${name}`, 'mmHg', 100, MMHG, triple?.[k]));
    pCache.set(key, codes);
  }
  return codes;
}
