// GATT Heart Rate Measurement, characteristic 0x2A37 (Heart Rate Service 1.0, HRS 3.1.1.1).
// flags u8 | HR u8, or u16 when flags bit 0 | energy expended u16 kJ when bit 3 |
// RR-intervals u16 (1/1024 s) each, one or more, when bit 4.
import { Flag } from '../../proto/index.js';
import { decodeError } from '../../lib/errors.js';
import { METRICS, UNITS } from '../mdc.js';
import { u16, type CharacteristicDecoder } from './context.js';
import { observation, spec, timing } from './observation.js';
import { FloatKind } from './sfloat.js';

export const HEART_RATE_MEASUREMENT = 0x2a37;

// A strap or a wrist sensor: the profile does not say which, so the heart rate keeps 147842
// (MDC_ECG_CARD_BEAT_RATE, also spelled MDC_ECG_HEART_RATE).
const HR = spec(METRICS.MDC_ECG_CARD_BEAT_RATE, UNITS.MDC_DIM_BEAT_PER_MIN, '0x2A37/heart_rate', 'bpm');
const RR = spec(METRICS.MDC_ECG_TIME_PD_RR_GL, UNITS.MDC_DIM_MILLI_SEC, '0x2A37/rr_interval', '1/1024 s');
// No MDC_DIM code for kJ was verified twice: the unit goes as UCUM only.
const ENERGY = spec(METRICS.MDC_HF_ENERGY, 'kJ', '0x2A37/energy_expended', 'kJ');

// HRS 3.1.1.3: the energy counter stays at 65535 kJ once it gets there, until reset.
const ENERGY_MAX = 0xffff;

export const decodeHeartRate: CharacteristicDecoder = (p, len, ctx) => {
  if (len < 2) return decodeError('VW_ERR_BLE_BAD_PAYLOAD', `0x2A37: ${len} bytes, need at least 2`);
  const flags = p[0] ?? 0;
  // flags bit 0: heart rate value format, 0 = UINT8, 1 = UINT16.
  const wide = (flags & 0x01) !== 0;
  let i = wide ? 3 : 2;
  // flags bit 3: energy expended present.
  const hasEnergy = (flags & 0x08) !== 0;
  // flags bit 4: one or more RR-intervals present.
  const hasRr = (flags & 0x10) !== 0;
  const need = i + (hasEnergy ? 2 : 0);
  if (len < need)
    return decodeError('VW_ERR_BLE_BAD_PAYLOAD', `0x2A37 flags 0x${hex2(flags)}: ${len} bytes, need ${need}`);
  if (hasRr && (len - need) % 2 !== 0)
    return decodeError('VW_ERR_BLE_BAD_PAYLOAD', `0x2A37: odd RR-interval tail (${len - need} bytes)`);
  const hr = wide ? u16(p, 1) : (p[1] ?? 0);
  // flags bits 1-2, sensor contact status: 2 = supported but contact not detected, 3 = detected,
  // 0/1 = feature not supported.
  const contact = (flags >> 1) & 0x03;
  const q = contact === 2 ? Flag.FLAG_SENSOR_OFF : 0;
  const time = timing(ctx.gatewayTimeUs, 0);
  ctx.out.push(observation(HR, FloatKind.NUMBER, hr, q, time));
  if (hasEnergy) {
    const kj = u16(p, i);
    i += 2;
    ctx.out.push(observation(ENERGY, FloatKind.NUMBER, kj, kj === ENERGY_MAX ? Flag.FLAG_OUT_OF_RANGE : 0, time));
  }
  if (hasRr) {
    // HRS 3.1.1.4: resolution 1/1024 s; 1000/1024 = 125/128 keeps the millisecond value exact.
    for (; i + 1 < len; i += 2) ctx.out.push(observation(RR, FloatKind.NUMBER, (u16(p, i) * 125) / 128, q, time));
  }
  return undefined;
};

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
