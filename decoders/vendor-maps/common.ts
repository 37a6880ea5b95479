// Unit spellings seen from many senders that are not UCUM, or are UCUM for something else.
import type { VendorMap } from './types.js';

export const COMMON: VendorMap = {
  id: 'common',
  sources: [
    'UCUM §4.3 (c/s codes): mm[Hg], cm[H2O], Cel, [degF], /min are the case-sensitive codes; bpm, mmHg, cmH2O, degC are not UCUM',
    'hl7-samples: VitalRecorder sends bpm, mmHg, C (Celsius); Philips MDIL sends bpm, rpm, mmHg, °C as OBX-6.2 text',
  ],
  unitSpellings: {
    bpm: '/min',
    'beats/min': '/min',
    'breaths/min': '/min',
    // In monitor output rpm is respirations per minute (Philips MDIL `0004-0ae0^rpm` = MDC_DIM_RESP_PER_MIN).
    rpm: '/min',
    mmHg: 'mm[Hg]',
    mmhg: 'mm[Hg]',
    cmH2O: 'cm[H2O]',
    '°C': 'Cel',
    '℃': 'Cel',
    degC: 'Cel',
    // Valid UCUM coulomb and farad: only read as temperatures where the metric is one (decoders/units/units.ts).
    C: 'Cel',
    F: '[degF]',
    '°F': '[degF]',
    '℉': '[degF]',
    degF: '[degF]',
  },
};
