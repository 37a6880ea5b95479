// Delimited framing: a frame is everything up to a delimiter byte sequence (LF for text lines,
// CR LF, CR, or any other 1..8 byte sequence). Used by line protocols: the BLE bridge
// (docs/ble-bridge.md), Masimo serial output and the like.
// - The delimiter is not part of the frame; with `stripCR` a CR just before it is removed too,
//   so LF and CR LF lines give the same frames.
// - Empty frames (blank lines) are skipped unless `keepEmpty`.
// - A frame longer than maxFrameBytes (counted without the delimiter and the stripped CR) is
//   dropped whole with one VW_ERR_FRAME_TOO_LARGE; the framer resyncs at the next delimiter.
// - A line protocol has no bytes "between frames": garbage is a bad line, judged by the decoder.
// - A multi-byte delimiter split across chunks is found with a KMP automaton over at most
//   delimiter-1 bytes per chunk; no allocation per byte, and a frame inside one chunk is a view.
import { createAccumulator } from './accumulator.js';
import type { Framer, FrameSink, FramerStats } from './framer.js';

export const LF = 0x0a;
export const CR = 0x0d;

export interface DelimitedFramerOptions {
  /** Bytes that end a frame, 1..8 bytes. Default LF. */
  delimiter?: readonly number[];
  /** Largest accepted frame in bytes, delimiter and stripped CR excluded. Default 4096. */
  maxFrameBytes?: number;
  /** Remove one CR right before the delimiter (LF and CR LF lines alike). Default true when the delimiter is LF. */
  stripCR?: boolean;
  /** Report empty frames too. Default false: blank lines are skipped. */
  keepEmpty?: boolean;
}

const BODY = 0; // collecting a frame
const SKIP = 1; // inside an oversize frame: discard until the delimiter

export function createDelimitedFramer(opts: DelimitedFramerOptions = {}): Framer {
  const delim = Buffer.from(opts.delimiter ?? [LF]);
  const d = delim.length;
  if (d < 1 || d > 8) throw new RangeError('delimiter must be 1..8 bytes');
  const max = opts.maxFrameBytes ?? 4096;
  const stripCR = opts.stripCR ?? (d === 1 && delim[0] === LF);
  const keepEmpty = opts.keepEmpty ?? false;
  // Raw bytes a frame may take before its delimiter is known: a trailing CR, plus up to d-1
  // bytes that may turn out to be the start of the delimiter.
  const rawMax = max + (stripCR ? 1 : 0) + d - 1;
  const fail = failureTable(delim);
  const stats: FramerStats = { frames: 0, garbageBytes: 0, errors: 0 };
  let state = BODY;
  const acc = createAccumulator(rawMax);
  let m = 0; // delimiter bytes matched at the end of the data seen so far (0..d-1)

  // KMP step: longest delimiter prefix that is a suffix of (matched prefix + b).
  function step(s: number, b: number): number {
    while (s > 0 && delim[s] !== b) s = fail[s - 1] ?? 0;
    return delim[s] === b ? s + 1 : s;
  }

  // One frame ended (its delimiter excluded): deliver it or report it oversize.
  function end(frame: Buffer, sink: FrameSink): void {
    let n = frame.length;
    if (stripCR && n > 0 && frame[n - 1] === CR) n--;
    if (n > max) return tooLarge(sink, n);
    if (n === 0 && !keepEmpty) return;
    stats.frames++;
    sink.frame(n === frame.length ? frame : frame.subarray(0, n));
  }

  function tooLarge(sink: FrameSink, seen: number): void {
    stats.errors++;
    sink.error('VW_ERR_FRAME_TOO_LARGE', `more than ${max} bytes (${seen} seen)`);
  }

  function push(chunk: Buffer, sink: FrameSink): void {
    const len = chunk.length;
    let i = 0;
    // A delimiter begun in earlier chunks and completed by this one ends within its first d-1 bytes.
    if (m > 0) {
      let s = m;
      const lim = Math.min(len, d - 1);
      for (let j = 0; j < lim; j++) {
        s = step(s, chunk[j] as number);
        if (s === d) {
          if (state === SKIP) state = BODY;
          else end(acc.view().subarray(0, acc.length - (d - (j + 1))), sink); // d-(j+1) delimiter bytes are in acc
          acc.clear();
          m = 0;
          i = j + 1;
          break;
        }
      }
    }
    while (i < len) {
      const k = chunk.indexOf(delim, i);
      if (k === -1) break;
      if (state === SKIP)
        state = BODY; // the oversize frame ends here; reported when it overflowed
      else if (acc.length === 0) end(chunk.subarray(i, k), sink);
      else if (acc.append(chunk, i, k)) end(acc.view(), sink);
      else tooLarge(sink, acc.length + (k - i));
      acc.clear();
      m = 0;
      i = k + d;
    }
    if (i === len) return;
    // No delimiter in chunk[i..len): keep the bytes and the partial delimiter match at their end.
    const start = Math.max(i, len - (d - 1));
    let s = start === 0 ? m : 0;
    for (let j = start; j < len; j++) s = step(s, chunk[j] as number);
    m = s;
    if (state === SKIP) return;
    if (!acc.append(chunk, i, len)) {
      tooLarge(sink, acc.length + (len - i));
      state = SKIP;
      acc.clear();
    }
  }

  return {
    push,
    flush(sink) {
      if (state === BODY && acc.length > 0) {
        stats.errors++;
        sink.error('VW_ERR_FRAME_TRUNCATED', `${acc.length} bytes at end of input`);
      }
      state = BODY;
      acc.clear();
      m = 0;
    },
    reset() {
      state = BODY;
      acc.clear();
      m = 0;
    },
    stats,
  };
}

/** KMP failure function: fail[q] = length of the longest proper prefix of delim[0..q] that is also its suffix. */
function failureTable(delim: Buffer): number[] {
  const fail = new Array<number>(delim.length).fill(0);
  let k = 0;
  for (let q = 1; q < delim.length; q++) {
    while (k > 0 && delim[k] !== delim[q]) k = fail[k - 1] ?? 0;
    if (delim[k] === delim[q]) k++;
    fail[q] = k;
  }
  return fail;
}

/** Joins frames with a delimiter (LF by default): for simulators and tests. */
export function delimitedJoin(frames: readonly (string | Buffer)[], delimiter: readonly number[] = [LF]): Buffer {
  const parts: Buffer[] = [];
  const dl = Buffer.from(delimiter);
  for (const f of frames) parts.push(typeof f === 'string' ? Buffer.from(f, 'utf8') : f, dl);
  return Buffer.concat(parts);
}
