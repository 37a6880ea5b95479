// VitalRecorder (VitalDB) HL7 server stream: OBX-3 is `<PARAM>^<Device>/<Track>[@<rate>]`
// (VitalServer_HL7_v2_Spec.md §8). The track names say what a value is.
import type { VendorMap } from './types.js';

export const VITALRECORDER: VendorMap = {
  id: 'vitalrecorder',
  sources: [
    'snuhvitallab/vitaldb-docs VitalRecorder_v2/VitalServer_HL7_v2_Spec.md §8.1-8.2 (track names, units bpm/%/mmHg/C)',
  ],
  codes: {
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
  },
};
