// How the dashboard writes values, units and times. Pure: no DOM.

const UNIT_TEXT: Record<string, string> = {
  '/min': '/min',
  '1/min': '/min',
  '{beats}/min': '/min',
  '{beat}/min': '/min',
  '{breaths}/min': '/min',
  '{resp}/min': '/min',
  '%': '%',
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '[degF]': '°F',
  mV: 'mV',
  kPa: 'kPa',
  'cm[H2O]': 'cmH2O',
};

/** A UCUM code as a clinician reads it ("mm[Hg]" -> "mmHg", "Cel" -> "°C"); unknown codes as sent. */
export function unitText(ucum: string): string {
  return UNIT_TEXT[ucum] ?? ucum;
}

// Fahrenheit as devices spell it in their own unit field (vendor_unit): shown as °F, not as a UCUM code.
const VENDOR_UNIT_TEXT: Record<string, string> = {
  degF: '°F',
  '°F': '°F',
  '[degF]': '°F',
  degC: '°C',
  '°C': '°C',
  Cel: '°C',
};

/** A device's own unit text (Observation.vendor_unit) as it is best read. */
export function vendorUnitText(u: string): string {
  return VENDOR_UNIT_TEXT[u] ?? unitText(u);
}

/** A number with a fixed count of decimals ("37.0", "98"). */
export function fixed(v: number, decimals: number): string {
  return decimals > 0 ? v.toFixed(decimals) : String(Math.round(v));
}

/** A number as sent, at most one decimal ("90", "38.5"). */
export function plain(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function ageText(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

export function clockText(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

export function hhmm(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}`;
}

/** CSS pixels per millimetre: CSS fixes 1 in = 96 px = 25.4 mm. */
export const PX_PER_MM = 96 / 25.4;
/** Paper speed of every sweep (IEC 60601-2-27 standard speed). */
export const SWEEP_MM_PER_S = 25;
