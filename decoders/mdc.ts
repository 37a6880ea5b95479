// IEEE 11073-10101 nomenclature: the codes vitalwire emits, with their UCUM units.
// Context-free code = partition * 65536 + term code (partition 2 SCADA = 131072, 4 DIM = 262144).
// Each code here was checked against two public sources (IEEE 11073-10101 tables as published
// in the NIST RTMMS / HL7 terminology, and IHE PCD Rosetta); see docs/nomenclature.md.
// The larger Rosetta table is data in decoders/mdc-table.ts; this module is the one lookup API
// over both. It imports nothing else, so the browser may use it.
import { ROSETTA_METRICS } from './mdc-table.js';

export interface Metric {
  readonly mdc: number;
  readonly refid: string;
  /** Canonical UCUM unit for numeric metrics; '' for enumerations and waves in mixed units. */
  readonly unit: string;
  /** Other UCUM units whose dimension also fits (ST in 'mm', end-tidal CO2 concentration in 'mm[Hg]'). */
  readonly alt?: readonly string[];
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
  // --- HL7 / IHE PCD (codes seen in PCD-01 senders; sources in docs/nomenclature.md) ---
  MDC_ECG_ELEC_POTL_AVR: { mdc: 131390, refid: 'MDC_ECG_ELEC_POTL_AVR', unit: 'mV' },
  MDC_ECG_ELEC_POTL_AVL: { mdc: 131391, refid: 'MDC_ECG_ELEC_POTL_AVL', unit: 'mV' },
  MDC_ECG_ELEC_POTL_AVF: { mdc: 131392, refid: 'MDC_ECG_ELEC_POTL_AVF', unit: 'mV' },
  MDC_ECG_ELEC_POTL_V1: { mdc: 131331, refid: 'MDC_ECG_ELEC_POTL_V1', unit: 'mV' },
  MDC_ECG_ELEC_POTL_V2: { mdc: 131332, refid: 'MDC_ECG_ELEC_POTL_V2', unit: 'mV' },
  MDC_ECG_ELEC_POTL_V3: { mdc: 131333, refid: 'MDC_ECG_ELEC_POTL_V3', unit: 'mV' },
  MDC_ECG_ELEC_POTL_V4: { mdc: 131334, refid: 'MDC_ECG_ELEC_POTL_V4', unit: 'mV' },
  MDC_ECG_ELEC_POTL_V5: { mdc: 131335, refid: 'MDC_ECG_ELEC_POTL_V5', unit: 'mV' },
  MDC_ECG_ELEC_POTL_V6: { mdc: 131336, refid: 'MDC_ECG_ELEC_POTL_V6', unit: 'mV' },
  MDC_IMPED_TTHOR: { mdc: 151780, refid: 'MDC_IMPED_TTHOR', unit: '' },
  MDC_TTHOR_RESP_RATE: { mdc: 151578, refid: 'MDC_TTHOR_RESP_RATE', unit: '/min' },
  MDC_PULS_OXIM_PLETH_RESP_RATE: { mdc: 151658, refid: 'MDC_PULS_OXIM_PLETH_RESP_RATE', unit: '/min' },
  MDC_ECG_V_P_C_RATE: { mdc: 148066, refid: 'MDC_ECG_V_P_C_RATE', unit: '/min' },
  MDC_TEMP_AXILLA: { mdc: 188452, refid: 'MDC_TEMP_AXILLA', unit: 'Cel' },
  MDC_ECG_STAT_RHY: { mdc: 184327, refid: 'MDC_ECG_STAT_RHY', unit: '' },
  // --- BLE health profiles (Bluetooth SIG GATT via the BLE bridge; sources in docs/nomenclature.md) ---
  MDC_PULS_RATE_NON_INV: { mdc: 149546, refid: 'MDC_PULS_RATE_NON_INV', unit: '/min' },
  MDC_PRESS_BLD_NONINV_SYS: { mdc: 150021, refid: 'MDC_PRESS_BLD_NONINV_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_NONINV_DIA: { mdc: 150022, refid: 'MDC_PRESS_BLD_NONINV_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_NONINV_MEAN: { mdc: 150023, refid: 'MDC_PRESS_BLD_NONINV_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_CUFF: { mdc: 150300, refid: 'MDC_PRESS_CUFF', unit: 'mm[Hg]' },
  MDC_PULS_OXIM_PERF_REL: { mdc: 150448, refid: 'MDC_PULS_OXIM_PERF_REL', unit: '%' },
  MDC_TEMP_BODY: { mdc: 150364, refid: 'MDC_TEMP_BODY', unit: 'Cel' },
  MDC_TEMP_TYMP: { mdc: 150392, refid: 'MDC_TEMP_TYMP', unit: 'Cel' },
  MDC_TEMP_RECT: { mdc: 188420, refid: 'MDC_TEMP_RECT', unit: 'Cel' },
  MDC_TEMP_ORAL: { mdc: 188424, refid: 'MDC_TEMP_ORAL', unit: 'Cel' },
  MDC_TEMP_EAR: { mdc: 188428, refid: 'MDC_TEMP_EAR', unit: 'Cel' },
  MDC_TEMP_FINGER: { mdc: 188432, refid: 'MDC_TEMP_FINGER', unit: 'Cel' },
  MDC_TEMP_TOE: { mdc: 188448, refid: 'MDC_TEMP_TOE', unit: 'Cel' },
  MDC_ECG_TIME_PD_RR_GL: { mdc: 147240, refid: 'MDC_ECG_TIME_PD_RR_GL', unit: 'ms' },
  // Partition 129 (MDC_PART_PHD_HF) * 65536 + term 119.
  MDC_HF_ENERGY: { mdc: 8454263, refid: 'MDC_HF_ENERGY', unit: 'kJ' },
  // --- Datex S/5 (partition 2 term codes; two sources each in docs/nomenclature.md) ---
  MDC_PRESS_BLD_SYS: { mdc: 150017, refid: 'MDC_PRESS_BLD_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_DIA: { mdc: 150018, refid: 'MDC_PRESS_BLD_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_MEAN: { mdc: 150019, refid: 'MDC_PRESS_BLD_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_SYS: { mdc: 150033, refid: 'MDC_PRESS_BLD_ART_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_DIA: { mdc: 150034, refid: 'MDC_PRESS_BLD_ART_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_MEAN: { mdc: 150035, refid: 'MDC_PRESS_BLD_ART_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_ABP_SYS: { mdc: 150037, refid: 'MDC_PRESS_BLD_ART_ABP_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_ABP_DIA: { mdc: 150038, refid: 'MDC_PRESS_BLD_ART_ABP_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_ABP_MEAN: { mdc: 150039, refid: 'MDC_PRESS_BLD_ART_ABP_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_PULM_SYS: { mdc: 150045, refid: 'MDC_PRESS_BLD_ART_PULM_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_PULM_DIA: { mdc: 150046, refid: 'MDC_PRESS_BLD_ART_PULM_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ART_PULM_MEAN: { mdc: 150047, refid: 'MDC_PRESS_BLD_ART_PULM_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ATR_LEFT_SYS: { mdc: 150065, refid: 'MDC_PRESS_BLD_ATR_LEFT_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ATR_LEFT_DIA: { mdc: 150066, refid: 'MDC_PRESS_BLD_ATR_LEFT_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ATR_LEFT_MEAN: { mdc: 150067, refid: 'MDC_PRESS_BLD_ATR_LEFT_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ATR_RIGHT_SYS: { mdc: 150069, refid: 'MDC_PRESS_BLD_ATR_RIGHT_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ATR_RIGHT_DIA: { mdc: 150070, refid: 'MDC_PRESS_BLD_ATR_RIGHT_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_ATR_RIGHT_MEAN: { mdc: 150071, refid: 'MDC_PRESS_BLD_ATR_RIGHT_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_VEN_CENT_SYS: { mdc: 150085, refid: 'MDC_PRESS_BLD_VEN_CENT_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_VEN_CENT_DIA: { mdc: 150086, refid: 'MDC_PRESS_BLD_VEN_CENT_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_BLD_VEN_CENT_MEAN: { mdc: 150087, refid: 'MDC_PRESS_BLD_VEN_CENT_MEAN', unit: 'mm[Hg]' },
  MDC_PRESS_INTRA_CRAN_SYS: { mdc: 153609, refid: 'MDC_PRESS_INTRA_CRAN_SYS', unit: 'mm[Hg]' },
  MDC_PRESS_INTRA_CRAN_DIA: { mdc: 153610, refid: 'MDC_PRESS_INTRA_CRAN_DIA', unit: 'mm[Hg]' },
  MDC_PRESS_INTRA_CRAN_MEAN: { mdc: 153611, refid: 'MDC_PRESS_INTRA_CRAN_MEAN', unit: 'mm[Hg]' },
  // Concentration terms (term 20636/20644); 151728 (term 20656) is MDC_AWAY_CO2_ET, the partial
  // pressure: a public table pairing 151708 with MDC_AWAY_CO2_ET is wrong.
  // Monitors report these in % or as a partial pressure (mm[Hg], kPa): both dimensions fit.
  MDC_CONC_AWAY_CO2_ET: { mdc: 151708, refid: 'MDC_CONC_AWAY_CO2_ET', unit: '%', alt: ['mm[Hg]'] },
  MDC_CONC_AWAY_CO2_INSP: { mdc: 151716, refid: 'MDC_CONC_AWAY_CO2_INSP', unit: '%', alt: ['mm[Hg]'] },
  MDC_CO2_RESP_RATE: { mdc: 151594, refid: 'MDC_CO2_RESP_RATE', unit: '/min' },
} as const satisfies Record<string, Metric>;

/** Reference ids that name the same term as a METRICS entry (older or vendor spellings). */
export const METRIC_ALIASES: Readonly<Record<string, keyof typeof METRICS>> = {
  // 147842 is MDC_ECG_CARD_BEAT_RATE in the Rosetta (RTMMS) table and Philips PIC iX output, and
  // MDC_ECG_HEART_RATE in the 10101:2004-based FHIR value set and Mindray eGateway output.
  MDC_ECG_HEART_RATE: 'MDC_ECG_CARD_BEAT_RATE',
  // 150452 is displayed MDC_PLETH in the FHIR R4B devicemetric-type value set.
  MDC_PLETH: 'MDC_PULS_OXIM_PLETH',
  // Mindray sends 188496^MDC_TEMP_AXIL; no public table has that pair. It is read as the verified
  // axillary term MDC_TEMP_AXILLA 188452, and since the sent number differs the value carries
  // FLAG_QUESTIONABLE (docs/nomenclature.md).
  MDC_TEMP_AXIL: 'MDC_TEMP_AXILLA',
};

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
  // --- HL7 / IHE PCD ---
  // Term 2464 (Philips: NOM_DIM_PER_X_SEC); PCD-01 senders send MDC_DIM_PER_SEC.
  MDC_DIM_PER_SEC: { mdc: 264608, refid: 'MDC_DIM_PER_SEC', ucum: '/s' },
  // Term 2496. 266176 (term 4032) is MDC_DIM_X_WATT, not hertz.
  MDC_DIM_HZ: { mdc: 264640, refid: 'MDC_DIM_HZ', ucum: 'Hz' },
  MDC_DIM_CM_H2O: { mdc: 266048, refid: 'MDC_DIM_CM_H2O', ucum: 'cm[H2O]' },
  // --- BLE health profiles ---
  MDC_DIM_KILO_PASCAL: { mdc: 265987, refid: 'MDC_DIM_KILO_PASCAL', ucum: 'kPa' },
  MDC_DIM_FAHR: { mdc: 266560, refid: 'MDC_DIM_FAHR', ucum: '[degF]' },
  MDC_DIM_MILLI_SEC: { mdc: 264338, refid: 'MDC_DIM_MILLI_SEC', ucum: 'ms' },
  // --- Units of the Rosetta metrics (decoders/mdc-table.ts; sources in docs/nomenclature.md) ---
  MDC_DIM_MICRO_VOLT: { mdc: 266419, refid: 'MDC_DIM_MICRO_VOLT', ucum: 'uV' },
  MDC_DIM_MILLI_M: { mdc: 263442, refid: 'MDC_DIM_MILLI_M', ucum: 'mm' },
  MDC_DIM_CENTI_M: { mdc: 263441, refid: 'MDC_DIM_CENTI_M', ucum: 'cm' },
  MDC_DIM_X_L: { mdc: 263744, refid: 'MDC_DIM_X_L', ucum: 'L' },
  MDC_DIM_MILLI_L: { mdc: 263762, refid: 'MDC_DIM_MILLI_L', ucum: 'mL' },
  MDC_DIM_X_L_PER_MIN: { mdc: 265216, refid: 'MDC_DIM_X_L_PER_MIN', ucum: 'L/min' },
  MDC_DIM_SEC: { mdc: 264320, refid: 'MDC_DIM_SEC', ucum: 's' },
  MDC_DIM_KELVIN: { mdc: 266528, refid: 'MDC_DIM_KELVIN', ucum: 'K' },
  MDC_DIM_HECTO_PASCAL: { mdc: 265986, refid: 'MDC_DIM_HECTO_PASCAL', ucum: 'hPa' },
  MDC_DIM_X_OHM: { mdc: 266432, refid: 'MDC_DIM_X_OHM', ucum: 'Ohm' },
  MDC_DIM_KILO_G: { mdc: 263875, refid: 'MDC_DIM_KILO_G', ucum: 'kg' },
  MDC_DIM_MILLI_L_PER_CM_H2O: { mdc: 268050, refid: 'MDC_DIM_MILLI_L_PER_CM_H2O', ucum: 'mL/cm[H2O]' },
  MDC_DIM_CM_H2O_PER_L_PER_SEC: { mdc: 268064, refid: 'MDC_DIM_CM_H2O_PER_L_PER_SEC', ucum: 'cm[H2O]/L/s' },
} as const satisfies Record<string, UnitCode>;

/** Reference ids that name the same unit as a UNITS entry (spellings without the _X_ factor). */
export const UNIT_ALIASES: Readonly<Record<string, keyof typeof UNITS>> = {
  // JM (docs/nomenclature.md) spells the factor-less units without _X_: MDC_DIM_L 1600, MDC_DIM_L_PER_MIN 3072.
  MDC_DIM_L: 'MDC_DIM_X_L',
  MDC_DIM_L_PER_MIN: 'MDC_DIM_X_L_PER_MIN',
  MDC_DIM_OHM: 'MDC_DIM_X_OHM',
};

/** The Rosetta metrics of decoders/mdc-table.ts as Metric objects (codes METRICS lacks). */
export const TABLE_METRICS: readonly Metric[] = ROSETTA_METRICS.map(([refid, mdc, units]) => {
  const [unit = '', ...alt] = units.split('|');
  return Object.freeze(alt.length > 0 ? { mdc, refid, unit, alt } : { mdc, refid, unit });
});

const metricByRefid = new Map<string, Metric>(Object.values(METRICS).map((m) => [m.refid, m]));
const metricByCode = new Map<number, Metric>(Object.values(METRICS).map((m) => [m.mdc, m]));
for (const m of TABLE_METRICS) {
  metricByRefid.set(m.refid, m);
  metricByCode.set(m.mdc, m);
}
for (const [alias, canonical] of Object.entries(METRIC_ALIASES)) metricByRefid.set(alias, METRICS[canonical]);
const unitByRefid = new Map<string, UnitCode>(Object.values(UNITS).map((u) => [u.refid, u]));
for (const [alias, canonical] of Object.entries(UNIT_ALIASES)) unitByRefid.set(alias, UNITS[canonical]);
const unitByCode = new Map<number, UnitCode>(Object.values(UNITS).map((u) => [u.mdc, u]));

/** IEEE 11073-10101 partitions (context-free code = partition * 65536 + term). */
export const PARTITION = { OBJ: 1, SCADA: 2, EVT: 3, DIM: 4, PHD_DM: 128, PHD_HF: 129, PHD_AI: 130 } as const;
/** Terms 0xF000-0xFFFF of a partition are private: each manufacturer gives them its own meaning. */
export const PRIVATE_TERM_START = 0xf000;

export function partitionOf(code: number): number {
  return Math.floor(code / 65536);
}
export function termOf(code: number): number {
  return code % 65536;
}

/**
 * Can `code` name a metric (an observed value)? Partition 2 (SCADA) or a personal-health metric
 * partition, a standard (non-private) term. Anything else is not trusted as a metric code.
 */
export function isMetricCode(code: number): boolean {
  if (!Number.isInteger(code) || code <= 0) return false;
  const p = partitionOf(code);
  if (p !== PARTITION.SCADA && p !== PARTITION.PHD_DM && p !== PARTITION.PHD_HF && p !== PARTITION.PHD_AI) return false;
  return termOf(code) < PRIVATE_TERM_START;
}
/** Can `code` name a unit? Partition 4 (DIM), a standard term. */
export function isUnitCode(code: number): boolean {
  return Number.isInteger(code) && partitionOf(code) === PARTITION.DIM && termOf(code) < PRIVATE_TERM_START;
}
/** Can `code` name an event (alarm)? Partition 3 (EVT), a standard term. */
export function isEventCode(code: number): boolean {
  return Number.isInteger(code) && partitionOf(code) === PARTITION.EVT && termOf(code) < PRIVATE_TERM_START;
}

const LABELS: Readonly<Record<string, string>> = {
  MDC_ECG_CARD_BEAT_RATE: 'HR',
  MDC_PULS_OXIM_SAT_O2: 'SpO2',
  MDC_PULS_OXIM_PULS_RATE: 'PR',
  MDC_PULS_RATE: 'Pulse',
  MDC_BLD_PULS_RATE_INV: 'PR (invasive)',
  MDC_RESP_RATE: 'RR',
  MDC_TTHOR_RESP_RATE: 'RR (imp)',
  MDC_CO2_RESP_RATE: 'awRR',
  MDC_AWAY_RESP_RATE: 'awRR',
  MDC_PRESS_CUFF_SYS: 'NBP sys',
  MDC_PRESS_CUFF_DIA: 'NBP dia',
  MDC_PRESS_CUFF_MEAN: 'NBP mean',
  MDC_PRESS_BLD_NONINV_SYS: 'NBP sys',
  MDC_PRESS_BLD_NONINV_DIA: 'NBP dia',
  MDC_PRESS_BLD_NONINV_MEAN: 'NBP mean',
  MDC_PRESS_BLD_ART_SYS: 'ART sys',
  MDC_PRESS_BLD_ART_DIA: 'ART dia',
  MDC_PRESS_BLD_ART_MEAN: 'ART mean',
  MDC_PRESS_BLD_ART_ABP_SYS: 'ABP sys',
  MDC_PRESS_BLD_ART_ABP_DIA: 'ABP dia',
  MDC_PRESS_BLD_ART_ABP_MEAN: 'ABP mean',
  MDC_PRESS_BLD_ART_PULM_SYS: 'PAP sys',
  MDC_PRESS_BLD_ART_PULM_DIA: 'PAP dia',
  MDC_PRESS_BLD_ART_PULM_MEAN: 'PAP mean',
  MDC_PRESS_BLD_VEN_CENT_MEAN: 'CVP',
  MDC_PRESS_INTRA_CRAN_MEAN: 'ICP',
  MDC_TEMP: 'Temp',
  MDC_BLD_PERF_INDEX: 'PI',
  MDC_PULS_OXIM_PERF_REL: 'PI',
  MDC_AWAY_CO2_ET: 'etCO2',
  MDC_CONC_AWAY_CO2_ET: 'etCO2',
  MDC_CONC_AWAY_CO2_INSP: 'FiCO2',
  MDC_AWAY_CO2_INSP_MIN: 'imCO2',
  MDC_VENT_CONC_AWAY_O2_INSP: 'FiO2',
  MDC_VOL_AWAY_TIDAL: 'TV',
  MDC_VOL_MINUTE_AWAY: 'MV',
  MDC_PRESS_AWAY_END_EXP_POS: 'PEEP',
  MDC_PRESS_AWAY_INSP_MAX: 'PIP',
  MDC_ECG_V_P_C_RATE: 'PVC',
};

/** Short display label of a metric: a clinician's abbreviation where one is usual, else the reference id without MDC_. */
export function displayLabel(refid: string): string {
  const known = LABELS[refid];
  if (known !== undefined) return known;
  const st = /^MDC_ECG_AMPL_ST_(\w+)$/.exec(refid);
  if (st) return `ST-${st[1]}`;
  return refid.startsWith('MDC_') ? refid.slice(4) : refid;
}

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
