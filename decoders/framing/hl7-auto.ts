// The `hl7` protocol's framer: MLLP when the stream's first message starts with the MLLP start
// byte (0x0B), bare messages split at MSH segments when it starts with "MSH". Until one of the
// two is seen, up to 64 KiB are held (only at stream start); the choice is then made once, so a
// link never flips between modes mid-message. reset() makes it again.
import type { Framer, FrameSink } from './framer.js';
import { createHl7BatchFramer } from './hl7-batch.js';
import { createMllpFramer, VT } from './mllp.js';

const MAX_UNDECIDED = 64 * 1024;

export function createHl7Framer(opts: { maxFrameBytes?: number } = {}): Framer {
  const mllp = createMllpFramer(opts);
  const batch = createHl7BatchFramer(opts);
  let mode: Framer | undefined;
  let pending: Buffer = Buffer.alloc(0);
  const stats = { frames: 0, garbageBytes: 0, errors: 0 };
  let own = { garbageBytes: 0, errors: 0 }; // garbage dropped while undecided
  const sync = () => {
    const s = mode?.stats;
    stats.frames = s?.frames ?? 0;
    stats.garbageBytes = (s?.garbageBytes ?? 0) + own.garbageBytes;
    stats.errors = (s?.errors ?? 0) + own.errors;
  };
  return {
    push(chunk: Buffer, sink: FrameSink) {
      if (mode) {
        mode.push(chunk, sink);
        sync();
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const vt = pending.indexOf(VT);
      const msh = /(^|[\r\n])MSH/.exec(pending.toString('latin1', 0, vt === -1 ? pending.length : vt));
      if (msh) mode = batch;
      else if (vt !== -1) mode = mllp;
      if (mode) {
        const start = pending;
        pending = Buffer.alloc(0);
        mode.push(start, sink);
      } else if (pending.length > MAX_UNDECIDED) {
        own.garbageBytes += pending.length;
        own.errors++;
        sink.error('VW_ERR_FRAME_GARBAGE', `${pending.length} bytes with no HL7 message start`);
        pending = Buffer.alloc(0);
      }
      sync();
    },
    flush(sink) {
      if (mode) mode.flush(sink);
      else if (pending.length > 0) {
        own.garbageBytes += pending.length;
        own.errors++;
        sink.error('VW_ERR_FRAME_GARBAGE', `${pending.length} bytes`);
        pending = Buffer.alloc(0);
      }
      sync();
    },
    reset() {
      mllp.reset();
      batch.reset();
      mode = undefined;
      pending = Buffer.alloc(0);
      own = { garbageBytes: 0, errors: 0 };
    },
    stats,
  };
}
