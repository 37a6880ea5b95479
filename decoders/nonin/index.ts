// Nonin serial oximeter protocols: data format 7 (75 Hz pleth + multiplexed numerics, 25-frame
// packets) and data format 8 (1 Hz numerics), each with a framer, a decoder and detection.
import type { Protocol } from '../registry.js';
import { createNonin7Decoder } from './decoder7.js';
import { createNonin8Decoder, decodeNonin8 } from './decoder8.js';
import { FRAME_BYTES, createNonin7Framer, df7FrameOk, df7SyncOk } from './framer7.js';
import { DF8_FRAME_BYTES, createNonin8Framer } from './framer8.js';
import { DF7_SYNC } from './status.js';

/** A SYNC frame followed by a valid non-SYNC frame: two checksums match (chance ~1 in 500 000). */
export function detectNonin7(head: Buffer): boolean {
  for (let p = 0; p + 2 * FRAME_BYTES <= head.length; p++) {
    const q = p + FRAME_BYTES;
    if (df7SyncOk(head, p) && df7FrameOk(head, q) && ((head[q] as number) & DF7_SYNC) === 0) return true;
  }
  return false;
}

/** Three consecutive format 8 frames with the bit-7 layout and values in range. */
export function detectNonin8(head: Buffer): boolean {
  const start = head.findIndex((b) => (b & 0x80) !== 0);
  if (start < 0) return false;
  const ctx = { gatewayTimeUs: 0 };
  let n = 0;
  for (let p = start; p + DF8_FRAME_BYTES <= head.length && n < 3; p += DF8_FRAME_BYTES) {
    if (!decodeNonin8(head.subarray(p, p + DF8_FRAME_BYTES), ctx).ok) return false;
    n++;
  }
  return n === 3;
}

export const nonin7Protocol: Protocol = {
  id: 'nonin7',
  description: 'Nonin serial data format 7: 75 Hz pleth and numerics in 25-frame packets (9600 8N1)',
  createFramer: () => createNonin7Framer(),
  createDecoder: createNonin7Decoder,
  detect: detectNonin7,
};

export const nonin8Protocol: Protocol = {
  id: 'nonin8',
  description: 'Nonin serial data format 8: SpO2 and pulse rate once a second (9600 8N1)',
  createFramer: () => createNonin8Framer(),
  createDecoder: createNonin8Decoder,
  detect: detectNonin8,
};
