// HL7 v2 messages without MLLP framing, as files and some serial senders carry them: a message
// starts at each segment that begins with "MSH" and ends where the next one starts (or at end of
// input). Used by the `hl7` protocol when a stream does not start with the MLLP start byte.
import type { Framer, FrameSink, FramerStats } from './framer.js';

export interface Hl7BatchFramerOptions {
  maxFrameBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;

export function createHl7BatchFramer(opts: Hl7BatchFramerOptions = {}): Framer {
  const max = opts.maxFrameBytes ?? 1024 * 1024;
  const stats: FramerStats = { frames: 0, garbageBytes: 0, errors: 0 };
  let acc = Buffer.allocUnsafe(4096);
  let len = 0; // bytes of the current message (starting at its MSH)
  let inMsg = false;
  let skipping = false; // current message grew past max: drop until the next MSH
  let garbage = 0;
  let lineStart = true; // the next byte starts a line
  let matched = 0; // how many of "MSH" matched at a line start

  function append(b: number): void {
    if (skipping) return;
    if (len >= max) {
      skipping = true;
      return;
    }
    if (len === acc.length) {
      const grown = Buffer.allocUnsafe(Math.min(max, acc.length * 2));
      acc.copy(grown, 0, 0, len);
      acc = grown;
    }
    acc[len++] = b;
  }

  /** Bytes held while matching "MSH" at a line start, given back as content or garbage. */
  function releaseHeld(): void {
    const held = matched;
    matched = 0;
    for (let k = 0; k < held; k++) {
      if (inMsg) append(k === 0 ? 0x4d : k === 1 ? 0x53 : 0x48);
      else {
        garbage++;
        stats.garbageBytes++;
      }
    }
  }

  function endMessage(sink: FrameSink): void {
    if (!inMsg) return;
    if (skipping) {
      stats.errors++;
      sink.error('VW_ERR_FRAME_TOO_LARGE', `HL7 message over ${max} bytes`);
    } else {
      // Trailing line ends belong to no segment.
      let end = len;
      while (end > 0 && (acc[end - 1] === CR || acc[end - 1] === LF)) end--;
      stats.frames++;
      sink.frame(Buffer.from(acc.subarray(0, end)));
    }
    inMsg = false;
    skipping = false;
    len = 0;
  }

  function endGarbage(sink: FrameSink): void {
    if (garbage === 0) return;
    stats.errors++;
    sink.error('VW_ERR_FRAME_GARBAGE', `${garbage} bytes before the first MSH`);
    garbage = 0;
  }

  return {
    push(chunk, sink) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (lineStart || matched > 0) {
          const want = matched === 0 ? 0x4d : matched === 1 ? 0x53 : 0x48;
          if (b === want) {
            matched++;
            lineStart = false;
            if (matched === 3) {
              // A new message starts: the previous one is complete.
              matched = 0;
              endMessage(sink);
              endGarbage(sink);
              inMsg = true;
              append(0x4d);
              append(0x53);
              append(0x48);
            }
            continue;
          }
          releaseHeld(); // not an MSH after all: the held bytes are ordinary content
        }
        lineStart = b === CR || b === LF;
        if (inMsg) append(b);
        else {
          garbage++;
          stats.garbageBytes++;
        }
      }
    },
    flush(sink) {
      releaseHeld();
      endMessage(sink);
      endGarbage(sink);
      lineStart = true;
    },
    reset() {
      inMsg = false;
      skipping = false;
      len = 0;
      garbage = 0;
      matched = 0;
      lineStart = true;
    },
    stats,
  };
}
