// The framer contract shared by every wire protocol: chunks in, frames out, no I/O.
// Frames are delivered through callbacks so the hot path allocates no arrays; a frame that
// lies inside one chunk is a view of that chunk (no copy).
import type { ErrorCode } from '../errors.js';

export interface FramerStats {
  frames: number;
  garbageBytes: number;
  errors: number;
}

export interface FrameSink {
  frame(frame: Buffer): void;
  error(code: ErrorCode, detail: string): void;
}

export interface Framer {
  /** Feed bytes; complete frames and framing errors are reported to the sink synchronously. */
  push(chunk: Buffer, sink: FrameSink): void;
  /** Forget any partial frame (e.g. after the link dropped). */
  reset(): void;
  readonly stats: FramerStats;
}
