// Encoders: values -> GATT characteristic bytes -> VWB bridge lines. For simulators and the
// round-trip property tests; they throw RangeError on values the wire cannot carry (decoders
// never throw, encoders may).
import { MAX_VALUE_BYTES } from './bridge.js';
import { writeDateTime } from './date-time.js';
import { BLOOD_PRESSURE_MEASUREMENT, INTERMEDIATE_CUFF_PRESSURE } from './blood-pressure.js';
import { HEART_RATE_MEASUREMENT } from './heart-rate.js';
import { PLX_CONTINUOUS } from './plx-continuous.js';
import { PLX_SPOT_CHECK } from './plx-spot-check.js';
import { INTERMEDIATE_TEMPERATURE, TEMPERATURE_MEASUREMENT } from './temperature.js';
import { SERVICES } from './characteristics.js';
import {
  FLOAT_MANTISSA_MAX,
  FLOAT_NAN,
  FLOAT_NEG_INF,
  FLOAT_NRES,
  FLOAT_POS_INF,
  floatRaw,
  SFLOAT_MANTISSA_MAX,
  SFLOAT_NAN,
  SFLOAT_NEG_INF,
  SFLOAT_NRES,
  SFLOAT_POS_INF,
  sfloatRaw,
} from './sfloat.js';

export type Special = 'NaN' | 'NRes' | '+INF' | '-INF';
export type MedFloat = number | Special;

export interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** Mantissa and exponent that carry v exactly with the fewest decimals, or undefined. */
function fit(v: number, maxMantissa: number, minExp: number, maxExp: number): [number, number] | undefined {
  for (let e = 0; e >= minExp; e--) {
    const m = v * 10 ** -e;
    const r = Math.round(m);
    if (Math.abs(m - r) <= 1e-9 * Math.max(1, Math.abs(m)) && Math.abs(r) <= maxMantissa) return [r, e];
  }
  for (let e = 1; e <= maxExp; e++) {
    const m = v / 10 ** e;
    const r = Math.round(m);
    if (Math.abs(m - r) <= 1e-9 * Math.max(1, Math.abs(m)) && Math.abs(r) <= maxMantissa) return [r, e];
  }
  return undefined;
}

/** Raw SFLOAT for a value or a special. */
export function sfloatFrom(v: MedFloat): number {
  if (v === 'NaN') return SFLOAT_NAN;
  if (v === 'NRes') return SFLOAT_NRES;
  if (v === '+INF') return SFLOAT_POS_INF;
  if (v === '-INF') return SFLOAT_NEG_INF;
  const f = Number.isFinite(v) ? fit(v, SFLOAT_MANTISSA_MAX, -8, 7) : undefined;
  if (!f) throw new RangeError(`${v} does not fit an SFLOAT`);
  return sfloatRaw(f[0], f[1]);
}

/** Raw FLOAT (uint32) for a value or a special. */
export function floatFrom(v: MedFloat): number {
  if (v === 'NaN') return FLOAT_NAN;
  if (v === 'NRes') return FLOAT_NRES;
  if (v === '+INF') return FLOAT_POS_INF;
  if (v === '-INF') return FLOAT_NEG_INF;
  const f = Number.isFinite(v) ? fit(v, FLOAT_MANTISSA_MAX, -20, 20) : undefined;
  if (!f) throw new RangeError(`${v} does not fit a FLOAT`);
  return floatRaw(f[0], f[1]);
}

