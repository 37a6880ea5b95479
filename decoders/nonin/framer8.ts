// Nonin serial data format 8 framer: 4-byte frames STATUS1, HR_LSB, SpO2, STATUS2 at 1 Hz, no
// checksum (Nonin "Serial Data Format #8"; ../shared/protocols.md).
//
// Sync rule, from the bit layout: STATUS1 bit 7 is always 1, while HR_LSB (HR bits 6..0), SpO2
// (0..100 or 127) and STATUS2 are 7-bit values with bit 7 clear. So a byte with bit 7 set starts a
// frame and only there; the three bytes after it must have bit 7 clear.
// - A bit-7 byte before the frame is complete means bytes were lost: the partial frame is dropped
//   and the new frame starts at that byte. Consecutive truncations (noise full of bit-7 bytes)
//   are one event: a single VW_ERR_FRAME_TRUNCATED when the next whole frame arrives (or at
//   flush), not one per byte.
// - Bit-7-clear bytes outside a frame are garbage, reported once per run when the next frame
//   starts (VW_ERR_FRAME_GARBAGE).
// With no checksum, noise that happens to match the layout can pass the framer; the decoder
// rejects values outside the documented ranges (decoder8.ts).
//
// Memory: one 4-byte buffer, emitted as the frame itself (valid only during sink.frame); the
// frame size is fixed, so maxFrameBytes does not apply.
import type { Framer, FrameSink, FramerStats } from '../framing/framer.js';
import { DF8_ALWAYS } from './status.js';

export const DF8_FRAME_BYTES = 4;

export function createNonin8Framer(): Framer {
  const stats: FramerStats = { frames: 0, garbageBytes: 0, errors: 0 };
  const acc = Buffer.alloc(DF8_FRAME_BYTES);
  let have = 0;
  let garbageRun = 0;
  let lostFrames = 0; // partial frames dropped since the last whole one
  let lostBytes = 0;

  function endLost(sink: FrameSink): void {
    if (lostFrames === 0) return;
    stats.errors++;
    sink.error(
      'VW_ERR_FRAME_TRUNCATED',
      `${lostFrames} partial frame(s), ${lostBytes} bytes, cut by a new STATUS1 byte`,
    );
    lostFrames = 0;
    lostBytes = 0;
  }

  function endGarbage(sink: FrameSink): void {
    if (garbageRun === 0) return;
    stats.errors++;
    sink.error('VW_ERR_FRAME_GARBAGE', `${garbageRun} bytes`);
    garbageRun = 0;
  }

  return {
    push(chunk, sink) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (b & DF8_ALWAYS) {
          if (have > 0) {
            lostFrames++;
            lostBytes += have;
          }
          endGarbage(sink);
          acc[0] = b;
          have = 1;
        } else if (have === 0) {
          stats.garbageBytes++;
          garbageRun++;
        } else {
          acc[have++] = b;
          if (have === DF8_FRAME_BYTES) {
            have = 0;
            endLost(sink);
            stats.frames++;
            sink.frame(acc);
          }
        }
      }
    },
    flush(sink) {
      endGarbage(sink);
      endLost(sink);
      if (have > 0) {
        stats.errors++;
        sink.error('VW_ERR_FRAME_TRUNCATED', `${have} bytes at end of input`);
      }
      have = 0;
    },
    reset() {
      have = 0;
      garbageRun = 0;
      lostFrames = 0;
      lostBytes = 0;
    },
    stats,
  };
}
