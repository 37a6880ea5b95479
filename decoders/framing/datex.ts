// Datex-Ohmeda S/5 computer interface framing (S/5, AS/3, CARESCAPE; 19200 8E1, RTS/CTS).
// A frame is 0x7E <record bytes> <checksum> 0x7E. Inside, 0x7E is sent as 0x7D 0x5E and 0x7D as
// 0x7D 0x5D; the checksum is the 8-bit sum of the unescaped record bytes and is escaped like them
// (../shared/protocols.md; receivers in xeonfusion/VSCapture Class1.cs and KaiWU17TUM/icu_devices
// ge_monitor.cpp sum the unescaped bytes; the latter's sender also escapes the checksum byte).
//
// Every 0x7E is a boundary; the bytes between two of them are a candidate. The monitor sends
// separate opening and closing flags (7E ... 7E 7E ... 7E), so which flags open a frame is only
// known for a flag that follows another flag (or starts the stream). A candidate after such a flag
// is "anchored": if it fails, that is a corrupt frame (VW_ERR_DATEX_CHECKSUM / _ESCAPE /
// VW_ERR_FRAME_TOO_LARGE). A failing candidate that is not anchored is bytes between frames: it
// is counted as garbage and reported once per run (VW_ERR_FRAME_GARBAGE). Every valid candidate
// is a frame, anchored or not, so senders that share one flag between frames also decode.
// The frame handed to the sink is the unescaped record without the checksum; inside one chunk and
// without escapes it is a view of the chunk, otherwise of a reused buffer (consume it synchronously).
import type { Framer, FrameSink, FramerStats } from './framer.js';

export const FLAG = 0x7e;
export const ESC = 0x7d;
const ESC_FLAG = 0x5e; // 0x7D 0x5E -> 0x7E
const ESC_ESC = 0x5d; // 0x7D 0x5D -> 0x7D

/** Default limit on a frame's unescaped bytes (record + checksum). A Datex record is at most
 *  1490 bytes (40-byte header + 1450 data, datex_record_type in VSCapture Class2.cs); 2048 leaves
 *  headroom for later DRI levels at the cost of a 2 KiB buffer. */
export const DATEX_MAX_FRAME_BYTES = 2048;

export interface DatexFramerOptions {
  /** Largest accepted frame in unescaped bytes, checksum included. */
  maxFrameBytes?: number;
}

const OK = 0;
const BAD_ESCAPE = 1;
const BAD_SIZE = 2;

