// The clinical parameters the dashboard places, one slot each: the MDC codes that mean it (IEEE 11073-10101
// context-free codes, checked in docs/nomenclature.md), the UCUM units a value of it may carry, and how long a value
// stays current. Pure: no DOM. The limits are documented in docs/dashboard.md ("Freshness") and
// docs/clinical-safety.md.

export const MDC = {
  ECG_HR: 147842, // MDC_ECG_CARD_BEAT_RATE (MDC_ECG_HEART_RATE in 10101:2004-based senders)
  PULSE_RATE: 149530, // MDC_PULS_OXIM_PULS_RATE: HR fallback when no ECG is connected
  SPO2: 150456, // MDC_PULS_OXIM_SAT_O2
  RR: 151562, // MDC_RESP_RATE
  RR_IMPEDANCE: 151578, // MDC_TTHOR_RESP_RATE
  RR_CO2: 151594, // MDC_CO2_RESP_RATE
  RR_PLETH: 151658, // MDC_PULS_OXIM_PLETH_RESP_RATE
  NIBP_SYS: 150021, // MDC_PRESS_BLD_NONINV_SYS
  NIBP_DIA: 150022, // MDC_PRESS_BLD_NONINV_DIA
  NIBP_MEAN: 150023, // MDC_PRESS_BLD_NONINV_MEAN
  CUFF_SYS: 150301, // MDC_PRESS_CUFF_SYS (Datex, Mindray): the same measurement
  CUFF_DIA: 150302, // MDC_PRESS_CUFF_DIA
  CUFF_MEAN: 150303, // MDC_PRESS_CUFF_MEAN
  ECG_II: 131330, // MDC_ECG_ELEC_POTL_II
  PLETH: 150452, // MDC_PULS_OXIM_PLETH
  RESP_WAVE: 151780, // MDC_IMPED_TTHOR
} as const;

/** Temperature codes and the body site each names ('' = the generic MDC_TEMP / no site in the code). */
export const TEMPERATURE_SITES: ReadonlyMap<number, string> = new Map([
  [150344, ''], // MDC_TEMP
  [150364, 'body'], // MDC_TEMP_BODY
  [150392, 'tymp'], // MDC_TEMP_TYMP
  [188420, 'rect'], // MDC_TEMP_RECT
  [188424, 'oral'], // MDC_TEMP_ORAL
  [188428, 'ear'], // MDC_TEMP_EAR
  [188432, 'finger'], // MDC_TEMP_FINGER
  [188448, 'toe'], // MDC_TEMP_TOE
  [188452, 'axil'], // MDC_TEMP_AXILLA
  [188496, 'axil'], // MDC_TEMP_AXIL (Mindray's unverified code; the decoder maps it to 188452)
]);

/** Averaging variants of one metric (IEEE 11073-10404 supplemental types, in Observation.method): never the slot's value. */
export const MODALITY_VARIANTS: ReadonlySet<string> = new Set(['MDC_MODALITY_FAST', 'MDC_MODALITY_SLOW']);
export const FAST = 'MDC_MODALITY_FAST';
/** OBX-17 method of a spot measurement (NIBP, a spot temperature): the device's own time says how old it is. */
export const APERIODIC = 'APERIODIC';

export type ParamId = 'hr' | 'spo2' | 'nibp' | 'rr' | 'temp';

export interface ParamDef {
  id: ParamId;
  label: string;
  /** Codes that mean this parameter, most preferred first. */
  codes: readonly number[];
  /** UCUM units a value may carry; a number in any other unit (or none) is shown with its unit marked doubtful. */
  units: readonly string[];
  /** Unit shown on the slot while it holds no reading. */
  unit: string;
  decimals: number;
  /** A continuously monitored value older than this (by its measurement time) is greyed: the device stopped sending it. */
  staleMs: number;
  /** Measured on demand (NIBP; a row with method APERIODIC): labelled with its time, greyed when older than this. */
  aperiodicStaleMs: number;
  /** Always a spot measurement (NIBP). */
  aperiodic: boolean;
}

const PER_MIN = ['/min', '1/min', '{beats}/min', '{beat}/min', '{breaths}/min', '{resp}/min'];