/** Little-endian byte writer with a fixed capacity. */
class Bytes {
  private readonly b = Buffer.alloc(MAX_VALUE_BYTES);
  private n = 0;
  u8(v: number): this {
    this.b[this.n++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u24(v: number): this {
    return this.u16(v).u8(v >> 16);
  }
  u32(v: number): this {
    return this.u16(v).u16(v >>> 16);
  }
  sfloat(v: MedFloat): this {
    return this.u16(sfloatFrom(v));
  }
  float(v: MedFloat): this {
    return this.u32(floatFrom(v));
  }
  time(t: DateTimeFields): this {
    writeDateTime(this.b, this.n, t);
    this.n += 7;
    return this;
  }
  done(): Buffer {
    return Buffer.from(this.b.subarray(0, this.n));
  }
}

export interface HeartRateValues {
  bpm: number;
  /** Sensor contact status (flags bits 1-2). Default: feature not supported. */
  contact?: 'unsupported' | 'lost' | 'detected';
  /** Send the value as UINT16 even when it fits a byte. */
  wide?: boolean;
  energyKj?: number;
  /** RR intervals in units of 1/1024 s. */
  rr1024?: readonly number[];
}

export function encodeHeartRate(v: HeartRateValues): Buffer {
  const wide = v.wide === true || v.bpm > 255;
  const contact = v.contact === 'lost' ? 2 : v.contact === 'detected' ? 3 : 0;
  const rr = v.rr1024 ?? [];
  const flags = (wide ? 0x01 : 0) | (contact << 1) | (v.energyKj !== undefined ? 0x08 : 0) | (rr.length ? 0x10 : 0);
  const w = new Bytes().u8(flags);
  if (wide) w.u16(v.bpm);
  else w.u8(v.bpm);
  if (v.energyKj !== undefined) w.u16(v.energyKj);
  for (const r of rr) w.u16(r);
  return w.done();
}

export interface SpO2PR {
  spo2: MedFloat;
  pulseRate: MedFloat;
}

export interface PlxContinuousValues extends SpO2PR {
  fast?: SpO2PR;
  slow?: SpO2PR;
  measurementStatus?: number;
  deviceStatus?: number;
  pai?: MedFloat;
}

export function encodePlxContinuous(v: PlxContinuousValues): Buffer {
  const flags =
    (v.fast ? 0x01 : 0) |
    (v.slow ? 0x02 : 0) |
    (v.measurementStatus !== undefined ? 0x04 : 0) |
    (v.deviceStatus !== undefined ? 0x08 : 0) |
    (v.pai !== undefined ? 0x10 : 0);
  const w = new Bytes().u8(flags).sfloat(v.spo2).sfloat(v.pulseRate);
  if (v.fast) w.sfloat(v.fast.spo2).sfloat(v.fast.pulseRate);
  if (v.slow) w.sfloat(v.slow.spo2).sfloat(v.slow.pulseRate);
  if (v.measurementStatus !== undefined) w.u16(v.measurementStatus);
  if (v.deviceStatus !== undefined) w.u24(v.deviceStatus);
  if (v.pai !== undefined) w.sfloat(v.pai);
  return w.done();
}

export interface PlxSpotCheckValues extends SpO2PR {
  timestamp?: DateTimeFields;
  clockNotSet?: boolean;
  measurementStatus?: number;
  deviceStatus?: number;
  pai?: MedFloat;
}

export function encodePlxSpotCheck(v: PlxSpotCheckValues): Buffer {
  const flags =
    (v.timestamp ? 0x01 : 0) |
    (v.measurementStatus !== undefined ? 0x02 : 0) |
    (v.deviceStatus !== undefined ? 0x04 : 0) |
    (v.pai !== undefined ? 0x08 : 0) |
    (v.clockNotSet ? 0x10 : 0);
  const w = new Bytes().u8(flags).sfloat(v.spo2).sfloat(v.pulseRate);
  if (v.timestamp) w.time(v.timestamp);
  if (v.measurementStatus !== undefined) w.u16(v.measurementStatus);
  if (v.deviceStatus !== undefined) w.u24(v.deviceStatus);
  if (v.pai !== undefined) w.sfloat(v.pai);
  return w.done();
}

export interface TemperatureValues {
  value: MedFloat;
  fahrenheit?: boolean;
  timestamp?: DateTimeFields;
  /** Temperature Type (0x2A1D): 1 armpit, 2 body, 3 ear, 4 finger, 5 GI tract, 6 mouth, 7 rectum, 8 toe, 9 tympanum. */
  type?: number;
}

/** Temperature Measurement (0x2A1C) or Intermediate Temperature (0x2A1E) bytes: same layout. */
export function encodeTemperature(v: TemperatureValues): Buffer {
  const flags = (v.fahrenheit ? 0x01 : 0) | (v.timestamp ? 0x02 : 0) | (v.type !== undefined ? 0x04 : 0);
  const w = new Bytes().u8(flags).float(v.value);
  if (v.timestamp) w.time(v.timestamp);
  if (v.type !== undefined) w.u8(v.type);
  return w.done();
}

interface BpCommon {
  kpa?: boolean;
  timestamp?: DateTimeFields;
  pulseRate?: MedFloat;
  userId?: number;
  status?: number;
}

export interface BloodPressureValues extends BpCommon {
  systolic: MedFloat;
  diastolic: MedFloat;
  map: MedFloat;
}

function encodeBp(first: MedFloat, second: MedFloat, third: MedFloat, v: BpCommon): Buffer {
  const flags =
    (v.kpa ? 0x01 : 0) |
    (v.timestamp ? 0x02 : 0) |
    (v.pulseRate !== undefined ? 0x04 : 0) |
    (v.userId !== undefined ? 0x08 : 0) |
    (v.status !== undefined ? 0x10 : 0);
  const w = new Bytes().u8(flags).sfloat(first).sfloat(second).sfloat(third);
  if (v.timestamp) w.time(v.timestamp);
  if (v.pulseRate !== undefined) w.sfloat(v.pulseRate);
  if (v.userId !== undefined) w.u8(v.userId);
  if (v.status !== undefined) w.u16(v.status);
  return w.done();
}

export function encodeBloodPressure(v: BloodPressureValues): Buffer {
  return encodeBp(v.systolic, v.diastolic, v.map, v);
}

/** Intermediate Cuff Pressure (0x2A36): diastolic and MAP are unused and sent as NaN (BLS 3.2). */
export function encodeCuffPressure(v: BpCommon & { cuff: MedFloat }): Buffer {
  return encodeBp(v.cuff, 'NaN', 'NaN', v);
}

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

/** One VWB1 value line, without the line end. */
export function bridgeLine(address: string, service: number, characteristic: number, value: Buffer): string {
  return `VWB1 ${address} ${hex4(service)} ${hex4(characteristic)} ${value.toString('hex').toUpperCase()}`;
}

/** One VWB1 link-state line, without the line end. */
export function bridgeLinkLine(address: string, state: 'connecting' | 'connected' | 'disconnected'): string {
  return `VWB1 ${address} LINK ${state}`;
}

/** Service and characteristic UUIDs of each encoder above, for bridgeLine. */
export const UUIDS = {
  heartRate: [SERVICES.HEART_RATE, HEART_RATE_MEASUREMENT],
  plxSpotCheck: [SERVICES.PULSE_OXIMETER, PLX_SPOT_CHECK],
  plxContinuous: [SERVICES.PULSE_OXIMETER, PLX_CONTINUOUS],
  temperature: [SERVICES.HEALTH_THERMOMETER, TEMPERATURE_MEASUREMENT],
  intermediateTemperature: [SERVICES.HEALTH_THERMOMETER, INTERMEDIATE_TEMPERATURE],
  bloodPressure: [SERVICES.BLOOD_PRESSURE, BLOOD_PRESSURE_MEASUREMENT],
  cuffPressure: [SERVICES.BLOOD_PRESSURE, INTERMEDIATE_CUFF_PRESSURE],
} as const;