export function createDatexFramer(opts: DatexFramerOptions = {}): Framer {
  const max = Math.max(2, opts.maxFrameBytes ?? DATEX_MAX_FRAME_BYTES);
  const stats: FramerStats = { frames: 0, garbageBytes: 0, errors: 0 };
  let started = false; // a flag has been seen since the last reset/flush
  let anchored = true; // the current candidate follows a flag pair or the stream start
  let wire = 0; // wire bytes of the current candidate (flags excluded)
  let bad = OK;
  let escPending = false; // a 0x7D ended the previous chunk
  let acc = Buffer.allocUnsafe(Math.min(512, max));
  let accLen = 0; // unescaped bytes of the candidate held in acc (copy mode)
  let garbageRun = 0;

  function grow(need: number): void {
    if (need <= acc.length) return;
    const grown = Buffer.allocUnsafe(Math.min(max, Math.max(acc.length * 2, need)));
    acc.copy(grown, 0, 0, accLen);
    acc = grown;
  }

  function overflow(sink: FrameSink): void {
    bad = BAD_SIZE;
    accLen = 0;
    if (!anchored) return; // garbage: counted when the candidate ends
    endGarbage(sink);
    stats.errors++;
    // No byte count in the detail: where the overflow is noticed depends on the chunking.
    sink.error('VW_ERR_FRAME_TOO_LARGE', `more than ${max} bytes`);
  }

  /** Append plain (already unescaped) bytes chunk[from, to) in copy mode. */
  function copyIn(sink: FrameSink, chunk: Buffer, from: number, to: number): void {
    if (bad === BAD_SIZE || to <= from) return;
    const n = accLen + (to - from);
    if (n > max) {
      overflow(sink);
      return;
    }
    grow(n);
    chunk.copy(acc, accLen, from, to);
    accLen = n;
  }

  function putByte(sink: FrameSink, b: number): void {
    if (bad === BAD_SIZE) return;
    if (accLen + 1 > max) {
      overflow(sink);
      return;
    }
    grow(accLen + 1);
    acc[accLen++] = b;
  }

  function endGarbage(sink: FrameSink): void {
    if (garbageRun === 0) return;
    stats.errors++;
    sink.error('VW_ERR_FRAME_GARBAGE', `${garbageRun} bytes`);
    garbageRun = 0;
  }

  /** The candidate ended at a flag; `body` is its unescaped bytes (empty when it already failed). */
  function close(sink: FrameSink, body: Buffer): void {
    const n = body.length;
    if (wire === 0) {
      anchored = true; // empty candidate: two flags in a row, the second one opens a frame
      return;
    }
    let failure = bad === BAD_SIZE ? 'size' : bad === BAD_ESCAPE ? 'escape' : '';
    if (!failure) {
      if (n < 2) failure = 'short';
      else {
        let sum = 0;
        for (let k = 0; k < n - 1; k++) sum += body[k] as number;
        if ((sum & 0xff) !== body[n - 1]) failure = 'checksum';
      }
    }
    if (!failure) {
      endGarbage(sink);
      stats.frames++;
      sink.frame(body.subarray(0, n - 1));
    } else if (!anchored) {
      stats.garbageBytes += wire;
      garbageRun += wire;
    } else if (failure !== 'size') {
      endGarbage(sink);
      stats.errors++;
      if (failure === 'escape')
        sink.error('VW_ERR_DATEX_ESCAPE', `0x7D not followed by 0x5E or 0x5D in a ${wire}-byte frame`, true);
      else if (failure === 'short')
        sink.error('VW_ERR_DATEX_CHECKSUM', `${n}-byte frame has no room for a checksum`, true);
      else
        sink.error(
          'VW_ERR_DATEX_CHECKSUM',
          `sum 0x${(sumOf(body, n - 1) & 0xff).toString(16)} != 0x${(body[n - 1] ?? 0).toString(16)} in a ${n}-byte frame`,
          true,
        );
    }
    anchored = false;
  }

  function openCandidate(): void {
    wire = 0;
    bad = OK;
    escPending = false;
    accLen = 0;
  }

  function push(chunk: Buffer, sink: FrameSink): void {
    const len = chunk.length;
    let i = 0;
    if (!started) {
      const f = chunk.indexOf(FLAG);
      const end = f === -1 ? len : f;
      if (end > 0) {
        stats.garbageBytes += end;
        garbageRun += end;
        anchored = false;
      }
      if (f === -1) return;
      started = true;
      openCandidate();
      i = f + 1;
    }
    // view >= 0: the candidate's unescaped bytes are chunk[view, j) (no escape seen, all in this chunk).
    let view = wire === 0 && !escPending ? i : -1;
    while (i < len) {
      if (escPending) {
        const b = chunk[i] as number;
        if (b === FLAG) {
          bad = bad === BAD_SIZE ? BAD_SIZE : BAD_ESCAPE; // 0x7D 0x7E: the flag still ends the frame
          escPending = false;
          continue;
        }
        escPending = false;
        wire++;
        if (b === ESC_FLAG) putByte(sink, FLAG);
        else if (b === ESC_ESC) putByte(sink, ESC);
        else if (bad === OK) bad = BAD_ESCAPE;
        i++;
        continue;
      }
      let j = i;
      while (j < len) {
        const b = chunk[j];
        if (b === FLAG || b === ESC) break;
        j++;
      }
      wire += j - i;
      if (view >= 0) {
        if (j - view > max && bad !== BAD_SIZE) {
          copyIn(sink, chunk, view, j); // reports the overflow
          view = -1;
        }
      } else {
        copyIn(sink, chunk, i, j);
      }
      if (j === len) break;
      if (chunk[j] === ESC) {
        if (view >= 0) {
          copyIn(sink, chunk, view, j);
          view = -1;
        }
        escPending = true;
        wire++;
        i = j + 1;
        continue;
      }
      // Flag at j: the candidate ends.
      if (view >= 0 && bad === OK) close(sink, chunk.subarray(view, j));
      else close(sink, acc.subarray(0, bad === OK ? accLen : 0));
      openCandidate();
      i = j + 1;
      view = i;
    }
    // Chunk ended inside a candidate: keep its bytes.
    if (view >= 0 && view < len && bad === OK) copyIn(sink, chunk, view, len);
  }

  return {
    push,
    flush(sink) {
      if (started && (wire > 0 || escPending)) {
        if (anchored) {
          endGarbage(sink);
          stats.errors++;
          sink.error('VW_ERR_FRAME_TRUNCATED', `${wire + (escPending ? 1 : 0)} bytes at end of input`);
        } else {
          const w = wire + (escPending ? 1 : 0);
          stats.garbageBytes += w;
          garbageRun += w;
        }
      }
      endGarbage(sink);
      started = false;
      anchored = true;
      openCandidate();
    },
    reset() {
      started = false;
      anchored = true;
      garbageRun = 0;
      openCandidate();
    },
    stats,
  };
}

function sumOf(b: Buffer, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += b[k] as number;
  return s;
}

/** Wraps one record in Datex framing: flags, checksum, escapes. */
export function datexWrap(record: Buffer): Buffer {
  const sum = sumOf(record, record.length) & 0xff;
  let extra = sum === FLAG || sum === ESC ? 1 : 0;
  for (const b of record) if (b === FLAG || b === ESC) extra++;
  const out = Buffer.allocUnsafe(record.length + 3 + extra);
  let o = 0;
  out[o++] = FLAG;
  const put = (b: number): void => {
    if (b === FLAG || b === ESC) {
      out[o++] = ESC;
      out[o++] = b === FLAG ? ESC_FLAG : ESC_ESC;
    } else out[o++] = b;
  };
  for (const b of record) put(b);
  put(sum);
  out[o++] = FLAG;
  return out;
}
