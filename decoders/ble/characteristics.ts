// The GATT characteristics the bridge decoder reads, by 16-bit UUID. The decoder picks the
// layout by characteristic alone: the service UUID on the line is checked for syntax only,
// since vendors sometimes expose a standard characteristic inside their own service.
import {
  decodeBloodPressureMeasurement,
  decodeIntermediateCuffPressure,
  BLOOD_PRESSURE_MEASUREMENT,
  INTERMEDIATE_CUFF_PRESSURE,
} from './blood-pressure.js';
import type { CharacteristicDecoder } from './context.js';
import { decodeHeartRate, HEART_RATE_MEASUREMENT } from './heart-rate.js';
import { decodePlxContinuous, PLX_CONTINUOUS } from './plx-continuous.js';
import { decodePlxSpotCheck, PLX_SPOT_CHECK } from './plx-spot-check.js';
import {
  decodeIntermediateTemperature,
  decodeTemperatureMeasurement,
  INTERMEDIATE_TEMPERATURE,
  TEMPERATURE_MEASUREMENT,
} from './temperature.js';

export const CHARACTERISTICS: ReadonlyMap<number, CharacteristicDecoder> = new Map([
  [HEART_RATE_MEASUREMENT, decodeHeartRate],
  [PLX_SPOT_CHECK, decodePlxSpotCheck],
  [PLX_CONTINUOUS, decodePlxContinuous],
  [TEMPERATURE_MEASUREMENT, decodeTemperatureMeasurement],
  [INTERMEDIATE_TEMPERATURE, decodeIntermediateTemperature],
  [BLOOD_PRESSURE_MEASUREMENT, decodeBloodPressureMeasurement],
  [INTERMEDIATE_CUFF_PRESSURE, decodeIntermediateCuffPressure],
]);

/** Services the characteristics above belong to (for the bridge sketch's scan filter and the docs). */
export const SERVICES = {
  HEART_RATE: 0x180d,
  PULSE_OXIMETER: 0x1822,
  HEALTH_THERMOMETER: 0x1809,
  BLOOD_PRESSURE: 0x1810,
} as const;
