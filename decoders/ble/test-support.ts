// Test helper: runs one characteristic decoder on hand-written hex, inside a reused 512-byte
// buffer pre-filled with 0xAA so a decoder that reads past `len` is caught.
import type { IObservation } from '../../proto/index.js';
import type { DecodeError } from '../../lib/errors.js';
import { observationRecord, type NdjsonRecord } from '../ndjson.js';
import type { BleContext, CharacteristicDecoder } from './context.js';

export interface CharResult {
  error: DecodeError | undefined;
  raw: IObservation[];
  records: NdjsonRecord[];
  warnings: DecodeError[];
}

export function runChar(d: CharacteristicDecoder, hex: string, defaultUtcOffsetMin = 0): CharResult {
  const p = Buffer.alloc(512, 0xaa);
  const n = Buffer.from(hex.replace(/\s+/g, ''), 'hex').copy(p);
  const ctx: BleContext = { gatewayTimeUs: 1_800_000_000_000_000, defaultUtcOffsetMin, out: [], warnings: [] };
  const error = d(p, n, ctx);
  return {
    error,
    raw: ctx.out,
    records: ctx.out.map((o) => observationRecord(o, undefined, defaultUtcOffsetMin)),
    warnings: ctx.warnings,
  };
}
