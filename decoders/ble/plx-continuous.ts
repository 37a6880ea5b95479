// GATT PLX Continuous Measurement, characteristic 0x2A5F (Pulse Oximeter Service 1.0, PLXS 3.2).
// flags u8 | SpO2PR-Normal (SpO2 SFLOAT, PR SFLOAT) | SpO2PR-Fast when bit 0 | SpO2PR-Slow
// when bit 1 | Measurement Status u16 when bit 2 | Device and Sensor Status u24 when bit 3 |
// Pulse Amplitude Index SFLOAT when bit 4.
import { decodeError } from '../../lib/errors.js';
import { METRICS, UNITS } from '../mdc.js';
import { u16, u24, type CharacteristicDecoder } from './context.js';
import { sfloatObservation, spec, timing } from './observation.js';
import { deviceStatusFlags, measurementStatusFlags } from './plx-status.js';

export const PLX_CONTINUOUS = 0x2a5f;

// IEEE 11073-10404 reports the fast and slow averages under the same metric codes with the
// supplemental type MDC_MODALITY_FAST / MDC_MODALITY_SLOW; `method` carries that here.
const SPO2 = spec(METRICS.MDC_PULS_OXIM_SAT_O2, UNITS.MDC_DIM_PERCENT, '0x2A5F/spo2', '%');
const PR = spec(METRICS.MDC_PULS_OXIM_PULS_RATE, UNITS.MDC_DIM_BEAT_PER_MIN, '0x2A5F/pulse_rate', 'bpm');
const SPO2_FAST = spec(
  METRICS.MDC_PULS_OXIM_SAT_O2,
  UNITS.MDC_DIM_PERCENT,
  '0x2A5F/spo2_fast',
  '%',
  'MDC_MODALITY_FAST',
);
const PR_FAST = spec(
  METRICS.MDC_PULS_OXIM_PULS_RATE,
  UNITS.MDC_DIM_BEAT_PER_MIN,
  '0x2A5F/pulse_rate_fast',
  'bpm',
  'MDC_MODALITY_FAST',
);
const SPO2_SLOW = spec(
  METRICS.MDC_PULS_OXIM_SAT_O2,
  UNITS.MDC_DIM_PERCENT,
  '0x2A5F/spo2_slow',
  '%',
  'MDC_MODALITY_SLOW',
);
const PR_SLOW = spec(
  METRICS.MDC_PULS_OXIM_PULS_RATE,
  UNITS.MDC_DIM_BEAT_PER_MIN,
  '0x2A5F/pulse_rate_slow',
  'bpm',
  'MDC_MODALITY_SLOW',
);
const PAI = spec(METRICS.MDC_PULS_OXIM_PERF_REL, UNITS.MDC_DIM_PERCENT, '0x2A5F/pulse_amplitude_index', '%');

export const decodePlxContinuous: CharacteristicDecoder = (p, len, ctx) => {
  const flags = p[0] ?? 0;
  // Offsets of the optional fields, in specification order; -1 = absent.
  let i = 5;
  let fast = -1;
  let slow = -1;
  let ms = -1;
  let ds = -1;
  let pai = -1;
  if (flags & 0x01) {
    fast = i;
    i += 4;
  } // bit 0: SpO2PR-Fast present
  if (flags & 0x02) {
    slow = i;
    i += 4;
  } // bit 1: SpO2PR-Slow present
  if (flags & 0x04) {
    ms = i;
    i += 2;
  } // bit 2: Measurement Status present
  if (flags & 0x08) {
    ds = i;
    i += 3;
  } // bit 3: Device and Sensor Status present
  if (flags & 0x10) {
    pai = i;
    i += 2;
  } // bit 4: Pulse Amplitude Index present
  if (len < i)
    return decodeError(
      'VW_ERR_BLE_BAD_PAYLOAD',
      `0x2A5F flags 0x${flags.toString(16).padStart(2, '0')}: ${len} bytes, need ${i}`,
    );
  const q = (ms >= 0 ? measurementStatusFlags(u16(p, ms)) : 0) | (ds >= 0 ? deviceStatusFlags(u24(p, ds)) : 0);
  const time = timing(ctx.gatewayTimeUs, 0);
  const out = ctx.out;
  out.push(sfloatObservation(SPO2, u16(p, 1), q, time));
  out.push(sfloatObservation(PR, u16(p, 3), q, time));
  if (fast >= 0) {
    out.push(sfloatObservation(SPO2_FAST, u16(p, fast), q, time));
    out.push(sfloatObservation(PR_FAST, u16(p, fast + 2), q, time));
  }
  if (slow >= 0) {
    out.push(sfloatObservation(SPO2_SLOW, u16(p, slow), q, time));
    out.push(sfloatObservation(PR_SLOW, u16(p, slow + 2), q, time));
  }
  if (pai >= 0) out.push(sfloatObservation(PAI, u16(p, pai), q, time));
  return undefined;
};
