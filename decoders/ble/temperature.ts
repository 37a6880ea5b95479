// GATT Temperature Measurement 0x2A1C and Intermediate Temperature 0x2A1E (Health Thermometer
// Service 1.0, HTS 3.1/3.3, same layout): flags u8 | value FLOAT (4 bytes) | Time Stamp (Date
// Time) when bit 1 | Temperature Type u8 (0x2A1D values) when bit 2. Flags bit 0: 0 = Celsius,
// 1 = Fahrenheit. The value is kept in the unit the thermometer sent ('Cel' or '[degF]'):
// converting would change the digits the device displayed.
import { Flag } from '../../proto/index.js';
import { decodeError } from '../../lib/errors.js';
import { METRICS, UNITS, type Metric } from '../mdc.js';
import { u32, type CharacteristicDecoder } from './context.js';
import { DATE_TIME_BYTES, deviceTimeUs } from './date-time.js';
import { observation, spec, timing, type ObsSpec } from './observation.js';
import { floatKind, floatValue } from './sfloat.js';

export const TEMPERATURE_MEASUREMENT = 0x2a1c;
export const INTERMEDIATE_TEMPERATURE = 0x2a1e;

// Temperature Type (0x2A1D) -> site name (in `method`) and MDC code. Armpit is 10408's
// MDC_TEMP_AXILLA 188452, not Mindray's unverified MDC_TEMP_AXIL 188496; the GI tract term
// (MDC_TEMP_GIT, 188456) is in one public source only, so that site stays MDC_TEMP_BODY.
const SITES: readonly (readonly [string, Metric])[] = [
  ['', METRICS.MDC_TEMP_BODY], // 0: reserved / not sent
  ['armpit', METRICS.MDC_TEMP_AXILLA],
  ['body', METRICS.MDC_TEMP_BODY],
  ['ear', METRICS.MDC_TEMP_EAR],
  ['finger', METRICS.MDC_TEMP_FINGER],
  ['gastro-intestinal tract', METRICS.MDC_TEMP_BODY],
  ['mouth', METRICS.MDC_TEMP_ORAL],
  ['rectum', METRICS.MDC_TEMP_RECT],
  ['toe', METRICS.MDC_TEMP_TOE],
  ['tympanum', METRICS.MDC_TEMP_TYMP],
];

function specsFor(uuid: string): ObsSpec[] {
  const out: ObsSpec[] = [];
  for (const fahrenheit of [false, true]) {
    for (const [site, metric] of SITES) {
      const unit = fahrenheit ? UNITS.MDC_DIM_FAHR : UNITS.MDC_DIM_DEGC;
      out.push(spec(metric, unit, `${uuid}/temperature`, fahrenheit ? '°F' : '°C', site === '' ? undefined : site));
    }
  }
  return out;
}
const FINAL = specsFor('0x2A1C');
const INTERMEDIATE = specsFor('0x2A1E');

function decodeTemperature(which: readonly ObsSpec[], uuid: string, extraFlags: number): CharacteristicDecoder {
  return (p, len, ctx) => {
    const flags = p[0] ?? 0;
    let i = 5;
    let ts = -1;
    let type = -1;
    if (flags & 0x02) {
      ts = i;
      i += DATE_TIME_BYTES;
    } // bit 1: Time Stamp present
    if (flags & 0x04) {
      type = i;
      i += 1;
    } // bit 2: Temperature Type present
    if (len < i)
      return decodeError(
        'VW_ERR_BLE_BAD_PAYLOAD',
        `${uuid} flags 0x${flags.toString(16).padStart(2, '0')}: ${len} bytes, need ${i}`,
      );
    const deviceUs = deviceTimeUs(p, ts, ctx, uuid);
    const t = type >= 0 ? (p[type] ?? 0) : 0;
    const site = t < SITES.length ? t : 0; // reserved types (0, 10-255): site unknown
    const s = which[(flags & 0x01 ? SITES.length : 0) + site] as ObsSpec; // bit 0: Fahrenheit
    const raw = u32(p, 1);
    ctx.out.push(observation(s, floatKind(raw), floatValue(raw), extraFlags, timing(ctx.gatewayTimeUs, deviceUs)));
    return undefined;
  };
}

export const decodeTemperatureMeasurement = decodeTemperature(FINAL, '0x2A1C', 0);
// HTS 3.3: intermediate temperatures are readings while the measurement settles.
export const decodeIntermediateTemperature = decodeTemperature(INTERMEDIATE, '0x2A1E', Flag.FLAG_EARLY_ESTIMATE);
