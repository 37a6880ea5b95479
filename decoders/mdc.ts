// IEEE 11073-10101 nomenclature: the codes vitalwire emits, with their UCUM units.
// Context-free code = partition * 65536 + term code (partition 2 SCADA = 131072, 4 DIM = 262144).
// Each code here was checked against two public sources (IEEE 11073-10101 tables as published
// in the NIST RTMMS / HL7 terminology, and IHE PCD Rosetta); see docs/nomenclature.md.

export interface Metric {
  readonly mdc: number;
  readonly refid: string;
  /** Canonical UCUM unit for numeric metrics; '' for enumerations and waves in mixed units. */
  readonly unit: string;
}

export const METRICS = {
  MDC_ECG_CARD_BEAT_RATE: { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', unit: '/min' },
  MDC_PULS_OXIM_PULS_RATE: { mdc: 149530, refid: 'MDC_PULS_OXIM_PULS_RATE', unit: '/min' },
  MDC_PULS_OXIM_SAT_O2: { mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', unit: '%' },
  MDC_BLD_PERF_INDEX: { mdc: 150488, refid: 'MDC_BLD_PERF_INDEX', unit: '%' },
  MDC_PRESS_CUFF_SYS: { mdc: 150301, refid: 'MDC_PRESS_CUFF_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_CUFF_DIA: { mdc: 150302, refid: 'MDC_PRESS_CUFF_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_CUFF_MEAN: { mdc: 150303, refid: 'MDC_PRESS_CUFF_MEAN', unit: 'mm[Hg]' },
  MDC_RESP_RATE: { mdc: 151562, refid: 'MDC_RESP_RATE', unit: '/min' },
  MDC_TEMP: { mdc: 150344, refid: 'MDC_TEMP', unit: 'Cel' },
  MDC_ECG_ELEC_POTL_I: { mdc: 131329, refid: 'MDC_ECG_ELEC_POTL_I', unit: 'mV' },
  MDC_ECG_ELEC_POTL_II: { mdc: 131330, refid: 'MDC_ECG_ELEC_POTL_II', unit: 'mV' },
  // Term code 317, not 259 (259 is V1): some public tables give 131331 for lead III, which is wrong.
  MDC_ECG_ELEC_POTL_III: { mdc: 131389, refid: 'MDC_ECG_ELEC_POTL_III', unit: 'mV' },
  MDC_PULS_OXIM_PLETH: { mdc: 150452, refid: 'MDC_PULS_OXIM_PLETH', unit: '' },
} as const satisfies Record<string, Metric>;

export interface UnitCode {
  readonly mdc: number;
  readonly refid: string;
  readonly ucum: string;
}

export const UNITS = {
  MDC_DIM_PERCENT: { mdc: 262688, refid: 'MDC_DIM_PERCENT', ucum: '%' },
  MDC_DIM_BEAT_PER_MIN: { mdc: 264864, refid: 'MDC_DIM_BEAT_PER_MIN', ucum: '/min' },
  MDC_DIM_RESP_PER_MIN: { mdc: 264928, refid: 'MDC_DIM_RESP_PER_MIN', ucum: '/min' },
  MDC_DIM_MMHG: { mdc: 266016, refid: 'MDC_DIM_MMHG', ucum: 'mm[Hg]' },
  MDC_DIM_DEGC: { mdc: 268192, refid: 'MDC_DIM_DEGC', ucum: 'Cel' },
  MDC_DIM_MILLI_VOLT: { mdc: 266418, refid: 'MDC_DIM_MILLI_VOLT', ucum: 'mV' },
  MDC_DIM_DIMLESS: { mdc: 262656, refid: 'MDC_DIM_DIMLESS', ucum: '1' },
} as const satisfies Record<string, UnitCode>;

const metricByRefid = new Map<string, Metric>(Object.values(METRICS).map((m) => [m.refid, m]));
const metricByCode = new Map<number, Metric>(Object.values(METRICS).map((m) => [m.mdc, m]));
const unitByRefid = new Map<string, UnitCode>(Object.values(UNITS).map((u) => [u.refid, u]));
const unitByCode = new Map<number, UnitCode>(Object.values(UNITS).map((u) => [u.mdc, u]));

export function metricByRefId(refid: string): Metric | undefined {
  return metricByRefid.get(refid);
}
export function metricByMdc(code: number): Metric | undefined {
  return metricByCode.get(code);
}
export function unitByRefId(refid: string): UnitCode | undefined {
  return unitByRefid.get(refid);
}
export function unitByMdc(code: number): UnitCode | undefined {
  return unitByCode.get(code);
}
