// GATT Blood Pressure Measurement 0x2A35 and Intermediate Cuff Pressure 0x2A36 (Blood Pressure
// Service 1.0, BLS 3.1/3.2, same layout): flags u8 | systolic, diastolic, MAP SFLOAT | Time
// Stamp (Date Time) when bit 1 | Pulse Rate SFLOAT when bit 2 | User ID u8 when bit 3 |
// Measurement Status u16 when bit 4. Flags bit 0: 0 = mmHg, 1 = kPa (kept as sent).
// In 0x2A36 the systolic field carries the current cuff pressure and diastolic/MAP are unused.
import { Flag } from '../../proto/index.js';
import { decodeError } from '../../lib/errors.js';
import { METRICS, UNITS } from '../mdc.js';
import { u16, type CharacteristicDecoder } from './context.js';
import { DATE_TIME_BYTES, deviceTimeUs } from './date-time.js';
import { observation, sfloatObservation, spec, timing, type ObsSpec } from './observation.js';
import { FloatKind } from './sfloat.js';

export const BLOOD_PRESSURE_MEASUREMENT = 0x2a35;
export const INTERMEDIATE_CUFF_PRESSURE = 0x2a36;

const MMHG = 0;
const KPA = 1;
const unit = (k: number) => (k === KPA ? UNITS.MDC_DIM_KILO_PASCAL : UNITS.MDC_DIM_MMHG);
const vunit = (k: number) => (k === KPA ? 'kPa' : 'mmHg');
const SYS = [MMHG, KPA].map((k) => spec(METRICS.MDC_PRESS_BLD_NONINV_SYS, unit(k), '0x2A35/systolic', vunit(k)));
const DIA = [MMHG, KPA].map((k) => spec(METRICS.MDC_PRESS_BLD_NONINV_DIA, unit(k), '0x2A35/diastolic', vunit(k)));
const MAP = [MMHG, KPA].map((k) =>
  spec(METRICS.MDC_PRESS_BLD_NONINV_MEAN, unit(k), '0x2A35/mean_arterial_pressure', vunit(k)),
);
const CUFF = [MMHG, KPA].map((k) => spec(METRICS.MDC_PRESS_CUFF, unit(k), '0x2A36/cuff_pressure', vunit(k)));
const PR_FINAL = spec(METRICS.MDC_PULS_RATE_NON_INV, UNITS.MDC_DIM_BEAT_PER_MIN, '0x2A35/pulse_rate', 'bpm');
const PR_CUFF = spec(METRICS.MDC_PULS_RATE_NON_INV, UNITS.MDC_DIM_BEAT_PER_MIN, '0x2A36/pulse_rate', 'bpm');
// The User ID has no MDC metric: kept as an unmapped value so a multi-user monitor's readings
// can still be told apart (BLS 3.1.1.5: 0xFF = unknown user, then it is not sent).
const USER_FINAL = spec(undefined, UNITS.MDC_DIM_DIMLESS, '0x2A35/user_id', 'index');
const USER_CUFF = spec(undefined, UNITS.MDC_DIM_DIMLESS, '0x2A36/user_id', 'index');
const USER_UNKNOWN = 0xff;

// BLS 3.1.1.6 Measurement Status bits.
const BODY_MOVEMENT = 1 << 0;
const CUFF_TOO_LOOSE = 1 << 1;
const IRREGULAR_PULSE = 1 << 2;
const PULSE_RANGE_SHIFT = 3; // bits 3-4: 0 in range, 1 above upper limit, 2 below lower limit
const IMPROPER_POSITION = 1 << 5;

/** Flags for every value of the measurement. */
function valueFlags(ms: number): number {
  let f = 0;
  if (ms & BODY_MOVEMENT) f |= Flag.FLAG_ARTIFACT;
  if (ms & (CUFF_TOO_LOOSE | IMPROPER_POSITION)) f |= Flag.FLAG_QUESTIONABLE;
  return f;
}

/** Extra flags for the pulse rate: the monitor's own pulse limits, not the measurable range, so abnormal rather than out-of-range. */
function pulseFlags(ms: number): number {
  const range = (ms >> PULSE_RANGE_SHIFT) & 0x03;
  return ms & IRREGULAR_PULSE || range === 1 || range === 2 ? Flag.FLAG_ABNORMAL : 0;
}

function decodeBloodPressure(cuffOnly: boolean): CharacteristicDecoder {
  const uuid = cuffOnly ? '0x2A36' : '0x2A35';
  const PR = cuffOnly ? PR_CUFF : PR_FINAL;
  const USER = cuffOnly ? USER_CUFF : USER_FINAL;
  return (p, len, ctx) => {
    const flags = p[0] ?? 0;
    let i = 7;
    let ts = -1;
    let pr = -1;
    let user = -1;
    let ms = -1;
    if (flags & 0x02) {
      ts = i;
      i += DATE_TIME_BYTES;
    } // bit 1: Time Stamp present
    if (flags & 0x04) {
      pr = i;
      i += 2;
    } // bit 2: Pulse Rate present
    if (flags & 0x08) {
      user = i;
      i += 1;
    } // bit 3: User ID present
    if (flags & 0x10) {
      ms = i;
      i += 2;
    } // bit 4: Measurement Status present
    if (len < i)
      return decodeError(
        'VW_ERR_BLE_BAD_PAYLOAD',
        `${uuid} flags 0x${flags.toString(16).padStart(2, '0')}: ${len} bytes, need ${i}`,
      );
    const k = flags & 0x01 ? KPA : MMHG; // bit 0: units, 1 = kPa
    const status = ms >= 0 ? u16(p, ms) : 0;
    const all = valueFlags(status);
    const pulse = pulseFlags(status);
    const deviceUs = deviceTimeUs(p, ts, ctx, uuid);
    const time = timing(ctx.gatewayTimeUs, deviceUs);
    const out = ctx.out;
    if (cuffOnly) {
      out.push(sfloatObservation(CUFF[k] as ObsSpec, u16(p, 1), all, time));
    } else {
      out.push(sfloatObservation(SYS[k] as ObsSpec, u16(p, 1), all, time));
      out.push(sfloatObservation(DIA[k] as ObsSpec, u16(p, 3), all, time));
      out.push(sfloatObservation(MAP[k] as ObsSpec, u16(p, 5), all, time));
    }
    if (pr >= 0) out.push(sfloatObservation(PR, u16(p, pr), all | pulse, time));
    if (user >= 0 && p[user] !== USER_UNKNOWN) out.push(observation(USER, FloatKind.NUMBER, p[user] ?? 0, 0, time));
    return undefined;
  };
}

export const decodeBloodPressureMeasurement = decodeBloodPressure(false);
export const decodeIntermediateCuffPressure = decodeBloodPressure(true);
