// GATT Date Time (org.bluetooth.characteristic.date_time, 0x2A08), 7 bytes little-endian:
// year u16 (1582-9999, 0 = not known), month u8 (1-12, 0 = not known), day u8 (1-31,
// 0 = not known), hours u8 (0-23), minutes u8 (0-59), seconds u8 (0-59). It carries no UTC
// offset: the device's local time, converted with the gateway's configured offset.

import { decodeError } from '../../lib/errors.js';
import type { BleContext } from './context.js';

export const DATE_TIME_BYTES = 7;

/**
 * Unix microseconds of the Date Time at p[i..i+7); 0 when the device says "not known"
 * (year, month or day 0), NaN when a field is out of range (month 13, 31 February, hour 24).
 */
export function readDateTime(p: Buffer, i: number, utcOffsetMin: number): number {
  const year = (p[i] ?? 0) | ((p[i + 1] ?? 0) << 8);
  const month = p[i + 2] ?? 0;
  const day = p[i + 3] ?? 0;
  const hours = p[i + 4] ?? 0;
  const minutes = p[i + 5] ?? 0;
  const seconds = p[i + 6] ?? 0;
  if (year === 0 || month === 0 || day === 0) return 0;
  if (year < 1582 || year > 9999 || month > 12 || day > 31 || hours > 23 || minutes > 59 || seconds > 59)
    return Number.NaN;
  const ms = Date.UTC(year, month - 1, day, hours, minutes, seconds);
  // Date.UTC rolls 31 April into May: refuse rather than shift a clinical timestamp.
  if (new Date(ms).getUTCDate() !== day) return Number.NaN;
  return (ms - utcOffsetMin * 60_000) * 1000;
}

/** Writes a Date Time (local wall-clock fields) at p[i..i+7). For encoders. */
export function writeDateTime(
  p: Buffer,
  i: number,
  t: { year: number; month: number; day: number; hours: number; minutes: number; seconds: number },
): void {
  p[i] = t.year & 0xff;
  p[i + 1] = (t.year >> 8) & 0xff;
  p[i + 2] = t.month;
  p[i + 3] = t.day;
  p[i + 4] = t.hours;
  p[i + 5] = t.minutes;
  p[i + 6] = t.seconds;
}

/**
 * The device time of a characteristic whose Date Time is at p[at..at+7), or 0 when it has none (at < 0) or says
 * "not known". A field out of range is warned about (VW_ERR_BLE_BAD_TIME) and read as no device time: the value
 * itself is still good.
 */
export function deviceTimeUs(p: Buffer, at: number, ctx: BleContext, what: string): number {
  if (at < 0) return 0;
  const us = readDateTime(p, at, ctx.defaultUtcOffsetMin);
  if (!Number.isNaN(us)) return us;
  ctx.warnings.push(decodeError('VW_ERR_BLE_BAD_TIME', `${what} time stamp out of range`));
  return 0;
}
