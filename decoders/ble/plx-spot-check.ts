// GATT PLX Spot-check Measurement, characteristic 0x2A5E (Pulse Oximeter Service 1.0, PLXS 3.1).
// flags u8 | SpO2 SFLOAT | PR SFLOAT | Timestamp (Date Time, 7 bytes) when bit 0 | Measurement
// Status u16 when bit 1 | Device and Sensor Status u24 when bit 2 | Pulse Amplitude Index
// SFLOAT when bit 3. Flags bit 4: the device clock is not set.
import { Flag } from '../../proto/index.js';
import { decodeError } from '../../lib/errors.js';
import { METRICS, UNITS } from '../mdc.js';
import { u16, u24, type CharacteristicDecoder } from './context.js';
import { DATE_TIME_BYTES, deviceTimeUs } from './date-time.js';
import { sfloatObservation, spec, timing } from './observation.js';
import { deviceStatusFlags, measurementStatusFlags } from './plx-status.js';

export const PLX_SPOT_CHECK = 0x2a5e;

// IEEE 11073-10404 marks spot-check values with the supplemental type MDC_MODALITY_SPOT.
const SPO2 = spec(METRICS.MDC_PULS_OXIM_SAT_O2, UNITS.MDC_DIM_PERCENT, '0x2A5E/spo2', '%', 'MDC_MODALITY_SPOT');
const PR = spec(
  METRICS.MDC_PULS_OXIM_PULS_RATE,
  UNITS.MDC_DIM_BEAT_PER_MIN,
  '0x2A5E/pulse_rate',
  'bpm',
  'MDC_MODALITY_SPOT',
);
const PAI = spec(
  METRICS.MDC_PULS_OXIM_PERF_REL,
  UNITS.MDC_DIM_PERCENT,
  '0x2A5E/pulse_amplitude_index',
  '%',
  'MDC_MODALITY_SPOT',
);

export const decodePlxSpotCheck: CharacteristicDecoder = (p, len, ctx) => {
  const flags = p[0] ?? 0;
  let i = 5;
  let ts = -1;
  let ms = -1;
  let ds = -1;
  let pai = -1;
  if (flags & 0x01) {
    ts = i;
    i += DATE_TIME_BYTES;
  } // bit 0: Timestamp present
  if (flags & 0x02) {
    ms = i;
    i += 2;
  } // bit 1: Measurement Status present
  if (flags & 0x04) {
    ds = i;
    i += 3;
  } // bit 2: Device and Sensor Status present
  if (flags & 0x08) {
    pai = i;
    i += 2;
  } // bit 3: Pulse Amplitude Index present
  if (len < i)
    return decodeError(
      'VW_ERR_BLE_BAD_PAYLOAD',
      `0x2A5E flags 0x${flags.toString(16).padStart(2, '0')}: ${len} bytes, need ${i}`,
    );
  let q = (ms >= 0 ? measurementStatusFlags(u16(p, ms)) : 0) | (ds >= 0 ? deviceStatusFlags(u24(p, ds)) : 0);
  const deviceUs = deviceTimeUs(p, ts, ctx, '0x2A5E');
  // flags bit 4: device clock is not set, so its timestamp is not to be trusted.
  if (flags & 0x10 && deviceUs !== 0) q |= Flag.FLAG_TIME_SUSPECT;
  const time = timing(ctx.gatewayTimeUs, deviceUs);
  ctx.out.push(sfloatObservation(SPO2, u16(p, 1), q, time));
  ctx.out.push(sfloatObservation(PR, u16(p, 3), q, time));
  if (pai >= 0) ctx.out.push(sfloatObservation(PAI, u16(p, pai), q, time));
  return undefined;
};
