// What the dashboard shows and how: MDC codes of the metrics it places (IEEE 11073-10101), display units for UCUM
// codes, and number formats. Pure: no DOM.

export const MDC = {
  ECG_HR: 147842, // MDC_ECG_CARD_BEAT_RATE
  PULSE_RATE: 149530, // MDC_PULS_OXIM_PULS_RATE: HR fallback when no ECG is connected
  SPO2: 150456, // MDC_PULS_OXIM_SAT_O2
  RR: 151562, // MDC_RESP_RATE
  RR_IMPEDANCE: 151578, // MDC_TTHOR_RESP_RATE
  RR_CO2: 151594, // MDC_CO2_RESP_RATE
  NIBP_SYS: 150021, // MDC_PRESS_BLD_NONINV_SYS
  NIBP_DIA: 150022,
  NIBP_MEAN: 150023,
  ECG_II: 131330, // MDC_ECG_ELEC_POTL_II
  PLETH: 150452, // MDC_PULS_OXIM_PLETH
  RESP_WAVE: 151780, // MDC_IMPED_TTHOR
} as const;

/** Temperature sites, all shown in the one temperature slot (the newest wins). */
export const TEMPERATURES: ReadonlySet<number> = new Set([
  150344, // MDC_TEMP
  150364, // MDC_TEMP_BODY
  150392, // MDC_TEMP_TYMP
  188420, // MDC_TEMP_RECT
  188424, // MDC_TEMP_ORAL
  188428, // MDC_TEMP_EAR
  188432, // MDC_TEMP_FINGER
  188448, // MDC_TEMP_TOE
  188452, // MDC_TEMP_AXILLA
  188496, // MDC_TEMP_AXIL (Mindray)
]);

/** Respiration rate sources in order of preference. */
export const RESP_RATES: readonly number[] = [MDC.RR, MDC.RR_IMPEDANCE, MDC.RR_CO2];

const UNIT_TEXT: Record<string, string> = {
  '/min': '/min',
  '%': '%',
  'mm[Hg]': 'mmHg',
  'Cel': '°C',
  '[degF]': '°F',
  'mV': 'mV',
  'kPa': 'kPa',
  'cm[H2O]': 'cmH2O',
};

/** A UCUM code as a clinician reads it ("mm[Hg]" -> "mmHg", "Cel" -> "°C"); unknown codes as sent. */
export function unitText(ucum: string): string {
  return UNIT_TEXT[ucum] ?? ucum;
}

/** Temperatures with one decimal, everything else whole. */
export function valueText(v: number, mdc: number): string {
  return TEMPERATURES.has(mdc) ? v.toFixed(1) : String(Math.round(v));
}

export function ageText(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

export function clockText(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** CSS pixels per millimetre: CSS fixes 1 in = 96 px = 25.4 mm. */
export const PX_PER_MM = 96 / 25.4;
/** Paper speed of every sweep (IEC 60601-2-27 standard speed). */
export const SWEEP_MM_PER_S = 25;
