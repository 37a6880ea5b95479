// MLLP framing (HL7 v2 over TCP and serial): <VT 0x0B> message <FS 0x1C><CR 0x0D>.
// Garbage between frames is skipped and counted. A VT inside a frame means the sender
// restarted: the partial frame is dropped as truncated. A frame larger than maxFrameBytes is
// dropped whole and the framer waits for the next VT, so memory stays bounded.
import { createAccumulator } from './accumulator.js';
import type { Framer, FrameSink, FramerStats } from './framer.js';

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export interface MllpFramerOptions {
  /** Largest accepted message, in bytes. Default 1 MiB (a 10 s 12-lead ORU is ~300 KB). */
  maxFrameBytes?: number;
}

const SEEK = 0; // outside a frame, looking for VT
const BODY = 1; // inside a frame
const SKIP = 2; // inside an oversize frame: discard until FS or VT
const AFTER_FS = 3; // FS seen; a CR here is part of the trailer

export function createMllpFramer(opts: MllpFramerOptions = {}): Framer {
  const max = opts.maxFrameBytes ?? 1024 * 1024;
  const stats: FramerStats = { frames: 0, garbageBytes: 0, errors: 0 };
  let state = SEEK;
  // Bytes of a frame that spans chunks (framing/accumulator.ts): bounded by max.
  const acc = createAccumulator(max);
  let garbageRun = 0; // bytes of the current garbage run, reported when it ends
  let lostFrames = 0; // frames cut short by a new start byte, not yet reported
  let lostBytes = 0;

  function push(chunk: Buffer, sink: FrameSink): void {
    let i = 0;
    const len = chunk.length;
    while (i < len) {
      if (state === AFTER_FS) {
        state = SEEK;
        if (chunk[i] === CR) {
          i++;
          continue;
        }
      }
      if (state === SEEK) {
        const vt = chunk.indexOf(VT, i);
        const end = vt === -1 ? len : vt;
        if (end > i) {
          stats.garbageBytes += end - i;
          garbageRun += end - i;
        }
        if (vt === -1) return;
        endGarbage(sink);
        i = vt + 1;
        state = BODY;
        acc.clear();
        continue;
      }
      // BODY or SKIP: find the end of this frame or the start of a new one.
      let j = i;
      while (j < len) {
        const b = chunk[j];
        if (b === FS || b === VT) break;
        j++;
      }
      if (state === BODY) {
        if (j === len) {
          if (!acc.append(chunk, i, j)) overflow(sink, acc.length + (j - i));
          return;
        }
        if (chunk[j] === VT) {
          // Consecutive cut frames (noise full of VT bytes) are one event, reported with the next
          // frame, error or flush, not one error per byte.
          lostFrames++;
          lostBytes += acc.length + (j - i);
          acc.clear();
          i = j + 1;
          continue;
        }
        // FS: frame complete.
        if (acc.length === 0) {
          if (j - i > max) overflow(sink, j - i);
          else emit(sink, chunk.subarray(i, j));
        } else if (acc.append(chunk, i, j)) {
          emit(sink, acc.view());
        } else {
          overflow(sink, acc.length + (j - i));
        }
        acc.clear();
        state = AFTER_FS;
        i = j + 1;
        continue;
      }
      // SKIP
      if (j === len) return;
      state = chunk[j] === VT ? BODY : AFTER_FS;
      acc.clear();
      i = j + 1;
    }
  }

  function endLost(sink: FrameSink): void {
    if (lostFrames === 0) return;
    stats.errors++;
    sink.error('VW_ERR_FRAME_TRUNCATED', `${lostFrames} frame(s) cut short by a new frame start (${lostBytes} bytes)`);
    lostFrames = 0;
    lostBytes = 0;
  }

  function endGarbage(sink: FrameSink): void {
    endLost(sink);
    if (garbageRun === 0) return;
    stats.errors++;
    sink.error('VW_ERR_FRAME_GARBAGE', `${garbageRun} bytes`);
    garbageRun = 0;
  }

  function emit(sink: FrameSink, frame: Buffer): void {
    endLost(sink);
    stats.frames++;
    sink.frame(frame);
  }

  function overflow(sink: FrameSink, seen: number): void {
    if (state === SKIP) return;
    endLost(sink);
    stats.errors++;
    sink.error('VW_ERR_FRAME_TOO_LARGE', `more than ${max} bytes (${seen} seen)`);
    state = SKIP;
    acc.clear();
  }

  return {
    push,
    flush(sink) {
      endGarbage(sink); // reports pending cut frames first
      if (state === BODY) {
        stats.errors++;
        sink.error('VW_ERR_FRAME_TRUNCATED', `${acc.length} bytes at end of input`);
      }
      state = SEEK;
      acc.clear();
    },
    reset() {
      state = SEEK;
      acc.clear();
      garbageRun = 0;
      lostFrames = 0;
      lostBytes = 0;
    },
    stats,
  };
}

/** Wraps one HL7 message in MLLP framing. */
export function mllpWrap(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = VT;
  body.copy(out, 1);
  out[body.length + 1] = FS;
  out[body.length + 2] = CR;
  return out;
}
