// What every characteristic decoder receives: the receive time, the assumed UTC offset for
// device times sent without one, and the arrays it appends observations and warnings to.
import type { IObservation } from '../../proto/index.js';
import type { DecodeError } from '../../lib/errors.js';

export interface BleContext {
  gatewayTimeUs: number;
  /** UTC offset assumed for GATT Date Time fields, which carry none (minutes). */
  defaultUtcOffsetMin: number;
  out: IObservation[];
  warnings: DecodeError[];
}

/**
 * Decodes one characteristic value held in p[0..len) (p may be longer: it is the bridge's reusable
 * payload buffer). Appends to ctx.out; returns a DecodeError when the value is malformed, in which
 * case nothing it appended is kept. Never throws.
 */
export type CharacteristicDecoder = (p: Buffer, len: number, ctx: BleContext) => DecodeError | undefined;

/** Little-endian unsigned reads that cannot throw (the caller checks lengths first). */
export function u16(p: Buffer, i: number): number {
  return (p[i] ?? 0) | ((p[i + 1] ?? 0) << 8);
}
export function u24(p: Buffer, i: number): number {
  return (p[i] ?? 0) | ((p[i + 1] ?? 0) << 8) | ((p[i + 2] ?? 0) << 16);
}
export function u32(p: Buffer, i: number): number {
  return ((p[i] ?? 0) | ((p[i + 1] ?? 0) << 8) | ((p[i + 2] ?? 0) << 16) | ((p[i + 3] ?? 0) << 24)) >>> 0;
}
