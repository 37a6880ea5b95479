// Vendor-local codes that mean an MDC term. Senders outside IHE PCD (VitalRecorder's server
// stream, gateways with private code systems) use their own names; this table maps the ones we
// know. Anything not here keeps its vendor code and is flagged unmapped, never dropped.
import { METRICS } from '../mdc.js';

type MetricKey = keyof typeof METRICS;

/**
 * VitalRecorder (VitalDB) HL7 server: OBX-3 is `<PARAM>^<Device>/<Track>[@<rate>]`
 * (VitalServer_HL7_v2_Spec.md §8). Keys are the track names, which say what the value is.
 */
export const VITALRECORDER_TRACKS: Readonly<Record<string, MetricKey>> = {
  HR: 'MDC_ECG_CARD_BEAT_RATE',
  SpO2: 'MDC_PULS_OXIM_SAT_O2',
  PLETH_SPO2: 'MDC_PULS_OXIM_SAT_O2',
  PLETH_HR: 'MDC_PULS_OXIM_PULS_RATE',
  NIBP_SBP: 'MDC_PRESS_CUFF_SYS',
  NIBP_DBP: 'MDC_PRESS_CUFF_DIA',
  NIBP_MBP: 'MDC_PRESS_CUFF_MEAN',
  BT: 'MDC_TEMP',
  RR: 'MDC_RESP_RATE',
  ECG_I: 'MDC_ECG_ELEC_POTL_I',
  ECG_II: 'MDC_ECG_ELEC_POTL_II',
  ECG_III: 'MDC_ECG_ELEC_POTL_III',
  PLETH: 'MDC_PULS_OXIM_PLETH',
};

/** Plain unit strings seen from non-MDC senders, to UCUM. */
export const PLAIN_UNITS: Readonly<Record<string, string>> = {
  '%': '%',
  bpm: '/min',
  'beats/min': '/min',
  '/min': '/min',
  'rpm': '/min',
  'breaths/min': '/min',
  mmHg: 'mm[Hg]',
  'mm[Hg]': 'mm[Hg]',
  C: 'Cel',
  Cel: 'Cel',
  '°C': 'Cel',
  degC: 'Cel',
  mV: 'mV',
  cmH2O: 'cm[H2O]',
  'cm[H2O]': 'cm[H2O]',
  kPa: 'kPa',
  Hz: 'Hz',
  '1': '1',
};
