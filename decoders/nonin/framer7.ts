// Nonin serial data format 7 framer: 5-byte frames STATUS, PLETH_MSB, PLETH_LSB, DATA, CHK with
// CHK = (b0 + b1 + b2 + b3) mod 256 and STATUS bit 7 always 1; 25 frames make a packet, the first
// one with STATUS bit 0 (SYNC) set (Nonin "Serial Data Format #7"; ../shared/protocols.md).
//
// The framer emits whole 125-byte packets, not frames: the DATA byte is multiplexed over the 25
// frames (heart rate MSB in frame 0, LSB in frame 1, ...), so a value can only be read from a
// complete, aligned packet, and one packet is one natural waveform chunk (25 samples, 1/3 s).
// The cost: one corrupt frame loses its whole packet, i.e. 25 pleth samples (docs/serial-oximeters.md).
//
// Sync: a packet starts at a SYNC frame with a valid checksum; frames 1..24 must have bit 7 set,
// SYNC clear and a valid checksum. After any corrupt frame the packet is dropped and the bytes
// after its first byte are searched again for SYNC + valid checksum (Nonin: "resynchronise on
// SYNC plus a valid checksum after any corrupt frame"). A SYNC frame inside a packet means frames
// were lost: the partial packet is dropped as truncated and the new packet starts there.
//
// Errors: while locked (the previous packet was good) a corrupt frame is one
// VW_ERR_NONIN_CHECKSUM and an early SYNC one VW_ERR_FRAME_TRUNCATED; the bytes skipped until the
// next good packet are one VW_ERR_FRAME_GARBAGE run, reported when that packet is complete (or at
// flush). While hunting, failed candidates are garbage too, so a noise burst costs one error, not
// one per false start.
//
// Memory: one 125-byte buffer, allocated once; the emitted frame is that buffer (valid only
// during sink.frame). No allocation per byte or per packet. The packet size is fixed, so the
// maxFrameBytes option of other framers has no meaning here: PACKET_BYTES is the limit.
import type { Framer, FrameSink, FramerStats } from '../framing/framer.js';
import { DF7_ALWAYS, DF7_SYNC } from './status.js';

export const FRAME_BYTES = 5;
export const FRAMES_PER_PACKET = 25;
export const PACKET_BYTES = FRAME_BYTES * FRAMES_PER_PACKET;

/** Frame at `o` has STATUS bit 7 set and a matching checksum. */
export function df7FrameOk(b: Buffer, o: number): boolean {
  const s = b[o] as number;
  if ((s & DF7_ALWAYS) === 0) return false;
  return ((s + (b[o + 1] as number) + (b[o + 2] as number) + (b[o + 3] as number)) & 0xff) === b[o + 4];
}

/** Frame at `o` is a valid first frame of a packet (SYNC set). */
export function df7SyncOk(b: Buffer, o: number): boolean {
  return ((b[o] as number) & DF7_SYNC) !== 0 && df7FrameOk(b, o);
}

export function createNonin7Framer(): Framer {
  const stats: FramerStats = { frames: 0, garbageBytes: 0, errors: 0 };
  const acc = Buffer.alloc(PACKET_BYTES);
  let have = 0; // bytes in acc
  let checked = 0; // bytes of acc verified as frames of the current packet (0 = hunting for SYNC)
  let locked = false; // the last packet was complete: a failure now is a reportable event
  let garbageRun = 0;

  function skip(n: number, garbage: boolean): void {
    if (garbage) {
      stats.garbageBytes += n;
      garbageRun += n;
    }
    acc.copyWithin(0, n, have);
    have -= n;
  }

  function endGarbage(sink: FrameSink): void {
    if (garbageRun === 0) return;
    stats.errors++;
    sink.error('VW_ERR_FRAME_GARBAGE', `${garbageRun} bytes`);
    garbageRun = 0;
  }

  function fail(sink: FrameSink, code: 'VW_ERR_NONIN_CHECKSUM' | 'VW_ERR_FRAME_TRUNCATED', detail: string): void {
    if (locked) {
      stats.errors++;
      // A packet lost to a bad frame is a rejected frame; one cut short by an early SYNC is truncation.
      sink.error(code, detail, code === 'VW_ERR_NONIN_CHECKSUM');
    }
    locked = false;
  }

  function drain(sink: FrameSink): void {
    for (;;) {
      if (checked === 0) {
        if (have < FRAME_BYTES) return;
        const last = have - FRAME_BYTES;
        let p = 0;
        while (p <= last && !df7SyncOk(acc, p)) p++;
        if (p > last) {
          skip(last + 1, true); // keep the last 4 bytes: a SYNC frame may start there
          return;
        }
        if (p > 0) skip(p, true);
        checked = FRAME_BYTES;
        continue;
      }
      if (have - checked < FRAME_BYTES) return;
      const k = checked / FRAME_BYTES;
      if (!df7FrameOk(acc, checked)) {
        fail(sink, 'VW_ERR_NONIN_CHECKSUM', `frame ${k} of a packet: bad checksum or status bit 7 clear`);
        skip(1, true); // search again from the packet's second byte
        checked = 0;
        continue;
      }
      if (((acc[checked] as number) & DF7_SYNC) !== 0) {
        const wasLocked = locked;
        fail(sink, 'VW_ERR_FRAME_TRUNCATED', `${k} of ${FRAMES_PER_PACKET} frames before a new SYNC frame`);
        skip(checked, !wasLocked); // a reported partial packet is not garbage; a failed candidate is
        checked = FRAME_BYTES;
        continue;
      }
      checked += FRAME_BYTES;
      if (checked === PACKET_BYTES) {
        endGarbage(sink); // a garbage run ends at the next good packet (or at flush)
        stats.frames++;
        locked = true;
        have = 0;
        checked = 0;
        sink.frame(acc);
        return;
      }
    }
  }

  return {
    push(chunk, sink) {
      let i = 0;
      const len = chunk.length;
      while (i < len) {
        const n = Math.min(len - i, PACKET_BYTES - have);
        chunk.copy(acc, have, i, i + n);
        have += n;
        i += n;
        drain(sink);
      }
    },
    flush(sink) {
      if (checked > 0 && locked) {
        stats.errors++;
        sink.error('VW_ERR_FRAME_TRUNCATED', `${have} bytes of a packet at end of input`);
      } else if (have > 0) {
        stats.garbageBytes += have;
        garbageRun += have;
      }
      endGarbage(sink);
      have = 0;
      checked = 0;
      locked = false;
    },
    reset() {
      have = 0;
      checked = 0;
      locked = false;
      garbageRun = 0;
    },
    stats,
  };
}