export const PARAMS: Readonly<Record<ParamId, ParamDef>> = {
  // Monitors refresh HR and SpO2 every 1-2 s: 10 s without a new value means the device stopped sending it.
  hr: {
    id: 'hr',
    label: 'HR',
    codes: [MDC.ECG_HR, MDC.PULSE_RATE],
    units: PER_MIN,
    unit: '/min',
    decimals: 0,
    staleMs: 10_000,
    aperiodicStaleMs: 15 * 60_000,
    aperiodic: false,
  },
  spo2: {
    id: 'spo2',
    label: 'SpO₂',
    codes: [MDC.SPO2],
    units: ['%'],
    unit: '%',
    decimals: 0,
    staleMs: 10_000,
    aperiodicStaleMs: 15 * 60_000,
    aperiodic: false,
  },
  // Respiration rate is averaged over breaths (15-30 s): devices refresh it less often.
  rr: {
    id: 'rr',
    label: 'RR',
    codes: [MDC.RR, MDC.RR_IMPEDANCE, MDC.RR_CO2, MDC.RR_PLETH],
    units: PER_MIN,
    unit: '/min',
    decimals: 0,
    staleMs: 30_000,
    aperiodicStaleMs: 15 * 60_000,
    aperiodic: false,
  },
  // A temperature probe changes slowly and is sent every few seconds to a minute.
  temp: {
    id: 'temp',
    label: 'Temp',
    codes: [...TEMPERATURE_SITES.keys()],
    units: ['Cel', '[degF]'],
    unit: 'Cel',
    decimals: 1,
    staleMs: 5 * 60_000,
    aperiodicStaleMs: 60 * 60_000,
    aperiodic: false,
  },
  // NIBP is a cuff cycle every 5-60 min: always shown with the device's measurement time, greyed after 30 min.
  nibp: {
    id: 'nibp',
    label: 'NIBP',
    codes: [MDC.NIBP_SYS, MDC.CUFF_SYS],
    units: ['mm[Hg]', 'kPa'],
    unit: 'mm[Hg]',
    decimals: 0,
    staleMs: 30 * 60_000,
    aperiodicStaleMs: 30 * 60_000,
    aperiodic: true,
  },
};

/** NIBP code families: systolic, diastolic, mean of one measurement come from one family. */
export const NIBP_FAMILIES: readonly (readonly [number, number, number])[] = [
  [MDC.NIBP_SYS, MDC.NIBP_DIA, MDC.NIBP_MEAN],
  [MDC.CUFF_SYS, MDC.CUFF_DIA, MDC.CUFF_MEAN],
];

/** Names of alarm source metrics, for "SpO₂ 85 % < 90". */
export const SOURCE_NAMES: ReadonlyMap<number, string> = new Map([
  [MDC.ECG_HR, 'HR'],
  [MDC.PULSE_RATE, 'PR'],
  [MDC.SPO2, 'SpO₂'],
  [MDC.RR, 'RR'],
  [MDC.RR_IMPEDANCE, 'RR'],
  [MDC.RR_CO2, 'RR'],
  [MDC.NIBP_SYS, 'NIBP sys'],
  [MDC.NIBP_DIA, 'NIBP dia'],
  [MDC.NIBP_MEAN, 'NIBP mean'],
  [MDC.CUFF_SYS, 'NIBP sys'],
  [MDC.CUFF_DIA, 'NIBP dia'],
  [MDC.CUFF_MEAN, 'NIBP mean'],
  ...[...TEMPERATURE_SITES.keys()].map((c): [number, string] => [c, 'Temp']),
]);

// Datex S/5 temperature channels keep MDC_TEMP and put the site in the containment ("t1:ESO", docs/datex.md).
const DATEX_CHANNEL = /^t(\d):(.*)$/;
const CORE_FIRST = [
  'eso',
  'core',
  'blad',
  'rect',
  'naso',
  'tymp',
  'oral',
  'body',
  'ear',
  'axil',
  'myo',
  'skin',
  'surf',
  'finger',
  'toe',
  'airw',
  'room',
];

/** A temperature reading's site as a clinician reads it ("T1 eso", "rect", "axil"); '' when nothing names one. */
export function temperatureSite(mdc: number, containment: string, method: string): string {
  const parts: string[] = [];
  const ch = DATEX_CHANNEL.exec(containment);
  if (ch) {
    parts.push(`T${ch[1]}`);
    const name = (ch[2] ?? '').toLowerCase();
    if (name && name !== 'none' && name !== `t${ch[1]}`) parts.push(name);
  }
  const bySite = TEMPERATURE_SITES.get(mdc) ?? '';
  // BLE thermometers name the site in `method` ("armpit"); the code already says it when it is not generic.
  const byMethod = method && method !== APERIODIC && !method.startsWith('MDC_') ? method : '';
  const site = bySite || byMethod;
  if (site && !parts.includes(site)) parts.push(site);
  return parts.join(' ');
}

/** Sort rank of a site: core temperatures first, skin and room last, so the clinically central value leads. */
export function siteRank(site: string): number {
  const words = site.split(' ');
  let best = CORE_FIRST.length;
  for (const w of words) {
    const i = CORE_FIRST.indexOf(w);
    if (i >= 0 && i < best) best = i;
  }
  return best;
}
