// What each Masimo field is: MDC code and UCUM unit (docs/nomenclature.md, "Masimo").
// SpO2, pulse rate and PI have IEEE 11073-10101 terms. SpCO, SpMet, PVI, DESAT and PIDELTA have no
// term vitalwire could verify in two public sources (the MD PnP OpenICE Radical-7 driver also
// publishes PVI and DESAT under private names), so they keep the Masimo key with FLAG_UNMAPPED.
// Keys not listed here are emitted the same way, unmapped, never dropped.
import { Flag } from '../../proto/index.js';
import { METRICS, UNITS } from '../mdc.js';

export interface MasimoTerm {
  readonly mdc: number;
  readonly refid: string;
  readonly unit: string;
  readonly unitMdc: number;
  readonly flags: number;
}

const pct = UNITS.MDC_DIM_PERCENT;
const dimless = UNITS.MDC_DIM_DIMLESS;

const mapped = (m: { mdc: number; refid: string; unit: string }, unitMdc: number): MasimoTerm => ({
  ...m,
  unitMdc,
  flags: 0,
});
const unmapped = (unit: string, unitMdc: number): MasimoTerm => ({
  mdc: 0,
  refid: '',
  unit,
  unitMdc,
  flags: Flag.FLAG_UNMAPPED,
});

export const MASIMO_TERMS: Readonly<Record<string, MasimoTerm>> = {
  SPO2: mapped(METRICS.MDC_PULS_OXIM_SAT_O2, pct.mdc),
  BPM: mapped(METRICS.MDC_PULS_OXIM_PULS_RATE, UNITS.MDC_DIM_BEAT_PER_MIN.mdc),
  PR: mapped(METRICS.MDC_PULS_OXIM_PULS_RATE, UNITS.MDC_DIM_BEAT_PER_MIN.mdc), // Rad-8 spelling
  PI: mapped(METRICS.MDC_PULS_OXIM_PERF_REL, pct.mdc),
  SPCO: unmapped(pct.ucum, pct.mdc), // carboxyhemoglobin, % of total hemoglobin
  SPMET: unmapped(pct.ucum, pct.mdc), // methemoglobin, % of total hemoglobin
  PVI: unmapped(pct.ucum, pct.mdc), // pleth variability index, (PImax - PImin) / PImax x 100
  PIDELTA: unmapped(pct.ucum, pct.mdc), // PI change, percent
  DESAT: unmapped(dimless.ucum, dimless.mdc), // desaturation index, a count
};

const UNKNOWN_PCT = unmapped(pct.ucum, pct.mdc);
const UNKNOWN_PLAIN = unmapped('', 0);

/** A field the table does not know: its unit is what the line says ('%' or none). */
export function unknownTerm(unit: string): MasimoTerm {
  return unit === '%' ? UNKNOWN_PCT : UNKNOWN_PLAIN;
}

/** Fields that are not measurements. */
export const SERIAL_KEY = 'SN';
export const ALARM_KEY = 'ALARM';
export const EXC_KEY = 'EXC';
